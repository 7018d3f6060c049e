// Two real service processes on one PostgreSQL database and one shared data directory: a few hundred jobs,
// one instance killed mid-run; every job ends once (placed exactly once at the far end), none twice.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import { faxForm, waitFor } from '../helpers/app.js';
import { createPgDatabase } from '../helpers/db.js';
import { killHard, startServiceProcess } from '../helpers/process.js';

const KEY = 'multi-instance-key';
const JOBS = 240;

describe('several instances on one PostgreSQL', () => {
  test('a job is claimed by exactly one instance; a dead instance\'s calls are adopted after its lease', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'faxbot-multi-'));
    const db = await createPgDatabase();
    const common = {
      FAX_DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      API_KEY: KEY,
      SANDBOX_DELAY_SECONDS: '0.3',
      SANDBOX_MAX_CHANNELS: '8',
      DISPATCH_POLL_MS: '50',
      JOB_LEASE_SECONDS: '5',
      LOG_LEVEL: 'warn',
    };
    const a = await startServiceProcess({ ...common, INSTANCE_ID: 'instance-a' });
    const b = await startServiceProcess({ ...common, INSTANCE_ID: 'instance-b' });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // Half the jobs through each instance, so both accept and both dispatch.
      const ids: string[] = [];
      await Promise.all(
        Array.from({ length: JOBS }, async (_, i) => {
          const target = i % 2 === 0 ? a : b;
          const r = await fetch(`${target.url}/fax`, { method: 'POST', headers: { 'X-API-Key': KEY }, body: faxForm(`+1555${String(2000000 + i * 10 + 1)}`, `job ${i}`) });
          assert.equal(r.status, 202);
          ids.push(((await r.json()) as { id: string }).id);
        }),
      );
      // Kill A while it holds calls.
      await waitFor(async () => {
        const r = await client.query<{ n: string }>("select count(*) n from fax_jobs where status = 'in_progress' and lease_owner = 'instance-a'");
        return Number(r.rows[0]!.n) > 0;
      }, 20_000, 'instance A to hold calls');
      await killHard(a);

      await waitFor(async () => {
        const r = await client.query<{ n: string }>("select count(*) n from fax_jobs where status not in ('SUCCESS', 'FAILED')");
        return Number(r.rows[0]!.n) === 0;
      }, 90_000, 'every job final').catch(async (err: unknown) => {
        const left = await client.query("select j.status, j.lease_owner, j.lease_expires_at, j.attempt_count, a.state, a.outcome, a.instance_id from fax_jobs j left join fax_attempts a on a.job_id = j.id and a.attempt_no = j.attempt_count where j.status not in ('SUCCESS','FAILED') limit 5");
        console.log(JSON.stringify(left.rows), new Date().toISOString(), b.output.slice(-20).join('\n'));
        throw err;
      });
      const statuses = await client.query<{ status: string; n: string }>('select status, count(*) n from fax_jobs group by status');
      assert.deepEqual(statuses.rows.map((r) => [r.status, Number(r.n)]), [['SUCCESS', JOBS]]);

      const log = (await readFile(join(dataDir, 'sandbox', 'calls.jsonl'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { event: string; job: string });
      const placed = new Map<string, number>();
      for (const r of log) if (r.event === 'placed') placed.set(r.job, (placed.get(r.job) ?? 0) + 1);
      for (const id of ids) assert.equal(placed.get(id), 1, `job ${id} placed ${placed.get(id) ?? 0} times`);

      // Both instances did work, and B finished what A left.
      const owners = await client.query<{ instance_id: string; n: string }>("select instance_id, count(*) n from fax_attempts where outcome = 'success' group by instance_id");
      const byInstance = Object.fromEntries(owners.rows.map((r) => [r.instance_id, Number(r.n)]));
      assert.ok((byInstance['instance-a'] ?? 0) + (byInstance['instance-b'] ?? 0) === JOBS);
      assert.ok((byInstance['instance-b'] ?? 0) > 0);
    } finally {
      await client.end();
      await killHard(a).catch(() => undefined);
      await killHard(b).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
      await db.drop();
    }
  });
});
