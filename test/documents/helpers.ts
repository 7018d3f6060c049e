// Shared test helpers for document conversions: temp dirs, running libtiff/poppler/Ghostscript, PBM bitmaps.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PDFDocument, StandardFonts, PageSizes } from 'pdf-lib';
import { readTiff, stripBytes } from '../../src/documents/tiff/index.js';

const execFileP = promisify(execFile);

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'tiff');

export async function makeTmp(prefix = 'faxbot-docs-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function run(cmd: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileP(cmd, [...args], { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
}

/** A 1-bit bitmap, MSB first, rows padded to whole bytes, 1 = black (the PBM convention). */
export interface Bitmap {
  width: number;
  height: number;
  rowBytes: number;
  bits: Uint8Array;
}

export function parsePbm(buf: Uint8Array): Bitmap {
  let i = 0;
  const tokens: string[] = [];
  const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  while (tokens.length < 3) {
    while (i < buf.length && isSpace(buf[i]!)) i++;
    if (buf[i] === 0x23) {
      while (i < buf.length && buf[i] !== 0x0a) i++;
      continue;
    }
    let s = '';
    while (i < buf.length && !isSpace(buf[i]!)) s += String.fromCharCode(buf[i++]!);
    tokens.push(s);
  }
  i++;
  if (tokens[0] !== 'P4') throw new Error(`not a raw PBM: ${tokens[0]}`);
  const width = Number(tokens[1]);
  const height = Number(tokens[2]);
  const rowBytes = Math.ceil(width / 8);
  return { width, height, rowBytes, bits: buf.subarray(i, i + rowBytes * height) };
}

/** Renders every page of a PDF with poppler in mono at the given resolution. */
export async function renderPoppler(pdf: string, xDpi: number, yDpi: number, dir: string, tag: string): Promise<Bitmap[]> {
  const prefix = join(dir, `pp-${tag}`);
  await run('pdftoppm', ['-mono', '-rx', String(xDpi), '-ry', String(yDpi), pdf, prefix]);
  return readPages(dir, `pp-${tag}-`);
}

/** Renders every page of a PDF with Ghostscript (an independent CCITT decoder) at the given resolution. */
export async function renderGs(pdf: string, xDpi: number, yDpi: number, dir: string, tag: string): Promise<Bitmap[]> {
  await run('gs', ['-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-sDEVICE=pbmraw', `-r${xDpi}x${yDpi}`, `-sOutputFile=${join(dir, `gs-${tag}-%03d.pbm`)}`, pdf]);
  return readPages(dir, `gs-${tag}-`);
}

async function readPages(dir: string, prefix: string): Promise<Bitmap[]> {
  const names = (await readdir(dir)).filter((n) => n.startsWith(prefix) && n.endsWith('.pbm')).sort();
  return Promise.all(names.map(async (n) => parsePbm(await readFile(join(dir, n)))));
}

/**
 * The TIFF's pixels as decoded by libtiff (`tiffcp -c none -f msb2lsb`, a decoder independent of ours),
 * one bitmap per page, 1 = black whatever the TIFF's Photometric.
 */
export async function referenceBitmaps(tif: string, dir: string, tag: string): Promise<Bitmap[]> {
  const raw = join(dir, `ref-${tag}.tif`);
  await run('tiffcp', ['-c', 'none', '-f', 'msb2lsb', tif, raw]);
  const data = await readFile(raw);
  return readTiff(data).pages.map((p) => {
    const rowBytes = Math.ceil(p.width / 8);
    const bits = new Uint8Array(rowBytes * p.length);
    let o = 0;
    p.stripOffsets.forEach((_, s) => {
      const b = stripBytes(data, p, s);
      bits.set(b.subarray(0, Math.min(b.length, bits.length - o)), o);
      o += b.length;
    });
    if (p.photometric === 1) for (let k = 0; k < bits.length; k++) bits[k] = ~bits[k]! & 0xff;
    return { width: p.width, height: p.length, rowBytes, bits };
  });
}

