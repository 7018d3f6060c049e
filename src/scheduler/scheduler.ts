// A small scheduler on node-cron: areas register named tasks; each runs at most once at a time, errors are logged, stop waits.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';

export interface TaskContext {
  /** Aborted when the scheduler stops: long tasks should check it between steps. */
  signal: AbortSignal;
}

export interface TaskSpec {
  /** Unique; also the lock name across instances. */
  name: string;
  /** A node-cron expression (5 fields, or 6 with seconds), or: */
  cron?: string;
  /** Every N minutes: checked once a minute, run when N minutes passed since the last start (first run at the first check). */
  everyMinutes?: number;
  run: (ctx: TaskContext) => Promise<unknown>;
  /**
   * True (default): with several instances on one database only one should run it at a time (cleanup, expiry);
   * false: each instance runs its own (polling what this instance has in flight).
   */
  exclusive?: boolean;
}

/**
 * The hook for running on several instances (issue 8): before an exclusive task runs, the scheduler asks the
 * lock; `null` means another instance holds it and this run is skipped. The default lock always grants
 * (one instance). A PostgreSQL advisory lock implements it in a few lines.
 */
export interface TaskLock {
  tryAcquire(taskName: string): Promise<(() => Promise<void>) | null>;
}

export const localLock: TaskLock = { tryAcquire: async () => async () => undefined };

export type RunOutcome = 'ok' | 'failed' | 'skipped_running' | 'skipped_locked' | 'stopped';

export interface TaskStatus {
  name: string;
  schedule: string;
  running: boolean;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  lastOutcome: RunOutcome | null;
  lastError: string | null;
}

interface Entry {
  spec: TaskSpec;
  cronTask: ScheduledTask | null;
  running: Promise<RunOutcome> | null;
  lastStartMs: number;
  status: TaskStatus;
}

export class Scheduler {
  private readonly tasks = new Map<string, Entry>();
  private readonly abort = new AbortController();
  private started = false;
  private stopped = false;

  constructor(
    private readonly log: Logger,
    private lock: TaskLock = localLock,
  ) {}

  /** Replaces the lock (issue 8 plugs in its advisory lock before start). */
  setLock(lock: TaskLock): void {
    this.lock = lock;
  }

  register(spec: TaskSpec): void {
    if (this.tasks.has(spec.name)) throw new Error(`scheduler: a task named "${spec.name}" is already registered`);
    if ((spec.cron === undefined) === (spec.everyMinutes === undefined)) throw new Error(`scheduler: task "${spec.name}" needs exactly one of cron or everyMinutes`);
    if (spec.cron !== undefined && !cron.validate(spec.cron)) throw new Error(`scheduler: task "${spec.name}": invalid cron expression "${spec.cron}"`);
    if (spec.everyMinutes !== undefined && !(Number.isInteger(spec.everyMinutes) && spec.everyMinutes >= 1)) {
      throw new Error(`scheduler: task "${spec.name}": everyMinutes must be a whole number of minutes, at least 1`);
    }
    const entry: Entry = {
      spec,
      cronTask: null,
      running: null,
      lastStartMs: 0,
      status: {
        name: spec.name,
        schedule: spec.cron ?? `every ${spec.everyMinutes} minute(s)`,
        running: false,
        lastStartedAt: null,
        lastFinishedAt: null,
        lastOutcome: null,
        lastError: null,
      },
    };
    this.tasks.set(spec.name, entry);
    if (this.started && !this.stopped) this.schedule(entry);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const e of this.tasks.values()) this.schedule(e);
  }

  private schedule(e: Entry): void {
    const every = e.spec.everyMinutes;
    const expr = e.spec.cron ?? '* * * * *';
    const fire = () => {
      if (every !== undefined && e.lastStartMs !== 0 && Date.now() - e.lastStartMs < every * 60_000 - 1000) return;
      void this.runNow(e.spec.name);
    };
    // noOverlap is left off: overlap is decided here (one run at a time, including runs started by runNow).
    e.cronTask = cron.schedule(expr, fire, { name: `faxbot:${e.spec.name}` });
    // A scheduled task must never keep the process (or a test) alive on its own.
    e.cronTask.unref();
  }

  /** Runs a task now unless it is running already (then that run's outcome is not awaited: 'skipped_running'). */
  async runNow(name: string): Promise<RunOutcome> {
    const e = this.tasks.get(name);
    if (!e) throw new Error(`scheduler: no task named "${name}"`);
    if (this.stopped) return 'stopped';
    if (e.running) return 'skipped_running';
    const run = this.execute(e);
    e.running = run;
    try {
      return await run;
    } finally {
      e.running = null;
    }
  }

  private async execute(e: Entry): Promise<RunOutcome> {
    e.status.running = true;
    try {
      let release: (() => Promise<void>) | null = async () => undefined;
      if (e.spec.exclusive !== false) {
        try {
          release = await this.lock.tryAcquire(e.spec.name);
        } catch (err) {
          // The database may be down: skip this run (the next one tries again), never crash the process.
          e.status.lastOutcome = 'failed';
          e.status.lastError = `could not take the task lock: ${err instanceof Error ? err.message : String(err)}`;
          this.log.warn({ task: e.spec.name, err: e.status.lastError }, 'scheduled task skipped');
          return 'failed';
        }
      }
      if (!release) {
        e.status.lastOutcome = 'skipped_locked';
        return 'skipped_locked';
      }
      e.lastStartMs = Date.now();
      e.status.lastStartedAt = new Date(e.lastStartMs).toISOString();
      try {
        await e.spec.run({ signal: this.abort.signal });
        e.status.lastOutcome = 'ok';
        e.status.lastError = null;
        return 'ok';
      } catch (err) {
        e.status.lastOutcome = 'failed';
        e.status.lastError = err instanceof Error ? err.message : String(err);
        this.log.error({ task: e.spec.name, err: e.status.lastError }, 'scheduled task failed');
        return 'failed';
      } finally {
        e.status.lastFinishedAt = new Date().toISOString();
        await release().catch((err: unknown) => this.log.warn({ task: e.spec.name, err: String(err) }, 'could not release task lock'));
      }
    } finally {
      e.status.running = false;
    }
  }

  status(): TaskStatus[] {
    return [...this.tasks.values()].map((e) => ({ ...e.status }));
  }

  /** Stops every timer, tells running tasks to stop, and waits for them (at most `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const e of this.tasks.values()) {
      await e.cronTask?.destroy();
      e.cronTask = null;
    }
    this.abort.abort();
    const running = [...this.tasks.values()].map((e) => e.running).filter((p): p is Promise<RunOutcome> => p !== null);
    if (running.length === 0) return;
    let t: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(running), new Promise((r) => (t = setTimeout(r, graceMs)))]);
    clearTimeout(t);
  }
}
