// PDF → fax TIFF with real Ghostscript: TIFF-F output checked by our reader and by libtiff's tiffinfo; failures leave nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PDFDocument, concatTransformationMatrix, drawObject, popGraphicsState, pushGraphicsState } from 'pdf-lib';
import { GhostscriptError } from '../../src/documents/ghostscript.js';
import { FAX_PAGE_LINES, pdfToFaxTiff, type PdfToFaxTiffOptions } from '../../src/documents/pdf-to-tiff.js';
import { readTiff, validateFaxTiff } from '../../src/documents/tiff/index.js';
import { makeTmp, referenceBitmaps, run, textPdf } from './helpers.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
const pdfs: Record<string, string> = {};

const base: PdfToFaxTiffOptions = { resolution: 'fine', compression: 'g3', paperSize: 'letter', timeoutMs: 30_000, maxPages: 50 };

before(async () => {
  ({ dir, cleanup } = await makeTmp('faxbot-p2t-'));
  const write = async (name: string, bytes: Uint8Array) => {
    pdfs[name] = join(dir, name);
    await writeFile(pdfs[name], bytes);
  };
  await write('letter-1.pdf', await textPdf(1, 'letter'));
  await write('letter-3.pdf', await textPdf(3, 'letter'));
  await write('a4-2.pdf', await textPdf(2, 'a4'));
  const doc = await PDFDocument.load(await textPdf(3));
  await write('plain-3.pdf', await doc.save({ useObjectStreams: false }));
});

after(() => cleanup());

/** A fresh, empty output directory per test, so "nothing left behind" is easy to check. */
async function outDir(name: string): Promise<string> {
  const d = join(dir, 'out', name);
  await mkdir(d, { recursive: true });
  return d;
}

interface TiffinfoPage {
  width: number;
  length: number;
  xres: number;
  yres: number;
  unit: string;
  rowsPerStrip: number;
  compression: string;
}

async function tiffinfo(path: string): Promise<TiffinfoPage[]> {
  const { stdout } = await run('tiffinfo', [path]);
  return stdout
    .split(/TIFF Directory at offset/)
    .slice(1)
    .map((d) => {
      const size = /Image Width: (\d+) Image Length: (\d+)/.exec(d);
      const res = /Resolution: ([\d.]+), ([\d.]+) (\S+)/.exec(d);
      return {
        width: Number(size?.[1]),
        length: Number(size?.[2]),
        xres: Number(res?.[1]),
        yres: Number(res?.[2]),
        unit: res?.[3] ?? '',
        rowsPerStrip: Number(/Rows\/Strip: (\d+)/.exec(d)?.[1]),
        compression: /Compression Scheme: (.+)/.exec(d)?.[1]?.trim() ?? '',
      };
    });
}

