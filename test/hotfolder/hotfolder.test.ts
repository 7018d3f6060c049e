// The outbound hot folder through the whole service: naming rules, refusals, result files, and restarts that neither lose nor repeat a fax.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { createPgDatabase, DIALECTS, type TestDialect } from '../helpers/db.js';
import { makePdf } from '../helpers/docs.js';
import type { HotFolderResult } from '../../src/hotfolder/hot-folder.js';
import { maskFileName, numberFromName, numberFromSidecar } from '../../src/hotfolder/naming.js';

const FAST = {
  HOTFOLDER_STABLE_MS: '100',
  HOTFOLDER_GRACE_SECONDS: '0.3',
  HOTFOLDER_MAX_WRITE_SECONDS: '0.8',
  HOTFOLDER_RESCAN_SECONDS: '0.2',
  HOTFOLDER_STATUS_POLL_SECONDS: '0.1',
  FAX_RETRY_BUSY: '1:1',
};

interface Setup {
  dialect: TestDialect;
  dir: string;
  dataDir: string;
  databaseUrl?: string;
  env?: Record<string, string>;
}

function start(s: Setup): Promise<TestApp> {
  return startTestApp({
    dialect: s.dialect,
    dataDir: s.dataDir,
    ...(s.databaseUrl ? { databaseUrl: s.databaseUrl } : {}),
    env: { HOTFOLDER_DIR: s.dir, ...FAST, ...s.env },
  });
}

async function hotJobs(app: TestApp): Promise<{ id: string; to_number: string; status: string }[]> {
  return app.services.db.k.selectFrom('fax_jobs').select(['id', 'to_number', 'status']).where('source', '=', 'hotfolder').execute();
}

async function result(path: string): Promise<HotFolderResult> {
  return JSON.parse(await readFile(path, 'utf8')) as HotFolderResult;
}

/** Lets the jobs finish before a stop, so the next start has no call in flight to reconcile (that is the dispatcher's business). */
async function settled(app: TestApp): Promise<void> {
  await waitFor(async () => (await hotJobs(app)).every((j) => ['SUCCESS', 'FAILED', 'disabled'].includes(j.status)), 10_000, 'jobs settled').catch(() => undefined);
}

const ls = async (d: string) => (await readdir(d).catch(() => [] as string[])).sort();

describe('hot folder naming', () => {
  test('number from the name, or from a sidecar', () => {
    assert.deepEqual(numberFromName('+15551234567.pdf'), { ok: true, number: '+15551234567' });
    assert.deepEqual(numberFromName('+1 (555) 123-4567__invoice 42.PDF'), { ok: true, number: '+15551234567' });
    assert.equal(numberFromName('scan0001.pdf').ok, false);
    assert.deepEqual(numberFromSidecar('{"to":"+15551234567"}'), { ok: true, number: '+15551234567' });
    assert.equal(numberFromSidecar('{"to":"call me"}').ok, false);
    assert.equal(numberFromSidecar('{"to":').ok, false);
    assert.equal(maskFileName('+15551234567__x.pdf'), '+*******4567__x.pdf');
  });
});

