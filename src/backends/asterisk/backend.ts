// The Asterisk backend (FAX_BACKEND=sip): the ARI protocol adapter composed with the shared PBX outbound layer.
//
// prepare: PDF → TIFF in the spool (nothing leaves the process). send: follow the channel, then originate
// it with a channel id derived from job and attempt; that id is the provider_sid. Outcomes come from
// the CallTracker (events, or Asterisk's GLOBAL record after a lost WebSocket or a restart) and are
// stored before the PBX record and the TIFF are deleted. reconcile: follow what an earlier process left.
import type { Logger } from '../../log.js';
import { pbxFaxConfig, type PbxFaxSettings } from '../pbx/config.js';
import { OutcomeDelivery } from '../pbx/delivery.js';
import { PbxOutbound } from '../pbx/outbound.js';
import { FaxSpool } from '../pbx/spool.js';
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
import { AriClient, type AriConnectionState } from './ari-client.js';
import { AriHttpError, AriUnavailableError } from './ari-errors.js';
import { CallTracker } from './call-tracker.js';
import { asteriskConfig, asteriskMissing, type AsteriskConfig, type AsteriskSettings } from './config.js';
import { buildOriginate, channelIdFor, parseChannelId } from './dialplan-contract.js';

export class AsteriskConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AsteriskConfigError';
  }
}

export interface AsteriskBackendOptions {
  config: AsteriskConfig;
  pbx: PbxOutbound;
  log: Logger;
  /** For tests: an AriClient built elsewhere. */
  client?: AriClient;
  /** How long prepare waits for a connection that is being (re)established before giving the attempt back. Default 2 s. */
  connectWaitMs?: number;
  /** After an originate whose answer was lost, when to ask Asterisk whether the call exists. Default 30 s. */
  uncertainCheckMs?: number;
}

/** What an attempt left in `details` for a later process. */
interface StoredDetails {
  originatedAt?: unknown;
  tiffPages?: unknown;
}

export class AsteriskBackend implements FaxBackend {
  readonly name = 'sip';
  readonly needsGhostscript = true;
  readonly capacity: number;
  readonly client: AriClient;
  private tracker: CallTracker | null = null;
  private delivery: OutcomeDelivery | null = null;
  private sink: OutcomeSink | null = null;
  private readonly log: Logger;
  private readonly connectWaitMs: number;
  private readonly uncertainCheckMs: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private downSince: number | null = Date.now();
  /** Why the connection is down, kept while a new try is 'connecting' so readiness keeps naming the cause. */
  private lastDownState: AriConnectionState | null = null;
  private asteriskVersion: string | null = null;

  constructor(private readonly opts: AsteriskBackendOptions) {
    this.capacity = opts.config.maxChannels;
    this.log = opts.log;
    this.connectWaitMs = opts.connectWaitMs ?? 2000;
    this.uncertainCheckMs = opts.uncertainCheckMs ?? 30_000;
    const a = opts.config.ari;
    this.client =
      opts.client ??
      new AriClient({
        url: a.url,
        username: a.username,
        password: a.password,
        app: a.app,
        logger: opts.log,
        reconnect: { initialMs: Math.min(500, a.reconnectMaxMs), maxMs: a.reconnectMaxMs },
        refusedRetryMs: a.refusedRetryMs,
      });
  }

  async start(sink: OutcomeSink): Promise<void> {
    const tracker = new CallTracker(this.client, { logger: this.log });
    tracker.setMaxListeners(0);
    const delivery = new OutcomeDelivery(sink, { log: this.log });
    this.tracker = tracker;
    this.delivery = delivery;
    this.sink = sink;
    tracker.on('outcome', (channelId, outcome) => this.onOutcome(channelId, outcome));
    this.client.on('state', (state) => this.onState(state));
    this.client.on('connected', () => {
      this.client.info().then(
        (i) => (this.asteriskVersion = i.system?.version ?? null),
        () => undefined,
      );
    });
    await this.opts.pbx.start((jobId, attemptNo) => tracker.get(channelIdFor(jobId, attemptNo)) !== undefined);
    this.client.start();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.opts.pbx.stop();
    // Outcomes already received are stored first (the database closes after us); calls still up are
    // left to the next start's reconciliation.
    await this.delivery?.stop();
    this.tracker?.close();
    await this.client.stop();
  }

  async readiness(): Promise<ReadinessCheck[]> {
    return [this.ariCheck(), ...(await this.opts.pbx.readiness())];
  }

  async prepare(job: DispatchJob, attempt: AttemptInfo): Promise<void> {
    // Converting for a call that cannot be placed would only be thrown away: give the attempt back first.
    await this.requireConnection();
    await this.opts.pbx.prepare(job, attempt);
  }