describe('pdfToFaxTiff writes TIFF-F that spandsp accepts', () => {
  const combos: [PdfToFaxTiffOptions['paperSize'], PdfToFaxTiffOptions['resolution'], PdfToFaxTiffOptions['compression'], string, number][] = [
    ['letter', 'fine', 'g3', 'letter-1.pdf', 1],
    ['letter', 'normal', 'g4', 'letter-3.pdf', 3],
    ['letter', 'fine', 'g4', 'a4-2.pdf', 2],
    ['letter', 'normal', 'g3', 'letter-1.pdf', 1],
    ['a4', 'fine', 'g4', 'a4-2.pdf', 2],
    ['a4', 'normal', 'g3', 'letter-3.pdf', 3],
    ['a4', 'fine', 'g3', 'letter-1.pdf', 1],
    ['a4', 'normal', 'g4', 'a4-2.pdf', 2],
  ];
  for (const [paperSize, resolution, compression, src, pages] of combos) {
    it(`${paperSize} ${resolution} ${compression} from ${src}`, async () => {
      const out = join(await outDir(`${paperSize}-${resolution}-${compression}`), 'fax.tif');
      const result = await pdfToFaxTiff(pdfs[src]!, out, { ...base, paperSize, resolution, compression });
      assert.equal(result.pages, pages);
      assert.equal(result.bytes, (await stat(out)).size);

      const lines = FAX_PAGE_LINES[paperSize][resolution];
      const yres = resolution === 'fine' ? 196 : 98;
      const info = readTiff(await readFile(out));
      assert.equal(info.pages.length, pages);
      assert.deepEqual(validateFaxTiff(info), []);
      for (const p of info.pages) {
        // Ghostscript writes PageNumber as (page, 0): total "unknown", which TIFF allows and spandsp ignores.
        assert.equal(p.pageNumber?.[0], p.index);
        assert.equal(p.newSubfileType, 2);
        assert.equal(p.compression, compression === 'g4' ? 4 : 3);
        assert.deepEqual([p.width, p.length, p.xResolution, p.yResolution, p.stripOffsets.length], [1728, lines, 204, yres, 1]);
      }

      const ti = await tiffinfo(out);
      assert.equal(ti.length, pages, 'tiffinfo directories');
      for (const p of ti) {
        assert.deepEqual(
          [p.width, p.length, p.xres, p.yres, p.unit, p.rowsPerStrip, p.compression],
          [1728, lines, 204, yres, 'pixels/inch', lines, compression === 'g4' ? 'CCITT Group 4' : 'CCITT Group 3'],
        );
      }
      assert.deepEqual(await readdir(join(out, '..')), ['fax.tif'], 'no temp file left');
    });
  }

  it('the page content is on the fax (not blank, not cropped off)', async () => {
    const d = await outDir('content');
    const out = join(d, 'fax.tif');
    await pdfToFaxTiff(pdfs['a4-2.pdf']!, out, { ...base, paperSize: 'letter' });
    const [page1] = await referenceBitmaps(out, d, 'c');
    let black = 0;
    let topRows = 0;
    for (let i = 0; i < page1!.bits.length; i++) {
      const b = page1!.bits[i]!;
      if (b) {
        black++;
        if (i < page1!.rowBytes * 300) topRows++;
      }
    }
    assert.ok(black > 5000, `black bytes ${black}`);
    assert.ok(topRows > 50, 'the heading near the top of the page survived the fit');
  });

  it('a % in the output directory is taken literally', async () => {
    const d = await outDir('100%d-fax');
    const out = join(d, 'a%s.tif');
    const r = await pdfToFaxTiff(pdfs['letter-1.pdf']!, out, base);
    assert.equal(r.pages, 1);
    assert.deepEqual(await readdir(d), ['a%s.tif']);
  });
});

