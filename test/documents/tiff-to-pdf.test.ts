// TIFF → PDF: every page's pixels, page count and page size survive, checked with independent decoders.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tiffToPdf } from '../../src/documents/tiff-to-pdf.js';
import { TiffError, readTiff, stripBytes } from '../../src/documents/tiff/index.js';
import {
  FIXTURES,
  buildTiff,
  diffPixels,
  faxTags,
  makeTmp,
  orient,
  pdfInfo,
  psToTiff,
  referenceBitmaps,
  renderGs,
  renderPoppler,
  run,
  samplePostScript,
} from './helpers.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};

/** A TIFF to convert, how to make it from the generated bases, and what to check it with. */
interface Variant {
  name: string;
  make: () => Promise<string>;
  /** Also render with Ghostscript (a second, independent CCITT decoder). */
  gs?: boolean;
}

const p = (name: string) => join(dir, name);
const tiffcp = async (src: string, dst: string, ...args: string[]) => {
  await run('tiffcp', [...args, p(src), p(dst)]);
  return p(dst);
};
const tiffset = async (src: string, dst: string, tag: number, value: string) => {
  await copyFile(p(src), p(dst));
  // tiffset changes one directory at a time; the generated files have two pages.
  await run('tiffset', ['-s', String(tag), value, p(dst)]);
  await run('tiffset', ['-d', '1', '-s', String(tag), value, p(dst)]);
  return p(dst);
};

/** A copy of page 1 of `src` whose every strip ends with an RTC (six EOLs), as some fax writers do. */
async function withRtcPerStrip(src: string, dst: string, twoD: boolean): Promise<string> {
  if (twoD) await tiffcp('g32d-fine.tif', src, '-r', '64');
  else await tiffcp('g3-normal.tif', src, '-r', '64');
  const data = await readFile(p(src));
  const page = readTiff(data).pages[0]!;
  const rtc = bitsToBytes((twoD ? '0000000000011' : '000000000001').repeat(6));
  const strips = page.stripOffsets.map((_, s) => Buffer.concat([stripBytes(data, page, s), rtc]));
  assert.ok(strips.length > 4);
  const tags = faxTags({
    width: page.width,
    length: page.length,
    compression: 3,
    t4: page.t4Options,
    rowsPerStrip: page.rowsPerStrip,
    yRes: page.yResolution!,
  });
  await writeFile(p(dst), buildTiff([{ tags, strips }]).data);
  return p(dst);
}

function bitsToBytes(bits: string): Uint8Array {
  const padded = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
  return Uint8Array.from({ length: padded.length / 8 }, (_, i) => parseInt(padded.slice(i * 8, i * 8 + 8), 2));
}

const fixture = (name: string, gs = true): Variant => ({ name: `fixture ${name}`, make: async () => join(FIXTURES, name), gs });

