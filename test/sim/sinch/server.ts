// A fake Sinch Fax v3 API with its OAuth2 token endpoint: checks requests as Sinch does, answers in its shapes, fires webhooks.
import { createHmac, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  basicCredentials, E164, fetchDocument, formDataOf, multipartBytes, playScripted, postWebhook, Script, sendJson, SimServer,
  type FetchedDocument, type SimRequest,
} from '../cloud-http.js';

export interface SinchSimFax {
  id: string;
  direction: 'OUTBOUND' | 'INBOUND';
  from: string;
  to: string;
  contentUrl?: string;
  numberOfPages: number;
  pagesSentSuccessfully?: number;
  status: 'QUEUED' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILURE';
  createTime: string;
  completedTime?: string;
  labels: Record<string, string>;
  callbackUrl?: string;
  callbackUrlContentType?: string;
  errorType?: string;
  errorCode?: number;
  errorMessage?: string;
  retryCount: number;
  maxRetries: number;
  hasFile: boolean;
  projectId: string;
  resolution: string;
}

export interface SinchSimRecord {
  fax: SinchSimFax;
  /** How the request came: JSON or multipart. */
  format: 'json' | 'multipart';
  upload: Buffer | null;
  fetched: FetchedDocument | null;
}

export interface SinchSimOptions {
  projectId: string;
  keyId: string;
  keySecret: string;
  /** Answer POST /faxes with an array (newer docs) instead of one object. */
  arrayResponse?: boolean;
  /** Lifetime of issued tokens, seconds. */
  tokenTtl?: number;
  /** Refuse Basic on the API (OAuth only). */
  oauthOnly?: boolean;
}

const err = (res: ServerResponse, status: number, error: string, message: string, details?: unknown) =>
  sendJson(res, status, { code: String(status), error, message, ...(details ? { details } : {}) });

export class SinchSim {
  readonly server = new SimServer();
  readonly sendScript = new Script();
  readonly getScript = new Script();
  readonly faxes = new Map<string, SinchSimRecord>();
  readonly tokens = new Map<string, number>();
  tokenRequests = 0;
  readonly authSeen: string[] = [];
  readonly listQueries: URLSearchParams[] = [];

  constructor(readonly opts: SinchSimOptions) {}

  /** Starts; returns the API base (`…/v3`) and the token URL. */
  async start(): Promise<{ baseUrl: string; tokenUrl: string }> {
    const url = await this.server.start((req, res) => this.handle(req, res));
    return { baseUrl: `${url}/v3`, tokenUrl: `${url}/oauth2/token` };
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Makes every issued token invalid (as if revoked or expired early). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  get outbound(): SinchSimRecord[] {
    return [...this.faxes.values()].filter((r) => r.fax.direction === 'OUTBOUND');
  }

  private async handle(req: SimRequest, res: ServerResponse): Promise<void> {
    if (req.url.pathname === '/oauth2/token') return this.token(req, res);
    const auth = req.headers.authorization ?? '';
    this.authSeen.push(auth.split(' ')[0] ?? '');
    const basic = basicCredentials(auth);
    const bearer = /^Bearer (.+)$/.exec(auth)?.[1];
    const basicOk = !this.opts.oauthOnly && basic?.user === this.opts.keyId && basic.pass === this.opts.keySecret;
    const bearerOk = bearer !== undefined && (this.tokens.get(bearer) ?? 0) > Date.now();
    if (!basicOk && !bearerOk) {
      res.writeHead(401).end();
      return;
    }
    const prefix = `/v3/projects/${this.opts.projectId}/faxes`;
    const path = req.url.pathname;
    if (!path.startsWith(prefix)) return err(res, 404, 'Not found', 'The resource is not found, not available, or does not exist.');
    const rest = path.slice(prefix.length);
    if (req.method === 'POST' && rest === '') return this.create(req, res);
    if (req.method === 'GET') {
      if (playScripted(this.getScript.next(), res) === 'handled') return;
      if (rest === '') return this.list(req, res);
      const m = /^\/([^/]+)(\/file\.pdf)?$/.exec(rest);
      const rec = m?.[1] ? this.faxes.get(m[1]) : undefined;
      if (!rec) return err(res, 404, 'Not found', 'The resource is not found, not available, or does not exist.');
      if (m?.[2]) {
        const data = rec.upload ?? rec.fetched?.bytes;
        if (!data) return err(res, 404, 'Not found', 'No file for this fax');
        res.writeHead(200, { 'content-type': 'application/pdf' }).end(data);
        return;
      }
      return sendJson(res, 200, rec.fax);
    }
    return err(res, 405, 'Method not allowed', 'Method not allowed');
  }

  private token(req: SimRequest, res: ServerResponse): void {
    this.tokenRequests++;
    const c = basicCredentials(req.headers.authorization);
    if (req.method !== 'POST' || !c || c.user !== this.opts.keyId || c.pass !== this.opts.keySecret) {
      return sendJson(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'form body required' });
    }
    if (new URLSearchParams(req.raw.toString()).get('grant_type') !== 'client_credentials') {
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' });
    }
    const ttl = this.opts.tokenTtl ?? 3600;
    const token = randomUUID();
    this.tokens.set(token, Date.now() + ttl * 1000);
    sendJson(res, 200, { access_token: token, expires_in: ttl, scope: '', token_type: 'bearer' });
  }

