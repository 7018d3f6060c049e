// Minimal TIFF handling for the ESL simulator: count pages like spandsp would, and write a small fax TIFF.
import { writeFileSync } from 'node:fs';

/** Number of IFDs (pages) in a TIFF, or null when the bytes are not a TIFF. */
export function countTiffPages(buf: Buffer): number | null {
  if (buf.length < 8) return null;
  const order = buf.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  if (u16(2) !== 42) return null;
  let off = u32(4);
  let pages = 0;
  const seen = new Set<number>();
  while (off !== 0) {
    if (seen.has(off) || off + 2 > buf.length) return pages > 0 ? pages : null;
    seen.add(off);
    const n = u16(off);
    if (off + 2 + n * 12 + 4 > buf.length) return pages > 0 ? pages : null;
    pages++;
    off = u32(off + 2 + n * 12);
  }
  return pages;
}

/**
 * Writes an all-white multi-page TIFF at fax geometry (1728 x 2200, 204 x 196 dpi), PackBits
 * compressed so it stays small. Enough for page counting and TIFF readers; not a G3 file.
 */
export function writeBlankFaxTiff(path: string, pages: number, width = 1728, height = 2200): void {
  const rowBytes = width / 8;
  // PackBits: runs of at most 128 identical bytes, header 257 - n.
  const row: number[] = [];
  for (let left = rowBytes; left > 0; ) {
    const n = Math.min(128, left);
    if (n === 1) row.push(0, 0);
    else row.push(257 - n, 0);
    left -= n;
  }
  const strip = Buffer.from(Array.from({ length: height }, () => row).flat());
  const entries = 12;
  const ifdSize = 2 + entries * 12 + 4;
  const resSize = 16; // two RATIONALs
  const pageSize = strip.length + ifdSize + resSize;
  const out = Buffer.alloc(8 + pages * pageSize);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8 + strip.length, 4); // first IFD: after the first page's strip
  for (let p = 0; p < pages; p++) {
    const base = 8 + p * pageSize;
    strip.copy(out, base);
    const ifd = base + strip.length;
    const res = ifd + ifdSize;
    out.writeUInt32LE(204, res);
    out.writeUInt32LE(1, res + 4);
    out.writeUInt32LE(196, res + 8);
    out.writeUInt32LE(1, res + 12);
    const tags: [number, number, number, number][] = [
      [256, 4, 1, width], // ImageWidth
      [257, 4, 1, height], // ImageLength
      [258, 3, 1, 1], // BitsPerSample
      [259, 3, 1, 32773], // Compression: PackBits
      [262, 3, 1, 0], // Photometric: WhiteIsZero
      [273, 4, 1, base], // StripOffsets
      [277, 3, 1, 1], // SamplesPerPixel
      [278, 4, 1, height], // RowsPerStrip
      [279, 4, 1, strip.length], // StripByteCounts
      [282, 5, 1, res], // XResolution
      [283, 5, 1, res + 8], // YResolution
      [297, 3, 2, p | (pages << 16)], // PageNumber
    ];
    out.writeUInt16LE(entries, ifd);
    tags.forEach(([tag, type, count, value], k) => {
      const o = ifd + 2 + k * 12;
      out.writeUInt16LE(tag, o);
      out.writeUInt16LE(type, o + 2);
      out.writeUInt32LE(count, o + 4);
      if (type === 3 && count === 1) out.writeUInt16LE(value, o + 8);
      else out.writeUInt32LE(value, o + 8);
    });
    out.writeUInt32LE(p + 1 < pages ? base + pageSize + strip.length : 0, ifd + 2 + entries * 12);
  }
  writeFileSync(path, out);
}
