// Bit-level helpers for fax strips: FillOrder reversal, T.4 EOL/RTC detection, PackBits decoding.
import { TiffError } from './errors.js';

const REVERSED = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let r = 0;
    for (let b = 0; b < 8; b++) if (i & (1 << b)) r |= 0x80 >> b;
    t[i] = r;
  }
  return t;
})();

/** A copy of `src` with the bits of every byte reversed (FillOrder 2 → 1). */
export function reverseBits(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = REVERSED[src[i]!]!;
  return out;
}

/**
 * True when MSB-first T.4 data starts with an EOL (≥ 11 zero bits, then a 1), possibly after fill bits.
 * TIFF Compression 3 data written by libtiff, spandsp and Ghostscript always does; without EOLs the
 * strips of a page cannot simply be concatenated.
 */
export function startsWithEol(data: Uint8Array): boolean {
  let zeros = 0;
  for (let i = 0; i < data.length && i < 64; i++) {
    const byte = data[i]!;
    if (byte === 0) {
      zeros += 8;
      continue;
    }
    zeros += Math.clz32(byte) - 24;
    return zeros >= 11;
  }
  return false;
}

/**
 * Bit position where a trailing RTC (six EOLs, each followed by a 1 tag bit in 2-D mode) starts in
 * MSB-first T.4 data, or -1. Only the last bytes are looked at: RTC ends a strip, padded with zeros.
 */
export function trailingRtcBit(data: Uint8Array, twoD: boolean): number {
  const tailBytes = Math.min(data.length, 24);
  const start = data.length - tailBytes;
  let bits = '';
  for (let i = start; i < data.length; i++) bits += data[i]!.toString(2).padStart(8, '0');
  const m = (twoD ? /(?:0{11}11){6}0*$/ : /(?:0{11}1){6}0*$/).exec(bits);
  return m ? start * 8 + m.index : -1;
}

/** A copy of MSB-first `data` with every bit from `fromBit` on cleared (T.4 reads the zeros as fill). */
export function clearBitsFrom(data: Uint8Array, fromBit: number): Uint8Array {
  const out = Uint8Array.from(data);
  const byte = fromBit >> 3;
  const bit = fromBit & 7;
  if (byte < out.length) {
    out[byte] = out[byte]! & (0xff << (8 - bit)) & 0xff;
    out.fill(0, byte + 1);
  }
  return out;
}

/** Decodes a PackBits strip into exactly `expected` bytes; bad or short data is a TiffError. */
export function unpackBits(src: Uint8Array, expected: number, where: string): Uint8Array {
  const out = new Uint8Array(expected);
  let i = 0;
  let o = 0;
  while (o < expected) {
    if (i >= src.length) {
      throw new TiffError('truncated', `truncated: ${where} decodes to ${o} of ${expected} bytes`);
    }
    const n = src[i++]!;
    if (n < 128) {
      const len = n + 1;
      if (i + len > src.length) throw new TiffError('truncated', `truncated: PackBits run cut short in ${where}`);
      // A run past the end is cut, as libtiff does (it warns and discards the excess).
      const take = Math.min(len, expected - o);
      out.set(src.subarray(i, i + take), o);
      i += len;
      o += take;
    } else if (n > 128) {
      const len = 257 - n;
      if (i >= src.length) throw new TiffError('truncated', `truncated: PackBits run cut short in ${where}`);
      const take = Math.min(len, expected - o);
      out.fill(src[i++]!, o, o + take);
      o += take;
    }
    // n === 128 is a no-op in TIFF PackBits.
  }
  return out;
}
