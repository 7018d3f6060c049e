// The one error type for TIFF files we cannot read or convert; its message is safe to store and show.

/**
 * Why a TIFF was refused:
 * - `not_tiff`: the bytes are not a classic TIFF at all (PNG, text, BigTIFF…)
 * - `truncated`: a structure or strip points past the end of the file
 * - `malformed`: the structure is inconsistent (IFD loop, bad counts, missing required tags)
 * - `limit`: a sane limit was exceeded (pages, entries, dimensions)
 * - `unsupported`: a valid TIFF we cannot convert (compression, bit depth…)
 */
export type TiffErrorCode = 'not_tiff' | 'truncated' | 'malformed' | 'limit' | 'unsupported';

export class TiffError extends Error {
  constructor(
    readonly code: TiffErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TiffError';
  }
}
