// Reads the structure of a classic TIFF (every IFD, the tags a fax needs) without trusting any offset in it.
import { TiffError } from './errors.js';

/** Tags read by this module (TIFF 6.0 numbers). */
export const Tag = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  FillOrder: 266,
  StripOffsets: 273,
  Orientation: 274,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  T4Options: 292,
  T6Options: 293,
  ResolutionUnit: 296,
  PageNumber: 297,
  TileWidth: 322,
  TileOffsets: 324,
} as const;

export const Compression = {
  None: 1,
  CcittRle: 2,
  CcittT4: 3,
  CcittT6: 4,
  PackBits: 32773,
} as const;

/** One IFD = one fax page. Values are as stored, with TIFF defaults applied where the tag is absent. */
export interface TiffPage {
  /** 0-based position in the IFD chain. */
  index: number;
  ifdOffset: number;
  width: number;
  length: number;
  /** First value of BitsPerSample (fax pages have one sample). Default 1. */
  bitsPerSample: number;
  samplesPerPixel: number;
  /** Default 1 (none). */
  compression: number;
  /** null when the tag is absent (readers then assume MinIsWhite for fax data). */
  photometric: number | null;
  /** 1 = MSB first (TIFF default, Ghostscript), 2 = LSB first (spandsp). */
  fillOrder: 1 | 2;
  t4Options: number;
  t6Options: number;
  /** null when absent or not a usable positive number. */
  xResolution: number | null;
  yResolution: number | null;
  /** 1 none, 2 inch (default), 3 centimetre. */
  resolutionUnit: number;
  /** RowsPerStrip clamped to the image length (the tag's default 2^32-1 means "one strip"). */
  rowsPerStrip: number;
  stripOffsets: number[];
  stripByteCounts: number[];
  /** [page, total] as stored (0-based page; total 0 means unknown), or null if absent. */
  pageNumber: [number, number] | null;
  newSubfileType: number;
  /** 1 (top-left, default) … 8. */
  orientation: number;
}

export interface TiffInfo {
  byteOrder: 'II' | 'MM';
  fileSize: number;
  pages: TiffPage[];
}

export interface TiffReadLimits {
  maxPages: number;
  maxEntriesPerIfd: number;
  maxWidth: number;
  maxLength: number;
  maxStripsPerPage: number;
}

/** Generous for faxes (a long fax is a few dozen pages of 1728 × ~2300), small enough that nothing explodes. */
export const DEFAULT_TIFF_LIMITS: Readonly<TiffReadLimits> = {
  maxPages: 1000,
  maxEntriesPerIfd: 1000,
  maxWidth: 20_000,
  maxLength: 100_000,
  maxStripsPerPage: 100_000,
};

const TYPE_SIZE: Readonly<Record<number, number>> = {
  1: 1, // BYTE
  2: 1, // ASCII
  3: 2, // SHORT
  4: 4, // LONG
  5: 8, // RATIONAL
  6: 1, // SBYTE
  7: 1, // UNDEFINED
  8: 2, // SSHORT
  9: 4, // SLONG
  10: 8, // SRATIONAL
  11: 4, // FLOAT
  12: 8, // DOUBLE
  13: 4, // IFD
};
const BYTE = 1;
const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;

interface Entry {
  tag: number;
  type: number;
  count: number;
  /** Absolute offset of the value bytes (inline values point into the entry itself). */
  valueOffset: number;
}

/**
 * Parses the TIFF header and every IFD. Throws `TiffError` for anything that is not a readable classic
 * TIFF, including strips that do not fit in the file, so a caller can trust every offset it gets back.
 */
