// Short-lived tokens that let a cloud provider fetch one job's PDF without an API key; only their hash is stored.
import { randomBytes } from 'node:crypto';
import { hashesEqual, hashToken } from '../auth/tokens.js';
import type { Db } from '../db/connect.js';
import type { FaxJob } from '../db/schema.js';

export interface DocumentTokenOptions {
  /** PDF_TOKEN_TTL_MINUTES. */
  ttlMinutes: number;
  /** PUBLIC_API_URL without a trailing slash. */
  publicBase: string;
}

export type TokenCheck =
  | { kind: 'unknown_job' }
  | { kind: 'denied'; reason: 'missing' | 'invalid' | 'expired' }
  | { kind: 'ok'; job: FaxJob };

export class DocumentTokens {
  constructor(
    private readonly db: Db,
    private readonly opts: () => DocumentTokenOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A new token for the job (256 random bits), replacing any earlier one: each send gets its own, and
   * the previous attempt's URL stops working. Only SHA-256(token) is written.
   */
  async issue(jobId: string): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.now() + this.opts().ttlMinutes * 60_000);
    const r = await this.db.k
      .updateTable('fax_jobs')
      .set({ pdf_token_hash: hashToken(token), pdf_token_expires_at: expiresAt.toISOString() })
      .where('id', '=', jobId)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new Error('cannot issue a document token: job not found');
    return { token, expiresAt };
  }

  /** PUBLIC_API_URL/fax/{id}/pdf?token=… with a fresh token. */
  async issueUrl(jobId: string): Promise<string> {
    const { token } = await this.issue(jobId);
    return documentUrl(this.opts().publicBase, jobId, token);
  }

  /** Checks a presented token against the stored hash, in constant time; an unknown job is told apart (404). */
  async check(jobId: string, token: string | undefined): Promise<TokenCheck> {
    const job = await this.db.k.selectFrom('fax_jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
    if (!job) return { kind: 'unknown_job' };
    if (token === undefined || token === '') return { kind: 'denied', reason: 'missing' };
    // Hash first, so the comparison is over two fixed-length digests whatever was presented.
    const ok = job.pdf_token_hash !== null && hashesEqual(hashToken(token), job.pdf_token_hash);
    if (!ok) return { kind: 'denied', reason: 'invalid' };
    const expires = job.pdf_token_expires_at === null ? NaN : Date.parse(job.pdf_token_expires_at);
    if (!(expires > this.now())) return { kind: 'denied', reason: 'expired' };
    return { kind: 'ok', job };
  }
}

export function documentUrl(publicBase: string, jobId: string, token: string): string {
  return `${publicBase}/fax/${encodeURIComponent(jobId)}/pdf?token=${encodeURIComponent(token)}`;
}
