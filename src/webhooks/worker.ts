// A delivery loop: runs a pass now and then (at once when woken, again at once while passes fill a batch),
// never two passes at a time; stop() waits for the pass in progress.
import type { Logger } from '../log.js';

export class PollingWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly what: string,
    /** One pass; returns how many items it handled. */
    private readonly pass: () => Promise<number>,
    private readonly batch: number,
    private readonly pollMs: () => number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** New work: run a pass now rather than at the next poll. */
  wake(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass()
        .then((n) => {
          this.running = null;
          // More may be due right away (a batch was full); otherwise wait for the next poll or a wake().
          this.schedule(n >= this.batch ? 0 : this.pollMs());
        })
        .catch((err: unknown) => {
          this.running = null;
          this.log.error({ err: String(err) }, `${this.what} failed; retrying`);
          this.schedule(this.pollMs());
        });
    }, ms);
    this.timer.unref();
  }
}