export function readTiff(data: Uint8Array, limits: Partial<TiffReadLimits> = {}): TiffInfo {
  const lim: TiffReadLimits = { ...DEFAULT_TIFF_LIMITS, ...limits };
  const size = data.byteLength;
  if (size < 8) throw new TiffError('not_tiff', `not a TIFF: only ${size} bytes`);
  const b0 = data[0];
  const b1 = data[1];
  let little: boolean;
  if (b0 === 0x49 && b1 === 0x49) little = true;
  else if (b0 === 0x4d && b1 === 0x4d) little = false;
  else throw new TiffError('not_tiff', 'not a TIFF: the file does not start with II or MM');
  const view = new DataView(data.buffer, data.byteOffset, size);
  const u16 = (o: number) => view.getUint16(o, little);
  const u32 = (o: number) => view.getUint32(o, little);
  const magic = u16(2);
  if (magic === 43) throw new TiffError('not_tiff', 'BigTIFF is not supported');
  if (magic !== 42) throw new TiffError('not_tiff', `not a TIFF: version ${magic} instead of 42`);

  const pages: TiffPage[] = [];
  const seen = new Set<number>();
  let ifdOffset = u32(4);
  if (ifdOffset === 0) throw new TiffError('malformed', 'malformed: the file has no image directory');
  while (ifdOffset !== 0) {
    const pageNo = pages.length + 1;
    if (pages.length >= lim.maxPages) {
      throw new TiffError('limit', `too many pages: more than ${lim.maxPages}`);
    }
    if (seen.has(ifdOffset)) {
      throw new TiffError('malformed', `malformed: the directory chain loops back at page ${pageNo}`);
    }
    seen.add(ifdOffset);
    if (ifdOffset < 8 || ifdOffset + 2 > size) {
      throw new TiffError(
        'truncated',
        `truncated: the directory of page ${pageNo} is at byte ${ifdOffset} but the file has ${size} bytes`,
      );
    }
    const n = u16(ifdOffset);
    if (n === 0) throw new TiffError('malformed', `malformed: the directory of page ${pageNo} has no entries`);
    if (n > lim.maxEntriesPerIfd) {
      throw new TiffError('limit', `too many entries: ${n} in the directory of page ${pageNo}`);
    }
    const end = ifdOffset + 2 + n * 12 + 4;
    if (end > size) {
      throw new TiffError(
        'truncated',
        `truncated: the directory of page ${pageNo} ends at byte ${end} but the file has ${size} bytes`,
      );
    }
    const entries = new Map<number, Entry>();
    for (let i = 0; i < n; i++) {
      const at = ifdOffset + 2 + i * 12;
      const tag = u16(at);
      if (entries.has(tag)) continue; // like libtiff: the first occurrence wins
      const type = u16(at + 2);
      const count = u32(at + 4);
      const unit = TYPE_SIZE[type];
      if (unit === undefined) continue; // unknown types must be ignored (TIFF 6.0 §2)
      const bytes = count * unit;
      entries.set(tag, { tag, type, count, valueOffset: bytes <= 4 ? at + 8 : u32(at + 8) });
    }
    pages.push(parsePage(pages.length, ifdOffset, entries, { view, little, size, lim }));
    ifdOffset = u32(ifdOffset + 2 + n * 12);
  }
  return { byteOrder: little ? 'II' : 'MM', fileSize: size, pages };
}

interface Ctx {
  view: DataView;
  little: boolean;
  size: number;
  lim: TiffReadLimits;
}

const TAG_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(Tag).map(([name, num]) => [num, name]),
);