  async send(job: DispatchJob, attempt: AttemptInfo): Promise<SendAccepted> {
    const tracker = this.requireStarted();
    const plan = this.opts.pbx.plan(job, attempt);
    const channelId = channelIdFor(job.id, attempt.attemptNo);
    let params;
    try {
      params = buildOriginate({
        jobId: job.id,
        attemptNo: attempt.attemptNo,
        number: job.to,
        pbxTiffPath: plan.tiff.pbxPath,
        line: plan.line,
        header: plan.header,
        stationId: plan.stationId,
        callerIdName: plan.callerIdName,
        callerIdNumber: plan.callerIdNumber,
        dial: this.opts.config.dial,
        timeoutSec: this.opts.config.dialTimeoutSec,
      });
    } catch (err) {
      await this.opts.pbx.release(job.id, attempt.attemptNo);
      throw new AttemptFailedError('permanent', `the call cannot be placed: ${(err as Error).message}`);
    }
    const originatedAt = new Date();
    const details = { ...plan.details, originatedAt: originatedAt.toISOString() };
    // Events can overtake the originate's answer: follow the channel first. The channel id (known before
    // the call exists) and the start time are stored before Asterisk is asked: a fast failure already
    // shows its provider_sid, and a later process can tell an Asterisk restart from a call that never was.
    tracker.track(channelId, { totalPages: plan.tiff.pages ?? job.pages, startedAt: originatedAt });
    try {
      await this.sink!.progress(job.id, attempt.attemptNo, { providerSid: channelId, details });
    } catch (err) {
      tracker.untrack(channelId);
      await this.opts.pbx.release(job.id, attempt.attemptNo);
      throw new NotSentError(`could not record the attempt before dialling: ${(err as Error).message}`);
    }
    try {
      await this.client.originate(params);
      this.log.info({ jobId: job.id, attempt: attempt.attemptNo, channelId, ladderStep: plan.line.step }, 'fax call originated');
    } catch (err) {
      if (err instanceof AriHttpError && err.status === 409) {
        // Our deterministic id already exists: this attempt's call is up (an earlier try reached Asterisk). Keep following it.
        this.log.warn({ jobId: job.id, attempt: attempt.attemptNo, channelId }, 'the channel already exists; following it');
        void tracker.resync([channelId]).then((ok) => {
          if (!ok) this.resyncLater([channelId], 1000);
        });
        return { providerSid: channelId, details };
      }
      if (err instanceof AriUnavailableError || (err instanceof AriHttpError && (err.status === 401 || err.status === 403 || err.status === 404))) {
        // Asterisk never acted on it: the attempt is given back and not counted.
        tracker.untrack(channelId);
        await this.opts.pbx.release(job.id, attempt.attemptNo);
        throw new NotSentError(err.message, this.giveBackMs());
      }
      if (err instanceof AriHttpError && err.notSent) {
        tracker.untrack(channelId);
        await this.opts.pbx.release(job.id, attempt.attemptNo);
        throw new AttemptFailedError('permanent', `Asterisk refused to place the call (HTTP ${err.status}${err.ariMessage ? `: ${err.ariMessage}` : ''})`);
      }
      // Timeout, lost connection or 5xx after the request left: the call may exist. Keep following it;
      // if no event says otherwise, ask Asterisk later (channel, then the GLOBAL record).
      this.log.warn({ jobId: job.id, attempt: attempt.attemptNo, channelId, err: (err as Error).message }, 'originate answer lost; following the channel');
      this.resyncLater([channelId], this.uncertainCheckMs);
      return { providerSid: channelId, details: { ...details, originateUncertain: true } };
    }
    return { providerSid: channelId, details };
  }

  async reconcile(attempts: readonly InFlightAttempt[]): Promise<void> {
    const tracker = this.requireStarted();
    const ids: string[] = [];
    for (const a of attempts) {
      const d = a.details as StoredDetails;
      const channelId = a.providerSid ?? channelIdFor(a.job.id, a.attemptNo);
      if (!parseChannelId(channelId)) {
        // Not one of ours (another backend's id): nothing Asterisk could tell us.
        this.deliver(channelId, a.job.id, a.attemptNo, {
          ok: false, failureClass: 'unknown', error: 'the call could not be found again after a restart; whether the fax went through is unknown',
        });
        continue;
      }
      // No originatedAt means Asterisk was never asked (it is stored before the originate): "now" makes a
      // missing channel read as "never placed" rather than "lost in an Asterisk restart".
      const started = typeof d.originatedAt === 'string' && !Number.isNaN(Date.parse(d.originatedAt)) ? new Date(d.originatedAt) : new Date();
      const pages = typeof d.tiffPages === 'number' ? d.tiffPages : a.job.pages;
      tracker.track(channelId, { totalPages: pages, startedAt: started });
      ids.push(channelId);
    }
    this.log.info({ count: ids.length }, 'following fax calls left in flight by an earlier run');
    // Asking works over REST alone, but a live call can only be re-subscribed once our app is registered.
    await this.client.whenConnected(this.connectWaitMs).catch(() => undefined);
    // Whatever cannot be checked now is checked again at the next connection, and meanwhile every little while.
    if (!(await tracker.resync(ids))) this.resyncLater(ids, 1000);
  }

