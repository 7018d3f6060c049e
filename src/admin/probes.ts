// Checks for POST /admin/settings/validate: no side effects (no fax, no call, no write outside a probe file).
import { ghostscriptVersion } from '../documents/ghostscript.js';
import type { Settings } from '../config/index.js';
import type { Services } from '../services.js';
import { sql } from 'kysely';
import { withTimeout } from '../util/timeout.js';

export interface ProbeResult {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * A check an area adds (provider credentials, PBX connectivity): it gets the settings being validated (the
 * running ones, or the running ones with the proposed change) and must not change anything anywhere.
 */
export type SettingsProbe = (settings: Settings) => Promise<ProbeResult[]>;

const TIMEOUT_MS = 5000;

const timed = <T>(p: Promise<T>, what: string): Promise<T> => withTimeout(p, what, TIMEOUT_MS);

const text = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function runProbes(s: Services, candidate: Settings): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  const tasks: Promise<void>[] = [
    timed(sql`select 1`.execute(s.db.k), 'the database').then(
      () => void out.push({ name: 'database', ok: true, detail: `${s.db.describe} reachable` }),
      (e: unknown) => void out.push({ name: 'database', ok: false, detail: text(e) }),
    ),
    s.store.checkWritable().then((r) => void out.push({ name: 'storage', ok: r.ok, detail: `${s.store.root}: ${r.detail}` })),
    timed(ghostscriptVersion(s.settings.GHOSTSCRIPT_PATH), 'Ghostscript').then(
      (v) => void out.push({ name: 'ghostscript', ok: v !== null || !s.backend.needsGhostscript, detail: v ? `gs ${v}` : 'gs not found or not runnable' }),
      (e: unknown) => void out.push({ name: 'ghostscript', ok: !s.backend.needsGhostscript, detail: text(e) }),
    ),
    timed(s.backend.readiness(), 'the backend').then(
      (l) => void out.push(...l.map((c) => ({ name: `backend:${c.name}`, ok: c.ok, detail: c.detail ?? (c.ok ? 'ok' : 'failed') }))),
      (e: unknown) => void out.push({ name: 'backend', ok: false, detail: text(e) }),
    ),
  ];
  for (const probe of s.admin.probes) {
    tasks.push(timed(probe(candidate), 'a probe').then((l) => void out.push(...l), (e: unknown) => void out.push({ name: 'probe', ok: false, detail: text(e) })));
  }
  await Promise.all(tasks);
  if (candidate.FAX_BACKEND !== s.backend.name) {
    out.push({ name: 'backend', ok: true, detail: `FAX_BACKEND=${candidate.FAX_BACKEND} takes effect after a restart; the checks above are of the running ${s.backend.name} backend` });
  }
  return out;
}
