// The fax TIFF toolkit in one import: reader, TIFF-F validation and the error type.
export { TiffError, type TiffErrorCode } from './errors.js';
export {
  readTiff,
  stripBytes,
  stripRows,
  Tag,
  Compression,
  DEFAULT_TIFF_LIMITS,
  type TiffInfo,
  type TiffPage,
  type TiffReadLimits,
} from './reader.js';
export { validateFaxTiff, dpi, FAX_WIDTH, FAX_X_DPI, FAX_Y_DPI_NORMAL, FAX_Y_DPI_FINE } from './validate.js';