/** The bitmap as it appears on the page for a TIFF Orientation (1–8). */
export function orient(b: Bitmap, orientation: number): Bitmap {
  if (orientation === 1) return b;
  const transposed = orientation >= 5;
  const W = transposed ? b.height : b.width;
  const H = transposed ? b.width : b.height;
  const out: Bitmap = { width: W, height: H, rowBytes: Math.ceil(W / 8), bits: new Uint8Array(Math.ceil(W / 8) * H) };
  const get = (x: number, y: number) => (b.bits[y * b.rowBytes + (x >> 3)]! >> (7 - (x & 7))) & 1;
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      // (X, Y) on the page → (column, row) in the stored image.
      let c: number, r: number;
      switch (orientation) {
        case 2: c = b.width - 1 - X; r = Y; break;
        case 3: c = b.width - 1 - X; r = b.height - 1 - Y; break;
        case 4: c = X; r = b.height - 1 - Y; break;
        case 5: c = Y; r = X; break;
        case 6: c = Y; r = b.height - 1 - X; break;
        case 7: c = b.width - 1 - Y; r = b.height - 1 - X; break;
        default: c = b.width - 1 - Y; r = X; break; // 8
      }
      if (get(c, r)) out.bits[Y * out.rowBytes + (X >> 3)]! |= 0x80 >> (X & 7);
    }
  }
  return out;
}

