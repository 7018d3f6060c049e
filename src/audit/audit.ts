// Audit events: who did what to which job or key, stored in the database; never PHI, tokens or keys.
import type { Kysely } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../log.js';
import { scrubData } from './format.js';

export interface AuditEvent {
  type: string;
  actor?: string | null;
  subject?: string | null;
  data?: Record<string, unknown>;
}

export type StoredAuditEvent = AuditEvent & { ts: string; instanceId: string };
export type AuditListener = (e: StoredAuditEvent) => void;

export class Audit {
  private readonly listeners = new Set<AuditListener>();

  constructor(
    private readonly db: Db,
    private readonly instanceId: string,
    private readonly log: Logger,
  ) {}

  /** Sinks (file, syslog, live tail) subscribe here; they hear an event once it is committed. */
  onEvent(fn: AuditListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Records an event on its own. Never throws: auditing must not break the request. */
  async record(e: AuditEvent): Promise<void> {
    try {
      const stored = await this.insert(this.db.k, e);
      this.publish(stored);
    } catch (err) {
      this.log.error({ err: String(err), type: e.type }, 'could not store audit event');
    }
  }

  /**
   * Records an event inside the transaction that made the change, so both commit together (one disk
   * flush, not two). Call `publish` with the result after the commit.
   */
  async insert(trx: Kysely<Database>, raw: AuditEvent): Promise<StoredAuditEvent> {
    const ts = new Date().toISOString();
    const e: AuditEvent = raw.data === undefined ? raw : { ...raw, data: scrubData(raw.data) };
    await trx
      .insertInto('audit_events')
      .values({
        ts,
        type: e.type,
        actor: e.actor ?? null,
        subject: e.subject ?? null,
        instance_id: this.instanceId,
        data: e.data === undefined ? null : JSON.stringify(e.data),
      })
      .execute();
    return { ...e, ts, instanceId: this.instanceId };
  }

  publish(e: StoredAuditEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch {
        // a failing sink must not affect the others
      }
    }
  }
}
