// Readiness: database, storage, backend (connection, configuration) and Ghostscript when the backend needs it.
import { sql } from 'kysely';
import type { FaxBackend, ReadinessCheck } from './backends/types.js';
import type { Db } from './db/connect.js';
import type { LocalStore } from './storage/local.js';
import { withTimeout } from './util/timeout.js';

export interface CheckState {
  ok: boolean;
  detail: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckState>;
}

export type ReadinessProbe = () => Promise<ReadinessCheck[]>;

export interface ReadinessDeps {
  db: Db;
  store: LocalStore;
  backend: FaxBackend;
  /** Ghostscript version, or null when it cannot run. */
  ghostscriptVersion?: () => Promise<string | null>;
  /** Further checks added by other areas (inbound spools, ...). */
  extra?: ReadinessProbe[];
}

const TIMEOUT_MS = 3000;

const timed = <T>(p: Promise<T>, what: string): Promise<T> => withTimeout(p, what, TIMEOUT_MS);

export async function checkReadiness(d: ReadinessDeps): Promise<ReadinessReport> {
  const checks: Record<string, CheckState> = {};
  const put = (c: ReadinessCheck): void => {
    checks[c.name] = { ok: c.ok, detail: c.detail ?? (c.ok ? 'ok' : 'failed') };
  };

  const tasks: Promise<unknown>[] = [
    timed(sql`select 1`.execute(d.db.k), 'the database')
      .then(() => put({ name: 'database', ok: true, detail: `${d.db.dialect} reachable` }))
      .catch((e: unknown) => put({ name: 'database', ok: false, detail: errText(e) })),
    d.store.checkWritable().then((r) => put({ name: 'storage', ok: r.ok, detail: `${d.store.root}: ${r.detail}` })),
    timed(d.backend.readiness(), 'the backend')
      .then((list) => list.forEach(put))
      .catch((e: unknown) => put({ name: 'backend', ok: false, detail: errText(e) })),
  ];
  if (d.backend.needsGhostscript) {
    const gs = d.ghostscriptVersion;
    tasks.push(
      (gs ? timed(gs(), 'Ghostscript') : Promise.resolve(null))
        .then((v) => put({ name: 'ghostscript', ok: v !== null, detail: v === null ? 'gs not found or not runnable (install ghostscript)' : `gs ${v}` }))
        .catch((e: unknown) => put({ name: 'ghostscript', ok: false, detail: errText(e) })),
    );
  }
  for (const probe of d.extra ?? []) {
    tasks.push(timed(probe(), 'a readiness probe').then((l) => l.forEach(put)).catch((e: unknown) => put({ name: 'extra', ok: false, detail: errText(e) })));
  }
  await Promise.all(tasks);
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
