// Durable job state: every move of a job (claim, dial, accept, settle, give back) is one conditional transaction.
import { sql, type Transaction } from 'kysely';
import type { Audit, StoredAuditEvent } from '../audit/audit.js';
import type { FailureClass, Outcome } from '../backends/types.js';
import type { Db } from '../db/connect.js';
import type { Database, FaxAttempt, FaxJob } from '../db/schema.js';

export interface Claimed {
  job: FaxJob;
  attemptNo: number;
}

export type SettleResult =
  | { applied: false; reason: 'stale' }
  | { applied: true; job: FaxJob; retryAt: Date | null };

/** Hears every status change of a job inside the transaction that made it. */
export type StatusHook = (trx: Transaction<Database>, job: FaxJob) => Promise<void>;

/** What to do with a failed attempt, decided inside the settle transaction from the job's history. */
export type RetryDecider = (job: FaxJob, failureClass: FailureClass, history: (FailureClass | null)[]) =>
  | { retry: true; at: Date }
  | { retry: false; why: string };

class Stale extends Error {}

const iso = (d: Date) => d.toISOString();

function mergeDetails(existing: string | null, add: Record<string, unknown> | undefined): string | null {
  if (!add || Object.keys(add).length === 0) return existing;
  let base: Record<string, unknown> = {};
  try {
    base = existing ? (JSON.parse(existing) as Record<string, unknown>) : {};
  } catch {
    base = {};
  }
  return JSON.stringify({ ...base, ...add });
}

