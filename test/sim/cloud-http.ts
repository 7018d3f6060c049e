// HTTP plumbing shared by the fake cloud-provider servers: a node:http server, scripted failures, document fetches.
// The fakes parse requests with Node's own parsers (URLSearchParams, Response.formData), never with ours.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  raw: Buffer;
}

/** One scripted answer for the next matching request, used before the fake's normal behaviour. */
export type Scripted =
  /** Answer with this status and body (JSON unless a string is given). */
  | { kind: 'http'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Never answer (the client times out); nothing is created. */
  | { kind: 'hang' }
  /** Do the work (the fax is created) but never answer: a lost response. */
  | { kind: 'lose' };

export class Script {
  private readonly queue: Scripted[] = [];
  push(...items: Scripted[]): this {
    this.queue.push(...items);
    return this;
  }
  /** n times the same answer, e.g. 500 twice then normal behaviour. */
  repeat(n: number, item: Scripted): this {
    for (let i = 0; i < n; i++) this.queue.push(item);
    return this;
  }
  next(): Scripted | undefined {
    return this.queue.shift();
  }
  get pending(): number {
    return this.queue.length;
  }
}

export type Handler = (req: SimRequest, res: ServerResponse) => Promise<void>;

/** A node:http server on 127.0.0.1 with a random port that can be closed with requests still hanging. */
export class SimServer {
  private server: Server | null = null;
  url = '';

  async start(handler: Handler): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const sreq: SimRequest = {
          method: req.method ?? 'GET',
          url: new URL(req.url ?? '/', 'http://sim.invalid'),
          headers: req.headers,
          raw: Buffer.concat(chunks),
        };
        handler(sreq, res).catch((err: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { error: 'simulator failure', detail: String(err) });
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
  res.end(text);
}

/** Plays a scripted answer. Returns 'handled' (answered or hanging), 'lose' (do the work, then hang) or 'normal'. */
export function playScripted(s: Scripted | undefined, res: ServerResponse): 'handled' | 'lose' | 'normal' {
  if (!s) return 'normal';
  if (s.kind === 'hang') return 'handled';
  if (s.kind === 'lose') return 'lose';
  sendJson(res, s.status, s.body ?? '', s.headers);
  return 'handled';
}

/** Parses a multipart or urlencoded body with Node's own parser (undici), independent of the code under test. */
export async function formDataOf(raw: Buffer, contentType: string): Promise<FormData> {
  return new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
}

export function basicCredentials(header: string | undefined): { user: string; pass: string } | null {
  const m = /^Basic (.+)$/.exec(header ?? '');
  if (!m || !m[1]) return null;
  const s = Buffer.from(m[1], 'base64').toString('utf8');
  const i = s.indexOf(':');
  return i < 0 ? null : { user: s.slice(0, i), pass: s.slice(i + 1) };
}

export interface FetchedDocument {
  ok: boolean;
  status: number | null;
  contentType: string | null;
  bytes: Buffer | null;
  reason?: string;
}

/** GETs a document URL the way a provider fetches content_url / contentUrl / MediaUrl, and checks it is a PDF. */
export async function fetchDocument(url: string, timeoutMs = 5000): Promise<FetchedDocument> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const bytes = Buffer.from(await res.arrayBuffer());
    const contentType = res.headers.get('content-type');
    if (res.status !== 200) return { ok: false, status: res.status, contentType, bytes, reason: `HTTP ${res.status}` };
    if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') return { ok: false, status: 200, contentType, bytes, reason: 'not a PDF' };
    return { ok: true, status: 200, contentType, bytes };
  } catch (err) {
    return { ok: false, status: null, contentType: null, bytes: null, reason: String(err) };
  }
}

/** Builds a multipart body byte by byte, as a provider's webhook sender would. */
export function multipartBytes(
  fields: readonly (readonly [string, string])[],
  files: readonly { name: string; filename: string; type: string; data: Buffer }[] = [],
  boundary = `----phx${Math.random().toString(16).slice(2)}`,
): { body: Buffer; contentType: string } {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`, 'utf8'));
  }
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\nContent-Type: ${f.type}\r\n\r\n`, 'utf8'));
    parts.push(f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** POSTs a webhook and reports the receiver's answer. */
export async function postWebhook(url: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers, signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}

export const E164 = /^\+[1-9]\d{6,14}$/;
