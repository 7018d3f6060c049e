// Follows our fax calls on FreeSWITCH: routes the event socket's events to each call's FaxCall, and after a lost
// connection (or a restart of this service) asks FreeSWITCH about each call by its uuid.
//
// The owner (the shared PbxBackend) calls track() BEFORE the bgapi (its BACKGROUND_JOB may overtake the
// reply), stores each reported outcome, then calls forget(). FreeSWITCH forgets a call at hangup, so
// what can be learned about a call whose events were missed is: still up (keep following; its result
// variables may already be set), or gone (then the outcome is unknown, unless we know the call was
// never placed). Never SUCCESS without a fax result seen.
import type { Logger } from '../../log.js';
import type { FollowOptions, PbxCallFollower } from '../pbx/backend.js';
import { CallResync } from '../pbx/resync.js';
import type { Outcome } from '../types.js';
import { FaxCallTracker } from './call-tracker.js';
import type { EslConnection } from './esl-connection.js';
import type { EslEvent } from './esl-event.js';
import { FaxCall, settleAfterRestart } from './fax-call.js';
import { jobUuidFor } from './originate.js';
import { parseStatus } from './status.js';

export interface FreeswitchCallFollowerOptions {
  logger?: Logger;
  /** For each question asked during a resync. Default 5 s. */
  timeoutMs?: number;
  /**
   * How long a call found gone waits for a final event still on its way before it is settled as unknown
   * (FreeSWITCH may answer uuid_exists before it has written the hangup event). Default 250 ms.
   */
  goneGraceMs?: number;
}

interface Tracked {
  call: FaxCall;
  startedAt: number;
  originated: boolean;
  reported: boolean;
}

export class FreeswitchCallFollower implements PbxCallFollower {
  private readonly router = new FaxCallTracker();
  private readonly calls = new Map<string, Tracked>();
  private readonly log: Logger | undefined;
  private readonly timeoutMs: number;
  private readonly goneGraceMs: number;
  private readonly resyncer: CallResync<Tracked>;
  /** When FreeSWITCH started (our clock), from its uptime; null until asked. */
  private pbxStartedAt: number | null = null;
  private _version: string | null = null;
  private closed = false;
  private readonly onEvent = (ev: EslEvent): void => this.route(ev);
  private readonly onDisconnected = (): void => this.resyncer.disconnected();
  private readonly onConnected = (): void => {
    // A round asks for the status first; without one, ask anyway (readiness shows the version).
    if (!this.resyncer.connected()) void this.refreshStatus().catch(() => undefined);
  };

  constructor(
    private readonly conn: EslConnection,
    private readonly onOutcome: (callUuid: string, outcome: Outcome) => void,
    opts: FreeswitchCallFollowerOptions = {},
  ) {
    this.log = opts.logger?.child({ mod: 'esl-calls' });
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.goneGraceMs = opts.goneGraceMs ?? 250;
    this.resyncer = new CallResync({
      calls: this.calls,
      settled: (t) => t.reported,
      prepare: () => this.refreshStatus(),
      one: async (id, t) => {
        await this.resyncOne(id, t);
        return true;
      },
      peerName: 'FreeSWITCH',
      log: this.log,
    });
    conn.on('event', this.onEvent);
    conn.on('disconnected', this.onDisconnected);
    conn.on('connected', this.onConnected);
  }

  /** FreeSWITCH's version, as its last `status` said. */
  get version(): string | null {
    return this._version;
  }

  close(): void {
    this.closed = true;
    this.conn.off('event', this.onEvent);
    this.conn.off('disconnected', this.onDisconnected);
    this.conn.off('connected', this.onConnected);
  }

  track(callUuid: string, opts: FollowOptions): FaxCall {
    const id = callUuid.toLowerCase();
    const existing = this.calls.get(id);
    if (existing) return existing.call;
    const call = new FaxCall({ callUuid: id, jobUuid: jobUuidFor(opts.jobId, opts.attemptNo) });
    this.router.track(call);
    this.calls.set(id, { call, startedAt: (opts.startedAt ?? new Date()).getTime(), originated: opts.originated ?? true, reported: false });
    return call;
  }