const variants: Variant[] = [
  fixture('sample-2page.tif'),
  fixture('received.tif'),
  fixture('received-partial-1page.tif', false),
  fixture('fs-received.tif', false),
  { name: 'G3 1-D normal (gs tiffg3)', make: async () => p('g3-normal.tif') },
  { name: 'G3 2-D fine (gs tiffg32d)', make: async () => p('g32d-fine.tif'), gs: true },
  { name: 'G4 fine (gs tiffg4)', make: async () => p('g4-fine.tif') },
  { name: 'G4 normal (gs tiffg4)', make: async () => p('g4-normal.tif') },
  { name: 'G3 1-D normal, FillOrder 2', make: () => tiffcp('g3-normal.tif', 'g3-normal-lsb.tif', '-f', 'lsb2msb') },
  { name: 'G3 2-D fine, FillOrder 2', make: () => tiffcp('g32d-fine.tif', 'g32d-fine-lsb.tif', '-f', 'lsb2msb') },
  { name: 'G4 fine, FillOrder 2', make: () => tiffcp('g4-fine.tif', 'g4-fine-lsb.tif', '-f', 'lsb2msb') },
  { name: 'G3 1-D without fill bits (libtiff g3:1d)', make: () => tiffcp('g32d-fine.tif', 'g3-1d-nofill.tif', '-c', 'g3:1d') },
  { name: 'G3 1-D normal, 64-row strips', make: () => tiffcp('g3-normal.tif', 'g3-normal-r64.tif', '-r', '64'), gs: true },
  {
    name: 'G3 2-D fine, FillOrder 2, 64-row strips',
    make: () => tiffcp('g32d-fine.tif', 'g32d-fine-lsb-r64.tif', '-f', 'lsb2msb', '-r', '64'),
    gs: true,
  },
  { name: 'G4 fine, 64-row strips (one image per strip)', make: () => tiffcp('g4-fine.tif', 'g4-fine-r64.tif', '-r', '64'), gs: true },
  { name: 'G4 fine, 100-row strips, big-endian (MM)', make: () => tiffcp('g4-fine.tif', 'g4-fine-mm.tif', '-B', '-r', '100') },
  { name: 'CCITT RLE (gs tiffcrle)', make: async () => p('crle-fine.tif') },
  { name: 'CCITT RLE in several strips (gs MaxStripSize)', make: async () => p('crle-strips.tif') },
  { name: 'G4 in several strips written by Ghostscript (MaxStripSize)', make: async () => p('g4-strips.tif'), gs: true },
  { name: 'G3 1-D strips each closed by an RTC', make: () => withRtcPerStrip('g3-normal-r64.tif', 'g3-rtc.tif', false) },
  { name: 'G3 2-D strips each closed by an RTC', make: () => withRtcPerStrip('g32d-fine-r64.tif', 'g32d-rtc.tif', true), gs: true },
  { name: 'uncompressed, 64-row strips', make: () => tiffcp('g4-fine.tif', 'none-r64.tif', '-c', 'none', '-r', '64') },
  { name: 'PackBits, FillOrder 2', make: () => tiffcp('g4-fine.tif', 'packbits-lsb.tif', '-c', 'packbits', '-f', 'lsb2msb') },
  { name: 'G4 with Photometric MinIsBlack', make: () => tiffset('g4-fine.tif', 'g4-minisblack.tif', 262, '1'), gs: true },
  { name: 'G3 2-D, Orientation 3 (180°)', make: () => tiffset('g32d-fine.tif', 'g32d-o3.tif', 274, '3') },
  {
    name: 'G4 64-row strips, Orientation 6 (90°)',
    make: async () => tiffset('g4-fine-r64.tif', 'g4-r64-o6.tif', 274, '6'),
  },
];

before(async () => {
  ({ dir, cleanup } = await makeTmp('faxbot-t2p-'));
  const ps = samplePostScript(2);
  await Promise.all([
    psToTiff(ps, p('g3-normal.tif'), 'tiffg3', '204x98'),
    psToTiff(ps, p('g32d-fine.tif'), 'tiffg32d', '204x196'),
    psToTiff(ps, p('g4-fine.tif'), 'tiffg4', '204x196'),
    psToTiff(ps, p('g4-normal.tif'), 'tiffg4', '204x98'),
    psToTiff(ps, p('crle-fine.tif'), 'tiffcrle', '204x196'),
    psToTiff(ps, p('crle-strips.tif'), 'tiffcrle', '204x196', ['-dMaxStripSize=20000']),
    psToTiff(ps, p('g4-strips.tif'), 'tiffg4', '204x196', ['-dMaxStripSize=20000']),
  ]);
});

after(() => cleanup());