  // ------------------------------------------------------------------ internals

  private onOutcome(channelId: string, outcome: Outcome): void {
    const ids = parseChannelId(channelId);
    if (!ids) return;
    this.deliver(channelId, ids.jobId, ids.attemptNo, outcome);
  }

  private deliver(channelId: string, jobId: string, attemptNo: number, outcome: Outcome): void {
    this.delivery?.deliver(jobId, attemptNo, outcome, async () => {
      await Promise.all([this.tracker?.forget(channelId), this.opts.pbx.release(jobId, attemptNo)]);
    });
  }

  /** Retries a resync that could not reach every call, with a growing pause, until it did (or the calls settled). */
  private resyncLater(ids: readonly string[], delayMs: number): void {
    this.later(delayMs, () => {
      const tracker = this.tracker;
      if (!tracker) return;
      const pending = new Set(tracker.pendingIds());
      const still = ids.filter((id) => pending.has(id));
      if (still.length === 0) return;
      void tracker.resync(still).then((ok) => {
        if (!ok) this.resyncLater(still, Math.min(60_000, delayMs * 2));
      });
    });
  }

  private onState(state: AriConnectionState): void {
    if (state === 'connected') {
      this.downSince = null;
      this.lastDownState = null;
      return;
    }
    if (this.downSince === null) this.downSince = Date.now();
    if (state !== 'connecting') this.lastDownState = state;
  }

  /** How long a job waits before trying again while Asterisk is unreachable: short at first, longer as the outage lasts. */
  private giveBackMs(): number {
    const a = this.opts.config.ari;
    const refused = this.client.state === 'auth_failed' || this.client.state === 'events_unavailable';
    const floor = Math.min(5000, refused ? a.refusedRetryMs : a.reconnectMaxMs);
    const downFor = this.downSince === null ? 0 : Date.now() - this.downSince;
    return Math.round(Math.max(floor, Math.min(30_000, downFor / 4)));
  }

  private async requireConnection(): Promise<void> {
    const s = this.client.state;
    if (s === 'connected') return;
    if (s === 'connecting' || s === 'disconnected') {
      try {
        await this.client.whenConnected(this.connectWaitMs);
        return;
      } catch {
        // fall through
      }
    }
    throw new NotSentError(`Asterisk is not available (${this.stateText()}); the fax waits and goes out once ARI is back`, this.giveBackMs());
  }

  private requireStarted(): CallTracker {
    if (!this.tracker) throw new NotSentError('the Asterisk backend is not started');
    return this.tracker;
  }

  private stateText(): string {
    const e = this.client.lastError;
    return e ? `${this.client.state}: ${e}` : this.client.state;
  }

  private ariCheck(): ReadinessCheck {
    const s = this.client.state;
    const where = `${this.opts.config.ari.url} as app "${this.opts.config.ari.app}"`;
    if (s === 'connected') {
      return { name: 'asterisk_ari', ok: true, detail: `connected to Asterisk${this.asteriskVersion ? ` ${this.asteriskVersion}` : ''} at ${where}` };
    }
    const e = this.client.lastError;
    // A retry in progress says nothing new: report why the last try failed.
    const shown = s === 'connecting' && this.lastDownState ? this.lastDownState : s;
    const prefix: Record<AriConnectionState, string> = {
      connected: '',
      connecting: 'connecting to Asterisk ARI',
      disconnected: 'Asterisk ARI not reachable (reconnecting)',
      auth_failed: 'ARI authentication failed',
      events_unavailable: 'ARI events unavailable (/ari/events missing)',
      stopped: 'ARI client stopped',
    };
    return { name: 'asterisk_ari', ok: false, detail: `${prefix[shown]} at ${where}${e ? `: ${e}` : ''}` };
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

/** Builds the backend from settings; throws AsteriskConfigError naming what is missing or wrong. */
export function createAsteriskBackend(
  s: AsteriskSettings & PbxFaxSettings & { dataDir: string },
  log: Logger,
  tuning: Pick<AsteriskBackendOptions, 'connectWaitMs' | 'uncertainCheckMs'> = {},
): AsteriskBackend {
  const missing = asteriskMissing(s);
  if (missing.length > 0) throw new AsteriskConfigError(`FAX_BACKEND=sip needs ${missing.join(', ')}`);
  const config = asteriskConfig(s, s.dataDir);
  let spool: FaxSpool;
  try {
    spool = new FaxSpool({ dir: config.spoolDir, pbxDir: config.spoolDirPbx, names: { dir: 'ASTERISK_FAX_DIR', pbxDir: 'ASTERISK_FAX_DIR_PBX' } });
  } catch (err) {
    throw new AsteriskConfigError((err as Error).message);
  }
  const blog = log.child({ backend: 'sip' });
  const pbx = new PbxOutbound({ fax: pbxFaxConfig(s), spool, log: blog });
  return new AsteriskBackend({ config, pbx, log: blog, ...tuning });
}