function parsePage(index: number, ifdOffset: number, entries: Map<number, Entry>, ctx: Ctx): TiffPage {
  const pageNo = index + 1;
  const where = (tag: number) => `${TAG_NAMES[tag] ?? `tag ${tag}`} of page ${pageNo}`;

  /** Integer values of a BYTE/SHORT/LONG entry, bounds-checked; `maxCount` guards against absurd counts. */
  const ints = (tag: number, maxCount: number): number[] | null => {
    const e = entries.get(tag);
    if (!e) return null;
    if (e.type !== SHORT && e.type !== LONG && e.type !== BYTE) {
      throw new TiffError('malformed', `malformed: ${where(tag)} has type ${e.type}, expected an integer`);
    }
    if (e.count === 0) throw new TiffError('malformed', `malformed: ${where(tag)} has no value`);
    if (e.count > maxCount) {
      throw new TiffError('malformed', `malformed: ${where(tag)} has ${e.count} values (at most ${maxCount} expected)`);
    }
    const unit = TYPE_SIZE[e.type]!;
    checkRange(e.valueOffset, e.count * unit, where(tag), ctx.size);
    const out: number[] = new Array<number>(e.count);
    for (let i = 0; i < e.count; i++) {
      const o = e.valueOffset + i * unit;
      out[i] = unit === 1 ? ctx.view.getUint8(o) : unit === 2 ? ctx.view.getUint16(o, ctx.little) : ctx.view.getUint32(o, ctx.little);
    }
    return out;
  };
  const int = (tag: number, dflt: number): number => ints(tag, 16)?.[0] ?? dflt;
  const rational = (tag: number): number | null => {
    const e = entries.get(tag);
    if (!e) return null;
    if (e.type !== RATIONAL || e.count < 1) {
      // Some writers store resolutions as SHORT/LONG; accept those as whole numbers.
      const v = e.type === SHORT || e.type === LONG ? ints(tag, 16)?.[0] : undefined;
      return v !== undefined && v > 0 ? v : null;
    }
    checkRange(e.valueOffset, 8, where(tag), ctx.size);
    const num = ctx.view.getUint32(e.valueOffset, ctx.little);
    const den = ctx.view.getUint32(e.valueOffset + 4, ctx.little);
    if (den === 0 || num === 0) return null;
    return num / den;
  };

  const width = ints(Tag.ImageWidth, 1)?.[0];
  const length = ints(Tag.ImageLength, 1)?.[0];
  if (width === undefined || length === undefined) {
    throw new TiffError('malformed', `malformed: page ${pageNo} has no ImageWidth or ImageLength`);
  }
  if (width === 0 || length === 0) {
    throw new TiffError('malformed', `malformed: page ${pageNo} is empty (${width}x${length})`);
  }
  if (width > ctx.lim.maxWidth || length > ctx.lim.maxLength) {
    throw new TiffError(
      'limit',
      `page ${pageNo} is too large: ${width}x${length} (at most ${ctx.lim.maxWidth}x${ctx.lim.maxLength})`,
    );
  }

  if (!entries.has(Tag.StripOffsets)) {
    if (entries.has(Tag.TileWidth) || entries.has(Tag.TileOffsets)) {
      throw new TiffError('unsupported', `unsupported: page ${pageNo} is tiled`);
    }
    throw new TiffError('malformed', `malformed: page ${pageNo} has no StripOffsets`);
  }
  const rowsPerStripRaw = int(Tag.RowsPerStrip, 0xffffffff);
  if (rowsPerStripRaw === 0) throw new TiffError('malformed', `malformed: page ${pageNo} has RowsPerStrip 0`);
  const rowsPerStrip = Math.min(rowsPerStripRaw, length);
  const stripsExpected = Math.ceil(length / rowsPerStrip);
  if (stripsExpected > ctx.lim.maxStripsPerPage) {
    throw new TiffError('limit', `too many strips: ${stripsExpected} on page ${pageNo}`);
  }
  // PlanarConfiguration 2 could legitimately have more; fax pages have one sample, so this bound holds.
  const maxStrips = Math.min(ctx.lim.maxStripsPerPage, stripsExpected * 4);
  const stripOffsets = ints(Tag.StripOffsets, maxStrips)!;
  const stripByteCounts = ints(Tag.StripByteCounts, maxStrips);
  if (!stripByteCounts) throw new TiffError('malformed', `malformed: page ${pageNo} has no StripByteCounts`);
  if (stripOffsets.length !== stripByteCounts.length) {
    throw new TiffError(
      'malformed',
      `malformed: page ${pageNo} has ${stripOffsets.length} StripOffsets but ${stripByteCounts.length} StripByteCounts`,
    );
  }
  if (stripOffsets.length < stripsExpected) {
    throw new TiffError(
      'malformed',
      `malformed: page ${pageNo} has ${stripOffsets.length} strips but needs ${stripsExpected} for ${length} rows`,
    );
  }
  // Extra strips beyond what the rows need are ignored, as libtiff does.
  stripOffsets.length = stripsExpected;
  stripByteCounts.length = stripsExpected;
  for (let s = 0; s < stripsExpected; s++) {
    const off = stripOffsets[s]!;
    const cnt = stripByteCounts[s]!;
    if (cnt === 0) throw new TiffError('malformed', `malformed: strip ${s} of page ${pageNo} is empty`);
    if (off + cnt > ctx.size) {
      throw new TiffError(
        'truncated',
        `truncated: strip ${s} of page ${pageNo} ends at byte ${off + cnt} but the file has ${ctx.size} bytes`,
      );
    }
  }

  const fillOrder = int(Tag.FillOrder, 1);
  if (fillOrder !== 1 && fillOrder !== 2) {
    throw new TiffError('malformed', `malformed: page ${pageNo} has FillOrder ${fillOrder}`);
  }
  const pn = ints(Tag.PageNumber, 16);
  const photometric = entries.has(Tag.Photometric) ? int(Tag.Photometric, 0) : null;

  return {
    index,
    ifdOffset,
    width,
    length,
    bitsPerSample: int(Tag.BitsPerSample, 1),
    samplesPerPixel: int(Tag.SamplesPerPixel, 1),
    compression: int(Tag.Compression, 1),
    photometric,
    fillOrder,
    t4Options: int(Tag.T4Options, 0),
    t6Options: int(Tag.T6Options, 0),
    xResolution: rational(Tag.XResolution),
    yResolution: rational(Tag.YResolution),
    resolutionUnit: int(Tag.ResolutionUnit, 2),
    rowsPerStrip,
    stripOffsets,
    stripByteCounts,
    pageNumber: pn && pn.length >= 2 ? [pn[0]!, pn[1]!] : null,
    newSubfileType: int(Tag.NewSubfileType, 0),
    orientation: int(Tag.Orientation, 1),
  };
}

function checkRange(offset: number, bytes: number, what: string, size: number): void {
  if (offset + bytes > size) {
    throw new TiffError(
      'truncated',
      `truncated: ${what} ends at byte ${offset + bytes} but the file has ${size} bytes`,
    );
  }
}

/** Rows held by strip `s` of `page` (the last strip may be shorter). */
export function stripRows(page: TiffPage, s: number): number {
  return Math.min(page.rowsPerStrip, page.length - s * page.rowsPerStrip);
}

/** The bytes of strip `s` of `page` (a view into `data`; `readTiff` has already bounds-checked it). */
export function stripBytes(data: Uint8Array, page: TiffPage, s: number): Uint8Array {
  const off = page.stripOffsets[s];
  const cnt = page.stripByteCounts[s];
  if (off === undefined || cnt === undefined) throw new RangeError(`no strip ${s} on page ${page.index + 1}`);
  return data.subarray(off, off + cnt);
}
