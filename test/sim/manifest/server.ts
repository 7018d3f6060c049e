// A fake "Example HTTP Fax" provider for manifests: JSON or multipart send, polling, listing by job, signed JSON webhooks.
import { createHmac, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  E164, fetchDocument, formDataOf, playScripted, postWebhook, Script, sendJson, SimServer, type FetchedDocument, type SimRequest,
} from '../cloud-http.js';

export interface ExampleFax {
  id: string;
  status: string;
  to: string;
  pages: number | null;
  error: string | null;
  metadata: Record<string, string>;
  created_at: string;
}

export interface ExampleRecord {
  fax: ExampleFax;
  callbackUrl: string | null;
  fetched: FetchedDocument | null;
  upload: Buffer | null;
  idempotencyKey: string | null;
  /** How the request was authorised (bearer, header, query) and sent (json, multipart, form). */
  auth: string;
  format: string;
}

export interface ExampleSimOptions {
  apiKey: string;
  webhookSecret: string;
}

const fail = (res: ServerResponse, status: number, code: string, message: string) => sendJson(res, status, { error: { code, message } });

export class ExampleFaxSim {
  readonly server = new SimServer();
  readonly sendScript = new Script();
  readonly faxes = new Map<string, ExampleRecord>();
  private readonly byKey = new Map<string, string>();

  constructor(readonly opts: ExampleSimOptions) {}

  /** Returns the base URL (`…/v1`) to put in EXAMPLE_FAX_BASE_URL. */
  async start(): Promise<string> {
    return `${await this.server.start((req, res) => this.handle(req, res))}/v1`;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Accepts the key as a Bearer token, an X-Api-Key header or an api_key query parameter. */
  private authOf(req: SimRequest): string | null {
    if (req.headers.authorization === `Bearer ${this.opts.apiKey}`) return 'bearer';
    if (req.headers['x-api-key'] === this.opts.apiKey) return 'header';
    if (req.url.searchParams.get('api_key') === this.opts.apiKey) return 'query';
    return null;
  }

  private async handle(req: SimRequest, res: ServerResponse): Promise<void> {
    const auth = this.authOf(req);
    if (!auth) return fail(res, 401, 'unauthorized', 'Missing or invalid API key');
    const path = req.url.pathname;
    if (req.method === 'POST' && path === '/v1/faxes') return this.create(req, res, auth);
    if (req.method === 'GET' && path === '/v1/faxes') {
      const job = req.url.searchParams.get('metadata.faxbot_job');
      const faxes = [...this.faxes.values()].map((r) => r.fax).filter((f) => !job || f.metadata.faxbot_job === job);
      return sendJson(res, 200, { faxes });
    }
    const m = /^\/v1\/faxes\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && m?.[1]) {
      const rec = this.faxes.get(m[1]);
      return rec ? sendJson(res, 200, { fax: rec.fax }) : fail(res, 404, 'not_found', 'No such fax');
    }
    return fail(res, 404, 'not_found', 'No such route');
  }

  private async create(req: SimRequest, res: ServerResponse, auth: string): Promise<void> {
    const scripted = playScripted(this.sendScript.next(), res);
    if (scripted === 'handled') return;
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    if (key && this.byKey.has(key)) {
      // Same key, same fax: a retried request never makes a second one.
      return sendJson(res, 200, { fax: this.faxes.get(this.byKey.get(key)!)!.fax });
    }
    const type = String(req.headers['content-type'] ?? '');
    let to: unknown;
    let documentUrl: unknown;
    let callbackUrl: unknown;
    let metadata: Record<string, string> = {};
    let upload: Buffer | null = null;
    let format: string;
    if (type.startsWith('application/json')) {
      format = 'json';
      let b: Record<string, unknown>;
      try {
        b = JSON.parse(req.raw.toString()) as Record<string, unknown>;
      } catch {
        return fail(res, 400, 'invalid_json', 'Body is not JSON');
      }
      ({ to, document_url: documentUrl, callback_url: callbackUrl } = b);
      if (b.metadata && typeof b.metadata === 'object') metadata = b.metadata as Record<string, string>;
      if (typeof b.document_base64 === 'string') upload = Buffer.from(b.document_base64, 'base64');
    } else if (type.startsWith('multipart/form-data') || type.startsWith('application/x-www-form-urlencoded')) {
      format = type.startsWith('multipart') ? 'multipart' : 'form';
      const fd = await formDataOf(req.raw, type);
      to = fd.get('to');
      documentUrl = fd.get('document_url') ?? undefined;
      callbackUrl = fd.get('callback_url') ?? undefined;
      for (const [k, v] of fd) {
        const mm = /^metadata\[(.+)\]$/.exec(k);
        if (mm?.[1] && typeof v === 'string') metadata[mm[1]] = v;
      }
      const file = fd.get('document');
      if (file !== null && typeof file !== 'string') upload = Buffer.from(await file.arrayBuffer());
    } else {
      return fail(res, 415, 'unsupported_media_type', 'Send JSON, multipart or form data');
    }
    if (typeof to !== 'string' || !E164.test(to)) return fail(res, 422, 'invalid_number', `"to" must be an E.164 number`);
    if (upload === null && typeof documentUrl !== 'string') return fail(res, 422, 'missing_document', 'Provide document_url or a document');
    if (upload !== null && upload.subarray(0, 5).toString('latin1') !== '%PDF-') return fail(res, 422, 'invalid_document', 'The document file is not a PDF');
    const id = `fx_${randomUUID().slice(0, 8)}`;
    const fax: ExampleFax = { id, status: 'queued', to, pages: null, error: null, metadata, created_at: new Date().toISOString() };
    const rec: ExampleRecord = {
      fax, callbackUrl: typeof callbackUrl === 'string' ? callbackUrl : null, upload, idempotencyKey: key, auth, format,
      fetched: typeof documentUrl === 'string' ? await fetchDocument(documentUrl) : null,
    };
    this.faxes.set(id, rec);
    if (key) this.byKey.set(key, id);
    if (scripted === 'lose') return;
    sendJson(res, 201, { fax });
  }

  /** Sets a fax's status and POSTs the signed JSON webhook to its callback_url. */
  async update(id: string, status: string, o: { pages?: number; error?: string; tamper?: (body: string) => string } = {}): Promise<{ status: number; text: string }> {
    const rec = this.faxes.get(id);
    if (!rec) throw new Error(`no fax ${id}`);
    const failedFetch = rec.fetched && !rec.fetched.ok;
    rec.fax.status = failedFetch ? 'document_error' : status;
    rec.fax.pages = failedFetch ? null : o.pages ?? rec.fax.pages;
    rec.fax.error = failedFetch ? `Could not download the document (${rec.fetched?.reason ?? 'error'})` : o.error ?? null;
    if (!rec.callbackUrl) throw new Error('no callback_url');
    const body = JSON.stringify({ event: 'fax.status', fax: rec.fax });
    const signature = `sha256=${createHmac('sha256', this.opts.webhookSecret).update(body).digest('hex')}`;
    return postWebhook(rec.callbackUrl, o.tamper ? o.tamper(body) : body, { 'content-type': 'application/json', 'x-example-signature': signature });
  }
}
