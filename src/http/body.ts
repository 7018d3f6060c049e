// Reading request bodies as raw bytes with a hard limit: signatures are computed over exactly these bytes.
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors.js';

/**
 * Reads the whole body, refusing (413) as soon as it passes `maxBytes`, before buffering the rest.
 * A declared Content-Length over the limit is refused without reading anything.
 */
export async function readRawBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new ApiError(413, 'body_too_large', `the request body is larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<Buffer>((resolve, reject) => {
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        cleanup();
        req.pause();
        reject(new ApiError(413, 'body_too_large', `the request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = () => {
      cleanup();
      reject(new ApiError(400, 'upload_aborted', 'the request body could not be read'));
    };
    const onAborted = () => {
      cleanup();
      reject(new ApiError(400, 'upload_aborted', 'the request was aborted'));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
