// Turns a received fax TIFF into a PDF that carries the fax's own CCITT data, so pixels and page count stay exact.
import { deflateSync } from 'node:zlib';
import { PDFDocument, PDFName, PDFStream, type PDFDict, type PDFPage } from 'pdf-lib';
import { TiffError } from './tiff/errors.js';
import { Compression, readTiff, stripBytes, stripRows, type TiffPage, type TiffReadLimits } from './tiff/reader.js';
import { dpi, FAX_X_DPI, FAX_Y_DPI_FINE, FAX_Y_DPI_NORMAL } from './tiff/validate.js';
import { clearBitsFrom, reverseBits, startsWithEol, trailingRtcBit, unpackBits } from './tiff/bits.js';

export interface TiffToPdfOptions {
  /** Overrides for the reader's limits (pages, dimensions…). */
  limits?: Partial<TiffReadLimits>;
}

export interface PdfPageSize {
  widthPt: number;
  heightPt: number;
}

export interface TiffToPdfResult {
  pdf: Uint8Array;
  pages: number;
  pageSizes: PdfPageSize[];
}

/** One image XObject and the rows of the page it covers. */
interface PageImage {
  /** CCITT data as it goes into the PDF, or raw 1-bit rows when `flate` (deflated on the way in). */
  data: Uint8Array;
  dict: Record<string, string | number | boolean | number[] | Record<string, number | boolean>>;
  flate: boolean;
  firstRow: number;
  rows: number;
}

/**
 * Converts every page (IFD) of `tiff` into one PDF page. CCITT G3/G4 (and CCITT RLE) data is embedded
 * as it is under /CCITTFaxDecode, only bit-reversed when the TIFF is LSB-first; uncompressed and
 * PackBits pages are unpacked to raw bits and Flate-compressed. The page size follows the TIFF's
 * resolution, so normal (204x98) and fine (204x196) faxes of a Letter page are both ~8.5 x 11 in.
 * Anything unreadable or unsupported throws `TiffError` with a reason fit to record.
 */
export async function tiffToPdf(tiff: Uint8Array, opts: TiffToPdfOptions = {}): Promise<TiffToPdfResult> {
  const info = readTiff(tiff, opts.limits);
  const doc = await PDFDocument.create();
  doc.setProducer('Faxbot');
  doc.setCreator('Faxbot');
  const pageSizes: PdfPageSize[] = [];
  for (const page of info.pages) {
    const images = pageImages(tiff, page);
    const { x, y } = pageDpi(page);
    const size = placeImages(doc, page, images, x, y);
    pageSizes.push(size);
  }
  const pdf = await doc.save({ useObjectStreams: false });
  return { pdf, pages: info.pages.length, pageSizes };
}

/** Resolution in dpi to size the page with; guessed from fax conventions when the TIFF does not say. */
export function pageDpi(p: TiffPage): { x: number; y: number } {
  const sane = (v: number | null): v is number => v !== null && Number.isFinite(v) && v >= 20 && v <= 2400;
  const x = dpi(p.xResolution, p.resolutionUnit);
  const y = dpi(p.yResolution, p.resolutionUnit);
  if (sane(x) && sane(y)) return { x, y };
  if (p.xResolution !== null && p.yResolution !== null && p.resolutionUnit === 1) {
    // Unit "none" still gives the aspect ratio; anchor it on the fax's horizontal resolution.
    const yAspect = (FAX_X_DPI * p.yResolution) / p.xResolution;
    if (sane(yAspect)) return { x: FAX_X_DPI, y: yAspect };
  }
  // A fax page is taller than wide; a normal-resolution page has fewer rows than columns.
  const guessY = p.length >= p.width * 0.9 ? FAX_Y_DPI_FINE : FAX_Y_DPI_NORMAL;
  return { x: sane(x) ? x : FAX_X_DPI, y: sane(y) ? y : guessY };
}

