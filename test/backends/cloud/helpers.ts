// Test helpers for the cloud backends: a real PDF, a tokenized document server, and a webhook receiver.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PDFDocument } from 'pdf-lib';
import type { AttemptInfo } from '../../../src/backends/types.js';

export async function makePdf(pages = 1): Promise<Buffer> {
  const doc = await PDFDocument.create();
  for (let i = 0; i < pages; i++) doc.addPage([612, 792]).drawText(`test page ${i + 1}`, { x: 72, y: 700, size: 12 });
  return Buffer.from(await doc.save());
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function shut(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Plays our GET /fax/{id}/pdf?token=… route: 200 + PDF for the right token, 403 otherwise, 404 for an unknown job. */
export class DocServer {
  private server: Server | null = null;
  base = '';
  readonly docs = new Map<string, { token: string; pdf: Buffer }>();
  hits = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.hits++;
      const u = new URL(req.url ?? '/', 'http://x');
      const m = /^\/fax\/([^/]+)\/pdf$/.exec(u.pathname);
      const doc = m && m[1] ? this.docs.get(m[1]) : undefined;
      if (!doc) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not found"}');
        return;
      }
      if (u.searchParams.get('token') !== doc.token) {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"detail":"Invalid or expired token"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/pdf' }).end(doc.pdf);
    });
    this.base = await listen(this.server);
    return this;
  }

  /** Registers a job's PDF and returns its public URL. */
  add(jobId: string, pdf: Buffer, token = `tok-${jobId}`): string {
    this.docs.set(jobId, { token, pdf });
    return `${this.base}/fax/${jobId}/pdf?token=${token}`;
  }

  async close(): Promise<void> {
    if (this.server) await shut(this.server);
    this.server = null;
  }
}

export interface Received {
  /** Path and query as received (what the route's ctx.originalUrl would be). */
  originalUrl: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** Plays our callback routes: records each request's exact bytes and answers 200 (or a scripted status). */
export class Receiver {
  private server: Server | null = null;
  base = '';
  readonly received: Received[] = [];
  status = 200;
  private waiters: (() => void)[] = [];

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ originalUrl: req.url ?? '/', headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(this.status, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        for (const w of this.waiters.splice(0)) w();
      });
    });
    this.base = await listen(this.server);
    return this;
  }

  /** The full URL of the last request, as the route would rebuild it from PUBLIC_API_URL + originalUrl. */
  fullUrl(r: Received): string {
    return `${this.base}${r.originalUrl}`;
  }

  last(): Received {
    const r = this.received[this.received.length - 1];
    if (!r) throw new Error('nothing received');
    return r;
  }

  async close(): Promise<void> {
    if (this.server) await shut(this.server);
    this.server = null;
  }
}

/** A loopback port nothing listens on (connection refused). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export function attemptInfo(attemptNo: number, previous: { attemptNo: number; failureClass: string | null }[] = []): AttemptInfo {
  return { attemptNo, protocolFailures: 0, previous: previous.map((p) => ({ ...p, details: {} })) };
}

export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
