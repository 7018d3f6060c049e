// On PostgreSQL an exclusive scheduled task runs on one instance at a time, and a dead holder's lock goes with it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDb, type Db } from '../../src/db/connect.js';
import { createLogger } from '../../src/log.js';
import { pgAdvisoryLock } from '../../src/scheduler/pg-lock.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { createPgDatabase } from '../helpers/db.js';

describe('scheduled tasks across instances (PostgreSQL advisory lock)', () => {
  let pg: { url: string; drop: () => Promise<void> };
  let dbA: Db;
  let dbB: Db;
  before(async () => {
    pg = await createPgDatabase();
    dbA = openDb({ url: pg.url, dataDir: '/tmp' });
    dbB = openDb({ url: pg.url, dataDir: '/tmp' });
  });
  after(async () => {
    await dbA.close();
    await dbB.close();
    await pg.drop();
  });

  test('two instances firing the same task at once: one runs, the other skips', async () => {
    const log = createLogger('silent');
    const a = new Scheduler(log, pgAdvisoryLock(dbA));
    const b = new Scheduler(log, pgAdvisoryLock(dbB));
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const spec = (s: Scheduler) =>
      s.register({
        name: 'cleanup',
        everyMinutes: 60,
        run: async () => {
          runs++;
          concurrent++;
          maxConcurrent = Math.max(maxConcurrent, concurrent);
          await new Promise((r) => setTimeout(r, 300));
          concurrent--;
        },
      });
    spec(a);
    spec(b);
    const outcomes = await Promise.all([a.runNow('cleanup'), b.runNow('cleanup')]);
    assert.deepEqual([...outcomes].sort(), ['ok', 'skipped_locked']);
    assert.equal(maxConcurrent, 1);
    // Released: the next run may happen on either.
    assert.equal(await b.runNow('cleanup'), 'ok');
    assert.equal(runs, 2);
    await a.stop();
    await b.stop();
  });

  test('the lock of an instance whose database session died is free again', async () => {
    const log = createLogger('silent');
    const dying = openDb({ url: pg.url, dataDir: '/tmp' });
    const lock = pgAdvisoryLock(dying);
    const release = await lock.tryAcquire('expiry');
    assert.ok(release);
    assert.equal(await pgAdvisoryLock(dbB).tryAcquire('expiry'), null);
    // The holder's database session dies (a killed process, a lost network): the server ends it.
    const { sql } = await import('kysely');
    await sql`select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and pid <> pg_backend_pid()`.execute(dbB.k);
    const s = new Scheduler(log, pgAdvisoryLock(dbB));
    s.register({ name: 'expiry', everyMinutes: 60, run: async () => undefined });
    let outcome = await s.runNow('expiry');
    for (let i = 0; i < 20 && outcome !== 'ok'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      outcome = await s.runNow('expiry');
    }
    assert.equal(outcome, 'ok');
    await s.stop();
    await release().catch(() => undefined);
    await dying.close().catch(() => undefined);
  });
});
