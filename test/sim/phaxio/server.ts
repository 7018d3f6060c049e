// A fake Phaxio v2.1 API: checks requests as Phaxio does, answers in its envelope, signs webhooks with the real scheme.
import { createHash, createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  basicCredentials, E164, fetchDocument, formDataOf, multipartBytes, playScripted, postWebhook, Script, sendJson, SimServer,
  type FetchedDocument, type SimRequest,
} from '../cloud-http.js';

export interface PhaxioSimFax {
  id: number;
  direction: 'sent' | 'received';
  status: string;
  num_pages: number | null;
  cost: number;
  is_test: boolean;
  created_at: string;
  completed_at: string | null;
  caller_id: string | null;
  from_number: string | null;
  to_number: string | null;
  recipients: {
    phone_number: string; status: string; retry_count: number; completed_at: string | null;
    bitrate: number | null; resolution: number | null; error_type: string | null; error_id: number | null; error_message: string | null;
  }[];
  tags: Record<string, string>;
  error_type: string | null;
  error_id: number | null;
  error_message: string | null;
}

export interface PhaxioSimRecord {
  fax: PhaxioSimFax;
  callbackUrl: string | null;
  contentUrl: string | null;
  /** The uploaded file part, when the fax was sent by upload. */
  upload: { filename: string; type: string; data: Buffer } | null;
  /** What the fake got when it fetched content_url. */
  fetched: FetchedDocument | null;
}

export interface PhaxioSimOptions {
  apiKey: string;
  apiSecret: string;
  /** The account's webhook token: key of X-Phaxio-Signature. */
  callbackToken: string;
}