for (const dialect of DIALECTS) {
  describe(`hot folder on ${dialect}`, () => {
    let root = '';
    let app: TestApp;
    let dir = '';
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'faxbot-hot-'));
      dir = join(root, 'scans');
      await mkdir(dir);
      app = await start({ dialect, dir, dataDir: join(root, 'data'), env: { MAX_FILE_SIZE_MB: '0.5' } });
    });
    after(async () => {
      await app.close();
      await rm(root, { recursive: true, force: true });
    });

    test('<number>.pdf becomes a normal job, moves to sent/ with a result file that follows the job to SUCCESS', async () => {
      await writeFile(join(dir, '+15551230101.pdf'), await makePdf(2));
      const res = join(dir, 'sent', '+15551230101.pdf.result.json');
      const r = await waitFor(async () => {
        if (!existsSync(res)) return undefined;
        const x = await result(res);
        return x.status === 'SUCCESS' ? x : undefined;
      }, 15_000, 'result SUCCESS');
      assert.equal(r.pages, 2);
      assert.equal(r.to, '+*******0101');
      assert.equal(r.error, null);
      const job = (await hotJobs(app)).find((j) => j.id === r.job_id)!;
      assert.equal(job.to_number, '+15551230101');
      assert.ok(existsSync(join(dir, 'sent', '+15551230101.pdf')));
      assert.equal(existsSync(join(dir, '+15551230101.pdf')), false);
      const row = await app.services.jobs.get(r.job_id!);
      assert.equal(row!.owner_key_id, 'hotfolder');
    });

    test('<number>__anything.pdf and a PDF with a .json sidecar naming "to"', async () => {
      await writeFile(join(dir, '+15551230102__invoice 7.pdf'), await makePdf(1));
      await writeFile(join(dir, 'scan-0001.json'), JSON.stringify({ to: '+1 555 123 0103' }));
      await writeFile(join(dir, 'scan-0001.pdf'), await makePdf(1));
      await waitFor(
        async () => existsSync(join(dir, 'sent', '+15551230102__invoice 7.pdf')) && existsSync(join(dir, 'sent', 'scan-0001.pdf')) && !existsSync(join(dir, 'scan-0001.json')),
        15_000,
        'both sent',
      );
      const s = await result(join(dir, 'sent', 'scan-0001.pdf.result.json'));
      const job = await app.services.jobs.get(s.job_id!);
      assert.equal(job!.to_number, '+15551230103');
      assert.ok(existsSync(join(dir, 'sent', 'scan-0001.json')), 'the sidecar travels with its PDF');
      assert.equal(existsSync(join(dir, 'scan-0001.json')), false);
    });

    test('a fax that finally fails moves to failed/ with its result', async () => {
      await writeFile(join(dir, '+15551230002.pdf'), await makePdf(1));
      const res = join(dir, 'failed', '+15551230002.pdf.result.json');
      const r = await waitFor(async () => (existsSync(res) && !existsSync(join(dir, 'sent', '+15551230002.pdf')) ? result(res) : undefined), 15_000, 'moved to failed/');
      assert.equal(r.status, 'FAILED');
      assert.match(String(r.error), /busy/);
      assert.ok(existsSync(join(dir, 'failed', '+15551230002.pdf')));
      assert.equal(existsSync(join(dir, 'sent', '+15551230002.pdf')), false);
    });

    const refusals: [string, string, () => Promise<Uint8Array | string>, RegExp][] = [
      ['a name that is not a number (no sidecar)', 'scan0002.pdf', () => makePdf(1), /no destination number/],
      ['a sidecar whose "to" is not a number', 'letter.pdf', () => makePdf(1), /sidecar's "to" is not a fax number/],
      ['content that is not a PDF', '+15551230104.pdf', async () => 'just text, not a PDF', /not a PDF/],
      ['a truncated PDF', '+15551230105.pdf', async () => (await makePdf(3)).slice(0, 900), /truncated or damaged/],
      ['a file that is not .pdf', '+15551230106.docx', async () => 'PK\x03\x04', /only PDF files/],
      ['a file over MAX_FILE_SIZE_MB', '+15551230107.pdf', async () => Buffer.alloc(600 * 1024, 0x20), /larger than/],
    ];
    for (const [what, name, content, reason] of refusals) {
      test(`${what}: refused into failed/ with the reason, no job`, async () => {
        if (name === 'letter.pdf') await writeFile(join(dir, 'letter.json'), JSON.stringify({ to: 'reception' }));
        const jobs = (await hotJobs(app)).length;
        await writeFile(join(dir, name), await content());
        const res = join(dir, 'failed', `${name}.result.json`);
        // The result file is written first, then the file moves.
        const r = await waitFor(async () => (existsSync(res) && !existsSync(join(dir, name)) ? result(res) : undefined), 15_000, `${name} refused`);
        assert.equal(r.status, 'refused');
        assert.equal(r.job_id, null);
        assert.match(String(r.error), reason);
        assert.ok(existsSync(join(dir, 'failed', name)), 'the file is kept in failed/');
        assert.equal(existsSync(join(dir, name)), false);
        assert.equal((await hotJobs(app)).length, jobs);
      });
    }

    test('a file that keeps growing past HOTFOLDER_MAX_WRITE_SECONDS is refused', async () => {
      const name = '+15551230108.pdf';
      const path = join(dir, name);
      await writeFile(path, '%PDF-1.4\n');
      const res = join(dir, 'failed', `${name}.result.json`);
      let stop = false;
      const writer = (async () => {
        while (!stop && existsSync(path)) {
          await appendFile(path, '% still scanning\n').catch(() => undefined);
          await new Promise((r) => setTimeout(r, 30));
        }
      })();
      try {
        const r = await waitFor(async () => (existsSync(res) ? result(res) : undefined), 15_000, 'growing file refused');
        assert.match(String(r.error), /kept changing/);
      } finally {
        stop = true;
        await writer;
      }
    });

    test('nothing is lost: every file dropped is in sent/ or failed/, exactly once', async () => {
      await waitFor(async () => (await ls(dir)).filter((n) => n !== 'sent' && n !== 'failed').length === 0, 10_000, 'inbox empty');
      const sent = (await ls(join(dir, 'sent'))).filter((n) => n.endsWith('.pdf'));
      const failed = (await ls(join(dir, 'failed'))).filter((n) => !n.endsWith('.result.json') && !n.endsWith('.json'));
      assert.equal(sent.length, 3);
      assert.equal(failed.length, 8);
      assert.equal(new Set([...sent, ...failed]).size, 11);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`hot folder restarts on ${dialect}`, () => {
    let root = '';
    let dir = '';
    let db: { url: string; drop: () => Promise<void> } | null = null;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'faxbot-hot-restart-'));
      dir = join(root, 'scans');
      await mkdir(dir);
      if (dialect === 'postgres') db = await createPgDatabase();
    });
    after(async () => {
      await rm(root, { recursive: true, force: true });
      await db?.drop();
    });
    const setup = (env: Record<string, string> = {}): Setup => ({ dialect, dir, dataDir: join(root, 'data'), ...(db ? { databaseUrl: db.url } : {}), env });

    test('stopped while a file is half-written: nothing sent meanwhile, sent once after the restart', async () => {
      const pdf = await makePdf(2);
      const name = '+15551230201.pdf';
      let app = await start(setup({ HOTFOLDER_GRACE_SECONDS: '60' }));
      const before = (await hotJobs(app)).length;
      await writeFile(join(dir, name), pdf.subarray(0, Math.floor(pdf.length / 2)));
      // Stable but unreadable: it waits for the scanner (grace), it is neither sent nor refused.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal((await hotJobs(app)).length, before);
      assert.ok(existsSync(join(dir, name)));
      await app.close();
      await appendFile(join(dir, name), pdf.subarray(Math.floor(pdf.length / 2)));
      app = await start(setup());
      try {
        await waitFor(async () => existsSync(join(dir, 'sent', `${name}.result.json`)), 15_000, 'sent after restart');
        const jobs = (await hotJobs(app)).filter((j) => j.to_number === '+15551230201');
        assert.equal(jobs.length, 1);
      } finally {
        await settled(app);
        await app.close();
      }
    });

    for (const stage of ['submitted', 'result_written'] as const) {
      test(`stopped just after the job was created (${stage}), before the move: one job after the restart`, async () => {
        const name = stage === 'submitted' ? '+15551230301.pdf' : '+15551230302.pdf';
        let app = await start(setup());
        let hit = false;
        app.services.hotfolder!.onStage = (s, file) => {
          if (s === stage && file === name) {
            hit = true;
            throw new Error('simulated crash');
          }
        };
        await writeFile(join(dir, name), await makePdf(1));
        await waitFor(async () => hit, 10_000, 'the crash point');
        const created = (await hotJobs(app)).filter((j) => j.to_number === `+1555123${name.slice(8, 12)}`);
        assert.equal(created.length, 1, 'the job exists');
        assert.ok(existsSync(join(dir, name)), 'the file has not moved');
        await settled(app);
        await app.close();
        app = await start(setup());
        try {
          await waitFor(async () => existsSync(join(dir, 'sent', name)), 15_000, 'moved after restart');
          const jobs = (await hotJobs(app)).filter((j) => j.to_number === `+1555123${name.slice(8, 12)}`);
          assert.equal(jobs.length, 1, 'not sent twice');
          const attempts = await app.services.jobs.attempts(jobs[0]!.id);
          assert.ok(attempts.length <= 1);
          const r = await result(join(dir, 'sent', `${name}.result.json`));
          assert.equal(r.job_id, jobs[0]!.id);
          assert.deepEqual((await ls(join(dir, 'sent'))).filter((n) => n.startsWith(name.slice(0, 12))), [name, `${name}.result.json`]);
        } finally {
          await settled(app);
          await app.close();
        }
      });
    }
  });
}

describe('two instances on one PostgreSQL database sharing a hot folder', () => {
  test('each file is sent once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'faxbot-hot-two-'));
    const dir = join(root, 'scans');
    await mkdir(dir);
    const db = await createPgDatabase();
    const common = { dialect: 'postgres' as const, dir, dataDir: join(root, 'data'), databaseUrl: db.url };
    const a = await start({ ...common, env: { INSTANCE_ID: 'a' } });
    const b = await start({ ...common, env: { INSTANCE_ID: 'b' } });
    try {
      const names = ['+15551230401.pdf', '+15551230402.pdf', '+15551230403__x.pdf'];
      for (const n of names) await writeFile(join(dir, n), await makePdf(1, n));
      await waitFor(async () => names.every((n) => existsSync(join(dir, 'sent', n))), 15_000, 'all sent');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await hotJobs(a)).length, 3);
      assert.deepEqual((await ls(join(dir, 'sent'))).filter((n) => n.endsWith('.pdf')), [...names].sort());
      assert.equal((await ls(join(dir, 'sent'))).filter((n) => n.endsWith('.result.json')).length, 3);
    } finally {
      await settled(a);
      await a.close();
      await b.close();
      await db.drop();
      await rm(root, { recursive: true, force: true });
    }
  });
});
