// Reading stored audit events for /admin/logs, and the filter shared with the live tail.
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { StoredAuditEvent } from './audit.js';
import type { AuditEventOut } from './format.js';

export interface EventFilter {
  /** Types: exact names, or prefixes ending in "*" ("key.*"). */
  types?: string[];
  actor?: string;
  subject?: string;
  /** ISO 8601, inclusive. */
  since?: string;
  /** ISO 8601, exclusive. */
  until?: string;
}

export function matches(f: EventFilter, e: { type: string; actor?: string | null; subject?: string | null; ts: string }): boolean {
  if (f.types && f.types.length > 0 && !f.types.some((t) => (t.endsWith('*') ? e.type.startsWith(t.slice(0, -1)) : e.type === t))) return false;
  if (f.actor !== undefined && (e.actor ?? null) !== f.actor) return false;
  if (f.subject !== undefined && (e.subject ?? null) !== f.subject) return false;
  if (f.since !== undefined && e.ts < f.since) return false;
  if (f.until !== undefined && e.ts >= f.until) return false;
  return true;
}

function parseData(json: string | null): Record<string, unknown> | null {
  if (json === null) return null;
  try {
    const v: unknown = JSON.parse(json);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Newest first; `beforeSeq` pages backwards. Returns the next cursor when more events match. */
export async function listEvents(db: Db, f: EventFilter, limit: number, beforeSeq?: number): Promise<{ events: AuditEventOut[]; nextBeforeSeq: number | null }> {
  let q = db.k.selectFrom('audit_events').selectAll();
  if (f.types && f.types.length > 0) {
    const types = f.types;
    // substr, not LIKE: the same on both dialects, and "_" in a type is not a wildcard.
    q = q.where((eb) =>
      eb.or(types.map((t) => (t.endsWith('*') ? eb(sql<string>`substr(type, 1, ${sql.lit(t.length - 1)})`, '=', t.slice(0, -1)) : eb('type', '=', t)))),
    );
  }
  if (f.actor !== undefined) q = q.where('actor', '=', f.actor);
  if (f.subject !== undefined) q = q.where('subject', '=', f.subject);
  if (f.since !== undefined) q = q.where('ts', '>=', f.since);
  if (f.until !== undefined) q = q.where('ts', '<', f.until);
  if (beforeSeq !== undefined) q = q.where('seq', '<', beforeSeq);
  const rows = await q.orderBy('seq', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  return {
    events: page.map((r) => ({
      seq: Number(r.seq),
      ts: r.ts,
      type: r.type,
      actor: r.actor,
      subject: r.subject,
      instance_id: r.instance_id,
      data: parseData(r.data),
    })),
    nextBeforeSeq: rows.length > limit ? Number(page[page.length - 1]!.seq) : null,
  };
}

export type { StoredAuditEvent };
