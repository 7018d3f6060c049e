// Applies a provider's status callback to its job, once: unknown, replayed, stale or backwards reports change nothing and are audited.
import type { Audit } from '../audit/audit.js';
import type { CloudStatus } from '../backends/cloud/status.js';
import type { Outcome, OutcomeSink } from '../backends/types.js';
import type { Db } from '../db/connect.js';
import { FINAL_STATUSES, type FaxJob } from '../db/schema.js';
import type { Logger } from '../log.js';
import { attemptByProviderSid, attemptOf } from './attempt-lookup.js';

export interface StatusReport {
  /** Backend name the report is for: phaxio, sinch, signalwire or a manifest id. */
  provider: string;
  providerSid: string | null;
  /** From the callback URL or the fax's tags. */
  jobId: string | null;
  attempt: number | null;
  /** What the callback body says. */
  status: CloudStatus;
  /**
   * For a callback that could not be authenticated: ask the provider instead of believing the body.
   * Called only once the report is attributed to a job in progress.
   */
  refetch?: (ctx: { providerSid: string; jobId: string; attemptNo: number; to: string }) => Promise<CloudStatus>;
  /** The signature scheme that verified it, 'refetched', or 'unverified'. */
  verifiedBy: string;
}

export type IgnoreReason =
  | 'unknown_job' // no job with that id or provider fax id
  | 'unattributable' // neither an attempt number nor a known provider id
  | 'wrong_provider' // the job was sent through another backend
  | 'sid_mismatch' // the attempt has another provider fax id
  | 'replay' // the job is final with this very outcome
  | 'final_job' // the job is final; the report would change it
  | 'stale_attempt'; // the job moved on (retry queued or a later attempt)

export type ApplyResult =
  | { applied: 'settled' | 'progress'; jobId: string; attempt: number }
  | { applied: 'ignored'; reason: IgnoreReason; jobId: string | null };

export class CallbackApplier {
  constructor(
    private readonly db: Db,
    private readonly sink: OutcomeSink,
    private readonly audit: Audit,
    private readonly log: Logger,
  ) {}

  async apply(r: StatusReport): Promise<ApplyResult> {
    let job: FaxJob | undefined = r.jobId ? await this.job(r.jobId) : undefined;
    const bySid = r.providerSid ? await attemptByProviderSid(this.db, r.providerSid, job?.id) : undefined;
    if (!job && !r.jobId && bySid) job = await this.job(bySid.job_id);
    if (!job) return this.ignore(r, null, 'unknown_job');
    if (job.backend !== r.provider) return this.ignore(r, job.id, 'wrong_provider');

    let attemptNo: number;
    if (bySid) attemptNo = bySid.attempt_no;
    else {
      // Not recorded yet: the callback may beat the send's own answer, or the fax was adopted later.
      const n = r.attempt ?? null;
      if (n === null) return this.ignore(r, job.id, 'unattributable');
      const att = await attemptOf(this.db, job.id, n);
      if (!att) return this.ignore(r, job.id, 'stale_attempt');
      if (att.provider_sid && r.providerSid && att.provider_sid !== r.providerSid) return this.ignore(r, job.id, 'sid_mismatch');
      attemptNo = n;
    }

    if (FINAL_STATUSES.includes(job.status)) {
      const same = r.status.state === 'final' && (r.status.outcome.ok ? job.status === 'SUCCESS' : job.status === 'FAILED');
      return this.ignore(r, job.id, same ? 'replay' : 'final_job');
    }
    if (job.status !== 'in_progress' || job.attempt_count !== attemptNo) return this.ignore(r, job.id, 'stale_attempt');

    let status = r.status;
    if (r.refetch && r.providerSid) {
      status = await r.refetch({ providerSid: r.providerSid, jobId: job.id, attemptNo, to: job.to_number });
    }
    if (status.state === 'final') {
      const outcome: Outcome = { ...status.outcome, details: { ...status.outcome.details, provider_status: status.providerStatus, reported_by: `callback (${r.verifiedBy})` } };
      await this.sink.settle(job.id, attemptNo, outcome);
      return { applied: 'settled', jobId: job.id, attempt: attemptNo };
    }
    await this.sink.progress(job.id, attemptNo, {
      ...(r.providerSid ? { providerSid: r.providerSid } : {}),
      ...(status.pages !== null ? { pages: status.pages } : {}),
      details: { provider_status: status.providerStatus },
    });
    return { applied: 'progress', jobId: job.id, attempt: attemptNo };
  }

  private job(id: string): Promise<FaxJob | undefined> {
    return this.db.k.selectFrom('fax_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  private async ignore(r: StatusReport, jobId: string | null, reason: IgnoreReason): Promise<ApplyResult> {
    this.log.info({ provider: r.provider, jobId, reason, providerStatus: r.status.providerStatus }, 'provider callback ignored');
    await this.audit.record({
      type: 'callback.ignored',
      actor: r.provider,
      subject: jobId,
      data: { reason, provider_status: r.status.providerStatus, attempt: r.attempt, verified_by: r.verifiedBy },
    });
    return { applied: 'ignored', reason, jobId };
  }
}