/** PHP's json_encode escapes slashes; Phaxio's `fax` field does too. Our parser must keep these bytes as they are. */
export function phpJson(v: unknown): string {
  return JSON.stringify(v).replace(/\//g, '\\/');
}

/** Phaxio's webhook signature, written here independently of the code under test. */
export function phaxioSign(token: string, url: string, fields: readonly (readonly [string, string])[], files: readonly { name: string; data: Buffer }[]): string {
  const sortedFields = [...fields].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const sortedFiles = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let s = url;
  for (const [k, v] of sortedFields) s += k + v;
  for (const f of sortedFiles) s += f.name + createHash('sha1').update(f.data).digest('hex');
  return createHmac('sha1', token).update(s, 'utf8').digest('hex');
}

const fail = (res: ServerResponse, status: number, message: string) => sendJson(res, status, { success: false, message, data: null });

export class PhaxioSim {
  readonly server = new SimServer();
  /** Scripted answers for POST /faxes. */
  readonly sendScript = new Script();
  /** Scripted answers for GET requests. */
  readonly getScript = new Script();
  readonly faxes = new Map<number, PhaxioSimRecord>();
  readonly requests: { method: string; path: string; query: string }[] = [];
  private nextId = 51_000_001;

  constructor(private readonly opts: PhaxioSimOptions) {}

  /** Starts the server; the base URL to configure is `${url}/v2.1`. */
  async start(): Promise<string> {
    const url = await this.server.start((req, res) => this.handle(req, res));
    return `${url}/v2.1`;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  get sent(): PhaxioSimRecord[] {
    return [...this.faxes.values()].filter((r) => r.fax.direction === 'sent');
  }

  private async handle(req: SimRequest, res: ServerResponse): Promise<void> {
    this.requests.push({ method: req.method, path: req.url.pathname, query: req.url.search });
    const creds = basicCredentials(req.headers.authorization);
    if (!creds || creds.user !== this.opts.apiKey || creds.pass !== this.opts.apiSecret) {
      return fail(res, 401, 'Invalid API key or secret.');
    }
    const path = req.url.pathname;
    if (req.method === 'POST' && path === '/v2.1/faxes') return this.create(req, res);
    if (req.method === 'GET') {
      const scripted = playScripted(this.getScript.next(), res);
      if (scripted === 'handled') return;
      if (path === '/v2.1/faxes') return this.list(req, res);
      const m = /^\/v2\.1\/faxes\/(\d+)(\/file)?$/.exec(path);
      if (m) {
        const rec = this.faxes.get(Number(m[1]));
        if (!rec) return fail(res, 404, 'Fax not found');
        if (m[2]) {
          const data = rec.upload?.data ?? rec.fetched?.bytes ?? null;
          if (!data) return fail(res, 404, 'File not found');
          res.writeHead(200, { 'content-type': 'application/pdf' });
          res.end(data);
          return;
        }
        return sendJson(res, 200, { success: true, message: 'Retrieved fax successfully', data: rec.fax });
      }
    }
    return fail(res, 404, 'Not found');
  }

  private async create(req: SimRequest, res: ServerResponse): Promise<void> {
    const scripted = playScripted(this.sendScript.next(), res);
    if (scripted === 'handled') return;
    const type = String(req.headers['content-type'] ?? '');
    if (!/^multipart\/form-data|^application\/x-www-form-urlencoded/.test(type)) {
      return fail(res, 422, 'Request must be multipart/form-data or application/x-www-form-urlencoded');
    }
    const form = await formDataOf(req.raw, type);
    const to = form.get('to');
    if (typeof to !== 'string' || !E164.test(to)) return fail(res, 422, "The 'to' parameter must be a phone number in E.164 format");
    const contentUrl = form.get('content_url');
    const file = form.get('file') ?? form.get('file[]');
    if (contentUrl === null && file === null) return fail(res, 422, 'You must include at least one file or content_url');
    let upload: PhaxioSimRecord['upload'] = null;
    if (file !== null) {
      if (typeof file === 'string' || !file.name) return fail(res, 422, 'The file parameter must be a file upload with a filename');
      const data = Buffer.from(await file.arrayBuffer());
      if (data.subarray(0, 5).toString('latin1') !== '%PDF-') return fail(res, 422, 'Mimetype not supported.');
      upload = { filename: file.name, type: file.type, data };
    }
    const tags: Record<string, string> = {};
    for (const [k, v] of form) {
      const m = /^tag\[(.+)\]$/.exec(k);
      if (m && m[1] && typeof v === 'string') tags[m[1]] = v;
    }
    const callbackUrl = form.get('callback_url');
    const headerText = form.get('header_text');
    if (typeof headerText === 'string' && headerText.length > 50) return fail(res, 422, 'header_text must be 50 characters or less');

    const id = this.nextId++;
    const fax: PhaxioSimFax = {
      id, direction: 'sent', status: 'queued', num_pages: null, cost: 0, is_test: false,
      created_at: new Date().toISOString(), completed_at: null,
      caller_id: typeof form.get('caller_id') === 'string' ? (form.get('caller_id') as string) : '+18475551234',
      from_number: null, to_number: to,
      recipients: [{ phone_number: to, status: 'queued', retry_count: 0, completed_at: null, bitrate: null, resolution: null, error_type: null, error_id: null, error_message: null }],
      tags, error_type: null, error_id: null, error_message: null,
    };
    const rec: PhaxioSimRecord = {
      fax, callbackUrl: typeof callbackUrl === 'string' ? callbackUrl : null,
      contentUrl: typeof contentUrl === 'string' ? contentUrl : null, upload, fetched: null,
    };
    if (rec.contentUrl !== null) {
      // Phaxio renders content URLs itself; one it cannot fetch fails the fax later (documentConversionError 54).
      rec.fetched = await fetchDocument(rec.contentUrl);
    }
    this.faxes.set(id, rec);
    if (scripted === 'lose') return;
    sendJson(res, 200, { success: true, message: 'Fax queued for sending', data: { id } });
  }

  private list(req: SimRequest, res: ServerResponse): void {
    const q = req.url.searchParams;
    const after = q.get('created_after');
    const direction = q.get('direction');
    const tagFilters: [string, string][] = [];
    for (const [k, v] of q) {
      const m = /^tag\[(.+)\]$/.exec(k);
      if (m && m[1]) tagFilters.push([m[1], v]);
    }
    const data = [...this.faxes.values()]
      .map((r) => r.fax)
      .filter((f) => !after || Date.parse(f.created_at) >= Date.parse(after))
      .filter((f) => !direction || f.direction === direction)
      .filter((f) => tagFilters.every(([k, v]) => f.tags[k] === v))
      .sort((a, b) => b.id - a.id);
    const perPage = Number(q.get('per_page') ?? 20);
    sendJson(res, 200, {
      success: true, message: 'Retrieved faxes successfully', data: data.slice(0, perPage),
      paging: { total: data.length, per_page: perPage, page: 1 },
    });
  }

  /**
   * Finishes a sent fax and fires its fax_completed webhook to its callback_url (or `url`).
   * A fax whose content_url could not be fetched always fails with documentConversionError 54.
   */
  async complete(
    id: number,
    result: { status: 'success'; pages: number } | { status: 'failure'; errorType: string; errorId: number; errorMessage: string },
    opts: { url?: string; tamper?: (fields: [string, string][]) => void } = {},
  ): Promise<{ status: number; text: string }> {
    const rec = this.faxes.get(id);
    if (!rec) throw new Error(`no fax ${id}`);
    const f = rec.fax;
    const now = new Date().toISOString();
    const r = rec.fetched && !rec.fetched.ok
      ? { status: 'failure' as const, errorType: 'documentConversionError', errorId: 54, errorMessage: 'Could not access the url you provided.' }
      : result;
    f.status = r.status;
    f.completed_at = now;
    const rcp = f.recipients[0]!;
    rcp.status = r.status;
    rcp.completed_at = now;
    if (r.status === 'success') {
      f.num_pages = r.pages;
      f.cost = 7 * r.pages;
      rcp.bitrate = 14400;
      rcp.resolution = 8040;
    } else {
      f.error_type = rcp.error_type = r.errorType;
      f.error_id = rcp.error_id = r.errorId;
      f.error_message = rcp.error_message = r.errorMessage;
    }
    const url = opts.url ?? rec.callbackUrl;
    if (!url) throw new Error('no callback URL');
    const fields: [string, string][] = [['fax', phpJson(f)], ['event_type', 'fax_completed']];
    return this.postSigned(url, fields, [], opts.tamper);
  }

  /** Fires an inflight transmitting_page webhook. */
  async transmittingPage(id: number, page: number, url?: string): Promise<{ status: number; text: string }> {
    const rec = this.faxes.get(id);
    if (!rec) throw new Error(`no fax ${id}`);
    rec.fax.status = 'inprogress';
    rec.fax.recipients[0]!.status = 'callactive';
    const target = url ?? rec.callbackUrl;
    if (!target) throw new Error('no callback URL');
    return this.postSigned(target, [
      ['fax', phpJson(rec.fax)], ['event_type', 'transmitting_page'], ['page', String(page)], ['recipient_phone_number', rec.fax.to_number ?? ''],
    ], []);
  }

  /** A received fax: stored, then POSTed with its PDF as the `file` part, signed. */
  async receive(url: string, opts: { from: string; to: string; pdf: Buffer; pages: number; isTest?: boolean }): Promise<{ status: number; text: string; id: number }> {
    const id = this.nextId++;
    const now = new Date().toISOString();
    const fax: PhaxioSimFax = {
      id, direction: 'received', status: 'success', num_pages: opts.pages, cost: 0, is_test: opts.isTest ?? false,
      created_at: now, completed_at: now, caller_id: null, from_number: opts.from, to_number: opts.to, recipients: [],
      tags: {}, error_type: null, error_id: null, error_message: null,
    };
    this.faxes.set(id, { fax, callbackUrl: url, contentUrl: null, upload: { filename: 'fax.pdf', type: 'application/pdf', data: opts.pdf }, fetched: null });
    const r = await this.postSigned(url, [
      ['fax', phpJson(fax)], ['direction', 'received'], ['is_test', String(fax.is_test)], ['event_type', 'fax_received'],
    ], [{ name: 'file', filename: `Fax-${id}.pdf`, type: 'application/pdf', data: opts.pdf }]);
    return { ...r, id };
  }

  private postSigned(
    url: string,
    fields: [string, string][],
    files: { name: string; filename: string; type: string; data: Buffer }[],
    tamper?: (fields: [string, string][]) => void,
  ): Promise<{ status: number; text: string }> {
    const signature = phaxioSign(this.opts.callbackToken, url, fields, files);
    if (tamper) tamper(fields);
    const { body, contentType } = multipartBytes(fields, files);
    return postWebhook(url, body, { 'content-type': contentType, 'x-phaxio-signature': signature, 'user-agent': 'Phaxio-Webhook/2.1' });
  }
}