describe('tiffToPdf keeps every pixel, the page count and the page size', () => {
  variants.forEach((v, vi) => {
    it(v.name, async () => {
      const tif = await v.make();
      const tiffBytes = await readFile(tif);
      const info = readTiff(tiffBytes);
      const result = await tiffToPdf(tiffBytes);
      assert.equal(result.pages, info.pages.length);
      const pdfPath = join(dir, `v${vi}.pdf`);
      await writeFile(pdfPath, result.pdf);

      const pi = await pdfInfo(pdfPath);
      assert.equal(pi.pages, info.pages.length, 'pdfinfo page count');
      const refs = await referenceBitmaps(tif, dir, `v${vi}`);
      assert.equal(refs.length, info.pages.length);

      const first = info.pages[0]!;
      const x = first.xResolution!;
      const y = first.yResolution!;
      const transposed = first.orientation >= 5;
      // Rendering at the TIFF's own resolution must give back the TIFF's pixels one-to-one.
      const [rx, ry] = transposed ? [y, x] : [x, y];
      const rendered = await renderPoppler(pdfPath, rx, ry, dir, `v${vi}`);
      assert.equal(rendered.length, info.pages.length);
      const gsRendered = v.gs ? await renderGs(pdfPath, rx, ry, dir, `v${vi}`) : [];

      info.pages.forEach((page, i) => {
        const expected = orient(refs[i]!, page.orientation);
        assert.equal(diffPixels(rendered[i]!, expected), 0, `poppler page ${i + 1}`);
        if (v.gs) assert.equal(diffPixels(gsRendered[i]!, expected), 0, `ghostscript page ${i + 1}`);
        const w = (page.width * 72) / x;
        const h = (page.length * 72) / y;
        const size = result.pageSizes[i]!;
        assert.ok(Math.abs(size.widthPt - (transposed ? h : w)) < 0.01, `width of page ${i + 1}`);
        assert.ok(Math.abs(size.heightPt - (transposed ? w : h)) < 0.01, `height of page ${i + 1}`);
        assert.ok(Math.abs(pi.sizes[i]!.w - size.widthPt) < 0.01 && Math.abs(pi.sizes[i]!.h - size.heightPt) < 0.01);
      });
    });
  });

  it('a Letter page is ~8.5 x 11 in at normal and at fine resolution', async () => {
    for (const name of ['g3-normal.tif', 'g4-fine.tif']) {
      const { pageSizes } = await tiffToPdf(await readFile(p(name)));
      for (const s of pageSizes) {
        assert.ok(Math.abs(s.widthPt / 72 - 8.47) < 0.01, `${name} width ${s.widthPt}`);
        assert.ok(Math.abs(s.heightPt / 72 - 11) < 0.01, `${name} height ${s.heightPt}`);
      }
    }
  });

  it('uses the CCITT data as it is (no decode and re-encode)', async () => {
    const tiffBytes = await readFile(join(FIXTURES, 'sample-2page.tif'));
    const { pdf } = await tiffToPdf(tiffBytes);
    const info = readTiff(tiffBytes);
    const page = info.pages[1]!;
    const strip = tiffBytes.subarray(page.stripOffsets[0], page.stripOffsets[0]! + page.stripByteCounts[0]!);
    assert.ok(Buffer.from(pdf).includes(strip), 'the G4 strip appears byte for byte in the PDF');
    assert.match(Buffer.from(pdf).toString('latin1'), /\/CCITTFaxDecode/);
  });
});

describe('tiffToPdf refuses what it cannot convert with a TiffError', () => {
  const rejects = async (data: Uint8Array, code: string, message: RegExp) => {
    await assert.rejects(tiffToPdf(data), (e: unknown) => {
      assert.ok(e instanceof TiffError, `expected TiffError, got ${String(e)}`);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    });
  };

  it('a fixture cut in half', async () => {
    for (const name of ['sample-2page.tif', 'received.tif']) {
      const full = await readFile(join(FIXTURES, name));
      await rejects(full.subarray(0, full.length >> 1), 'truncated', /^truncated: .* page 2 .*file has \d+ bytes/);
    }
  });

  it('a PNG, a text file, an empty file', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    await rejects(png, 'not_tiff', /not a TIFF/);
    await rejects(Buffer.from('Dear Sir, please find attached…\n'), 'not_tiff', /not a TIFF/);
    await rejects(new Uint8Array(0), 'not_tiff', /not a TIFF/);
  });

  it('an unsupported compression or bit depth', async () => {
    await rejects(await readFile(await tiffcp('g4-fine.tif', 'lzw.tif', '-c', 'lzw')), 'unsupported', /unsupported compression 5/);
    const gray = p('gray.tif');
    await run('gs', ['-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-sDEVICE=tiffgray', '-r20', `-sOutputFile=${gray}`, `${p('g3-normal.tif')}.ps`]);
    await rejects(await readFile(gray), 'unsupported', /not bilevel \(BitsPerSample 8/);
  });
});
