// Everything an outbound PBX backend does that is not protocol: the FaxBackend life cycle around one protocol adapter.
//
// Asterisk (ARI) and FreeSWITCH (ESL) differ only in how a call is placed, followed and asked about.
// What they share lives here, once:
//   - prepare: give the attempt back while the PBX is unreachable, then PDF → TIFF (PbxOutbound);
//   - send: the attempt's plan, the call followed and its id stored BEFORE the PBX is asked (events can
//     overtake the originate's answer; a later process must know which call to look for), then the
//     originate's answer sorted into placed / never sent (given back, not counted) / refused / uncertain;
//   - outcomes stored durably before the PBX-side record and the TIFF go (OutcomeDelivery);
//   - reconcile: follow what an earlier process left in flight and ask the PBX, retried until it answered;
//   - how long a job waits while the PBX is down, and readiness (link + spool).
import type { Logger } from '../../log.js';
import {
  AttemptFailedError,
  NotSentError,
  type AttemptInfo,
  type DispatchJob,
  type FaxBackend,
  type InFlightAttempt,
  type Outcome,
  type OutcomeSink,
  type ReadinessCheck,
  type SendAccepted,
} from '../types.js';
import type { PbxBackendConfig, PbxFaxConfig } from './config.js';
import { OutcomeDelivery } from './delivery.js';
import type { PeerLink } from './link.js';
import { PbxOutbound, type AttemptPlan } from './outbound.js';
import { FaxSpool, type FaxSpoolOptions } from './spool.js';

/** A PBX backend's settings are missing or wrong: the start-up stops with this message. */
export class PbxConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PbxConfigError';
  }
}

/**
 * The PBX-independent half of a backend, from its settings: throws PbxConfigError naming what is
 * missing (`FAX_BACKEND=<backend> needs …`) or what is wrong with the spool directories.
 */
export function pbxOutboundFromSettings(o: { backend: string; missing: readonly string[]; fax: PbxFaxConfig; spool: FaxSpoolOptions; log: Logger }): PbxOutbound {
  if (o.missing.length > 0) throw new PbxConfigError(`FAX_BACKEND=${o.backend} needs ${o.missing.join(', ')}`);
  let spool: FaxSpool;
  try {
    spool = new FaxSpool(o.spool);
  } catch (err) {
    throw new PbxConfigError((err as Error).message);
  }
  return new PbxOutbound({ fax: o.fax, spool, log: o.log });
}

export interface FollowOptions {
  jobId: string;
  attemptNo: number;
  totalPages?: number | null;
  /** When the originate was (or may have been) sent; a PBX that started after it has lost the call. */
  startedAt?: Date;
  /** False when the PBX was certainly never asked (no originate time was stored). Default true. */
  originated?: boolean;
}

/** The adapter's call follower: routes the PBX's events to each call and asks the PBX about calls whose events were lost. */
export interface PbxCallFollower {
  /** Starts following a call (before its originate, or at start-up for an attempt left in flight). */
  track(callId: string, opts: FollowOptions): unknown;
  /** Stops following a call that was never placed; the PBX is not asked. */
  untrack(callId: string): void;
  /** Stops following a call whose outcome is stored, and deletes whatever the PBX kept for it. */
  forget(callId: string): Promise<void>;
  has(callId: string): boolean;
  /** Calls followed whose outcome was not reported yet. */
  pendingIds(): string[];
  /** Asks the PBX about these calls (all pending ones without `only`); false when some could not be checked. */
  resync(only?: readonly string[]): Promise<boolean>;
  close(): void;
}

/** How the PBX answered an originate (adapters map their protocol's errors to one of these). */
export type OriginateResult =
  | { kind: 'placed' }
  /** Our call id exists already: an earlier try reached the PBX. Follow it. */
  | { kind: 'exists' }
  /** Certainly never reached the PBX: the attempt is given back and not counted. */
  | { kind: 'not_sent'; reason: string }
  /** The PBX refused to place the call: a permanent failure of the attempt. */
  | { kind: 'refused'; error: string }
  /** No answer in time, or the connection dropped after the request left: the call may exist. */
  | { kind: 'uncertain'; reason: string };

