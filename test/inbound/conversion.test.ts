// Received G3 and G4 TIFFs (recorded ones, and ones made with Ghostscript and libtiff) become PDFs with the same page count and page size.
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pdfInfo, psToTiff, run, samplePostScript } from '../documents/helpers.js';
import { TIFF_FIXTURES, startInboundApp, type InboundTestApp } from './helpers.js';

/** Page count and each page's size in points, from libtiff's own tiffinfo (independent of our reader). */
async function tiffPages(path: string): Promise<{ w: number; h: number }[]> {
  const { stdout } = await run('tiffinfo', [path]);
  const dirs = stdout.split(/=== TIFF directory \d+ ===/).slice(1);
  return dirs.map((d) => {
    const size = /Image Width: (\d+) Image Length: (\d+)/.exec(d)!;
    const res = /Resolution: ([\d.]+), ([\d.]+) pixels\/inch/.exec(d)!;
    return { w: (Number(size[1]) * 72) / Number(res[1]), h: (Number(size[2]) * 72) / Number(res[2]) };
  });
}

describe('received TIFF → stored PDF through the ingest', () => {
  let app: InboundTestApp;
  const made: Record<string, string> = {};
  before(async () => {
    app = await startInboundApp({ env: { INBOUND_WATCH: 'false' } });
    const ps = samplePostScript(3);
    const tmp = (n: string) => join(app.root, n);
    await Promise.all([
      psToTiff(ps, tmp('g3-1d-normal.tif'), 'tiffg3', '204x98'),
      psToTiff(ps, tmp('g3-2d-fine.tif'), 'tiffg32d', '204x196'),
      psToTiff(ps, tmp('g4-normal.tif'), 'tiffg4', '204x98'),
    ]);
    await run('tiffcp', ['-f', 'lsb2msb', tmp('g4-normal.tif'), tmp('g4-normal-lsb.tif')]);
    for (const n of ['g3-1d-normal.tif', 'g3-2d-fine.tif', 'g4-normal.tif', 'g4-normal-lsb.tif']) made[n] = tmp(n);
    for (const n of ['received.tif', 'received-partial-1page.tif', 'sample-2page.tif', 'fs-received.tif']) made[n] = join(TIFF_FIXTURES, n);
  });
  after(() => app.close());

  const cases: [string, string][] = [
    ['received.tif', 'Asterisk ReceiveFAX: G3 2-D, lsb-to-msb, fine'],
    ['received-partial-1page.tif', 'Asterisk partial reception, 1 page'],
    ['fs-received.tif', 'FreeSWITCH rxfax: G3 2-D, lsb-to-msb'],
    ['sample-2page.tif', 'Ghostscript tiffg4, fine'],
    ['g3-1d-normal.tif', 'G3 1-D, normal resolution (204x98)'],
    ['g3-2d-fine.tif', 'G3 2-D, fine'],
    ['g4-normal.tif', 'G4, normal resolution'],
    ['g4-normal-lsb.tif', 'G4, FillOrder lsb-to-msb'],
  ];
  cases.forEach(([name, what], i) => {
    test(`${what} (${name})`, async () => {
      const uid = `conv.${i}`;
      const inSpool = join(app.spool, `${uid}.tif`);
      await copyFile(made[name]!, inSpool);
      const expected = await tiffPages(made[name]!);
      const { fax } = await app.services.inbound.ingest({ source: 'asterisk', sourceUid: uid, via: 'hook', success: true, document: { kind: 'tiff', path: inSpool } });
      assert.equal(fax.status, 'received');
      assert.equal(fax.pages, expected.length);
      const info = await pdfInfo(join(app.dataDir, fax.pdf_path!));
      assert.equal(info.pages, expected.length, 'pdfinfo page count');
      expected.forEach((e, p) => {
        assert.ok(Math.abs(info.sizes[p]!.w - e.w) < 0.01, `page ${p + 1} width ${info.sizes[p]!.w} vs ${e.w}`);
        assert.ok(Math.abs(info.sizes[p]!.h - e.h) < 0.01, `page ${p + 1} height ${info.sizes[p]!.h} vs ${e.h}`);
      });
    });
  });
});
