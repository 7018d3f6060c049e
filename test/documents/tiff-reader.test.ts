// TIFF reader and TIFF-F validation: the real PBX fixtures, hostile structures, and random damage.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TiffError, readTiff, validateFaxTiff, type TiffInfo } from '../../src/documents/tiff/index.js';
import { tiffToPdf } from '../../src/documents/tiff-to-pdf.js';
import { FIXTURES, buildTiff, faxTags, makeTmp, psToTiff, run, samplePostScript, type TagSpec } from './helpers.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => {
  ({ dir, cleanup } = await makeTmp('faxbot-tiffreader-'));
});
after(() => cleanup());

const fixture = (name: string) => readFile(join(FIXTURES, name));

function expectTiffError(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TiffError, `expected TiffError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

/** A small valid 1-page G4-labelled TIFF (strip bytes are arbitrary: the reader does not decode). */
function tinyTiff(extraPages = 0, tags?: (t: TagSpec[]) => TagSpec[]) {
  const mk = (i: number) => {
    const base = faxTags({ width: 1728, length: 100, compression: 4, rowsPerStrip: 100, page: [i, extraPages + 1] });
    return { tags: tags ? tags(base) : base, strips: [new Uint8Array(64).fill(0x55)] };
  };
  return buildTiff(Array.from({ length: extraPages + 1 }, (_, i) => mk(i)));
}

describe('readTiff on the real PBX fixtures', () => {
  it('sample-2page.tif (Ghostscript tiffg4, sent by Asterisk)', async () => {
    const info = readTiff(await fixture('sample-2page.tif'));
    assert.equal(info.byteOrder, 'II');
    assert.equal(info.pages.length, 2);
    for (const [i, p] of info.pages.entries()) {
      assert.equal(p.width, 1728);
      assert.equal(p.length, 2156);
      assert.equal(p.compression, 4);
      assert.equal(p.fillOrder, 1);
      assert.equal(p.photometric, 0);
      assert.equal(p.xResolution, 204);
      assert.equal(p.yResolution, 196);
      assert.equal(p.resolutionUnit, 2);
      assert.equal(p.rowsPerStrip, 2156);
      assert.equal(p.stripOffsets.length, 1);
      assert.equal(p.newSubfileType, 2);
      // Ghostscript writes PageNumber with total 0 ("unknown").
      assert.deepEqual(p.pageNumber, [i, 0]);
    }
    assert.deepEqual(info.pages.map((p) => p.stripByteCounts[0]), [3992, 5485]);
  });

  it('received.tif (spandsp, G3 2-D, LSB-first, RowsPerStrip 2^32-1)', async () => {
    const info = readTiff(await fixture('received.tif'));
    assert.equal(info.pages.length, 2);
    for (const [i, p] of info.pages.entries()) {
      assert.equal(p.width, 1728);
      assert.equal(p.length, 2188);
      assert.equal(p.compression, 3);
      assert.equal(p.t4Options, 5);
      assert.equal(p.fillOrder, 2);
      assert.equal(p.rowsPerStrip, 2188);
      assert.equal(p.orientation, 1);
      assert.deepEqual(p.pageNumber, [i, 2]);
    }
  });

  it('received-partial-1page.tif and the FreeSWITCH fs-received.tif', async () => {
    const partial = readTiff(await fixture('received-partial-1page.tif'));
    assert.equal(partial.pages.length, 1);
    assert.deepEqual(partial.pages[0]!.pageNumber, [0, 1]);
    const fs = readTiff(await fixture('fs-received.tif'));
    assert.deepEqual(fs.pages.map((p) => [p.width, p.length, p.compression, p.fillOrder]), [
      [1728, 2200, 3, 2],
      [1728, 2200, 3, 2],
    ]);
  });

  it('reads big-endian (MM) files the same as little-endian ones', async () => {
    const mm = join(dir, 'mm.tif');
    await run('tiffcp', ['-B', join(FIXTURES, 'received.tif'), mm]);
    const a = readTiff(await fixture('received.tif'));
    const b = readTiff(await readFile(mm));
    assert.equal(b.byteOrder, 'MM');
    const strip = (i: TiffInfo) => i.pages.map(({ ifdOffset: _o, stripOffsets: _s, ...rest }) => rest);
    assert.deepEqual(strip(b), strip(a));
  });
});

describe('readTiff refuses broken or hostile files with a clear TiffError', () => {
  it('not a TIFF: PNG, text, empty, BigTIFF, bad version', () => {
    expectTiffError(() => readTiff(Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')), 'not_tiff', /does not start with II or MM/);
    expectTiffError(() => readTiff(Buffer.from('hello world, this is text')), 'not_tiff', /not a TIFF/);
    expectTiffError(() => readTiff(new Uint8Array(0)), 'not_tiff', /only 0 bytes/);
    expectTiffError(() => readTiff(Buffer.from('49492b00080000000000000000000000', 'hex')), 'not_tiff', /BigTIFF/);
    expectTiffError(() => readTiff(Buffer.from('49492a0000000000', 'hex')), 'malformed', /no image directory/);
    expectTiffError(() => readTiff(Buffer.from('4d4d002b00000008', 'hex')), 'not_tiff', /version 43|BigTIFF/);
  });

  it('a strip past the end of the file names the strip, page and sizes', () => {
    const { data } = tinyTiff(1);
    const info = readTiff(data);
    const p2 = info.pages[1]!;
    const end = p2.stripOffsets[0]! + p2.stripByteCounts[0]!;
    // Point page 2's strip far away by rewriting its StripByteCounts (an inline LONG).
    const patched = Uint8Array.from(data);
    const v = new DataView(patched.buffer);
    const entry = findEntry(patched, info.pages[1]!.ifdOffset, 279);
    v.setUint32(entry + 8, 9000, true);
    expectTiffError(
      () => readTiff(patched),
      'truncated',
      new RegExp(`^truncated: strip 0 of page 2 ends at byte ${p2.stripOffsets[0]! + 9000} but the file has ${data.length} bytes$`),
    );
    assert.ok(end <= data.length);
  });

  it('a file cut inside a directory or before the next one', async () => {
    const full = await fixture('received.tif');
    const info = readTiff(full);
    const ifd2 = info.pages[1]!.ifdOffset;
    expectTiffError(() => readTiff(full.subarray(0, ifd2 + 20)), 'truncated', /directory of page 2 ends at byte \d+ but the file has \d+ bytes/);
    expectTiffError(() => readTiff(full.subarray(0, ifd2 - 10)), 'truncated', /directory of page 2 is at byte/);
  });

  it('a directory chain that loops', () => {
    const { data, ifdOffsets } = tinyTiff(2);
    const looped = Uint8Array.from(data);
    const v = new DataView(looped.buffer);
    const n = v.getUint16(ifdOffsets[2]!, true);
    v.setUint32(ifdOffsets[2]! + 2 + n * 12, ifdOffsets[0]!, true);
    expectTiffError(() => readTiff(looped), 'malformed', /loops back at page 4/);
    const self = Uint8Array.from(data);
    const v2 = new DataView(self.buffer);
    const n0 = v2.getUint16(ifdOffsets[0]!, true);
    v2.setUint32(ifdOffsets[0]! + 2 + n0 * 12, ifdOffsets[0]!, true);
    expectTiffError(() => readTiff(self), 'malformed', /loops back at page 2/);
  });

  it('absurd counts and sizes', () => {
    const { data, ifdOffsets } = tinyTiff();
    const huge = Uint8Array.from(data);
    new DataView(huge.buffer).setUint32(findEntry(huge, ifdOffsets[0]!, 273) + 4, 0x7fffffff, true);
    expectTiffError(() => readTiff(huge), 'malformed', /StripOffsets of page 1 has 2147483647 values/);

    const entries = Uint8Array.from(data);
    new DataView(entries.buffer).setUint16(ifdOffsets[0]!, 60000, true);
    expectTiffError(() => readTiff(entries), 'limit', /too many entries: 60000/);

    const wide = tinyTiff(0, (t) => t.map((x) => (x.tag === 256 ? { ...x, values: [1_000_000] } : x)));
    expectTiffError(() => readTiff(wide.data), 'limit', /too large: 1000000x100/);
    const empty = tinyTiff(0, (t) => t.map((x) => (x.tag === 257 ? { ...x, values: [0] } : x)));
    expectTiffError(() => readTiff(empty.data), 'malformed', /is empty/);
  });

  it('a page limit', () => {
    expectTiffError(() => readTiff(tinyTiff(3).data, { maxPages: 2 }), 'limit', /more than 2/);
    assert.equal(readTiff(tinyTiff(3).data, { maxPages: 4 }).pages.length, 4);
  });

  it('missing required tags, tiles, too few strips', () => {
    const noCounts = buildTiff([{ tags: faxTags({ width: 1728, length: 10, compression: 4, rowsPerStrip: 10 }), strips: [new Uint8Array(8)] }]);
    const patched = Uint8Array.from(noCounts.data);
    // Renumber StripByteCounts (279) to an unknown private tag so it is gone for the reader.
    new DataView(patched.buffer).setUint16(findEntry(patched, noCounts.ifdOffsets[0]!, 279), 65000, true);
    expectTiffError(() => readTiff(patched), 'malformed', /no StripByteCounts/);

    const tiled = Uint8Array.from(noCounts.data);
    new DataView(tiled.buffer).setUint16(findEntry(tiled, noCounts.ifdOffsets[0]!, 273), 322, true);
    expectTiffError(() => readTiff(tiled), 'unsupported', /tiled/);

    const fewStrips = tinyTiff(0, (t) => t.map((x) => (x.tag === 278 ? { ...x, values: [10] } : x)));
    expectTiffError(() => readTiff(fewStrips.data), 'malformed', /1 strips but needs 10 for 100 rows/);
  });

  it('random damage gives a TiffError or a valid result, never another exception', async () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const name of ['sample-2page.tif', 'received.tif']) {
      const full = await fixture(name);
      for (let i = 0; i < 150; i++) {
        const damaged = Uint8Array.from(full.subarray(0, 1 + Math.floor(rand() * full.length)));
        // Flip a few bytes in the header and directories, where damage changes structure.
        for (let k = 0; k < 3; k++) {
          const at = rand() < 0.5 ? Math.floor(rand() * 16) : Math.floor(rand() * damaged.length);
          if (at < damaged.length) damaged[at] = Math.floor(rand() * 256);
        }
        try {
          readTiff(damaged);
          if (i % 10 === 0) await tiffToPdf(damaged);
        } catch (e) {
          assert.ok(e instanceof TiffError, `${name} #${i}: ${String(e)}`);
        }
      }
    }
  });
});