export function parseDetails(json: string | null): Record<string, unknown> {
  if (!json) return {};
  try {
    const v: unknown = JSON.parse(json);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export class JobStore {
  constructor(
    readonly db: Db,
    private readonly audit: Audit,
    /** Called inside every transaction that changes a job's status (status webhooks are written there). */
    private readonly onStatus: StatusHook = async () => undefined,
  ) {}

  private async tx<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.k.transaction().execute(fn);
  }

  async get(id: string): Promise<FaxJob | undefined> {
    return this.db.k.selectFrom('fax_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async attempts(jobId: string): Promise<FaxAttempt[]> {
    return this.db.k.selectFrom('fax_attempts').selectAll().where('job_id', '=', jobId).orderBy('attempt_no').execute();
  }

  /**
   * Claims the oldest due job whose destination has no call in flight, for `backend`, as attempt n+1.
   * On PostgreSQL the row is locked with SKIP LOCKED so instances never wait on (or take) each other's claims;
   * the unique dest_lock makes two calls to one number impossible even between instances.
   */
  async claimNext(instanceId: string, backend: string, leaseMs: number, now: Date): Promise<Claimed | null> {
    try {
      return await this.tx(async (trx) => {
        let q = trx
          .selectFrom('fax_jobs as j')
          .selectAll('j')
          .where('j.status', '=', 'queued')
          .where('j.next_attempt_at', '<=', iso(now))
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('fax_jobs as b').select(sql.lit(1).as('one')).whereRef('b.dest_lock', '=', 'j.to_number'))),
          )
          .orderBy('j.created_at')
          .orderBy('j.id')
          .limit(1);
        if (this.db.dialect === 'postgres') q = q.forUpdate('j').skipLocked();
        const job = await q.executeTakeFirst();
        if (!job) return null;
        const attemptNo = job.attempt_count + 1;
        const ts = iso(now);
        const r = await trx
          .updateTable('fax_jobs')
          .set({
            status: 'in_progress',
            backend,
            attempt_count: attemptNo,
            lease_owner: instanceId,
            lease_expires_at: iso(new Date(now.getTime() + leaseMs)),
            dest_lock: job.to_number,
            updated_at: ts,
          })
          .where('id', '=', job.id)
          .where('status', '=', 'queued')
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return null;
        await trx
          .insertInto('fax_attempts')
          .values({
            job_id: job.id,
            attempt_no: attemptNo,
            backend,
            instance_id: instanceId,
            state: 'claimed',
            outcome: null,
            failure_class: null,
            error: null,
            cause: null,
            call_id: null,
            provider_sid: null,
            pages: null,
            details: null,
            started_at: ts,
            dialed_at: null,
            ended_at: null,
          })
          .execute();
        const claimed = { ...job, status: 'in_progress' as const, backend, attempt_count: attemptNo, dest_lock: job.to_number, updated_at: ts };
        await this.onStatus(trx, claimed);
        return { job: claimed, attemptNo };
      });
    } catch (err) {
      // Another instance took a call to the same number between our check and our update.
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /** The peer may be asked from now on: a crash after this point means the outcome must be learned, not assumed. */
  async markDialing(jobId: string, attemptNo: number): Promise<boolean> {
    const r = await this.db.k
      .updateTable('fax_attempts')
      .set({ state: 'dialing', dialed_at: iso(new Date()) })
      .where('job_id', '=', jobId)
      .where('attempt_no', '=', attemptNo)
      .where('state', '=', 'claimed')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The peer accepted the call: the attempt is active, its id is on the attempt and the job (also if it already ended). */
  markActive(jobId: string, attemptNo: number, providerSid: string, details: Record<string, unknown> | undefined): Promise<void> {
    return this.patchAttempt(jobId, attemptNo, { providerSid, details }, true);
  }

  /** Partial news about an attempt still going: provider id, pages so far, details. */
  progress(jobId: string, attemptNo: number, patch: { providerSid?: string; pages?: number; details?: Record<string, unknown> }): Promise<void> {
    return this.patchAttempt(jobId, attemptNo, patch, false);
  }

  private async patchAttempt(
    jobId: string,
    attemptNo: number,
    patch: { providerSid?: string; pages?: number; details?: Record<string, unknown> | undefined },
    accepted: boolean,
  ): Promise<void> {
    await this.tx(async (trx) => {
      const att = await trx
        .selectFrom('fax_attempts')
        .select(['state', 'details'])
        .where('job_id', '=', jobId)
        .where('attempt_no', '=', attemptNo)
        .executeTakeFirst();
      // Late news of an ended attempt changes nothing, except the acceptance (the provider id must be kept).
      if (!att || (att.state === 'ended' && !accepted)) return;
      await trx
        .updateTable('fax_attempts')
        .set({
          ...(accepted ? { state: att.state === 'ended' ? ('ended' as const) : ('active' as const) } : {}),
          ...(patch.providerSid !== undefined ? { provider_sid: patch.providerSid, call_id: patch.providerSid } : {}),
          ...(patch.pages !== undefined ? { pages: patch.pages } : {}),
          details: mergeDetails(att.details, patch.details),
        })
        .where('job_id', '=', jobId)
        .where('attempt_no', '=', attemptNo)
        .execute();
      if (patch.providerSid === undefined) return;
      let job = trx
        .updateTable('fax_jobs')
        .set({ provider_sid: patch.providerSid, updated_at: iso(new Date()) })
        .where('id', '=', jobId)
        .where('attempt_count', '=', attemptNo);
      if (!accepted) job = job.where('status', '=', 'in_progress');
      await job.execute();
    });
  }

  /**
   * Applies the outcome of an attempt, once: only while the job is in progress on exactly that attempt.
   * A late, repeated or out-of-order report changes nothing.
   */
  async settle(jobId: string, attemptNo: number, outcome: Outcome, decide: RetryDecider, actor: string): Promise<SettleResult & { event?: StoredAuditEvent }> {
    try {
      return await this.tx(async (trx) => {
        let q = trx.selectFrom('fax_jobs').selectAll().where('id', '=', jobId);
        if (this.db.dialect === 'postgres') q = q.forUpdate();
        const job = await q.executeTakeFirst();
        if (!job || job.status !== 'in_progress' || job.attempt_count !== attemptNo) throw new Stale();
        const att = await trx
          .selectFrom('fax_attempts')
          .select(['details', 'pages', 'started_at'])
          .where('job_id', '=', jobId)
          .where('attempt_no', '=', attemptNo)
          .executeTakeFirst();
        const now = new Date();
        const ts = iso(now);
        const pages = outcome.ok ? outcome.pages : (outcome.pages ?? att?.pages ?? null);
        await trx
          .updateTable('fax_attempts')
          .set({
            state: 'ended',
            outcome: outcome.ok ? 'success' : 'failed',
            failure_class: outcome.ok ? null : outcome.failureClass,
            error: outcome.ok ? null : outcome.error,
            cause: outcome.cause ?? null,
            pages,
            details: mergeDetails(att?.details ?? null, outcome.details),
            ended_at: ts,
          })
          .where('job_id', '=', jobId)
          .where('attempt_no', '=', attemptNo)
          .execute();

        let update: Partial<FaxJob>;
        let retryAt: Date | null = null;
        let eventType: string;
        if (outcome.ok) {
          update = { status: 'SUCCESS', error: null, failure_class: null, pages: outcome.pages ?? job.pages, completed_at: ts };
          eventType = 'job.succeeded';
        } else {
          const history = (
            await trx
              .selectFrom('fax_attempts')
              .select('failure_class')
              .where('job_id', '=', jobId)
              .where('outcome', '=', 'failed')
              .orderBy('attempt_no')
              .execute()
          ).map((r) => r.failure_class as FailureClass | null);
          const d = decide(job, outcome.failureClass, history);
          if (d.retry) {
            retryAt = d.at;
            update = { status: 'queued', error: outcome.error, failure_class: outcome.failureClass, next_attempt_at: iso(d.at) };
            eventType = 'job.retry_scheduled';
          } else {
            const counted = history.length;
            const error = counted > 1 && d.why.startsWith('gave up') ? `${outcome.error} (${d.why})` : outcome.error;
            update = { status: 'FAILED', error, failure_class: outcome.failureClass, completed_at: ts };
            if (pages !== null && pages !== undefined) update.pages = pages;
            eventType = 'job.failed';
          }
        }
        const r = await trx
          .updateTable('fax_jobs')
          .set({ ...update, dest_lock: null, lease_owner: null, lease_expires_at: null, updated_at: ts })
          .where('id', '=', jobId)
          .where('status', '=', 'in_progress')
          .where('attempt_count', '=', attemptNo)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw new Stale();
        const event = await this.audit.insert(trx, {
          type: eventType,
          actor,
          subject: jobId,
          data: {
            attempt: attemptNo,
            backend: job.backend,
            duration_ms: att ? now.getTime() - Date.parse(att.started_at) : null,
            ...(outcome.ok ? { pages: outcome.pages } : { failure_class: outcome.failureClass, retry_at: retryAt?.toISOString() ?? null }),
          },
        });
        const settled = { ...job, ...update, dest_lock: null, lease_owner: null, lease_expires_at: null, updated_at: ts } as FaxJob;
        await this.onStatus(trx, settled);
        return { applied: true as const, job: settled, retryAt, event };
      });
    } catch (err) {
      if (err instanceof Stale) return { applied: false, reason: 'stale' };
      throw err;
    }
  }

  /** Hands an attempt back without counting it (nothing reached the peer): the job is queued again. */
  async giveBack(jobId: string, attemptNo: number, reason: string, retryAt: Date): Promise<boolean> {
    return this.tx(async (trx) => {
      const ts = iso(new Date());
      const r = await trx
        .updateTable('fax_jobs')
        .set({ status: 'queued', next_attempt_at: iso(retryAt), dest_lock: null, lease_owner: null, lease_expires_at: null, updated_at: ts })
        .where('id', '=', jobId)
        .where('status', '=', 'in_progress')
        .where('attempt_count', '=', attemptNo)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await trx
        .updateTable('fax_attempts')
        .set({ state: 'ended', outcome: 'aborted', error: reason, ended_at: ts })
        .where('job_id', '=', jobId)
        .where('attempt_no', '=', attemptNo)
        .execute();
      const job = await trx.selectFrom('fax_jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
      if (job) await this.onStatus(trx, job);
      return true;
    });
  }

  /** Extends the lease on every job this instance is driving. */
  async renewLeases(instanceId: string, until: Date): Promise<void> {
    await this.db.k
      .updateTable('fax_jobs')
      .set({ lease_expires_at: iso(until) })
      .where('lease_owner', '=', instanceId)
      .where('status', '=', 'in_progress')
      .execute();
  }

  /**
   * Jobs in progress on `backend` that this instance must settle: its own (from before a restart) and
   * those whose holder's lease ran out. Each is re-leased to this instance; a job another instance adopts
   * first is skipped.
   */
  async adoptInFlight(
    instanceId: string,
    backend: string,
    leaseMs: number,
    now: Date,
    includeOwn: boolean,
  ): Promise<{ job: FaxJob; attempt: FaxAttempt }[]> {
    const candidates = await this.db.k
      .selectFrom('fax_jobs')
      .selectAll()
      .where('status', '=', 'in_progress')
      .where('backend', '=', backend)
      .where((eb) =>
        eb.or([
          ...(includeOwn ? [eb('lease_owner', '=', instanceId)] : []),
          eb('lease_owner', 'is', null),
          eb('lease_expires_at', '<', iso(now)),
        ]),
      )
      .execute();
    const out: { job: FaxJob; attempt: FaxAttempt }[] = [];
    for (const job of candidates) {
      const r = await this.db.k
        .updateTable('fax_jobs')
        .set({ lease_owner: instanceId, lease_expires_at: iso(new Date(now.getTime() + leaseMs)) })
        .where('id', '=', job.id)
        .where('status', '=', 'in_progress')
        .where('attempt_count', '=', job.attempt_count)
        .where((eb) => eb.or([eb('lease_owner', '=', instanceId), eb('lease_owner', 'is', null), eb('lease_expires_at', '<', iso(now))]))
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) continue;
      const attempt = await this.db.k
        .selectFrom('fax_attempts')
        .selectAll()
        .where('job_id', '=', job.id)
        .where('attempt_no', '=', job.attempt_count)
        .executeTakeFirst();
      if (attempt) out.push({ job, attempt });
    }
    return out;
  }

  /** Fails queued jobs whose deadline passed; returns their ids. */
  async failOverdue(now: Date): Promise<string[]> {
    const overdue = await this.db.k
      .selectFrom('fax_jobs')
      .select(['id', 'error'])
      .where('status', '=', 'queued')
      .where('deadline_at', '<', iso(now))
      .limit(500)
      .execute();
    const failed: string[] = [];
    for (const j of overdue) {
      const ts = iso(new Date());
      const error = j.error ? `${j.error} (not sent before the job deadline)` : 'not sent before the job deadline (FAX_JOB_DEADLINE_MINUTES)';
      const ok = await this.tx(async (trx) => {
        const r = await trx
          .updateTable('fax_jobs')
          .set({ status: 'FAILED', error, completed_at: ts, updated_at: ts })
          .where('id', '=', j.id)
          .where('status', '=', 'queued')
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return false;
        await this.audit.insert(trx, { type: 'job.failed', actor: 'dispatcher', subject: j.id, data: { reason: 'deadline' } });
        const job = await trx.selectFrom('fax_jobs').selectAll().where('id', '=', j.id).executeTakeFirst();
        if (job) await this.onStatus(trx, job);
        return true;
      });
      if (ok) failed.push(j.id);
    }
    return failed;
  }

  /** Number of jobs waiting to be sent (for readiness and metrics). */
  async queueDepth(): Promise<number> {
    const r = await this.db.k
      .selectFrom('fax_jobs')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('status', '=', 'queued')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}

/** True for a unique-constraint violation in either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