function pageImages(tiff: Uint8Array, page: TiffPage): PageImage[] {
  const n = page.index + 1;
  if (page.bitsPerSample !== 1 || page.samplesPerPixel !== 1) {
    throw new TiffError(
      'unsupported',
      `unsupported: page ${n} is not bilevel (BitsPerSample ${page.bitsPerSample}, SamplesPerPixel ${page.samplesPerPixel})`,
    );
  }
  const photometric = page.photometric ?? 0;
  if (photometric !== 0 && photometric !== 1) {
    throw new TiffError('unsupported', `unsupported: page ${n} has photometric ${photometric}`);
  }
  const strips = page.stripOffsets.map((_, s) => {
    const raw = stripBytes(tiff, page, s);
    // PDF's filters read MSB-first; libtiff likewise reverses the raw strip before any decoding.
    return page.fillOrder === 2 ? reverseBits(raw) : raw;
  });

  switch (page.compression) {
    case Compression.None:
    case Compression.PackBits:
      return [rawImage(page, strips, photometric)];
    case Compression.CcittRle:
      // Rows start on byte boundaries and carry no EOL: strips join without any bit surgery.
      return [ccittImage(page, concat(strips), 0, page.length, { k: 0, eol: false, byteAlign: true })];
    case Compression.CcittT4: {
      const k = page.t4Options & 1 ? page.length : 0;
      const eol = strips.every(startsWithEol);
      if (strips.length === 1 || eol) {
        // Every strip starts with an EOL (and a 1-D line in 2-D mode), so strips can be chained; an RTC
        // closing an inner strip is turned into fill bits so the decoder does not stop there.
        const joined = strips.map((d, s) => {
          if (s === strips.length - 1) return d;
          const rtc = trailingRtcBit(d, k > 0);
          return rtc >= 0 ? clearBitsFrom(d, rtc) : d;
        });
        return [ccittImage(page, concat(joined), 0, page.length, { k, eol, byteAlign: false })];
      }
      return strips.map((d, s) =>
        ccittImage(page, d, s * page.rowsPerStrip, stripRows(page, s), { k: k > 0 ? stripRows(page, s) : 0, eol, byteAlign: false }),
      );
    }
    case Compression.CcittT6:
      // Each G4 strip restarts from an imaginary white reference line: one image per strip.
      return strips.map((d, s) =>
        ccittImage(page, d, s * page.rowsPerStrip, stripRows(page, s), { k: -1, eol: false, byteAlign: false }),
      );
    default:
      throw new TiffError('unsupported', `unsupported compression ${page.compression} on page ${n}`);
  }
}

function ccittImage(
  page: TiffPage,
  data: Uint8Array,
  firstRow: number,
  rows: number,
  p: { k: number; eol: boolean; byteAlign: boolean },
): PageImage {
  return {
    data,
    flate: false,
    firstRow,
    rows,
    dict: {
      Type: 'XObject',
      Subtype: 'Image',
      Width: page.width,
      Height: rows,
      ColorSpace: 'DeviceGray',
      BitsPerComponent: 1,
      Filter: 'CCITTFaxDecode',
      DecodeParms: {
        // K only matters by its sign to decoders (the tag bit after each EOL says 1-D or 2-D);
        // a positive K as large as the row count never understates how many 2-D lines may follow.
        K: p.k,
        Columns: page.width,
        Rows: rows,
        // CCITT codes name black and white runs; MinIsBlack (1) pages show the "white" runs dark.
        BlackIs1: (page.photometric ?? 0) === 1,
        EndOfLine: p.eol,
        EncodedByteAlign: p.byteAlign,
        // Decode exactly Rows rows whether or not an RTC/EOFB follows.
        EndOfBlock: false,
      },
    },
  };
}

function rawImage(page: TiffPage, strips: Uint8Array[], photometric: number): PageImage {
  const n = page.index + 1;
  const rowBytes = Math.ceil(page.width / 8);
  const parts = strips.map((d, s) => {
    const need = stripRows(page, s) * rowBytes;
    const where = `strip ${s} of page ${n}`;
    if (page.compression === Compression.PackBits) return unpackBits(d, need, where);
    if (d.length < need) {
      throw new TiffError('truncated', `truncated: ${where} has ${d.length} bytes but ${need} are needed`);
    }
    return d.subarray(0, need);
  });
  return {
    data: concat(parts),
    flate: true,
    firstRow: 0,
    rows: page.length,
    dict: {
      Type: 'XObject',
      Subtype: 'Image',
      Width: page.width,
      Height: page.length,
      ColorSpace: 'DeviceGray',
      BitsPerComponent: 1,
      // MinIsWhite stores white as 0, DeviceGray reads 0 as black.
      ...(photometric === 0 ? { Decode: [1, 0] } : {}),
    },
  };
}

/**
 * Adds a page sized from the pixels and resolution, and draws each image over the rows it covers,
 * honouring the TIFF Orientation (1–8) so the page shows the way the fax was meant to be read.
 */
function placeImages(doc: PDFDocument, page: TiffPage, images: PageImage[], xDpi: number, yDpi: number): PdfPageSize {
  const px = 72 / xDpi; // points per column
  const py = 72 / yDpi; // points per row
  const transposed = page.orientation >= 5 && page.orientation <= 8;
  const imgW = floor4(page.width * px);
  const imgH = floor4(page.length * py);
  const widthPt = transposed ? imgH : imgW;
  const heightPt = transposed ? imgW : imgH;
  const pdfPage: PDFPage = doc.addPage([widthPt, heightPt]);
  const o = pixelToPage(page.orientation, widthPt, heightPt, px, py);
  let content = '';
  images.forEach((img, i) => {
    const dict = doc.context.obj(img.flate ? { ...img.dict, Filter: 'FlateDecode' } : img.dict);
    const data = img.flate ? deflateSync(img.data) : img.data;
    const name = pdfPage.node.newXObject('Im', doc.context.register(new BytesStream(dict, data)));
    const m = imageMatrix(o, page.width, img.firstRow, img.firstRow + img.rows).map(num).join(' ');
    content += `${i ? '\n' : ''}q ${m} cm ${name.asString()} Do Q`;
  });
  // A few dozen bytes per page: written plain, which also spares a deflate per page.
  const contentRef = doc.context.register(new BytesStream(doc.context.obj({}), Buffer.from(content, 'latin1')));
  pdfPage.node.set(PDFName.of('Contents'), contentRef);
  return { widthPt, heightPt };
}

