// The FaxBackend for every cloud provider: send once (never twice), then follow each fax by polling until it is final or overdue.
//
// Callbacks are applied by the HTTP layer straight through the OutcomeSink; this class does the rest:
// the send (after looking for an earlier attempt's fax whose answer was lost), polling of faxes in
// flight, a deadline after which a fax with no final status fails with a clear error, and, after a
// restart, asking the provider about every attempt that was left in flight.
import { access, readFile } from 'node:fs/promises';
import type { Logger } from '../../log.js';
import {
  AttemptFailedError, NotSentError,
  type AttemptInfo, type DispatchJob, type FaxBackend, type InFlightAttempt, type Outcome, type OutcomeSink, type ReadinessCheck, type SendAccepted,
} from '../types.js';
import { ProviderError, toAttemptError } from './http.js';
import { checkLostSends } from './lost-send.js';
import type { CloudStatus, Existing } from './status.js';

export interface CloudSendInput {
  jobId: string;
  attemptNo: number;
  /** E.164. */
  to: string;
  document: { url: string } | { pdf: Buffer };
  /** Our callback URL for this attempt (carries job_id and attempt), when the provider takes one per fax. */
  callbackUrl: string | undefined;
}

/** What each provider (Phaxio, Sinch, SignalWire, a manifest) supplies to the shared backend. */
export interface ProviderAdapter<F = unknown> {
  /** Backend name: phaxio, sinch, signalwire or the manifest id. */
  readonly name: string;
  /** For people: Phaxio, Sinch, SignalWire, the manifest's name. */
  readonly label: string;
  readonly documentMode: 'url' | 'upload';
  /** Settings this provider needs and does not have (empty = configured). */
  readonly missing: readonly string[];
  /** False when the provider cannot be asked about one fax (a manifest without poll). */
  readonly canPoll: boolean;
  /** One line for readiness: where it sends and how documents travel. */
  describe(): string;
  send(input: CloudSendInput): Promise<{ providerSid: string; status: CloudStatus | null }>;
  getStatus(providerSid: string, ctx: { jobId: string; attemptNo: number; to: string }): Promise<CloudStatus>;
  findExisting(jobId: string, attemptNo: number, ctx: { to: string; since: Date }): Promise<Existing<F>>;
  statusOf(fax: F): CloudStatus;
  callbackUrl(jobId: string, attemptNo: number): string | undefined;
}

export interface CloudBackendOptions {
  log: Logger;
  /** Faxes in flight at most (per instance). */
  capacity: number;
  /** Poll each fax in flight this often; 0 = rely on callbacks (the deadline still applies). */
  pollIntervalMs: number;
  /** How long a sent fax may stay without a final status. */
  deadlineMs: (pages: number | null) => number;
  /** How far back to look for an earlier attempt's fax (the job deadline, with a margin). */
  lookbackMs: number;
  /** PUBLIC_API_URL/fax/{id}/pdf?token=… with a fresh token. */
  documentUrl: (jobId: string) => Promise<string>;
  /** Whether the job is still in progress on exactly this attempt (a callback, or another instance, may have settled it). */
  attemptLive: (jobId: string, attemptNo: number) => Promise<boolean>;
  /** How often due work is looked at (default 1 s). */
  tickMs?: number;
  now?: () => number;
}

interface Tracked {
  jobId: string;
  attemptNo: number;
  to: string;
  pages: number | null;
  /** null: the send's answer was lost (reconciled 'dialing' attempt); look the fax up by our tags. */
  providerSid: string | null;
  startedMs: number;
  nextCheckMs: number;
  lastStatus: string | null;
  lastPages: number | null;
  /** Ask at the next tick whatever the poll interval (after a restart). */
  checkNow: boolean;
  busy: Promise<void> | null;
}

/** The provider cannot be asked about one fax (a manifest without a poll request). */
export class CannotRefreshError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CannotRefreshError';
  }
}

/** Without polling, an attempt whose fax id is unknown is still looked up this often. */
const LOOKUP_RETRY_MS = 60_000;

/** Provider questions asked at once by the poller. */
const CHECK_CONCURRENCY = 4;

const key = (jobId: string, attemptNo: number) => `${jobId}#${attemptNo}`;