describe('pdfToFaxTiff fails cleanly', () => {
  /** Runs a failing conversion over an existing output file and checks it is untouched and nothing else appears. */
  async function failsWith(name: string, pdf: string, opts: Partial<PdfToFaxTiffOptions>, code: string, message: RegExp) {
    const d = await outDir(name);
    const out = join(d, 'fax.tif');
    await writeFile(out, 'previous');
    await assert.rejects(pdfToFaxTiff(pdf, out, { ...base, ...opts }), (e: unknown) => {
      assert.ok(e instanceof GhostscriptError, `expected GhostscriptError, got ${String(e)}`);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      assert.ok(!e.message.includes(dir), 'no paths in the message');
      return true;
    });
    assert.deepEqual(await readdir(d), ['fax.tif'], 'no temp file left');
    assert.equal(await readFile(out, 'utf8'), 'previous', 'the existing file is untouched');
  }

  it('garbage after %PDF-', async () => {
    const p = join(dir, 'garbage.pdf');
    await writeFile(p, '%PDF-1.4\ngarbage garbage \x00\x01\x02 lots of junk\n%%EOF\n');
    await failsWith('garbage', p, {}, 'unrenderable', /^the document could not be rendered: the file is damaged or not a PDF$/);
  });

  it('a truncated PDF', async () => {
    const full = await readFile(pdfs['plain-3.pdf']!);
    for (const fraction of [0.3, 0.7, 0.97]) {
      const p = join(dir, `truncated-${fraction}.pdf`);
      await writeFile(p, full.subarray(0, Math.floor(full.length * fraction)));
      await failsWith(`truncated-${fraction}`, p, {}, 'unrenderable', /^the document could not be rendered: the file is truncated \(no end-of-file marker\)$/);
    }
  });

  it('a PDF damaged inside (a content stream cut short, a corrupt one)', async () => {
    const full = await readFile(pdfs['plain-3.pdf']!);
    // Cut inside the last page's content stream, then end the file as if nothing happened.
    const cut = join(dir, 'cut-stream.pdf');
    await writeFile(cut, Buffer.concat([full.subarray(0, Math.floor(full.length * 0.9)), Buffer.from('\n%%EOF\n')]));
    await failsWith('cut-stream', cut, {}, 'unrenderable', /^the document could not be rendered: parts of the document are damaged \(.+\)$/);

    const corrupt = Buffer.from(full);
    const stream = corrupt.indexOf('stream', corrupt.lastIndexOf(' 0 obj')) + 7;
    corrupt.fill(0x41, stream + 50, stream + 120);
    const p = join(dir, 'corrupt-stream.pdf');
    await writeFile(p, corrupt);
    await failsWith('corrupt-stream', p, {}, 'unrenderable', /^the document could not be rendered: /);
  });

  it('a PDF whose cross-reference table gs repairs is still converted', async () => {
    const full = (await readFile(pdfs['plain-3.pdf']!)).toString('latin1');
    const broken = full.replace(/startxref\s+\d+/, 'startxref\n12');
    assert.notEqual(broken, full);
    const p = join(dir, 'bad-xref.pdf');
    await writeFile(p, Buffer.from(broken, 'latin1'));
    const d = await outDir('bad-xref');
    assert.equal((await pdfToFaxTiff(p, join(d, 'f.tif'), base)).pages, 3);
  });

  it('an encrypted PDF', async () => {
    const p = join(dir, 'encrypted.pdf');
    await run('gs', ['-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-sDEVICE=pdfwrite', '-sOwnerPassword=owner', '-sUserPassword=user', `-sOutputFile=${p}`, pdfs['letter-1.pdf']!]);
    await failsWith('encrypted', p, {}, 'unrenderable', /encrypted \(a password is required\)/);
  });

  it('not a PDF at all (PostScript is not run), and a missing file', async () => {
    const ps = join(dir, 'loop.ps');
    await writeFile(ps, '%!PS\n{ 1 pop } loop\n');
    await failsWith('ps', ps, {}, 'unrenderable', /^the document could not be rendered: not a PDF$/);
    await failsWith('missing', join(dir, 'nope.pdf'), {}, 'unreadable', /^the document file could not be read \(ENOENT\)$/);
  });

  it('more pages than the limit', async () => {
    await failsWith('limit', pdfs['letter-3.pdf']!, { maxPages: 2 }, 'too_many_pages', /^the document has more than 2 pages \(the limit is 2\)$/);
    const d = await outDir('limit-ok');
    assert.equal((await pdfToFaxTiff(pdfs['letter-3.pdf']!, join(d, 'f.tif'), { ...base, maxPages: 3 })).pages, 3);
  });

  it('a document that takes too long', async () => {
    // One page drawing a 10000x10000 image 200 times: tiny file, seconds of work for gs.
    const doc = await PDFDocument.create();
    const page = doc.addPage([612, 792]);
    const side = 10_000;
    const img = doc.context.stream(deflateSync(new Uint8Array((side * side) / 8)), {
      Type: 'XObject',
      Subtype: 'Image',
      Width: side,
      Height: side,
      ColorSpace: 'DeviceGray',
      BitsPerComponent: 1,
      Filter: 'FlateDecode',
    });
    const name = page.node.newXObject('Im', doc.context.register(img));
    for (let i = 0; i < 200; i++) {
      page.pushOperators(pushGraphicsState(), concatTransformationMatrix(612, 0, 0, 792, 0, 0), drawObject(name), popGraphicsState());
    }
    const p = join(dir, 'heavy.pdf');
    await writeFile(p, await doc.save());
    await failsWith('timeout', p, { timeoutMs: 300 }, 'timeout', /^Ghostscript timed out after 300 ms$/);
  });

  it('an output directory that does not exist is an unwritable error, not a bad document', async () => {
    await assert.rejects(pdfToFaxTiff(pdfs['letter-1.pdf']!, join(dir, 'no-such-dir', 'fax.tif'), base), (e: unknown) => {
      assert.ok(e instanceof GhostscriptError);
      assert.equal(e.code, 'unwritable');
      assert.equal(e.message, 'the fax TIFF could not be written (ENOENT)');
      return true;
    });
  });

  it('a missing Ghostscript', async () => {
    await failsWith('nogs', pdfs['letter-1.pdf']!, { gsPath: '/nonexistent/gs' }, 'not_found', /could not be started/);
  });
});
