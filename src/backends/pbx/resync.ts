// When and how a PBX call follower asks the PBX about calls whose events may have been missed: after each reconnect,
// and on demand (restart reconciliation, an originate whose answer was lost), a few calls at a time.
import type { Logger } from '../../log.js';

export interface ResyncOptions<T> {
  /** The follower's calls, by call id. */
  calls: ReadonlyMap<string, T>;
  /** Whether the call's outcome was reported already (nothing left to ask). */
  settled: (t: T) => boolean;
  /** Asked once per round, first (e.g. the PBX's start time); throwing means the PBX cannot be asked now. */
  prepare: () => Promise<void>;
  /** Asks about one call; false when it could not be fully checked (asked again later). */
  one: (id: string, t: T) => Promise<boolean>;
  /** For messages: "Asterisk", "FreeSWITCH". */
  peerName: string;
  log?: Logger | undefined;
  /** Calls asked about at once. Default 8. */
  concurrency?: number;
}

export class CallResync<T> {
  private wasDisconnected = false;
  /** A round could not check every call: redo it on the next connect. */
  private needsResync = false;

  constructor(private readonly o: ResyncOptions<T>) {}

  /** The link went down: events are being missed from now on. */
  disconnected(): void {
    this.wasDisconnected = true;
  }

  /** The link is up again: starts a round over every call if events may have been missed; false when none was due. */
  connected(): boolean {
    if (!this.wasDisconnected && !this.needsResync) return false;
    this.wasDisconnected = false;
    void this.run();
    return true;
  }

  /** Asks about every call not settled (or only those in `only`); false when some could not be checked. */
  async run(only?: readonly string[]): Promise<boolean> {
    const wanted = only ? new Set(only) : null;
    const pending = [...this.o.calls.entries()].filter(([id, t]) => !this.o.settled(t) && (!wanted || wanted.has(id)));
    if (pending.length === 0) return true;
    try {
      await this.o.prepare();
    } catch (err) {
      this.needsResync = true;
      this.o.log?.warn({ err: (err as Error).message }, `resync: ${this.o.peerName} cannot be asked now; will retry on the next reconnect`);
      return false;
    }
    let complete = true;
    // A few at a time: after a restart there may be hundreds of calls to ask about.
    const queue = [...pending];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [id, t] = next;
        try {
          if (!(await this.o.one(id, t))) complete = false;
        } catch (err) {
          complete = false;
          this.o.log?.warn({ callId: id, err: (err as Error).message }, 'resync of a call failed; will retry');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 8, queue.length) }, worker));
    if (!complete) this.needsResync = true;
    else if (!only) this.needsResync = false;
    return complete;
  }
}
