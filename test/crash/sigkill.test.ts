// Crash safety: SIGKILL the real service while jobs are queued and in progress (twice), start it again, and check
// that every job ends, none is lost and none is dispatched twice — on SQLite and on PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { faxForm, waitFor } from '../helpers/app.js';
import { createPgDatabase, DIALECTS } from '../helpers/db.js';
import { killHard, startServiceProcess, type ServiceProcess } from '../helpers/process.js';

const KEY = 'crash-test-admin-key';
const JOBS = 24;

interface JobView {
  id: string;
  status: string;
}

async function get(p: ServiceProcess, id: string): Promise<JobView> {
  const r = await fetch(`${p.url}/fax/${id}`, { headers: { 'X-API-Key': KEY } });
  return (await r.json()) as JobView;
}

for (const dialect of DIALECTS) {
  describe(`SIGKILL on ${dialect}`, () => {
    test('every job reaches a final status, none lost, none dispatched twice', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'faxbot-crash-'));
      const pgdb = dialect === 'postgres' ? await createPgDatabase() : null;
      const env = {
        FAX_DATA_DIR: dataDir,
        API_KEY: KEY,
        INSTANCE_ID: 'crash-test',
        SANDBOX_DELAY_SECONDS: '0.8',
        SANDBOX_MAX_CHANNELS: '3',
        DISPATCH_POLL_MS: '50',
        ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
      };
      let proc = await startServiceProcess(env);
      try {
        const ids: string[] = [];
        for (let i = 0; i < JOBS; i++) {
          const r = await fetch(`${proc.url}/fax`, { method: 'POST', headers: { 'X-API-Key': KEY }, body: faxForm(`+1555123${String(1000 + i)}`, `page for job ${i}`) });
          assert.equal(r.status, 202);
          ids.push(((await r.json()) as JobView).id);
        }
        // Kill while some calls are up and others wait.
        for (let round = 0; round < 2; round++) {
          await waitFor(async () => {
            const views = await Promise.all(ids.map((id) => get(proc, id)));
            const inProgress = views.filter((v) => v.status === 'in_progress').length;
            const queued = views.filter((v) => v.status === 'queued').length;
            return inProgress > 0 && queued > 0;
          }, 20_000, 'jobs both queued and in progress');
          await killHard(proc);
          proc = await startServiceProcess(env);
        }
        const finals = await waitFor(async () => {
          const views = await Promise.all(ids.map((id) => get(proc, id)));
          return views.every((v) => v.status === 'SUCCESS' || v.status === 'FAILED') ? views : undefined;
        }, 60_000, 'all jobs final');
        assert.equal(finals.length, JOBS);
        assert.deepEqual(finals.filter((v) => v.status !== 'SUCCESS'), [], 'every sandbox call to these numbers succeeds');

        // The sandbox's call log is the far end's record: each job was placed exactly once.
        const log = (await readFile(join(dataDir, 'sandbox', 'calls.jsonl'), 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { event: string; job: string });
        for (const id of ids) {
          const placed = log.filter((r) => r.event === 'placed' && r.job === id).length;
          assert.equal(placed, 1, `job ${id} was placed ${placed} times`);
        }
      } finally {
        await killHard(proc).catch(() => undefined);
        await rm(dataDir, { recursive: true, force: true });
        await pgdb?.drop();
      }
    });
  });
}
