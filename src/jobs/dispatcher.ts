// The dispatcher: claims queued jobs durably, runs each attempt through the backend, applies outcomes and retries.
import type { Audit } from '../audit/audit.js';
import {
  AttemptFailedError,
  NotSentError,
  type AttemptInfo,
  type DispatchJob,
  type FailureClass,
  type FaxBackend,
  type InFlightAttempt,
  type Outcome,
  type OutcomeSink,
} from '../backends/types.js';
import type { FaxJob } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { LocalStore } from '../storage/local.js';
import { parseDetails, type JobStore, type RetryDecider } from './job-store.js';
import { decideRetry, type RetryRules } from './retry-policy.js';

export interface DispatcherOptions {
  instanceId: string;
  leaseMs: number;
  pollMs: number;
  rules: RetryRules;
  /** An attempt with no result after this long (plus perPageMs per page) is settled as unknown. */
  attemptTimeoutMs: number;
  perPageMs: number;
}

interface Running {
  jobId: string;
  attemptNo: number;
  startedMs: number;
  pages: number;
  /** While the backend's send() runs: resolves once the peer's answer (provider id) is stored. */
  sending?: Promise<void>;
}

const key = (jobId: string, attemptNo: number) => `${jobId}#${attemptNo}`;

export class Dispatcher implements OutcomeSink {
  private readonly running = new Map<string, Running>();
  private readonly steps = new Set<Promise<unknown>>();
  private stopped = true;
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private lastLeaseRenew = 0;
  private lastSweep = 0;
  /** Settles in progress right now, so stop() can let them finish. */
  private settling = 0;

  constructor(
    private readonly store: JobStore,
    private readonly backend: FaxBackend,
    private readonly files: LocalStore,
    private readonly audit: Audit,
    private readonly opts: DispatcherOptions,
    private readonly log: Logger,
  ) {}

  get inFlight(): number {
    return this.running.size;
  }

  get isRunning(): boolean {
    return !this.stopped;
  }

  /** Settles what an earlier process left in flight, then starts claiming work. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.adopt(true);
    this.loop = this.run();
  }

  /** Stops claiming; calls in flight are left to the next start's reconciliation. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    const deadline = Date.now() + 5000;
    while ((this.steps.size > 0 || this.settling > 0) && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.steps]), new Promise((r) => setTimeout(r, 50))]);
    }
  }

  /** Something changed (a job was queued, a slot freed): look for work now rather than at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.tick();
      } catch (err) {
        this.log.error({ err: errText(err) }, 'dispatcher tick failed; retrying');
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.pollMs);
        this.wakeUp = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wakeUp = null;
    }
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    if (now - this.lastLeaseRenew > this.opts.leaseMs / 3) {
      this.lastLeaseRenew = now;
      await this.store.renewLeases(this.opts.instanceId, new Date(now + this.opts.leaseMs));
    }
    if (now - this.lastSweep > 5000) {
      this.lastSweep = now;
      await this.sweep();
    }
    // A peer known to be unreachable: leave due jobs queued (they are claimed once it is back, in order).
    const available = this.backend.isAvailable?.() ?? true;
    while (available && !this.stopped && this.running.size < this.backend.capacity) {
      const claimed = await this.store.claimNext(this.opts.instanceId, this.backend.name, this.opts.leaseMs, new Date());
      if (!claimed) break;
      const r: Running = { jobId: claimed.job.id, attemptNo: claimed.attemptNo, startedMs: Date.now(), pages: claimed.job.pages ?? 1 };
      this.running.set(key(r.jobId, r.attemptNo), r);
      this.track(this.runAttempt(claimed.job, claimed.attemptNo));
    }
  }

  /** Deadlines, dead instances' jobs, and attempts that never reported. */
  private async sweep(): Promise<void> {
    for (const id of await this.store.failOverdue(new Date())) {
      this.log.info({ jobId: id }, 'job failed: deadline passed while queued');
    }
    await this.adopt(false);
    const now = Date.now();
    for (const r of [...this.running.values()]) {
      const limit = this.opts.attemptTimeoutMs + this.opts.perPageMs * r.pages;
      if (now - r.startedMs > limit) {
        await this.settle(r.jobId, r.attemptNo, {
          ok: false,
          failureClass: 'unknown',
          error: `no result from the ${this.backend.name} backend within ${formatDuration(limit)}; the outcome is unknown`,
        });
      }
    }
  }