/** Offset of the 12-byte entry for `tag` in the little-endian IFD at `ifd`. */
function findEntry(data: Uint8Array, ifd: number, tag: number): number {
  const v = new DataView(data.buffer, data.byteOffset);
  const n = v.getUint16(ifd, true);
  for (let i = 0; i < n; i++) if (v.getUint16(ifd + 2 + i * 12, true) === tag) return ifd + 2 + i * 12;
  throw new Error(`tag ${tag} not found`);
}

describe('validateFaxTiff (TIFF-F for sending)', () => {
  it('accepts the sent sample and the spandsp-written files', async () => {
    for (const name of ['sample-2page.tif', 'received.tif', 'received-partial-1page.tif', 'fs-received.tif']) {
      assert.deepEqual(validateFaxTiff(readTiff(await fixture(name))), [], name);
    }
  });

  it('accepts resolutions given in pixels per centimetre (80.3 x 77 or 38.5)', () => {
    for (const y of [[77, 1], [385, 10]]) {
      const t = tinyTiff(0, (tags) =>
        tags.map((x) =>
          x.tag === 282 ? { ...x, values: [803, 10] } : x.tag === 283 ? { ...x, values: y } : x.tag === 296 ? { ...x, values: [3] } : x,
        ),
      );
      assert.deepEqual(validateFaxTiff(readTiff(t.data)), []);
    }
  });

  it('lists every problem, per page', async () => {
    const t = tinyTiff(1, (tags) =>
      tags
        .filter((x) => x.tag !== 297)
        .map((x) =>
          x.tag === 256 ? { ...x, values: [2000] } : x.tag === 259 ? { ...x, values: [1] } : x.tag === 283 ? { ...x, values: [300, 1] } : x,
        ),
    );
    const problems = validateFaxTiff(readTiff(t.data));
    for (const page of [1, 2]) {
      assert.ok(problems.includes(`page ${page}: width is 2000 px, a fax page must be 1728`), problems.join('\n'));
      assert.ok(problems.includes(`page ${page}: compression 1, a fax page must be CCITT T.4 (3) or T.6 (4)`));
      assert.ok(problems.includes(`page ${page}: vertical resolution 300 dpi, expected 98 or 196`));
      assert.ok(problems.includes(`page ${page}: no PageNumber tag`));
    }
  });

  it('flags several strips per page, wrong resolution and depth from real tools', async () => {
    const ps = samplePostScript(1);
    const strips = join(dir, 'strips.tif');
    await psToTiff(ps, strips, 'tiffg4', '204x196', ['-dMaxStripSize=20000']);
    assert.ok(validateFaxTiff(readTiff(await readFile(strips))).some((s) => /page 1: \d+ strips, expected one strip per page/.test(s)));

    const gray = join(dir, 'gray.tif');
    await run('gs', ['-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-sDEVICE=tiffgray', '-r30', `-sOutputFile=${gray}`, `${strips}.ps`]);
    const problems = validateFaxTiff(readTiff(await readFile(gray)));
    assert.ok(problems.includes('page 1: not bilevel (BitsPerSample 8, SamplesPerPixel 1)'), problems.join('\n'));
    assert.ok(problems.some((s) => s.startsWith('page 1: horizontal resolution 30 dpi')));
  });
});
