// Hands each call outcome to the dispatcher until it is stored, and only then lets the backend clean up after the call.
//
// The order matters: a PBX-side result record or a TIFF deleted before the outcome is durable would turn
// a crash at the wrong moment into "nothing was sent" for a fax that went out.
import type { Logger } from '../../log.js';
import type { Outcome, OutcomeSink } from '../types.js';

export interface OutcomeDeliveryOptions {
  log?: Logger;
  /** First retry delay when storing fails; doubles up to maxRetryMs. Default 500 ms. */
  retryMs?: number;
  maxRetryMs?: number;
}

export class OutcomeDelivery {
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;
  private readonly wake = new Set<() => void>();

  constructor(
    private readonly sink: OutcomeSink,
    private readonly opts: OutcomeDeliveryOptions = {},
  ) {}

  /**
   * Stores the outcome (retrying while the database refuses), then runs `after` (e.g. delete the PBX
   * record, the TIFF). If the service stops first, `after` never runs: the next start reconciles the
   * attempt from what the PBX kept.
   */
  deliver(jobId: string, attemptNo: number, outcome: Outcome, after?: () => Promise<void>): void {
    const p = this.run(jobId, attemptNo, outcome, after).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Stops retrying and waits (up to timeoutMs) for deliveries in progress. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    for (const w of this.wake) w();
    const all = Promise.allSettled([...this.pending]);
    let t: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => (t = setTimeout(r, timeoutMs)))]);
    clearTimeout(t);
  }

  private async run(jobId: string, attemptNo: number, outcome: Outcome, after?: () => Promise<void>): Promise<void> {
    let delay = this.opts.retryMs ?? 500;
    const max = this.opts.maxRetryMs ?? 30_000;
    for (;;) {
      try {
        await this.sink.settle(jobId, attemptNo, outcome);
        break;
      } catch (err) {
        if (this.stopped) {
          this.opts.log?.warn({ jobId, attempt: attemptNo, err: (err as Error).message }, 'outcome not stored before shutdown; the next start reconciles it');
          return;
        }
        this.opts.log?.error({ jobId, attempt: attemptNo, err: (err as Error).message, retryInMs: delay }, 'could not store a fax outcome; retrying');
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(t);
            this.wake.delete(done);
            resolve();
          };
          const t = setTimeout(done, delay);
          this.wake.add(done);
        });
        delay = Math.min(max, delay * 2);
        if (this.stopped) return;
      }
    }
    if (!after) return;
    try {
      await after();
    } catch (err) {
      this.opts.log?.warn({ jobId, attempt: attemptNo, err: (err as Error).message }, 'clean-up after a stored outcome failed');
    }
  }
}
