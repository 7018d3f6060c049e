// Checks a parsed TIFF against what a fax stack needs to SEND it (TIFF Class F, RFC 2306 / protocol brief 5.3).
import type { TiffInfo, TiffPage } from './reader.js';
import { Compression } from './reader.js';

export const FAX_WIDTH = 1728;
/** Horizontal fax resolution: 8.03 px/mm ≈ 204 dpi. */
export const FAX_X_DPI = 204;
/** Vertical: 3.85 lines/mm ≈ 98 dpi (normal) or 7.7 lines/mm ≈ 196 dpi (fine). */
export const FAX_Y_DPI_NORMAL = 98;
export const FAX_Y_DPI_FINE = 196;

/** Resolution in dots per inch, or null when absent or the unit is not absolute (1 = none). */
export function dpi(value: number | null, unit: number): number | null {
  if (value === null) return null;
  if (unit === 2) return value;
  if (unit === 3) return value * 2.54;
  return null;
}

// Writers round differently (8.03 px/mm × 25.4 = 203.96; some write 200 or 204 exactly), so compare loosely.
const near = (v: number, target: number, tol: number) => Math.abs(v - target) <= tol;

function pageProblems(p: TiffPage): string[] {
  const n = p.index + 1;
  const out: string[] = [];
  if (p.width !== FAX_WIDTH) out.push(`page ${n}: width is ${p.width} px, a fax page must be ${FAX_WIDTH}`);
  if (p.bitsPerSample !== 1 || p.samplesPerPixel !== 1) {
    out.push(`page ${n}: not bilevel (BitsPerSample ${p.bitsPerSample}, SamplesPerPixel ${p.samplesPerPixel})`);
  }
  if (p.compression !== Compression.CcittT4 && p.compression !== Compression.CcittT6) {
    out.push(`page ${n}: compression ${p.compression}, a fax page must be CCITT T.4 (3) or T.6 (4)`);
  }
  if (p.photometric !== null && p.photometric !== 0 && p.photometric !== 1) {
    out.push(`page ${n}: photometric ${p.photometric} is not bilevel`);
  }
  const x = dpi(p.xResolution, p.resolutionUnit);
  const y = dpi(p.yResolution, p.resolutionUnit);
  if (x === null || y === null) {
    out.push(`page ${n}: resolution missing or without an absolute unit`);
  } else {
    if (!near(x, FAX_X_DPI, 1.5)) out.push(`page ${n}: horizontal resolution ${fmt(x)} dpi, expected ${FAX_X_DPI}`);
    if (!near(y, FAX_Y_DPI_NORMAL, 1.5) && !near(y, FAX_Y_DPI_FINE, 2)) {
      out.push(`page ${n}: vertical resolution ${fmt(y)} dpi, expected ${FAX_Y_DPI_NORMAL} or ${FAX_Y_DPI_FINE}`);
    }
  }
  if (p.stripOffsets.length !== 1) out.push(`page ${n}: ${p.stripOffsets.length} strips, expected one strip per page`);
  if (p.pageNumber === null) out.push(`page ${n}: no PageNumber tag`);
  if (p.orientation !== 1) out.push(`page ${n}: orientation ${p.orientation}, expected 1 (top-left)`);
  return out;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

/**
 * Problems that would make a PBX refuse or garble this file when sending it, one readable line each;
 * an empty list means the file is fit to send. Vertical resolution may differ between pages
 * (spandsp handles it per page), everything else is checked per page.
 */
export function validateFaxTiff(info: TiffInfo): string[] {
  if (info.pages.length === 0) return ['the file has no pages'];
  return info.pages.flatMap(pageProblems);
}
