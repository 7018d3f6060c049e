// Multipart uploads through koa-body's formidable, held in memory (never on disk) and cut off at the size limit.
import { Writable } from 'node:stream';
import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { ApiError } from '../errors.js';

/** The uploaded file's bytes, kept beside formidable's file object. */
const bytesOf = new WeakMap<object, Buffer[]>();

// formidable's internal error codes (formidable/src/FormidableError.js)
const TOO_BIG = new Set([1009, 1016]);
const TOO_MANY_FILES = 1015;
const TOO_MANY_FIELDS = new Set([1006, 1007]);

export interface UploadedFile {
  bytes: Buffer;
  /** The client's file name: never trusted, never logged (it may name a patient). */
  originalFilename: string | null;
}

/** Parses multipart/form-data with at most one file of maxBytes and a few small fields. */
export function multipart(maxBytes: number): Middleware {
  return koaBody({
    multipart: true,
    json: false,
    urlencoded: false,
    text: false,
    formidable: {
      maxFiles: 1,
      maxFileSize: maxBytes,
      maxTotalFileSize: maxBytes,
      maxFields: 20,
      maxFieldsSize: 64 * 1024,
      allowEmptyFiles: true,
      minFileSize: 0,
      // A file part without its own Content-Type (allowed by RFC 7578, sent by some scanners and embedded
      // clients) would otherwise be read as a text field and mangled; a filename is what makes it a file.
      onPart: (part, handle) => {
        if (part.originalFilename !== undefined && part.originalFilename !== null && !part.mimetype) part.mimetype = 'application/octet-stream';
        handle(part);
      },
      fileWriteStreamHandler: (file?: unknown) => {
        const chunks: Buffer[] = [];
        if (file && typeof file === 'object') bytesOf.set(file, chunks);
        return new Writable({
          write(chunk: Buffer, _enc, cb) {
            chunks.push(chunk);
            cb();
          },
        });
      },
    },
    onError: (err) => {
      const code = (err as { code?: number }).code ?? 0;
      if (TOO_BIG.has(code)) {
        throw new ApiError(413, 'file_too_large', `the file is larger than the ${formatMb(maxBytes)} limit (MAX_FILE_SIZE_MB)`);
      }
      if (code === TOO_MANY_FILES) throw new ApiError(400, 'too_many_files', 'send exactly one file in the "file" field');
      if (TOO_MANY_FIELDS.has(code)) throw new ApiError(400, 'too_many_fields', 'the form has too many or too large fields');
      if ((err as { message?: string }).message === 'Request aborted') throw new ApiError(400, 'upload_aborted', 'the upload was aborted');
      throw new ApiError(400, 'malformed_multipart', 'the request body is not valid multipart/form-data');
    },
  });
}

/** The single file in field `name`, or null. */
export function uploadedFile(files: unknown, name: string): UploadedFile | null | 'many' {
  if (!files || typeof files !== 'object') return null;
  const f = (files as Record<string, unknown>)[name];
  if (f === undefined) return null;
  if (Array.isArray(f)) return 'many';
  const chunks = bytesOf.get(f as object);
  if (!chunks) return null;
  const original = (f as { originalFilename?: unknown }).originalFilename;
  return { bytes: Buffer.concat(chunks), originalFilename: typeof original === 'string' ? original : null };
}

/** A single text field, or null; repeated fields are an error. */
export function formField(fields: unknown, name: string): string | null | 'many' {
  if (!fields || typeof fields !== 'object') return null;
  const v = (fields as Record<string, unknown>)[name];
  if (v === undefined) return null;
  if (Array.isArray(v)) return 'many';
  return typeof v === 'string' ? v : null;
}

export function formatMb(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${Number.isInteger(mb) ? mb : mb.toFixed(2)} MB`;
}