/** Number of differing pixels (sizes must match), ignoring row padding. */
export function diffPixels(a: Bitmap, b: Bitmap): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`size differs: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  let diff = 0;
  const fullBytes = a.width >> 3;
  const tailMask = a.width & 7 ? (0xff << (8 - (a.width & 7))) & 0xff : 0;
  for (let y = 0; y < a.height; y++) {
    const ra = y * a.rowBytes;
    const rb = y * b.rowBytes;
    for (let x = 0; x < fullBytes; x++) {
      const d = a.bits[ra + x]! ^ b.bits[rb + x]!;
      if (d) diff += popcount(d);
    }
    if (tailMask) {
      const d = (a.bits[ra + fullBytes]! ^ b.bits[rb + fullBytes]!) & tailMask;
      if (d) diff += popcount(d);
    }
  }
  return diff;
}

function popcount(v: number): number {
  let c = 0;
  for (; v; v &= v - 1) c++;
  return c;
}

export async function pdfInfo(pdf: string): Promise<{ pages: number; sizes: { w: number; h: number }[] }> {
  const { stdout } = await run('pdfinfo', ['-f', '1', '-l', '100000', pdf]);
  const pages = Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]);
  const sizes = [...stdout.matchAll(/^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts/gm)].map((m) => ({ w: Number(m[1]), h: Number(m[2]) }));
  return { pages, sizes };
}

/** A PostScript document with text, rules, shapes and a grey fill (dithered by the fax devices). */
export function samplePostScript(pages: number): string {
  const out = ['%!PS-Adobe-3.0', '/Helvetica findfont 11 scalefont setfont'];
  for (let p = 1; p <= pages; p++) {
    out.push(`72 720 moveto /Helvetica-Bold findfont 20 scalefont setfont (Fax test page ${p} of ${pages}) show`);
    out.push('/Helvetica findfont 10 scalefont setfont');
    for (let i = 0; i < 40; i++) {
      out.push(`72 ${690 - i * 14} moveto (Line ${i}: The quick brown fox jumps over the lazy dog 0123456789 ${p * 31 + i}) show`);
    }
    out.push(`0.5 setlinewidth 36 36 moveto 576 ${300 + p * 40} lineto stroke`);
    out.push(`0.5 setgray 400 80 120 90 rectfill 0 setgray`);
    out.push(`450 500 ${40 + p * 5} 0 360 arc stroke`);
    out.push('showpage');
  }
  return out.join('\n') + '\n';
}

/** Renders PostScript to a fax TIFF with a Ghostscript fax device. */
export async function psToTiff(ps: string, out: string, device: string, res: '204x98' | '204x196', extra: string[] = []): Promise<void> {
  const psPath = `${out}.ps`;
  await writeFile(psPath, ps);
  const g = res === '204x98' ? '1728x1078' : '1728x2156';
  await run('gs', ['-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', `-sDEVICE=${device}`, `-r${res}`, `-g${g}`, ...extra, `-sOutputFile=${out}`, psPath]);
}

/** Text pages made with pdf-lib (Letter or A4), for the PDF → TIFF direction and the benchmarks. */
export async function textPdf(pages: number, size: 'letter' | 'a4' = 'letter'): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 1; p <= pages; p++) {
    const page = doc.addPage(size === 'a4' ? PageSizes.A4 : PageSizes.Letter);
    const h = page.getHeight();
    page.drawText(`Page ${p} of ${pages}`, { x: 50, y: h - 60, size: 18, font });
    for (let i = 0; i < 45; i++) {
      page.drawText(`${i}: Lorem ipsum dolor sit amet, consectetur adipiscing elit ${p}-${i}`, { x: 50, y: h - 90 - i * 15, size: 10, font });
    }
  }
  return doc.save();
}

/** One tag for `buildTiff`: SHORT (3), LONG (4) or RATIONAL (5, values as [num, den] pairs flattened). */
export interface TagSpec {
  tag: number;
  type: 3 | 4 | 5;
  values: number[];
}

export interface PageSpec {
  /** Every tag except StripOffsets/StripByteCounts, which come from `strips`. */
  tags: TagSpec[];
  strips: Uint8Array[];
}

/**
 * Writes a classic little-endian TIFF from explicit tags and strip bytes, so tests can make files no
 * tool would write (RTC after every strip, broken offsets, loops). Returns the bytes and each IFD's offset.
 */
export function buildTiff(pages: PageSpec[]): { data: Uint8Array; ifdOffsets: number[] } {
  const chunks: Uint8Array[] = [];
  let size = 8;
  const header = new Uint8Array(8);
  const hv = new DataView(header.buffer);
  header.set([0x49, 0x49]);
  hv.setUint16(2, 42, true);
  chunks.push(header);
  const ifdOffsets: number[] = [];
  const nextPointers: number[] = [];
  for (const page of pages) {
    const offsets: number[] = [];
    for (const s of page.strips) {
      offsets.push(size);
      chunks.push(s);
      size += s.length;
    }
    if (size & 1) {
      chunks.push(new Uint8Array(1));
      size++;
    }
    const tags: TagSpec[] = [
      ...page.tags,
      { tag: 273, type: 4 as const, values: offsets },
      { tag: 279, type: 4 as const, values: page.strips.map((s) => s.length) },
    ].sort((a, b) => a.tag - b.tag);
    const ifdSize = 2 + tags.length * 12 + 4;
    const ifd = new Uint8Array(ifdSize);
    const v = new DataView(ifd.buffer);
    const extra: number[] = [];
    const ifdAt = size;
    let extraAt = ifdAt + ifdSize;
    v.setUint16(0, tags.length, true);
    tags.forEach((t, i) => {
      const at = 2 + i * 12;
      const unit = t.type === 3 ? 2 : 4;
      const count = t.type === 5 ? t.values.length / 2 : t.values.length;
      v.setUint16(at, t.tag, true);
      v.setUint16(at + 2, t.type, true);
      v.setUint32(at + 4, count, true);
      const bytes = t.values.length * unit;
      const write = (dv: DataView, base: number) =>
        t.values.forEach((val, k) => (unit === 2 ? dv.setUint16(base + k * 2, val, true) : dv.setUint32(base + k * 4, val, true)));
      if (bytes <= 4) write(v, at + 8);
      else {
        v.setUint32(at + 8, extraAt, true);
        const buf = new Uint8Array(bytes);
        write(new DataView(buf.buffer), 0);
        extra.push(...buf);
        extraAt += bytes;
      }
    });
    ifdOffsets.push(ifdAt);
    nextPointers.push(size + 2 + tags.length * 12);
    chunks.push(ifd, Uint8Array.from(extra));
    size += ifdSize + extra.length;
  }
  const data = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.length;
  }
  const dv = new DataView(data.buffer);
  dv.setUint32(4, ifdOffsets[0] ?? 0, true);
  nextPointers.forEach((ptr, i) => dv.setUint32(ptr, ifdOffsets[i + 1] ?? 0, true));
  return { data, ifdOffsets };
}

/** The tags of a TIFF page as `buildTiff` specs (a fax page: size, compression, resolution, page number). */
export function faxTags(o: { width: number; length: number; compression: number; t4?: number; fillOrder?: number; rowsPerStrip: number; yRes?: number; page?: [number, number] }): TagSpec[] {
  const tags: TagSpec[] = [
    { tag: 254, type: 4, values: [2] },
    { tag: 256, type: 4, values: [o.width] },
    { tag: 257, type: 4, values: [o.length] },
    { tag: 258, type: 3, values: [1] },
    { tag: 259, type: 3, values: [o.compression] },
    { tag: 262, type: 3, values: [0] },
    { tag: 266, type: 3, values: [o.fillOrder ?? 1] },
    { tag: 277, type: 3, values: [1] },
    { tag: 278, type: 4, values: [o.rowsPerStrip] },
    { tag: 282, type: 5, values: [204, 1] },
    { tag: 283, type: 5, values: [o.yRes ?? 196, 1] },
    { tag: 296, type: 3, values: [2] },
    { tag: 297, type: 3, values: o.page ?? [0, 1] },
  ];
  if (o.t4 !== undefined) tags.push({ tag: 292, type: 4, values: [o.t4] });
  return tags;
}