  untrack(callUuid: string): void {
    this.router.forget(callUuid);
    this.calls.delete(callUuid.toLowerCase());
  }

  /** FreeSWITCH keeps nothing of a call after hangup, so there is nothing to delete on the PBX. */
  async forget(callUuid: string): Promise<void> {
    this.untrack(callUuid);
  }

  has(callUuid: string): boolean {
    return this.calls.has(callUuid.toLowerCase());
  }

  get size(): number {
    return this.calls.size;
  }

  pendingIds(): string[] {
    return [...this.calls.entries()].filter(([, t]) => !t.reported).map(([id]) => id);
  }

  /**
   * Asks FreeSWITCH about every call not yet settled (or only those in `only`): still up → keep
   * following (or settle, when its fax result is already set); gone → settled. Runs by itself after a
   * reconnect. Resolves false when some call could not be checked; it is checked again at the next connect.
   */
  resync(only?: readonly string[]): Promise<boolean> {
    return this.resyncer.run(only?.map((id) => id.toLowerCase()));
  }

  private async resyncOne(id: string, t: Tracked): Promise<void> {
    if (await this.conn.uuidExists(id, this.timeoutMs)) {
      if (t.reported) return;
      // Its fax result may be set already (spandsp gave up on a silent line and the call is still hanging up).
      const channel = await this.conn.uuidDump(id, this.timeoutMs);
      if (t.reported) return;
      if (channel) {
        const d = settleAfterRestart({ exists: true, channel });
        if (d.action === 'settle') this.report(id, t, d.outcome);
        else this.log?.info({ callUuid: id }, 'fax call still up; following it');
        return;
      }
    }
    if (t.reported) return;
    // The hangup event may still be on its way (FreeSWITCH answers the API before its event queue drains).
    await new Promise((r) => setTimeout(r, this.goneGraceMs));
    if (t.reported || this.closed) return;
    const outcome = this.goneOutcome(t);
    this.log?.warn({ callUuid: id, failureClass: outcome.ok ? null : outcome.failureClass }, 'fax call gone while its events were missed');
    this.report(id, t, outcome);
  }

  private goneOutcome(t: Tracked): Outcome {
    const pages = t.call.pagesSent > 0 ? t.call.pagesSent : null;
    if (!t.originated) {
      // The originate time is stored before the bgapi is sent: without it, FreeSWITCH was never asked.
      return { ok: false, failureClass: 'transient', error: 'the call was never placed (the service stopped before dialling)', cause: 'no originate sent', pages: 0 };
    }
    if (this.pbxStartedAt !== null && this.pbxStartedAt > t.startedAt) {
      return {
        ok: false,
        failureClass: 'unknown',
        error: 'FreeSWITCH restarted while the call was up; whether the fax went through is unknown',
        cause: 'FreeSWITCH restarted',
        pages,
        details: { recoveredAfterRestart: true },
      };
    }
    const d = settleAfterRestart({ exists: false, recorded: null });
    const outcome = d.action === 'settle' ? d.outcome : t.call.giveUp('no answer from FreeSWITCH');
    return outcome.ok ? outcome : { ...outcome, cause: 'call gone, no result seen', pages };
  }

  private async refreshStatus(): Promise<void> {
    const s = parseStatus(await this.conn.api('status', this.timeoutMs));
    if (s.uptimeMs !== null) this.pbxStartedAt = Date.now() - s.uptimeMs;
    if (s.version) this._version = s.version;
  }

  private route(ev: EslEvent): void {
    const r = this.router.route(ev);
    if (!r?.update.outcome) return;
    const t = this.calls.get(r.call.callUuid);
    if (t) this.report(r.call.callUuid, t, r.update.outcome);
  }

  private report(id: string, t: Tracked, outcome: Outcome): void {
    if (t.reported) return;
    t.reported = true;
    this.router.forget(id);
    this.onOutcome(id, outcome);
  }
}