export class CloudBackend implements FaxBackend {
  readonly needsGhostscript = false;
  readonly name: string;
  readonly capacity: number;
  private sink: OutcomeSink | null = null;
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly now: () => number;

  constructor(
    readonly adapter: ProviderAdapter,
    private readonly opts: CloudBackendOptions,
  ) {
    this.name = adapter.name;
    this.capacity = opts.capacity;
    this.now = opts.now ?? Date.now;
  }

  /** Attempts being followed (for tests and the admin view). */
  get following(): number {
    return this.tracked.size;
  }

  async start(sink: OutcomeSink): Promise<void> {
    this.sink = sink;
    if (this.adapter.missing.length > 0) {
      this.opts.log.error({ missing: this.adapter.missing }, `${this.adapter.label} is not configured: faxes wait in the queue until these settings are set`);
    }
    this.timer = setInterval(() => this.kick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await Promise.allSettled([...this.pending]);
    this.sink = null;
    this.tracked.clear();
  }

  async readiness(): Promise<ReadinessCheck[]> {
    if (this.adapter.missing.length > 0) {
      return [{ name: 'backend', ok: false, detail: `${this.adapter.label}: not configured (set ${this.adapter.missing.join(', ')})` }];
    }
    return [{ name: 'backend', ok: true, detail: `${this.adapter.label}: ${this.adapter.describe()}` }];
  }

  async send(job: DispatchJob, attempt: AttemptInfo): Promise<SendAccepted> {
    const a = this.adapter;
    if (a.missing.length > 0) throw new NotSentError(`${a.label} is not configured (set ${a.missing.join(', ')})`, 60_000);
    const since = new Date(this.now() - this.opts.lookbackMs);

    // An earlier attempt may have created the fax although its answer was lost: adopt it, never send twice.
    const lost = await checkLostSends(attempt, (n) => a.findExisting(job.id, n, { to: job.to, since }), (f) => a.statusOf(f));
    if (lost.kind === 'unknown') {
      throw new AttemptFailedError(
        'unknown',
        `${a.label}: attempt ${lost.attemptNo} may have reached the provider and its records cannot rule it out (${lost.reason}); not sending again, to avoid a duplicate fax`,
        'lost send unresolved',
      );
    }
    if (lost.kind === 'found') {
      this.opts.log.warn({ jobId: job.id, attempt: attempt.attemptNo, earlier: lost.attemptNo, providerSid: lost.providerSid }, 'an earlier attempt\'s fax exists at the provider; following it instead of sending again');
      const t = this.track(job, attempt.attemptNo, lost.providerSid, this.now());
      this.noteStatus(t, lost.status);
      return {
        providerSid: lost.providerSid,
        details: { provider: a.name, adopted_from_attempt: lost.attemptNo, sent_at: new Date(t.startedMs).toISOString(), provider_status: lost.status.providerStatus },
      };
    }

    let document: CloudSendInput['document'];
    try {
      if (a.documentMode === 'url') {
        // The provider would fetch a 404 and fail the fax later with a vaguer error.
        await access(job.pdfPath);
        document = { url: await this.opts.documentUrl(job.id) };
      } else {
        document = { pdf: await readFile(job.pdfPath) };
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new AttemptFailedError('document', 'the stored document of this fax is missing (removed by cleanup?)', 'document missing');
      }
      // Nothing went to the provider yet: try again later.
      throw new NotSentError(`could not prepare the document: ${errText(err)}`, 30_000);
    }
    let sent: { providerSid: string; status: CloudStatus | null };
    try {
      sent = await a.send({ jobId: job.id, attemptNo: attempt.attemptNo, to: job.to, document, callbackUrl: a.callbackUrl(job.id, attempt.attemptNo) });
    } catch (err) {
      if (err instanceof ProviderError) throw toAttemptError(err);
      throw err;
    }
    const t = this.track(job, attempt.attemptNo, sent.providerSid, this.now());
    if (sent.status) this.noteStatus(t, sent.status);
    return {
      providerSid: sent.providerSid,
      details: {
        provider: a.name, document: a.documentMode, sent_at: new Date(t.startedMs).toISOString(),
        ...(sent.status ? { provider_status: sent.status.providerStatus } : {}),
      },
    };
  }

  /**
   * After a restart: every attempt left in flight is followed again. Those with a provider id are asked
   * for their status at once; those whose send answer was lost are looked up by our tags first.
   */
  async reconcile(attempts: readonly InFlightAttempt[]): Promise<void> {
    for (const a of attempts) {
      const sentAt = typeof a.details.sent_at === 'string' ? Date.parse(a.details.sent_at) : NaN;
      const t = this.track(a.job, a.attemptNo, a.providerSid, Number.isFinite(sentAt) ? sentAt : this.now());
      t.checkNow = true;
    }
    this.kick();
  }

  /** Asks the provider now about one attempt (admin refresh). Provider errors are thrown to the caller. */
  async refresh(attempt: InFlightAttempt): Promise<void> {
    if (!this.adapter.canPoll && attempt.providerSid !== null) {
      throw new CannotRefreshError(`${this.adapter.label} has no way to ask for one fax's status (no poll request in its manifest)`);
    }
    const tracked = this.tracked.get(key(attempt.job.id, attempt.attemptNo));
    // No provider id and not a lost send being looked for: the send is still under way (here or on
    // another instance). A lookup now could wrongly conclude it never arrived.
    if (!tracked && attempt.providerSid === null) return;
    // An attempt this instance does not follow (another instance does) is asked about once, not adopted.
    const t = tracked ?? this.entry(attempt.job, attempt.attemptNo, attempt.providerSid, this.now());
    if (t.busy) await t.busy;
    await this.check(t, { rethrow: true });
  }

  // Following faxes in flight

  private entry(job: DispatchJob, attemptNo: number, providerSid: string | null, startedMs: number): Tracked {
    const interval = this.opts.pollIntervalMs > 0 ? this.opts.pollIntervalMs : LOOKUP_RETRY_MS;
    return {
      jobId: job.id, attemptNo, to: job.to, pages: job.pages, providerSid, startedMs,
      nextCheckMs: startedMs + interval, lastStatus: null, lastPages: null, checkNow: false, busy: null,
    };
  }

  private track(job: DispatchJob, attemptNo: number, providerSid: string | null, startedMs: number): Tracked {
    const k = key(job.id, attemptNo);
    const existing = this.tracked.get(k);
    if (existing) {
      existing.providerSid = providerSid ?? existing.providerSid;
      return existing;
    }
    const t = this.entry(job, attemptNo, providerSid, startedMs);
    this.tracked.set(k, t);
    return t;
  }

  /** A status learned at send time (or from an adopted fax): settle at once if final. */
  private noteStatus(t: Tracked, status: CloudStatus): void {
    t.lastStatus = status.providerStatus;
    if (status.state !== 'final') return;
    // After send() returns, so the dispatcher records the provider id before the outcome.
    const p = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.finish(t, status.outcome));
    this.hold(p);
  }

