// Turns every error into {"detail": "...", "code": "..."} with the right status; unexpected ones are logged, not shown.
import type { Middleware } from 'koa';
import { ApiError } from '../../errors.js';
import type { Logger } from '../../log.js';

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  501: 'not_implemented',
};

export function errorHandler(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new ApiError(404, 'not_found', 'Not Found');
    } catch (err) {
      // Refused before its body was read: close the connection rather than read the rest of an upload.
      if (!ctx.req.complete && hasBody(ctx.req.headers)) ctx.set('Connection', 'close');
      if (err instanceof ApiError) {
        ctx.status = err.status;
        ctx.body = { detail: err.detail, code: err.code };
        for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
        return;
      }
      const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string; headers?: Record<string, string> };
      const status = e.status ?? e.statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        ctx.status = status;
        ctx.body = { detail: e.expose && e.message ? e.message : (CODES[status] ?? 'error').replace(/_/g, ' '), code: CODES[status] ?? 'error' };
        if (e.headers) for (const [k, v] of Object.entries(e.headers)) ctx.set(k, v);
        return;
      }
      log.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = { detail: 'Internal server error', code: 'internal_error' };
    }
  };
}

function hasBody(h: Record<string, string | string[] | undefined>): boolean {
  return h['transfer-encoding'] !== undefined || Number(h['content-length'] ?? 0) > 0;
}
