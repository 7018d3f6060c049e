// The console's status views: one aggregated health state, database status, and the figures behind them.
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { currentMigration, migrations } from '../db/migrate.js';
import type { FaxBackend } from '../backends/types.js';
import type { LocalStore } from '../storage/local.js';
import type { TaskStatus } from '../scheduler/scheduler.js';
import { withTimeout } from '../util/timeout.js';

export interface Check {
  ok: boolean;
  detail: string;
}

export interface HealthStatus {
  status: 'ok' | 'degraded' | 'down';
  checked_at: string;
  uptime_seconds: number;
  backend: { name: string; ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
  database: Check & { dialect: string };
  storage: Check;
  ghostscript: Check & { required: boolean; version: string | null };
  queue: { queued: number; in_progress: number; oldest_queued_seconds: number | null; in_flight_here: number };
  recent_failures: { window_minutes: number; failed: number; succeeded: number; by_class: Record<string, number> };
  dispatcher: { running: boolean };
  scheduler: TaskStatus[];
}

export interface StatusDeps {
  db: Db;
  store: LocalStore;
  backend: FaxBackend;
  ghostscriptVersion: () => Promise<string | null>;
  dispatcher: { isRunning: boolean; inFlight: number };
  scheduler: { status(): TaskStatus[] };
  startedAt: number;
}

const TIMEOUT_MS = 3000;
const FAILURE_WINDOW_MINUTES = 60;

const timed = <T>(p: Promise<T>, what: string): Promise<T> => withTimeout(p, what, TIMEOUT_MS);

const text = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function countBy(db: Db, status: string): Promise<number> {
  const r = await db.k.selectFrom('fax_jobs').select((eb) => eb.fn.countAll<string | number>().as('n')).where('status', '=', status as never).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function healthStatus(d: StatusDeps): Promise<HealthStatus> {
  const now = new Date();
  const database = await timed(sql`select 1`.execute(d.db.k), 'the database').then(
    () => ({ ok: true, detail: `${d.db.dialect} reachable`, dialect: d.db.dialect }),
    (e: unknown) => ({ ok: false, detail: text(e), dialect: d.db.dialect }),
  );
  const [storage, backendChecks, gsVersion] = await Promise.all([
    d.store.checkWritable().then((r) => ({ ok: r.ok, detail: `${d.store.root}: ${r.detail}` })),
    timed(d.backend.readiness(), 'the backend').then(
      (l) => l.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail ?? (c.ok ? 'ok' : 'failed') })),
      (e: unknown) => [{ name: 'backend', ok: false, detail: text(e) }],
    ),
    timed(d.ghostscriptVersion(), 'Ghostscript').catch(() => null),
  ]);
  const required = d.backend.needsGhostscript;
  const ghostscript = {
    ok: gsVersion !== null || !required,
    required,
    version: gsVersion,
    detail: gsVersion !== null ? `gs ${gsVersion}` : required ? 'gs not found or not runnable (install ghostscript)' : 'gs not found (not needed by this backend)',
  };
  let queue: HealthStatus['queue'] = { queued: 0, in_progress: 0, oldest_queued_seconds: null, in_flight_here: d.dispatcher.inFlight };
  const recent: HealthStatus['recent_failures'] = { window_minutes: FAILURE_WINDOW_MINUTES, failed: 0, succeeded: 0, by_class: {} };
  if (database.ok) {
    const since = new Date(now.getTime() - FAILURE_WINDOW_MINUTES * 60_000).toISOString();
    const [queued, inProgress, oldest, finished] = await Promise.all([
      countBy(d.db, 'queued'),
      countBy(d.db, 'in_progress'),
      d.db.k.selectFrom('fax_jobs').select((eb) => eb.fn.min('created_at').as('t')).where('status', '=', 'queued').executeTakeFirst(),
      d.db.k
        .selectFrom('fax_jobs')
        .select(['status', 'failure_class', (eb) => eb.fn.countAll<string | number>().as('n')])
        .where('status', 'in', ['SUCCESS', 'FAILED'])
        .where('completed_at', '>=', since)
        .groupBy(['status', 'failure_class'])
        .execute(),
    ]);
    const t = oldest?.t as string | null | undefined;
    queue = { queued, in_progress: inProgress, oldest_queued_seconds: t ? Math.max(0, Math.round((now.getTime() - Date.parse(t)) / 1000)) : null, in_flight_here: d.dispatcher.inFlight };
    for (const r of finished) {
      const n = Number(r.n);
      if (r.status === 'SUCCESS') recent.succeeded += n;
      else {
        recent.failed += n;
        const k = r.failure_class ?? 'unknown';
        recent.by_class[k] = (recent.by_class[k] ?? 0) + n;
      }
    }
  }
  const backendOk = backendChecks.every((c) => c.ok);
  const down = !database.ok || !storage.ok;
  const degraded = !backendOk || !ghostscript.ok || !d.dispatcher.isRunning || d.scheduler.status().some((s) => s.lastOutcome === 'failed');
  return {
    status: down ? 'down' : degraded ? 'degraded' : 'ok',
    checked_at: now.toISOString(),
    uptime_seconds: Math.round((now.getTime() - d.startedAt) / 1000),
    backend: { name: d.backend.name, ok: backendOk, checks: backendChecks },
    database,
    storage,
    ghostscript,
    queue,
    recent_failures: recent,
    dispatcher: { running: d.dispatcher.isRunning },
    scheduler: d.scheduler.status(),
  };
}

export interface DbStatus {
  ok: boolean;
  detail: string;
  dialect: string;
  target: string;
  latency_ms: number | null;
  migration: { current: string | null; latest: string; pending: string[] };
  counts: Record<string, number> | null;
  jobs_by_status: Record<string, number> | null;
}

const TABLES = ['fax_jobs', 'fax_attempts', 'api_keys', 'idempotency_keys', 'inbound_faxes', 'audit_events'] as const;

export async function dbStatus(db: Db): Promise<DbStatus> {
  const names = Object.keys(migrations).sort();
  const latest = names[names.length - 1]!;
  const base = { dialect: db.dialect, target: db.describe };
  const t0 = performance.now();
  try {
    await timed(sql`select 1`.execute(db.k), 'the database');
  } catch (e) {
    return { ok: false, detail: text(e), ...base, latency_ms: null, migration: { current: null, latest, pending: [] }, counts: null, jobs_by_status: null };
  }
  const latency = Math.round((performance.now() - t0) * 10) / 10;
  const current = await currentMigration(db);
  const counts: Record<string, number> = {};
  for (const t of TABLES) {
    const r = await db.k.selectFrom(t).select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    counts[t] = Number(r.n);
  }
  const byStatus = await db.k.selectFrom('fax_jobs').select(['status', (eb) => eb.fn.countAll<string | number>().as('n')]).groupBy('status').execute();
  return {
    ok: true,
    detail: `${db.dialect} reachable`,
    ...base,
    latency_ms: latency,
    migration: { current, latest, pending: current === null ? names : names.filter((n) => n > current) },
    counts,
    jobs_by_status: Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)])),
  };
}
