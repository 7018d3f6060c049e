// The shared PBX outbound layer: settings, spool paths and mapping, idempotent TIFF preparation with real Ghostscript,
// error classes, the ladder in the attempt plan, clean-up, the stale sweep and durable outcome delivery.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pbxFaxConfig, type PbxFaxSettings } from '../../../src/backends/pbx/config.js';
import { conversionFailure } from '../../../src/backends/pbx/convert.js';
import { OutcomeDelivery } from '../../../src/backends/pbx/delivery.js';
import { PbxOutbound } from '../../../src/backends/pbx/outbound.js';
import { FaxSpool, SpoolConfigError } from '../../../src/backends/pbx/spool.js';
import { AttemptFailedError, NotSentError, type Outcome, type OutcomeSink } from '../../../src/backends/types.js';
import { ConfigError, parseSettings } from '../../../src/config/index.js';
import { GhostscriptError } from '../../../src/documents/ghostscript.js';
import { garbagePdf, makePdf } from '../../helpers/docs.js';

const dir = mkdtempSync(join(tmpdir(), 'faxbot-pbx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function settings(env: Record<string, string> = {}): PbxFaxSettings {
  return parseSettings(env);
}

describe('PBX fax settings', () => {
  test('defaults: fine G3 on the core page size, T.38 + ECM at 14400, gs from PATH', () => {
    const c = pbxFaxConfig(settings({ FAX_PAGE_SIZE: 'a4', FAX_MAX_PAGES: '7' }));
    assert.deepEqual(c.line, { t38: true, ecm: true, maxRate: 14400 });
    assert.equal(c.tiff.resolution, 'fine');
    assert.equal(c.tiff.compression, 'g3');
    assert.equal(c.tiff.paperSize, 'a4');
    assert.equal(c.tiff.maxPages, 7);
    assert.equal(c.tiff.gsPath, 'gs');
    assert.equal(c.tiff.timeoutMs, 120_000);
    assert.ok(c.tiff.concurrency >= 1);
    assert.equal(c.stationId, undefined);
  });

  test('every value is read and checked, with the variable named', () => {
    const c = pbxFaxConfig(settings({
      FAX_LOCAL_STATION_ID: '+1 555 123 0000', FAX_HEADER: 'ACME Clinic, fax dept.', FAX_ECM: 'no', FAX_MAX_RATE: '9600', FAX_T38: 'false',
      FAX_RESOLUTION: 'normal', FAX_TIFF_COMPRESSION: 'G4', FAX_CONVERT_CONCURRENCY: '3', FAX_CALLER_ID_NUMBER: '+15551230000', FAX_CALLER_ID_NAME: 'ACME Fax',
    }));
    assert.deepEqual(c.line, { t38: false, ecm: false, maxRate: 9600 });
    assert.deepEqual([c.stationId, c.header, c.callerIdNumber, c.callerIdName], ['+1 555 123 0000', 'ACME Clinic, fax dept.', '+15551230000', 'ACME Fax']);
    assert.deepEqual([c.tiff.resolution, c.tiff.compression, c.tiff.concurrency], ['normal', 'g4', 3]);
    assert.throws(
      () => settings({ FAX_LOCAL_STATION_ID: 'ACME-FAX-LINE', FAX_HEADER: 'say "hi"', FAX_MAX_RATE: '33600', FAX_CALLER_ID_NUMBER: '555-1234', FAX_TIFF_COMPRESSION: 'lzw' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        for (const n of ['FAX_LOCAL_STATION_ID', 'FAX_HEADER', 'FAX_MAX_RATE', 'FAX_CALLER_ID_NUMBER', 'FAX_TIFF_COMPRESSION']) assert.match(e.message, new RegExp(`${n}: expected`));
        return true;
      },
    );
    assert.throws(() => settings({ FAX_HEADER: 'x'.repeat(51) }), /FAX_HEADER: expected up to 50/);
  });
});

describe('FaxSpool', () => {
  test('deterministic names per job and attempt, local and PBX paths', () => {
    const s = new FaxSpool({ dir: join(dir, 'a'), pbxDir: '/var/spool/asterisk/fax/out/' });
    assert.equal(s.fileName('job-1', 2), 'faxbot-job-1-2.tif');
    assert.equal(s.localPath('job-1', 2), join(dir, 'a', 'faxbot-job-1-2.tif'));
    assert.equal(s.pbxPath('job-1', 2), '/var/spool/asterisk/fax/out/faxbot-job-1-2.tif');
    assert.deepEqual(FaxSpool.parseFileName('faxbot-job-1-2.tif'), { jobId: 'job-1', attemptNo: 2 });
    assert.equal(FaxSpool.parseFileName('other.tif'), null);
    const same = new FaxSpool({ dir: join(dir, 'a') });
    assert.equal(same.pbxPath('j', 1), join(dir, 'a', 'faxbot-j-1.tif'));
    assert.throws(() => s.fileName('../x', 1));
    assert.throws(() => s.fileName('x', 0));
  });

  test('a PBX path the dialplan would split is refused, naming the setting', () => {
    const names = { dir: 'ASTERISK_FAX_DIR', pbxDir: 'ASTERISK_FAX_DIR_PBX' };
    assert.throws(() => new FaxSpool({ dir, pbxDir: '/srv/fax out', names }), (e: Error) => e instanceof SpoolConfigError && /ASTERISK_FAX_DIR_PBX may contain only/.test(e.message));
    assert.throws(() => new FaxSpool({ dir, pbxDir: 'relative/dir', names }), /ASTERISK_FAX_DIR_PBX must be an absolute path/);
    assert.throws(() => new FaxSpool({ dir: join(dir, 'a,b'), names }), /ASTERISK_FAX_DIR \(also the path the PBX reads/);
  });

  test('sweep removes stale TIFFs and crash leftovers, keeps attempts in flight, recent files and foreign files', async () => {
    const s = new FaxSpool({ dir: join(dir, 'sweep') });
    await s.ensureDir();
    const old = Date.now() / 1000 - 3 * 86400;
    const put = (name: string, aged: boolean): void => {
      writeFileSync(join(s.dir, name), 'x');
      if (aged) utimesSync(join(s.dir, name), old, old);
    };
    put('faxbot-old-1.tif', true);
    put('faxbot-live-1.tif', true);
    put('faxbot-new-1.tif', false);
    put('.faxbot-old-2.tif.1234.tmp', true);
    put('someone-elses.tif', true);
    const n = await s.sweep({ olderThanMs: 86400_000, keep: (job) => job === 'live' });
    assert.equal(n, 2);
    assert.deepEqual(readdirSync(s.dir).sort(), ['faxbot-live-1.tif', 'faxbot-new-1.tif', 'someone-elses.tif']);
  });

  test('readiness says whether the directory is writable', async () => {
    const ok = await new FaxSpool({ dir: join(dir, 'ready') }).check();
    assert.equal(ok.ok, true);
    writeFileSync(join(dir, 'plainfile'), 'x');
    const bad = await new FaxSpool({ dir: join(dir, 'plainfile', 'sub'), names: { dir: 'ASTERISK_FAX_DIR', pbxDir: 'X' } }).check();
    assert.equal(bad.ok, false);
    assert.match(bad.detail ?? '', /ASTERISK_FAX_DIR .* is not writable/);
  });
});

describe('PbxOutbound with real Ghostscript', () => {
  const fax = pbxFaxConfig(settings({ FAX_MAX_PAGES: '3', FAX_LOCAL_STATION_ID: '+15550000001', FAX_HEADER: 'Faxbot' }));
  const spool = new FaxSpool({ dir: join(dir, 'spool'), pbxDir: '/pbx/spool' });
  const pbx = new PbxOutbound({ fax, spool });
  const pdf = join(dir, 'two.pdf');
  const job = { id: 'job42', to: '+15551230001', pdfPath: pdf, pages: 2 };

  test('prepare writes a TIFF-F that tiffinfo reads as 1728 wide, 204x196, one strip per page', async () => {
    writeFileSync(pdf, await makePdf(2));
    const r = await pbx.prepare(job, { attemptNo: 1 });
    assert.deepEqual([r.pages, r.reused, r.localPath, r.pbxPath], [2, false, spool.localPath('job42', 1), '/pbx/spool/faxbot-job42-1.tif']);
    const info = execFileSync('tiffinfo', [r.localPath], { encoding: 'utf8' });
    const widths = [...info.matchAll(/Image Width: (\d+) Image Length: (\d+)/g)];
    assert.equal(widths.length, 2);
    for (const m of widths) assert.deepEqual([m[1], m[2]], ['1728', '2156']);
    assert.equal([...info.matchAll(/Resolution: 204, 196 pixels\/inch/g)].length, 2);
    assert.equal([...info.matchAll(/Rows\/Strip: 2156/g)].length, 2);
    assert.equal([...info.matchAll(/Compression Scheme: CCITT Group 3/g)].length, 2);
  });

  test('a second prepare of the same attempt reuses the finished file; a damaged one is rewritten', async () => {
    const before = statSync(spool.localPath('job42', 1)).mtimeMs;
    const again = await pbx.prepare(job, { attemptNo: 1 });
    assert.equal(again.reused, true);
    assert.equal(statSync(spool.localPath('job42', 1)).mtimeMs, before);
    writeFileSync(spool.localPath('job42', 1), 'II*\0 torn');
    const rewritten = await pbx.prepare(job, { attemptNo: 1 });
    assert.deepEqual([rewritten.reused, rewritten.pages], [false, 2]);
  });

  test('the plan carries the ladder rung, identities, both paths and the details to record', () => {
    const p0 = pbx.plan(job, { attemptNo: 1, protocolFailures: 0 });
    assert.deepEqual(p0.line, { t38: true, ecm: true, maxRate: 14400, step: 0 });
    assert.deepEqual(p0.details, { line: { step: 0, t38: true, ecm: true, maxRate: 14400 }, tiffPages: 2 });
    assert.deepEqual([p0.stationId, p0.header, p0.tiff.pbxPath], ['+15550000001', 'Faxbot', '/pbx/spool/faxbot-job42-1.tif']);
    assert.deepEqual(pbx.plan(job, { attemptNo: 2, protocolFailures: 1 }).line, { t38: false, ecm: true, maxRate: 14400, step: 1 });
    assert.deepEqual(pbx.plan(job, { attemptNo: 3, protocolFailures: 2 }).line, { t38: false, ecm: false, maxRate: 14400, step: 2 });
    assert.deepEqual(pbx.plan(job, { attemptNo: 4, protocolFailures: 3 }).details.line, { step: 3, t38: false, ecm: false, maxRate: 9600 });
  });

  test('release deletes the attempt TIFF', async () => {
    await pbx.release('job42', 1);
    assert.equal(existsSync(spool.localPath('job42', 1)), false);
    await pbx.release('job42', 1); // twice is fine
  });

  test('a document Ghostscript cannot render fails the attempt as a document error; too many pages too', async () => {
    const bad = join(dir, 'bad.pdf');
    writeFileSync(bad, garbagePdf());
    await assert.rejects(pbx.prepare({ ...job, pdfPath: bad }, { attemptNo: 2 }), (e: unknown) =>
      e instanceof AttemptFailedError && e.failureClass === 'document' && /could not be rendered/.test(e.message));
    const four = join(dir, 'four.pdf');
    writeFileSync(four, await makePdf(4));
    await assert.rejects(pbx.prepare({ ...job, pdfPath: four }, { attemptNo: 3 }), (e: unknown) =>
      e instanceof AttemptFailedError && e.failureClass === 'document' && /more than 3 pages/.test(e.message));
    assert.deepEqual(readdirSync(spool.dir), [], 'nothing left behind');
  });

  test('Ghostscript missing gives the attempt back (the job waits); our own failures are transient', async () => {
    const noGs = new PbxOutbound({ fax: { ...fax, tiff: { ...fax.tiff, gsPath: '/nonexistent/gs' } }, spool });
    await assert.rejects(noGs.prepare(job, { attemptNo: 5 }), (e: unknown) => e instanceof NotSentError && /GHOSTSCRIPT_PATH/.test(e.message));
    const t = conversionFailure(new GhostscriptError('timeout', 'Ghostscript timed out after 5 ms'));
    assert.ok(t instanceof AttemptFailedError && t.failureClass === 'transient' && /FAX_CONVERT_TIMEOUT_SECONDS/.test(t.message));
    const w = conversionFailure(new GhostscriptError('unwritable', 'the fax TIFF could not be written (EACCES)'));
    assert.ok(w instanceof AttemptFailedError && w.failureClass === 'transient');
    assert.ok(conversionFailure(new GhostscriptError('aborted', 'x')) instanceof NotSentError);
  });

  test('conversions are limited to the configured concurrency and run in order', async () => {
    const one = new PbxOutbound({ fax: { ...fax, tiff: { ...fax.tiff, concurrency: 1 } }, spool: new FaxSpool({ dir: join(dir, 'conc') }) });
    writeFileSync(pdf, await makePdf(1));
    const runs = [1, 2, 3].map((n) => one.prepare({ ...job, id: `c${n}` }, { attemptNo: 1 }));
    while (one.converter.queued < 2) await new Promise((r) => setImmediate(r));
    assert.equal(one.converter.active, 1);
    const done = await Promise.all(runs);
    assert.deepEqual(done.map((d) => d.pages), [1, 1, 1]);
    one.stop();
  });
});

describe('OutcomeDelivery', () => {
  test('retries storing until it works, and only then cleans up', async () => {
    const order: string[] = [];
    let fails = 2;
    const sink: OutcomeSink = {
      progress: async () => undefined,
      settle: async (jobId) => {
        if (fails-- > 0) {
          order.push('settle failed');
          throw new Error('database is locked');
        }
        order.push(`settled ${jobId}`);
      },
    };
    const d = new OutcomeDelivery(sink, { retryMs: 5 });
    const outcome: Outcome = { ok: true, pages: 1 };
    let cleaned!: () => void;
    const cleanedUp = new Promise<void>((r) => (cleaned = r));
    d.deliver('j1', 1, outcome, async () => {
      order.push('cleanup');
      cleaned();
    });
    await cleanedUp;
    assert.deepEqual(order, ['settle failed', 'settle failed', 'settled j1', 'cleanup']);
    await d.stop();
  });

  test('stopping while the database refuses leaves the PBX record and the TIFF alone', async () => {
    let cleaned = false;
    const sink: OutcomeSink = { progress: async () => undefined, settle: async () => { throw new Error('down'); } };
    const d = new OutcomeDelivery(sink, { retryMs: 10_000 });
    d.deliver('j2', 1, { ok: true, pages: 1 }, async () => {
      cleaned = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    await d.stop(1000);
    assert.equal(cleaned, false);
    assert.equal(d.inFlight, 0);
  });
});