export interface PbxBackendOptions<C extends PbxBackendConfig = PbxBackendConfig> {
  config: C;
  pbx: PbxOutbound;
  log: Logger;
  /** How long prepare waits for a link that is being (re)established before giving the attempt back. Default 2 s. */
  connectWaitMs?: number;
  /** After an originate whose answer was lost, when to ask the PBX whether the call exists. Default 30 s. */
  uncertainCheckMs?: number;
}

/** What an attempt left in `details` for a later process. */
interface StoredDetails {
  originatedAt?: unknown;
  tiffPages?: unknown;
}

export abstract class PbxBackend<S extends string, P> implements FaxBackend {
  abstract readonly name: string;
  readonly needsGhostscript = true;

  /** Metrics: how long each PDF → TIFF conversion takes. */
  observeConversions(fn: (seconds: number) => void): void {
    this.pbx.converter.onConverted = fn;
  }
  readonly capacity: number;
  protected readonly log: Logger;
  protected readonly pbx: PbxOutbound;
  private follower: PbxCallFollower | null = null;
  private delivery: OutcomeDelivery | null = null;
  private sink: OutcomeSink | null = null;
  /** The job and attempt of every call followed (ids are not always reversible, e.g. FreeSWITCH uuids). */
  private readonly attempts = new Map<string, { jobId: string; attemptNo: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly connectWaitMs: number;
  private readonly uncertainCheckMs: number;
  private downSince: number | null = Date.now();
  /** Why the link is down, kept while a new try is 'connecting' so readiness keeps naming the cause. */
  private lastDownState: S | null = null;

  constructor(opts: PbxBackendOptions) {
    this.pbx = opts.pbx;
    this.log = opts.log;
    this.capacity = opts.config.maxChannels;
    this.connectWaitMs = opts.connectWaitMs ?? 2000;
    this.uncertainCheckMs = opts.uncertainCheckMs ?? 30_000;
  }

  // ------------------------------------------------------------------ the protocol adapter's part

  /** The connection to the PBX. */
  protected abstract readonly link: PeerLink<S>;
  /** For messages: "Asterisk", "FreeSWITCH". */
  protected abstract readonly peerName: string;
  /** For messages: "ARI", "the event socket". */
  protected abstract readonly linkName: string;
  /** Builds the follower; it reports each call's outcome once through `onOutcome`. */
  protected abstract createFollower(onOutcome: (callId: string, outcome: Outcome) => void): PbxCallFollower;
  /** Starts the link (never throws for a PBX that is down); call noteLinkState on each state change. */
  protected abstract openLink(): void;
  protected abstract closeLink(): Promise<void>;
  /** The link's readiness check name, e.g. "asterisk_ari". */
  protected abstract readonly checkName: string;
  /** Where the link goes, for readiness (an address; never a credential). */
  protected abstract linkWhere(): string;
  /** Readiness wording of a link state; for 'connected', who answered (e.g. "connected to Asterisk 20.20.1"). */
  protected abstract stateText(state: S): string;
  /** The PBX's id of one attempt's call, known before the call exists (it becomes provider_sid). */
  protected abstract callIdFor(jobId: string, attemptNo: number): string;
  /** Whether a stored provider_sid can be one of this backend's calls. */
  protected abstract isCallId(callId: string): boolean;
  /** The originate request; throwing means the call cannot be placed as asked (a permanent failure). */
  protected abstract buildCall(job: DispatchJob, attempt: AttemptInfo, plan: AttemptPlan, callId: string): P;
  /** Sends the originate; should not throw (an unexpected error counts as uncertain). */
  protected abstract originate(request: P, callId: string): Promise<OriginateResult>;
  /** The shortest wait before a job tries again while the link is down (the adapter's retry pace). */
  protected abstract retryFloorMs(): number;

  // ------------------------------------------------------------------ FaxBackend

  async start(sink: OutcomeSink): Promise<void> {
    const follower = this.createFollower((callId, outcome) => this.onOutcome(callId, outcome));
    this.follower = follower;
    this.delivery = new OutcomeDelivery(sink, { log: this.log });
    this.sink = sink;
    await this.pbx.start((jobId, attemptNo) => follower.has(this.callIdFor(jobId, attemptNo)));
    this.openLink();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pbx.stop();
    // Outcomes already received are stored first (the database closes after us); calls still up are
    // left to the next start's reconciliation.
    await this.delivery?.stop();
    this.follower?.close();
    await this.closeLink();
  }

  async readiness(): Promise<ReadinessCheck[]> {
    return [this.linkCheck(), ...(await this.pbx.readiness())];
  }

  isAvailable(): boolean {
    return this.follower !== null && (this.link.state as string) === 'connected';
  }

  async prepare(job: DispatchJob, attempt: AttemptInfo): Promise<void> {
    // Converting for a call that cannot be placed would only be thrown away: give the attempt back first.
    await this.requireLink();
    await this.pbx.prepare(job, attempt);
  }

  async send(job: DispatchJob, attempt: AttemptInfo): Promise<SendAccepted> {
    const follower = this.requireStarted();
    const plan = this.pbx.plan(job, attempt);
    const callId = this.callIdFor(job.id, attempt.attemptNo);
    let request: P;
    try {
      request = this.buildCall(job, attempt, plan, callId);
    } catch (err) {
      await this.pbx.release(job.id, attempt.attemptNo);
      throw new AttemptFailedError('permanent', `the call cannot be placed: ${(err as Error).message}`);
    }
    const originatedAt = new Date();
    const details = { ...plan.details, originatedAt: originatedAt.toISOString() };
    // Events can overtake the originate's answer: follow the call first. Its id (known before the call
    // exists) and the start time are stored before the PBX is asked: a fast failure already shows its
    // provider_sid, and a later process can tell a PBX restart from a call that never was.
    this.follow(follower, callId, { jobId: job.id, attemptNo: attempt.attemptNo, totalPages: plan.tiff.pages ?? job.pages, startedAt: originatedAt });
    try {
      await this.sink!.progress(job.id, attempt.attemptNo, { providerSid: callId, details });
    } catch (err) {
      await this.unfollow(follower, callId, job.id, attempt.attemptNo);
      throw new NotSentError(`could not record the attempt before dialling: ${(err as Error).message}`);
    }
    let r: OriginateResult;
    try {
      r = await this.originate(request, callId);
    } catch (err) {
      r = { kind: 'uncertain', reason: (err as Error).message };
    }
    const ids = { jobId: job.id, attempt: attempt.attemptNo, callId };
    switch (r.kind) {
      case 'placed':
        this.log.info({ ...ids, ladderStep: plan.line.step }, 'fax call originated');
        return { providerSid: callId, details };
      case 'exists':
        this.log.warn(ids, 'the call already exists; following it');
        void follower.resync([callId]).then((ok) => {
          if (!ok) this.resyncLater([callId], 1000);
        });
        return { providerSid: callId, details };
      case 'not_sent':
        await this.unfollow(follower, callId, job.id, attempt.attemptNo);
        throw new NotSentError(r.reason, this.giveBackMs());
      case 'refused':
        await this.unfollow(follower, callId, job.id, attempt.attemptNo);
        throw new AttemptFailedError('permanent', r.error);
      case 'uncertain':
        // The call may exist. Keep following it; if no event says otherwise, ask the PBX later.
        this.log.warn({ ...ids, err: r.reason }, 'originate answer lost; following the call');
        this.resyncLater([callId], this.uncertainCheckMs);
        return { providerSid: callId, details: { ...details, originateUncertain: true } };
    }
  }

  async reconcile(attempts: readonly InFlightAttempt[]): Promise<void> {
    const follower = this.requireStarted();
    const ids: string[] = [];
    for (const a of attempts) {
      const d = a.details as StoredDetails;
      const callId = a.providerSid ?? this.callIdFor(a.job.id, a.attemptNo);
      if (!this.isCallId(callId)) {
        // Not one of ours (another backend's id): nothing the PBX could tell us.
        this.deliver(callId, a.job.id, a.attemptNo, {
          ok: false, failureClass: 'unknown', error: 'the call could not be found again after a restart; whether the fax went through is unknown',
        });
        continue;
      }
      // originatedAt is stored before the originate: without it the PBX was never asked, and "now" makes a
      // missing call read as "never placed" rather than "lost in a PBX restart".
      const originated = typeof d.originatedAt === 'string' && !Number.isNaN(Date.parse(d.originatedAt));
      const startedAt = originated ? new Date(d.originatedAt as string) : new Date();
      const totalPages = typeof d.tiffPages === 'number' ? d.tiffPages : a.job.pages;
      this.follow(follower, callId, { jobId: a.job.id, attemptNo: a.attemptNo, totalPages, startedAt, originated });
      ids.push(callId);
    }
    this.log.info({ count: ids.length }, 'following fax calls left in flight by an earlier run');
    await this.link.whenConnected(this.connectWaitMs).catch(() => undefined);
    // Whatever cannot be checked now is checked again at the next connection, and meanwhile every little while.
    if (!(await follower.resync(ids))) this.resyncLater(ids, 1000);
  }

  // ------------------------------------------------------------------ for the adapter

  /** The adapter reports each state change of its link here (readiness and the give-back pace use it). */
  protected noteLinkState(state: S): void {
    if (state === 'connected') {
      this.downSince = null;
      this.lastDownState = null;
      return;
    }
    if (this.downSince === null) this.downSince = Date.now();
    if (state !== 'connecting') this.lastDownState = state;
  }

  /** The link's readiness line. While a retry is in progress it names why the last try failed (the retry says nothing new). */
  private linkCheck(): ReadinessCheck {
    const s = this.link.state;
    const where = this.linkWhere();
    if (s === 'connected') return { name: this.checkName, ok: true, detail: `${this.stateText(s)} at ${where}` };
    const shown = s === 'connecting' && this.lastDownState ? this.lastDownState : s;
    const e = this.link.lastError;
    return { name: this.checkName, ok: false, detail: `${this.stateText(shown)} at ${where}${e ? `: ${e}` : ''}` };
  }

  /** How long a job waits before trying again while the PBX is unreachable: short at first, longer as the outage lasts. */
  protected giveBackMs(): number {
    const floor = Math.min(5000, this.retryFloorMs());
    const downFor = this.downSince === null ? 0 : Date.now() - this.downSince;
    return Math.round(Math.max(floor, Math.min(30_000, downFor / 4)));
  }

  // ------------------------------------------------------------------ internals

  private follow(follower: PbxCallFollower, callId: string, opts: FollowOptions): void {
    this.attempts.set(callId, { jobId: opts.jobId, attemptNo: opts.attemptNo });
    follower.track(callId, opts);
  }

  /** The call was never placed: stop following it and delete its TIFF. */
  private async unfollow(follower: PbxCallFollower, callId: string, jobId: string, attemptNo: number): Promise<void> {
    follower.untrack(callId);
    this.attempts.delete(callId);
    await this.pbx.release(jobId, attemptNo);
  }

  private onOutcome(callId: string, outcome: Outcome): void {
    const a = this.attempts.get(callId);
    if (!a) return;
    this.deliver(callId, a.jobId, a.attemptNo, outcome);
  }

  private deliver(callId: string, jobId: string, attemptNo: number, outcome: Outcome): void {
    this.delivery?.deliver(jobId, attemptNo, outcome, async () => {
      this.attempts.delete(callId);
      await Promise.all([this.follower?.forget(callId), this.pbx.release(jobId, attemptNo)]);
    });
  }

  /** Retries a resync that could not reach every call, with a growing pause, until it did (or the calls settled). */
  private resyncLater(ids: readonly string[], delayMs: number): void {
    this.later(delayMs, () => {
      const follower = this.follower;
      if (!follower) return;
      const pending = new Set(follower.pendingIds());
      const still = ids.filter((id) => pending.has(id));
      if (still.length === 0) return;
      void follower.resync(still).then((ok) => {
        if (!ok) this.resyncLater(still, Math.min(60_000, delayMs * 2));
      });
    });
  }

  private async requireLink(): Promise<void> {
    const s: string = this.link.state;
    if (s === 'connected') return;
    if (s === 'connecting' || s === 'disconnected') {
      try {
        await this.link.whenConnected(this.connectWaitMs);
        return;
      } catch {
        // fall through
      }
    }
    const e = this.link.lastError;
    throw new NotSentError(
      `${this.peerName} is not available (${e ? `${this.link.state}: ${e}` : this.link.state}); the fax waits and goes out once ${this.linkName} is back`,
      this.giveBackMs(),
    );
  }

  private requireStarted(): PbxCallFollower {
    if (!this.follower) throw new NotSentError(`the ${this.peerName} backend is not started`);
    return this.follower;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }
}
