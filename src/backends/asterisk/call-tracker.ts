// Follows our fax channels: routes ARI events to each call's FaxCall, continues answered calls into the fax
// context, and after a lost WebSocket (or a restart of this service) settles calls from what Asterisk kept.
//
// The owner (the FaxBackend) calls track() BEFORE originate (events can overtake the originate's answer),
// listens to `outcome`, stores it durably, and only then calls forget(), which deletes the GLOBAL result
// record on the PBX. Deleting it earlier would let a crash turn a sent fax into "nothing was sent".
import { EventEmitter } from 'node:events';
import type { Logger } from '../../log.js';
import type { PbxCallFollower } from '../pbx/backend.js';
import { CallResync } from '../pbx/resync.js';
import type { Outcome } from '../types.js';
import type { AriClient } from './ari-client.js';
import { AriHttpError } from './ari-errors.js';
import { eventChannelId, type AriEvent } from './ari-types.js';
import { OUTBOUND_TARGET, parseChannelId, parseResultRecord, resultVarName } from './dialplan-contract.js';
import { FaxCall, type FaxCallSignal } from './fax-call.js';

export interface TrackOptions {
  totalPages?: number | null;
  /** When the attempt was originated; an Asterisk that started after it lost the call's record. Default: now. */
  startedAt?: Date;
}

export interface CallTrackerEvents {
  signal: [channelId: string, signal: FaxCallSignal];
  /** Once per call. */
  outcome: [channelId: string, outcome: Outcome];
}

interface Tracked {
  call: FaxCall;
  startedAt: number;
  reported: boolean;
}

export class CallTracker extends EventEmitter<CallTrackerEvents> implements PbxCallFollower {
  private readonly calls = new Map<string, Tracked>();
  private readonly log: Logger | undefined;
  /** Asterisk's start time, as the last resync round read it. */
  private startup: number | null = null;
  private readonly resyncer: CallResync<Tracked>;
  private readonly onEvent = (ev: AriEvent): void => this.route(ev);
  private readonly onDisconnected = (): void => {
    this.resyncer.disconnected();
    for (const t of this.calls.values()) t.call.noteEventGap();
  };
  private readonly onConnected = (): void => {
    this.resyncer.connected();
  };

  constructor(private readonly client: AriClient, opts: { logger?: Logger } = {}) {
    super();
    this.log = opts.logger?.child({ mod: 'ari-calls' });
    this.resyncer = new CallResync({
      calls: this.calls,
      settled: (t) => t.reported,
      prepare: async () => {
        const s = (await this.client.info()).status?.startup_time;
        this.startup = s ? Date.parse(s) : null;
      },
      one: (id, t) => this.resyncOne(id, t, this.startup),
      peerName: 'Asterisk',
      log: this.log,
    });
    client.on('event', this.onEvent);
    client.on('disconnected', this.onDisconnected);
    client.on('connected', this.onConnected);
  }

  /** Stops listening to the client. */
  close(): void {
    this.client.off('event', this.onEvent);
    this.client.off('disconnected', this.onDisconnected);
    this.client.off('connected', this.onConnected);
  }

  /** Starts following a channel (before originate, or at start-up for an attempt left in flight). */
  track(channelId: string, opts: TrackOptions = {}): FaxCall {
    const existing = this.calls.get(channelId);
    if (existing) return existing.call;
    const call = new FaxCall(channelId, { totalPages: opts.totalPages ?? null });
    this.calls.set(channelId, { call, startedAt: (opts.startedAt ?? new Date()).getTime(), reported: false });
    return call;
  }

  get(channelId: string): FaxCall | undefined {
    return this.calls.get(channelId)?.call;
  }

  has(channelId: string): boolean {
    return this.calls.has(channelId);
  }

  get size(): number {
    return this.calls.size;
  }

  /** Channel ids followed and not yet reported. */
  pendingIds(): string[] {
    return [...this.calls.entries()].filter(([, t]) => !t.reported).map(([id]) => id);
  }

  /** Stops following a call that was never placed (originate refused before reaching Asterisk); the PBX is not asked. */
  untrack(channelId: string): void {
    this.calls.delete(channelId);
  }

  /** Stops following a call and deletes its result record on the PBX. Call it after the outcome is stored. */
  async forget(channelId: string): Promise<void> {
    this.calls.delete(channelId);
    const ids = parseChannelId(channelId);
    if (!ids) return;
    try {
      await this.client.setGlobalVar(resultVarName(ids.jobId, ids.attemptNo), null);
    } catch (err) {
      // Harmless: the record is small and keyed per attempt; a later forget or an admin can remove it.
      this.log?.warn({ channelId, err: (err as Error).message }, 'could not delete the fax result record');
    }
  }

  /**
   * Asks Asterisk about every call not yet settled (or only those in `only`): a live one is re-subscribed
   * (and continued if it waits in Stasis); a gone one is settled from its GLOBAL record. Runs by itself
   * after a reconnect; the owner calls it after tracking the attempts a previous process left in flight.
   * Resolves false when some call could not be checked; it is then checked again at the next connect.
   */
  resync(only?: readonly string[]): Promise<boolean> {
    return this.resyncer.run(only);
  }

  /** False when the call is live but its events could not be re-subscribed (our app is not registered yet). */
  private async resyncOne(id: string, t: Tracked, startup: number | null): Promise<boolean> {
    const ch = await this.client.getChannel(id);
    if (t.reported) return true;
    if (ch) {
      t.call.noteEventGap();
      let subscribed = true;
      try {
        await this.client.subscribe(`channel:${id}`);
      } catch (err) {
        if (!(err instanceof AriHttpError)) throw err;
        // 404: our app is not registered (the WebSocket is not up yet); 422: the channel went meanwhile.
        if (err.status === 404) subscribed = false;
      }
      if (ch.dialplan.app_name === 'Stasis') await this.continueCall(id);
      return subscribed;
    }
    const ids = parseChannelId(id);
    const raw = ids ? await this.client.getGlobalVar(resultVarName(ids.jobId, ids.attemptNo)) : '';
    if (t.reported) return true;
    const restarted = startup !== null && startup > t.startedAt;
    const outcome = t.call.concludeGone(parseResultRecord(raw), { asteriskRestarted: restarted });
    this.report(id, t, outcome);
    return true;
  }

  private route(ev: AriEvent): void {
    const id = eventChannelId(ev);
    if (id === null) return;
    const t = this.calls.get(id);
    if (!t || t.reported) return;
    for (const s of t.call.feed(ev)) {
      this.emit('signal', id, s);
      if (s.kind === 'stasis_start') void this.continueCall(id);
      if (s.kind === 'ended') this.report(id, t, s.outcome);
    }
  }

  private async continueCall(id: string): Promise<void> {
    try {
      await this.client.continueInDialplan(id, OUTBOUND_TARGET);
    } catch (err) {
      // 404: gone (its events say how); 409: already continued. Anything else: the call would sit in
      // Stasis until the far end gives up, so hang it up; its ChannelDestroyed settles it.
      if (err instanceof AriHttpError && (err.status === 404 || err.status === 409)) return;
      this.log?.error({ channelId: id, err: (err as Error).message }, 'could not continue the call into the fax dialplan; hanging up');
      await this.client.hangup(id).catch(() => undefined);
    }
  }

  private report(id: string, t: Tracked, outcome: Outcome): void {
    if (t.reported) return;
    t.reported = true;
    this.emit('outcome', id, outcome);
  }
}