  private track(p: Promise<unknown>): void {
    this.steps.add(p);
    void p.finally(() => this.steps.delete(p));
  }

  private toDispatch(job: FaxJob): DispatchJob {
    return { id: job.id, to: job.to_number, pdfPath: this.files.path(job.document_path), pages: job.pages };
  }

  private async attemptInfo(jobId: string, attemptNo: number): Promise<AttemptInfo> {
    const previous = (await this.store.attempts(jobId))
      .filter((a) => a.attempt_no < attemptNo && a.outcome === 'failed')
      .map((a) => ({ attemptNo: a.attempt_no, failureClass: a.failure_class, details: parseDetails(a.details) }));
    return { attemptNo, protocolFailures: previous.filter((p) => p.failureClass === 'protocol').length, previous };
  }

  private async runAttempt(job: FaxJob, attemptNo: number): Promise<void> {
    const dj = this.toDispatch(job);
    const log = this.log.child({ jobId: job.id, attempt: attemptNo, backend: this.backend.name });
    let info: AttemptInfo;
    try {
      info = await this.attemptInfo(job.id, attemptNo);
      if (this.backend.prepare) await this.backend.prepare(dj, info);
    } catch (err) {
      if (err instanceof NotSentError) return this.giveBack(job.id, attemptNo, err.message, err.retryAfterMs);
      if (err instanceof AttemptFailedError) return this.settle(job.id, attemptNo, failure(err.failureClass, err.message, err.cause_));
      // Nothing left this process yet, so trying again later is safe.
      log.error({ err: errText(err) }, 'preparing the fax failed');
      return this.settle(job.id, attemptNo, failure('transient', `could not prepare the fax: ${errText(err)}`));
    }
    if (!(await this.store.markDialing(job.id, attemptNo))) return;
    // A fast peer can report the outcome before send() returns; settle() waits for this, so a job is never
    // final without the provider id of the attempt that ended it.
    let sendError: unknown;
    const running = this.running.get(key(job.id, attemptNo));
    const sending = (async () => {
      let accepted;
      try {
        accepted = await this.backend.send(dj, info);
      } catch (err) {
        sendError = err ?? new Error('send failed');
        return;
      }
      try {
        await this.store.markActive(job.id, attemptNo, accepted.providerSid, accepted.details);
        log.info({ providerSid: accepted.providerSid }, 'fax attempt started');
      } catch (err) {
        // The call is up; its outcome will still be applied. Only the provider id is missing for now.
        log.error({ err: errText(err), providerSid: accepted.providerSid }, 'could not record the accepted call');
      }
    })();
    if (running) running.sending = sending;
    await sending;
    if (running) running.sending = undefined;
    if (sendError === undefined) return;
    const err = sendError;
    if (err instanceof NotSentError) return this.giveBack(job.id, attemptNo, err.message, err.retryAfterMs);
    if (err instanceof AttemptFailedError) return this.settle(job.id, attemptNo, failure(err.failureClass, err.message, err.cause_));
    log.error({ err: errText(err) }, 'sending failed after the request may have reached the peer');
    return this.settle(job.id, attemptNo, failure('unknown', `outcome unknown: ${errText(err)}`));
  }

  private async giveBack(jobId: string, attemptNo: number, reason: string, afterMs: number): Promise<void> {
    this.running.delete(key(jobId, attemptNo));
    const ok = await this.store.giveBack(jobId, attemptNo, reason, new Date(Date.now() + afterMs));
    if (ok) this.log.warn({ jobId, attempt: attemptNo, reason }, 'attempt given back unsent; the job is queued again');
  }

