// Inbound records in the database: create-once by (source, source uid), claims under a lease, listing, PDF tokens.
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/connect.js';
import type { InboundFax, NewInboundFax } from '../db/schema.js';
import { hashesEqual } from '../auth/tokens.js';

export interface ListFilter {
  since?: string | undefined;
  until?: string | undefined;
  toNumber?: string | undefined;
  fromNumber?: string | undefined;
  status?: string | undefined;
  mailbox?: string | undefined;
  /** Keyset position: rows strictly after (older than) this one. */
  after?: { receivedAt: string; id: string } | undefined;
  limit: number;
}

export type TokenCheck = 'ok' | 'expired' | 'invalid';

/** The stored spellings a number may have: as typed, digits only, and with a leading +. */
function numberVariants(n: string): string[] {
  const t = n.trim();
  const digits = t.replace(/\D/g, '');
  return [...new Set([t, digits, `+${digits}`].filter((s) => s !== '' && s !== '+'))];
}

export class InboundStore {
  constructor(readonly db: Db) {}

  async get(id: string): Promise<InboundFax | undefined> {
    return this.db.k.selectFrom('inbound_faxes').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async bySource(source: string, uid: string): Promise<InboundFax | undefined> {
    return this.db.k.selectFrom('inbound_faxes').selectAll().where('source', '=', source).where('source_uid', '=', uid).executeTakeFirst();
  }

  /** Inserts unless (source, source_uid) exists; the unique key settles races between reporters and instances. */
  async insertIfAbsent(row: NewInboundFax): Promise<boolean> {
    const r = await this.db.k
      .insertInto('inbound_faxes')
      .values(row)
      .onConflict((oc) => oc.columns(['source', 'source_uid']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return r !== undefined;
  }

  async patch(id: string, set: Partial<InboundFax>): Promise<void> {
    await this.db.k.updateTable('inbound_faxes').set(set).where('id', '=', id).execute();
  }

  /**
   * Takes the document work of a record: only one reporter (or instance) converts a fax. A claim
   * whose lease ran out (its holder died) can be taken; `takeOver` also takes this instance's own
   * claims, which after a restart belong to a process that no longer exists.
   */
  async claim(id: string, owner: string, leaseMs: number, now: Date, takeOver = false): Promise<boolean> {
    const ts = now.toISOString();
    const r = await this.db.k
      .updateTable('inbound_faxes')
      .set({ ingest_state: 'processing', lease_owner: owner, lease_expires_at: new Date(now.getTime() + leaseMs).toISOString(), updated_at: ts })
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb('ingest_state', '=', 'pending'),
          eb.and([
            eb('ingest_state', '=', 'processing'),
            eb.or([eb('lease_expires_at', '<', ts), ...(takeOver ? [eb('lease_owner', '=', owner)] : [])]),
          ]),
        ]),
      )
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Records that need their document work (re)done: pending with a known spool file and untouched for
   * `pendingAgeMs` (a fresh one is about to be claimed by the reporter that created it), or claimed
   * under a lapsed lease.
   */
  async unfinished(now: Date, owner: string, takeOver: boolean, pendingAgeMs: number, limit = 100): Promise<InboundFax[]> {
    const ts = now.toISOString();
    const settled = new Date(now.getTime() - pendingAgeMs).toISOString();
    return this.db.k
      .selectFrom('inbound_faxes')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('ingest_state', '=', 'pending'), eb('spool_path', 'is not', null), eb('updated_at', '<=', settled)]),
          eb.and([
            eb('ingest_state', '=', 'processing'),
            eb.or([eb('lease_expires_at', '<', ts), ...(takeOver ? [eb('lease_owner', '=', owner)] : [])]),
          ]),
        ]),
      )
      .orderBy('received_at')
      .limit(limit)
      .execute();
  }

  /** Newest first, by (received_at, id) so pages never skip or repeat a row. */
  async list(f: ListFilter): Promise<InboundFax[]> {
    let q = this.db.k.selectFrom('inbound_faxes').selectAll();
    if (f.since) q = q.where('received_at', '>=', f.since);
    if (f.until) q = q.where('received_at', '<', f.until);
    if (f.toNumber) q = q.where('to_number', 'in', numberVariants(f.toNumber));
    if (f.fromNumber) q = q.where('from_number', 'in', numberVariants(f.fromNumber));
    if (f.status) q = q.where('status', '=', f.status);
    if (f.mailbox) q = q.where('mailbox', '=', f.mailbox);
    if (f.after) {
      const a = f.after;
      q = q.where((eb) => eb.or([eb('received_at', '<', a.receivedAt), eb.and([eb('received_at', '=', a.receivedAt), eb('id', '<', a.id)])]));
    }
    return q.orderBy('received_at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
  }

  /** A new PDF token for a record: 256 random bits, stored only as a SHA-256. */
  async mintToken(inboundId: string, ttlMinutes: number, now = new Date()): Promise<{ token: string; expiresAt: string }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + ttlMinutes * 60_000).toISOString();
    await this.db.k
      .insertInto('inbound_pdf_tokens')
      .values({ token_hash: hashPdfToken(token), inbound_id: inboundId, expires_at: expiresAt, created_at: now.toISOString() })
      .execute();
    return { token, expiresAt };
  }

  /** Whether `token` opens the PDF of `inboundId`: compared as hashes in constant time, expiry checked. */
  async checkToken(inboundId: string, token: string, now = new Date()): Promise<TokenCheck> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return 'invalid';
    const h = hashPdfToken(token);
    const row = await this.db.k.selectFrom('inbound_pdf_tokens').selectAll().where('token_hash', '=', h).executeTakeFirst();
    // The row was found by its hash; compare again in constant time so a timing difference cannot matter.
    if (!row || !hashesEqual(row.token_hash, h) || row.inbound_id !== inboundId) return 'invalid';
    return row.expires_at <= now.toISOString() ? 'expired' : 'ok';
  }

  async purgeExpiredTokens(now: Date): Promise<number> {
    // A day of grace, so an expired token still answers "expired" rather than "invalid" for a while.
    const cutoff = new Date(now.getTime() - 24 * 3600_000).toISOString();
    const r = await this.db.k.deleteFrom('inbound_pdf_tokens').where('expires_at', '<', cutoff).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

export function hashPdfToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
