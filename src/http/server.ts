// The HTTP server around the Koa app: early 413 for oversize uploads (even before 100-continue) and a lingering close.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

export interface ServerOptions {
  host: string;
  port: number;
  /** Largest request body accepted by any route, envelope included. */
  maxBodyBytes: () => number;
}

/** After refusing an upload, read at most this much more while the response drains, then cut the connection. */
const LINGER_MS = 2000;
const LINGER_BYTES = 1024 * 1024;

function refuseTooLarge(res: ServerResponse): void {
  const body = JSON.stringify({ detail: 'the request body is larger than this server accepts (MAX_FILE_SIZE_MB)', code: 'file_too_large' });
  res.writeHead(413, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
  res.end(body);
}

/**
 * When a response is sent before the request body was read (413, or a 4xx on an upload), the rest of the
 * body must not be read into memory, yet closing at once would reset the connection and the client might
 * never see the answer. Such responses carry `Connection: close` (see the error handler); for them:
 * discard a little more while the answer drains, then close. Other responses are left to Node, which
 * discards any unread body and keeps the connection.
 */
function lingerClose(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return;
  if (String(res.getHeader('connection') ?? '').toLowerCase() !== 'close') return;
  const socket = req.socket;
  let seen = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > LINGER_BYTES) socket.destroy();
  });
  req.once('end', () => socket.end());
  req.resume();
  const t = setTimeout(() => socket.destroy(), LINGER_MS);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}

export async function listen(app: Koa, opts: ServerOptions): Promise<{ server: Server; url: string }> {
  const handler = app.callback();
  const server = createServer((req, res) => {
    res.once('finish', () => lingerClose(req, res));
    void handler(req, res);
  });
  // Clients that ask before sending a large body (curl does above 1 MB) get the 413 without sending it.
  server.on('checkContinue', (req, res) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > opts.maxBodyBytes()) {
      refuseTooLarge(res);
      res.once('finish', () => lingerClose(req, res));
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 30_000;
  server.requestTimeout = 300_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return { server, url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${a.port}` };
}

/** Stops accepting connections and waits for requests in flight (at most `graceMs`), then closes the rest. */
export async function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const t = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(t);
}