/**
 * A size in points, rounded down to 4 decimals and kept strictly below the exact value. 1728 px at 204 dpi
 * is 609.88235… pt; written in full, a renderer at 204 dpi computes 1728.0000000000002 px, makes the
 * page 1729 px wide and resamples every row, and even an exact 792 pt (2156 rows at 196 dpi) made
 * poppler drop and double rows. A hair under the exact size keeps the fax's pixels one-to-one.
 */
const floor4 = (v: number) => Math.floor(v * 1e4 - 1e-6) / 1e4;

/**
 * Each image is drawn this far (in fax pixels) inside its exact pixel rectangle. Renderers take the
 * floor of an image's first device pixel and floor+1 of its last; an edge landing exactly on (or a
 * rounding error below) a pixel boundary grows or shifts the image by one pixel, which for a strip
 * image means a doubled or lost row at the seam.
 */
const INSET_PX = 0.01;

type Matrix = [number, number, number, number, number, number];

/** Affine map from fax pixel space (column c, row r, row 0 at the top) to page points: x = a·c + b·r + e, y = … */
interface PixelMap {
  xc: number;
  xr: number;
  x0: number;
  yc: number;
  yr: number;
  y0: number;
}

/** Where pixel (c, r) lands on a W x H pt page for each TIFF Orientation, `px`/`py` pt per column/row. */
function pixelToPage(orientation: number, W: number, H: number, px: number, py: number): PixelMap {
  switch (orientation) {
    case 2: return { xc: -px, xr: 0, x0: W, yc: 0, yr: -py, y0: H }; // column 0 on the right
    case 3: return { xc: -px, xr: 0, x0: W, yc: 0, yr: py, y0: 0 }; // rotated 180°
    case 4: return { xc: px, xr: 0, x0: 0, yc: 0, yr: py, y0: 0 }; // row 0 at the bottom
    case 5: return { xc: 0, xr: py, x0: 0, yc: -px, yr: 0, y0: H }; // row 0 on the left, column 0 at the top
    case 6: return { xc: 0, xr: -py, x0: W, yc: -px, yr: 0, y0: H }; // row 0 on the right, column 0 at the top
    case 7: return { xc: 0, xr: -py, x0: W, yc: px, yr: 0, y0: 0 }; // row 0 on the right, column 0 at the bottom
    case 8: return { xc: 0, xr: py, x0: 0, yc: px, yr: 0, y0: 0 }; // row 0 on the left, column 0 at the bottom
    default: return { xc: px, xr: 0, x0: 0, yc: 0, yr: -py, y0: H };
  }
}

/**
 * The `cm` matrix that draws an image (whose unit square has its first row at the top, v = 1) over
 * columns 0…width and rows r0…r1 of the page, inset by INSET_PX on every side.
 */
function imageMatrix(m: PixelMap, width: number, r0: number, r1: number): Matrix {
  const c0 = INSET_PX;
  const cw = width - 2 * INSET_PX;
  const rBottom = r1 - INSET_PX; // v = 0
  const rh = r1 - r0 - 2 * INSET_PX;
  // (u, v) → (c, r) = (c0 + u·cw, rBottom − v·rh), then through the orientation map.
  return [
    m.xc * cw,
    m.yc * cw,
    -m.xr * rh,
    -m.yr * rh,
    m.xc * c0 + m.xr * rBottom + m.x0,
    m.yc * c0 + m.yr * rBottom + m.y0,
  ];
}

/** A PDF number: fixed-point (PDF has no exponent form), 6 decimals are far below a fax pixel. */
function num(v: number): string {
  const s = v.toFixed(6).replace(/\.?0+$/, '');
  return s === '-0' || s === '' ? '0' : s;
}

const STREAM_HEAD = Buffer.from('\nstream\n', 'latin1');
const STREAM_TAIL = Buffer.from('\nendstream', 'latin1');

/**
 * A stream whose bytes are written as they are with one memory copy: pdf-lib's raw stream copies
 * byte by byte, which was a fifth of the time for a 20-page fax.
 */
class BytesStream extends PDFStream {
  constructor(
    dict: PDFDict,
    private readonly bytes: Uint8Array,
  ) {
    super(dict);
  }
  override getContents(): Uint8Array {
    return this.bytes;
  }
  override getContentsSize(): number {
    return this.bytes.length;
  }
  override getContentsString(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length).toString('latin1');
  }
  override copyBytesInto(buffer: Uint8Array, offset: number): number {
    this.updateDict();
    const start = offset;
    offset += this.dict.copyBytesInto(buffer, offset);
    buffer.set(STREAM_HEAD, offset);
    offset += STREAM_HEAD.length;
    buffer.set(this.bytes, offset);
    offset += this.bytes.length;
    buffer.set(STREAM_TAIL, offset);
    offset += STREAM_TAIL.length;
    return offset - start;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