  /** Finds jobs in flight that this instance must follow (after a restart, or a dead instance's) and reconciles them. */
  private async adopt(includeOwn: boolean): Promise<void> {
    const adopted = await this.store.adoptInFlight(this.opts.instanceId, this.backend.name, this.opts.leaseMs, new Date(), includeOwn);
    const toReconcile: InFlightAttempt[] = [];
    for (const { job, attempt } of adopted) {
      const k = key(job.id, attempt.attempt_no);
      if (this.running.has(k)) continue;
      if (attempt.state === 'claimed') {
        // The peer was never asked: give it back without counting it.
        await this.store.giveBack(job.id, attempt.attempt_no, 'the service stopped before the call was placed', new Date());
        continue;
      }
      if (attempt.state === 'ended') {
        // Settled on the attempt but not on the job: cannot happen with the transactional settle; repair loudly.
        this.log.error({ jobId: job.id }, 'attempt ended but job still in progress; settling as unknown');
        this.running.set(k, { jobId: job.id, attemptNo: attempt.attempt_no, startedMs: Date.now(), pages: job.pages ?? 1 });
        await this.settle(job.id, attempt.attempt_no, failure('unknown', 'outcome unknown after a restart'));
        continue;
      }
      this.running.set(k, { jobId: job.id, attemptNo: attempt.attempt_no, startedMs: Date.parse(attempt.started_at) || Date.now(), pages: job.pages ?? 1 });
      toReconcile.push({
        job: this.toDispatch(job),
        attemptNo: attempt.attempt_no,
        state: attempt.state,
        providerSid: attempt.provider_sid,
        callId: attempt.call_id,
        details: parseDetails(attempt.details),
      });
    }
    if (toReconcile.length > 0) {
      this.log.info({ count: toReconcile.length }, 'reconciling fax attempts left in flight');
      await this.audit.record({ type: 'dispatcher.reconcile', actor: 'dispatcher', data: { attempts: toReconcile.length } });
      try {
        await this.backend.reconcile(toReconcile);
      } catch (err) {
        this.log.error({ err: errText(err) }, 'reconciliation failed; the attempts stay in progress and are retried');
        for (const a of toReconcile) this.running.delete(key(a.job.id, a.attemptNo));
      }
    }
  }

  // OutcomeSink

  async progress(jobId: string, attemptNo: number, patch: { providerSid?: string; pages?: number; details?: Record<string, unknown> }): Promise<void> {
    await this.store.progress(jobId, attemptNo, patch);
  }

  async settle(jobId: string, attemptNo: number, outcome: Outcome): Promise<void> {
    this.settling++;
    try {
      await this.running.get(key(jobId, attemptNo))?.sending;
      const decide: RetryDecider = (job, cls, history) =>
        decideRetry(this.opts.rules, { failureClass: cls, history, deadline: new Date(job.deadline_at), now: new Date() });
      const r = await this.store.settle(jobId, attemptNo, outcome, decide, this.backend.name);
      this.running.delete(key(jobId, attemptNo));
      if (!r.applied) {
        this.log.debug({ jobId, attempt: attemptNo }, 'stale outcome ignored');
        return;
      }
      if (r.event) this.audit.publish(r.event);
      const fields = { jobId, attempt: attemptNo, status: r.job.status, pages: r.job.pages, ...(outcome.ok ? {} : { failureClass: outcome.failureClass }) };
      if (r.retryAt) this.log.info({ ...fields, retryAt: r.retryAt.toISOString() }, 'fax attempt failed; retry scheduled');
      else this.log.info(fields, outcome.ok ? 'fax sent' : 'fax failed');
    } finally {
      this.settling--;
      this.wake();
    }
  }
}

function failure(failureClass: FailureClass, error: string, cause?: string): Outcome {
  return cause === undefined ? { ok: false, failureClass, error } : { ok: false, failureClass, error, cause };
}

function formatDuration(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} minutes` : `${Math.round(ms / 1000)} seconds`;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
