// FAX_BACKEND=sip through the public API: a restart of the service mid-call (SQLite and PostgreSQL), capacity and queue order,
// and the TIFF it hands Asterisk.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type AsteriskBackend } from '../../../src/backends/asterisk/backend.js';
import { waitFor } from '../../helpers/app.js';
import { createPgDatabase, DIALECTS } from '../../helpers/db.js';
import { expectTwoAtATime, postInOrder } from '../../helpers/fax-jobs.js';
import { makePdf } from '../../helpers/docs.js';
import { channelOf, faxStarted, finalJob, originates, postFax, simSaw, asteriskHarness } from './service-helpers.js';

const { sim, app, defer } = asteriskHarness();

for (const dialect of DIALECTS) {
  describe(`service restart mid-call on ${dialect}`, () => {
    test('a new process follows the live call to its end; one originate only', async () => {
      const s = await sim();
      s.script('+15554000001', { kind: 'success', pages: 2 });
      s.hold('+15554000001');
      s.script('+15554000002', { kind: 'partial', pagesSent: 1, totalPages: 2, secondsPerPage: 40 });
      const dataDir = mkdtempSync(join(tmpdir(), 'faxbot-restart-'));
      defer(() => rmSync(dataDir, { recursive: true, force: true }));
      let databaseUrl: string | undefined;
      if (dialect === 'postgres') {
        const pg = await createPgDatabase();
        databaseUrl = pg.url;
        defer(() => pg.drop());
      }
      const first = await app(s, { ASTERISK_MAX_CHANNELS: '2' }, { dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
      const live = await postFax(first, '+15554000001');
      const ended = await postFax(first, '+15554000002');
      await simSaw(s, channelOf(live.id), faxStarted);
      await simSaw(s, channelOf(ended.id), faxStarted);
      await first.close(); // the process goes away with both calls up
      await waitFor(async () => !s.channels().some((c) => c.id === channelOf(ended.id)) || undefined); // one ends meanwhile

      const second = await app(s, { ASTERISK_MAX_CHANNELS: '2' }, { dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
      // The new process found the live call and subscribed to it; only then does the far end finish.
      await waitFor(async () => s.requests.some((r) => r.path === '/ari/applications/faxbot/subscription' && r.query.eventSource === `channel:${channelOf(live.id)}` && r.status === 200) || undefined);
      s.release('+15554000001');
      const a = await finalJob(second, live.id);
      assert.deepEqual([a.status, a.error, a.pages, a.provider_sid], ['SUCCESS', null, 2, channelOf(live.id)]);
      const b = await finalJob(second, ended.id);
      assert.deepEqual([b.status, b.error, b.pages, b.provider_sid], ['FAILED', 'the far end hung up after 1 of 2 pages', 1, channelOf(ended.id)]);
      assert.equal(originates(s, live.id).length, 1);
      assert.equal(originates(s, ended.id).length, 1);
      // The new process cleaned up after the calls the old one placed.
      await waitFor(async () => !existsSync(join(dataDir, 'spool', 'asterisk', `faxbot-${live.id}-1.tif`)) || undefined, 5000, 'TIFF removed');
    });
  });
}

describe('capacity', () => {
  test('ASTERISK_MAX_CHANNELS=2 with 5 jobs: never more than 2 channels up, the rest queued, in order', async () => {
    const s = await sim();
    const numbers = [1, 2, 3, 4, 5].map((n) => `+1555500000${n}`);
    for (const n of numbers) {
      s.script(n, { kind: 'success', pages: 1 });
      s.hold(n); // each call stays up until released below
    }
    // One conversion at a time: the calls then start in the order the jobs were claimed.
    const a = await app(s, { ASTERISK_MAX_CHANNELS: '2', FAX_CONVERT_CONCURRENCY: '1' });
    const jobs = await postInOrder(a, numbers);
    // Release one call at a time: each freed channel goes to the next job in line, and only then.
    await expectTwoAtATime(a, jobs, { up: () => s.channels().map((c) => String(c.id)), sidOf: (id) => channelOf(id), release: (i) => s.release(numbers[i]!) });
    assert.equal(s.peakChannels, 2);
    assert.deepEqual(originates(s).map((r) => r.query.channelId), jobs.map((j) => channelOf(j.id)));
  });
});

describe('the TIFF handed to Asterisk', () => {
  for (const [label, env, lines, yres, scheme] of [
    ['defaults (fine, G3, Letter)', {}, 2156, 196, 'CCITT Group 3'],
    ['FAX_RESOLUTION=normal, FAX_TIFF_COMPRESSION=g4, FAX_PAGE_SIZE=a4', { FAX_RESOLUTION: 'normal', FAX_TIFF_COMPRESSION: 'g4', FAX_PAGE_SIZE: 'a4' }, 1146, 98, 'CCITT Group 4'],
  ] as const) {
    test(`prepare writes what tiffinfo reads as 1728 wide, fax resolution, one strip per page: ${label}`, async () => {
      const s = await sim();
      const a = await app(s, env);
      const pdfPath = join(a.dataDir, 'check.pdf');
      writeFileSync(pdfPath, await makePdf(3));
      const backend = a.services.backend as AsteriskBackend;
      await backend.client.whenConnected(10_000); // prepare gives the attempt back while ARI is not up
      await backend.prepare({ id: 'tiffcheck', to: '+15556000001', pdfPath, pages: 3 }, { attemptNo: 1, protocolFailures: 0, previous: [] });
      const tif = join(a.dataDir, 'spool', 'asterisk', 'faxbot-tiffcheck-1.tif');
      const info = execFileSync('tiffinfo', [tif], { encoding: 'utf8' });
      const dirs = info.split(/TIFF Directory at offset/).slice(1);
      assert.equal(dirs.length, 3);
      for (const d of dirs) {
        assert.match(d, new RegExp(`Image Width: 1728 Image Length: ${lines}\\b`));
        assert.match(d, new RegExp(`Resolution: 204, ${yres} pixels/inch`));
        assert.match(d, new RegExp(`Rows/Strip: ${lines}\\b`));
        assert.match(d, new RegExp(scheme));
      }
    });
  }
});