  private hold(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.opts.log.error({ err: errText(err) }, 'cloud backend: could not report an outcome'));
    this.pending.add(q);
    void q.finally(() => this.pending.delete(q));
  }

  private kick(): void {
    if (this.ticking || !this.sink) return;
    this.ticking = this.tick().finally(() => {
      this.ticking = null;
    });
  }

  private async tick(): Promise<void> {
    const now = this.now();
    const due: { t: Tracked; overdue: boolean }[] = [];
    for (const t of this.tracked.values()) {
      if (t.busy) continue;
      const overdue = now >= t.startedMs + this.opts.deadlineMs(t.pages);
      const pollDue = now >= t.nextCheckMs && (this.opts.pollIntervalMs > 0 || t.providerSid === null);
      if (!overdue && !pollDue && !t.checkNow) continue;
      t.checkNow = false;
      due.push({ t, overdue });
    }
    // A few at a time: one slow provider answer must not hold back every other fax's deadline.
    const workers = Array.from({ length: Math.min(CHECK_CONCURRENCY, due.length) }, async () => {
      for (let next = due.shift(); next && this.sink; next = due.shift()) {
        // An admin refresh may have got there first.
        if (next.t.busy || !this.tracked.has(key(next.t.jobId, next.t.attemptNo))) continue;
        await this.check(next.t, { rethrow: false, overdue: next.overdue });
      }
    });
    await Promise.all(workers);
  }

  /**
   * Asks the provider about one attempt and reports what it learned. Past the deadline, a fax that is
   * still not final is failed as 'unknown' (the provider may yet send it, so it is never retried).
   */
  private async check(t: Tracked, o: { rethrow: boolean; overdue?: boolean }): Promise<void> {
    let done!: () => void;
    t.busy = new Promise<void>((r) => (done = r));
    try {
      await this.checkOnce(t, o);
    } finally {
      t.busy = null;
      done();
    }
  }

  private async checkOnce(t: Tracked, o: { rethrow: boolean; overdue?: boolean }): Promise<void> {
    const a = this.adapter;
    const k = key(t.jobId, t.attemptNo);
    const log = this.opts.log.child({ jobId: t.jobId, attempt: t.attemptNo });
    if (!(await this.opts.attemptLive(t.jobId, t.attemptNo))) {
      // Settled elsewhere (a callback, another instance): stop following. The stale report below is a
      // no-op for the job; it only lets this instance's dispatcher release the slot it still holds.
      this.tracked.delete(k);
      await this.sink?.settle(t.jobId, t.attemptNo, { ok: false, failureClass: 'unknown', error: 'already settled' });
      return;
    }
    const interval = this.opts.pollIntervalMs > 0 ? this.opts.pollIntervalMs : LOOKUP_RETRY_MS;
    let status: CloudStatus | null = null;
    let problem: string | null = null;
    try {
      if (t.providerSid === null) {
        const found = await a.findExisting(t.jobId, t.attemptNo, { to: t.to, since: new Date(t.startedMs - this.opts.lookbackMs) });
        if (found.kind === 'none') {
          // Certain: the provider never got this send, so trying again cannot duplicate it.
          return this.finish(t, { ok: false, failureClass: 'transient', error: `${a.label} has no record of this fax: the send did not reach it`, cause: 'lost send: none found' });
        }
        if (found.kind === 'unknown') {
          return this.finish(t, {
            ok: false, failureClass: 'unknown', cause: 'lost send unresolved',
            error: `${a.label}: the send may have reached the provider and its records cannot tell (${found.reason}); not retried, to avoid a duplicate fax`,
          });
        }
        t.providerSid = found.providerSid;
        await this.sink?.progress(t.jobId, t.attemptNo, { providerSid: found.providerSid });
        status = a.statusOf(found.fax);
        if (status.state !== 'final' && a.canPoll) status = await a.getStatus(found.providerSid, { jobId: t.jobId, attemptNo: t.attemptNo, to: t.to });
      } else if (a.canPoll) {
        status = await a.getStatus(t.providerSid, { jobId: t.jobId, attemptNo: t.attemptNo, to: t.to });
      }
    } catch (err) {
      if (o.rethrow) throw err;
      problem = errText(err);
      log.warn({ err: problem }, `could not ask ${a.label} about a fax in flight; trying again later`);
    }
    if (status?.state === 'final') return this.finish(t, status.outcome);
    if (status) {
      const pages = status.pages;
      if (status.providerStatus !== t.lastStatus || (pages !== null && pages !== t.lastPages)) {
        t.lastStatus = status.providerStatus;
        if (pages !== null) t.lastPages = pages;
        await this.sink?.progress(t.jobId, t.attemptNo, { ...(pages !== null ? { pages } : {}), details: { provider_status: status.providerStatus } });
      }
    }
    if (o.overdue) {
      const last = t.lastStatus ? `last status "${t.lastStatus}"` : problem ? `the provider could not be asked: ${problem}` : 'no status received';
      return this.finish(t, {
        ok: false, failureClass: 'unknown', cause: 'no final status before the deadline',
        error: `no final status from ${a.label} within ${duration(this.opts.deadlineMs(t.pages))} (${last}); the fax may still be sent, so it is not retried`,
      });
    }
    t.nextCheckMs = this.now() + interval;
  }

  private async finish(t: Tracked, outcome: Outcome): Promise<void> {
    this.tracked.delete(key(t.jobId, t.attemptNo));
    await this.sink?.settle(t.jobId, t.attemptNo, outcome);
  }
}

/** "45 seconds", "22 minutes". */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} second${s === 1 ? '' : 's'}`;
  return `${Math.round(s / 60)} minutes`;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
