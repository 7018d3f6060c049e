// FAX_BACKEND=freeswitch through the public API: a restart of the service mid-call (SQLite and PostgreSQL), and capacity.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { waitFor } from '../../helpers/app.js';
import { createPgDatabase, DIALECTS } from '../../helpers/db.js';
import { expectTwoAtATime, postInOrder } from '../../helpers/fax-jobs.js';
import { attempts, callOf, finalJob, getJob, originates, postFax, freeswitchHarness } from './service-helpers.js';

const { sim, app, defer } = freeswitchHarness();

for (const dialect of DIALECTS) {
  describe(`service restart mid-call on ${dialect}`, () => {
    test('a new process follows the live call to its end and settles the one that ended meanwhile; one originate each', async () => {
      const s = await sim();
      s.hold('+15554000001');
      s.hold('+15554000002');
      const dataDir = mkdtempSync(join(tmpdir(), 'faxbot-fs-restart-'));
      defer(() => rmSync(dataDir, { recursive: true, force: true }));
      let databaseUrl: string | undefined;
      if (dialect === 'postgres') {
        const pg = await createPgDatabase();
        databaseUrl = pg.url;
        defer(() => pg.drop());
      }
      const where = { dataDir, ...(databaseUrl ? { databaseUrl } : {}) };
      const first = await app(s, { FREESWITCH_MAX_CHANNELS: '2' }, where);
      const live = await postFax(first, '+15554000001');
      const ended = await postFax(first, '+15554000002');
      await waitFor(async () => (s.isHeld('+15554000001') && s.isHeld('+15554000002')) || undefined);
      await first.close(); // the process goes away with both calls up
      s.release('+15554000002'); // one ends meanwhile, unheard
      await waitFor(async () => !s.channels().some((c) => c.uuid === callOf(ended.id)) || undefined);

      const from = s.commands.length;
      const second = await app(s, { FREESWITCH_MAX_CHANNELS: '2' }, where);
      // The new process asked FreeSWITCH about the live call (by the uuid derived from job and attempt); only then does the far end finish.
      await waitFor(async () => s.commands.slice(from).some((c) => c.line === `api uuid_exists ${callOf(live.id)}`) || undefined);
      assert.equal((await getJob(second, live.id)).status, 'in_progress');
      s.release('+15554000001');
      const a = await finalJob(second, live.id);
      assert.deepEqual([a.status, a.error, a.pages, a.provider_sid], ['SUCCESS', null, 2, callOf(live.id)]);
      const b = await finalJob(second, ended.id);
      assert.deepEqual(
        [b.status, b.error, b.provider_sid],
        ['FAILED', 'FreeSWITCH no longer has the call and no result was recorded; the fax may or may not have been sent', callOf(ended.id)],
      );
      assert.deepEqual((await attempts(second, ended.id)).map((x) => x.failure_class), ['unknown']);
      // Never dialled twice, by either process.
      assert.equal(originates(s, live.id).length, 1);
      assert.equal(originates(s, ended.id).length, 1);
      // The new process cleaned up after the calls the old one placed.
      await waitFor(async () => !existsSync(join(dataDir, 'spool', 'freeswitch', `faxbot-${live.id}-1.tif`)) || undefined, 5000, 'TIFF removed');
    });
  });
}

describe('capacity', () => {
  test('FREESWITCH_MAX_CHANNELS=2 with 5 jobs: never more than 2 calls up, the rest queued, in order', async () => {
    const s = await sim();
    const numbers = [1, 2, 3, 4, 5].map((n) => `+1555500000${n}`);
    for (const n of numbers) s.hold(n); // each call stays up until released below
    // One conversion at a time: the calls then start in the order the jobs were claimed.
    const a = await app(s, { FREESWITCH_MAX_CHANNELS: '2', FAX_CONVERT_CONCURRENCY: '1' });
    const jobs = await postInOrder(a, numbers);
    // Release one call at a time: each freed channel goes to the next job in line, and only then.
    await expectTwoAtATime(a, jobs, {
      up: () => s.channels().map((c) => c.uuid),
      sidOf: (id) => callOf(id),
      ready: (i) => s.isHeld(numbers[i]!),
      release: (i) => s.release(numbers[i]!),
    });
    assert.equal(s.peakChannels, 2);
    assert.deepEqual(originates(s).map((o) => o.vars.origination_uuid), jobs.map((j) => callOf(j.id)));
  });
});
