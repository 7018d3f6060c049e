// POST /admin/restart: a controlled exit once requests in flight are done, for a supervisor (systemd, Docker) to restart.
import type { Logger } from '../log.js';

/** EX_TEMPFAIL: non-zero, so "restart on failure" supervisors restart too; it says "try again", not "broken". */
export const RESTART_EXIT_CODE = 75;

export interface RestartOptions {
  allowed: () => boolean;
  /** Stops the service gracefully (HTTP server first: requests in flight finish). */
  stop: () => Promise<void>;
  /** process.exit in production; tests inject a recorder. */
  exit: (code: number) => void;
  log: Logger;
}

export class RestartController {
  private requested = false;
  private stopFn: (() => Promise<void>) | null = null;

  constructor(private readonly o: Omit<RestartOptions, 'stop'> & { stop?: () => Promise<void> }) {
    this.stopFn = o.stop ?? null;
  }

  /** startApp hands over its stop() once the server exists. */
  setStop(stop: () => Promise<void>): void {
    this.stopFn = stop;
  }

  get allowed(): boolean {
    return this.o.allowed();
  }

  get pending(): boolean {
    return this.requested;
  }

  /** Starts the controlled exit (once). Call after the response was sent. */
  run(): void {
    if (this.requested) return;
    this.requested = true;
    this.o.log.warn('restart requested through the admin API: stopping, then exiting for the supervisor to restart the service');
    const stop = this.stopFn ?? (async () => undefined);
    const force = setTimeout(() => this.o.exit(RESTART_EXIT_CODE), 30_000);
    force.unref();
    stop().then(
      () => {
        clearTimeout(force);
        this.o.exit(RESTART_EXIT_CODE);
      },
      (err: unknown) => {
        clearTimeout(force);
        this.o.log.error({ err: String(err) }, 'graceful stop failed before restart');
        this.o.exit(RESTART_EXIT_CODE);
      },
    );
  }
}