  private async create(req: SimRequest, res: ServerResponse): Promise<void> {
    const scripted = playScripted(this.sendScript.next(), res);
    if (scripted === 'handled') return;
    const type = String(req.headers['content-type'] ?? '');
    let to: unknown;
    let contentUrl: unknown;
    let labels: Record<string, string> = {};
    let callbackUrl: unknown;
    let callbackUrlContentType: unknown;
    let upload: Buffer | null = null;
    let format: 'json' | 'multipart';
    if (type.startsWith('application/json')) {
      format = 'json';
      let b: Record<string, unknown>;
      try {
        b = JSON.parse(req.raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return err(res, 400, 'Bad Request', 'The request could not be understood by the server due to malformed syntax.');
      }
      ({ to, contentUrl, callbackUrl, callbackUrlContentType } = b);
      if (b.labels && typeof b.labels === 'object') labels = b.labels as Record<string, string>;
      if (Array.isArray(b.files)) {
        const f = b.files[0] as { file?: unknown; fileType?: unknown } | undefined;
        if (typeof f?.file !== 'string' || f.fileType !== 'PDF') {
          return err(res, 422, 'Invalid parameters', 'Invalid files', { fieldViolations: [{ field: 'files', description: 'each file needs base64 file and fileType' }] });
        }
        upload = Buffer.from(f.file, 'base64');
      }
    } else if (type.startsWith('multipart/form-data')) {
      format = 'multipart';
      const fd = await formDataOf(req.raw, type);
      to = fd.get('to');
      contentUrl = fd.get('contentUrl') ?? undefined;
      callbackUrl = fd.get('callbackUrl') ?? undefined;
      callbackUrlContentType = fd.get('callbackUrlContentType') ?? undefined;
      for (const [k, v] of fd) {
        const m = /^labels\[(.+)\]$/.exec(k);
        if (m?.[1] && typeof v === 'string') labels[m[1]] = v;
      }
      const file = fd.get('file');
      if (file !== null) {
        if (typeof file === 'string') return err(res, 400, 'Bad Request', 'file must be a file part');
        upload = Buffer.from(await file.arrayBuffer());
      }
    } else {
      return err(res, 415, 'Unsupported Media Type', 'Use application/json or multipart/form-data');
    }
    if (typeof to !== 'string' || !E164.test(to)) {
      return err(res, 422, 'Invalid parameters', 'The request could not be understood by the server due to malformed syntax.', {
        fieldViolations: [{ field: 'to', description: `The (${String(to)}) is not a valid phone number` }],
      });
    }
    if (upload === null && typeof contentUrl !== 'string') return err(res, 400, 'Bad Request', 'Either a file or contentUrl is required');
    if (upload !== null && upload.subarray(0, 5).toString('latin1') !== '%PDF-') {
      return err(res, 422, 'Invalid parameters', 'Mimetype not supported.', { fieldViolations: [{ field: 'file', description: 'Mimetype not supported.' }] });
    }
    const id = `01${randomUUID().replace(/-/g, '').toUpperCase().slice(0, 24)}`;
    const fax: SinchSimFax = {
      id, direction: 'OUTBOUND', from: '+12015550100', to, numberOfPages: 0, status: 'QUEUED', createTime: new Date().toISOString(),
      labels, retryCount: 0, maxRetries: 3, hasFile: upload !== null, projectId: this.opts.projectId, resolution: 'FINE',
      ...(typeof contentUrl === 'string' ? { contentUrl } : {}),
      ...(typeof callbackUrl === 'string' ? { callbackUrl } : {}),
      ...(typeof callbackUrlContentType === 'string' ? { callbackUrlContentType } : {}),
    };
    const rec: SinchSimRecord = { fax, format, upload, fetched: null };
    if (typeof contentUrl === 'string') rec.fetched = await fetchDocument(contentUrl);
    this.faxes.set(id, rec);
    if (scripted === 'lose') return;
    sendJson(res, 200, this.opts.arrayResponse ? [fax] : fax);
  }

  private list(req: SimRequest, res: ServerResponse): void {
    const q = req.url.searchParams;
    this.listQueries.push(q);
    const to = q.get('to');
    const direction = q.get('direction');
    const since = q.get('createTime>');
    const pageSize = Number(q.get('pageSize') ?? 100);
    const faxes = [...this.faxes.values()]
      .map((r) => r.fax)
      .filter((f) => !to || f.to.startsWith(to))
      .filter((f) => !direction || f.direction === direction)
      .filter((f) => !since || Date.parse(f.createTime) >= Date.parse(since));
    sendJson(res, 200, { faxes: faxes.slice(0, pageSize), totalItems: faxes.length, pageSize });
  }

  /** Adds a fax sent by someone else (another system on the same project), without our labels. */
  addForeign(to: string): string {
    const id = `01${randomUUID().replace(/-/g, '').toUpperCase().slice(0, 24)}`;
    this.faxes.set(id, {
      fax: { id, direction: 'OUTBOUND', from: '+12015550100', to, numberOfPages: 1, status: 'COMPLETED', createTime: new Date().toISOString(), labels: {}, retryCount: 0, maxRetries: 3, hasFile: true, projectId: this.opts.projectId, resolution: 'FINE' },
      format: 'json', upload: null, fetched: null,
    });
    return id;
  }

  /** Finishes an outbound fax and fires FAX_COMPLETED to its callbackUrl in the format it asked for. */
  async complete(
    id: string,
    result: { status: 'COMPLETED'; pages: number } | { status: 'FAILURE'; errorType: string; errorCode: number; errorMessage: string; pagesSent?: number },
  ): Promise<{ status: number; text: string }> {
    const rec = this.faxes.get(id);
    if (!rec) throw new Error(`no fax ${id}`);
    const f = rec.fax;
    const r = rec.fetched && !rec.fetched.ok
      ? { status: 'FAILURE' as const, errorType: 'DOCUMENT_CONVERSION_ERROR', errorCode: 54, errorMessage: `Could not access the url you provided. ${f.contentUrl ?? ''}`.trim() }
      : result;
    f.status = r.status;
    f.completedTime = new Date().toISOString();
    if (r.status === 'COMPLETED') {
      f.numberOfPages = r.pages;
      f.pagesSentSuccessfully = r.pages;
    } else {
      Object.assign(f, { errorType: r.errorType, errorCode: r.errorCode, errorMessage: r.errorMessage, pagesSentSuccessfully: 'pagesSent' in r ? r.pagesSent ?? 0 : 0 });
    }
    if (!f.callbackUrl) throw new Error('no callbackUrl');
    return this.deliver(f.callbackUrl, f.callbackUrlContentType === 'application/json' ? 'json' : 'multipart', 'FAX_COMPLETED', f, null, {});
  }

  /** An incoming fax delivered to the service's incomingWebhookUrl. */
  async incoming(
    url: string,
    opts: { from: string; to: string; pdf: Buffer; pages: number; format: 'json' | 'multipart'; hmacSecret?: string },
  ): Promise<{ status: number; text: string; id: string }> {
    const id = `01${randomUUID().replace(/-/g, '').toUpperCase().slice(0, 24)}`;
    const now = new Date().toISOString();
    const fax: SinchSimFax = {
      id, direction: 'INBOUND', from: opts.from, to: opts.to, numberOfPages: opts.pages, status: 'COMPLETED', createTime: now,
      completedTime: now, labels: {}, retryCount: 0, maxRetries: 0, hasFile: true, projectId: this.opts.projectId, resolution: 'FINE',
    };
    this.faxes.set(id, { fax, format: opts.format, upload: opts.pdf, fetched: null });
    const r = await this.deliver(url, opts.format, 'INCOMING_FAX', fax, opts.pdf, { hmacSecret: opts.hmacSecret });
    return { ...r, id };
  }

  private deliver(
    target: string,
    format: 'json' | 'multipart',
    event: string,
    fax: SinchSimFax,
    pdf: Buffer | null,
    o: { hmacSecret?: string },
  ): Promise<{ status: number; text: string }> {
    // Credentials in the webhook URL are sent as Basic auth (fetch refuses them inside the URL).
    const u = new URL(target);
    const headers: Record<string, string> = { 'user-agent': 'Sinch-Fax-Webhooks' };
    if (u.username) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
    const eventTime = new Date().toISOString();
    let body: Buffer;
    if (format === 'json') {
      const j: Record<string, unknown> = { event, eventTime, fax };
      if (pdf) Object.assign(j, { file: pdf.toString('base64'), fileType: 'PDF' });
      body = Buffer.from(JSON.stringify(j));
      headers['content-type'] = 'application/json';
    } else {
      const m = multipartBytes([['event', event], ['eventTime', eventTime], ['fax', JSON.stringify(fax)]],
        pdf ? [{ name: 'file', filename: `${fax.id}.pdf`, type: 'application/pdf', data: pdf }] : []);
      body = m.body;
      headers['content-type'] = m.contentType;
    }
    if (o.hmacSecret) headers['x-sinch-signature'] = createHmac('sha1', o.hmacSecret).update(body).digest('hex');
    return postWebhook(u.toString(), body, headers);
  }
}
