// Sinch Fax v3 REST client: send (contentUrl or file), read one fax, list and match our labels to find a lost send.
import { readFile } from 'node:fs/promises';
import {
  httpError, invalidResponse, multipartBody, providerFetch, tryJson, type FilePart, type HttpRequest, type HttpResponse,
} from '../cloud/http.js';
import type { Existing } from '../cloud/status.js';
import { sendTags, tagsMatch, JOB_TAG } from '../cloud/tags.js';
import { SinchAuth, type SinchAuthConfig } from './auth.js';
import { sinchFaxSchema, sinchListSchema, type SinchFax } from './types.js';

export const SINCH_DEFAULT_BASE_URL = 'https://fax.api.sinch.com/v3';

export interface SinchClientConfig {
  projectId: string;
  /** SINCH_BASE_URL; default https://fax.api.sinch.com/v3 (regional hosts: use1., eu1., sae1., apse1., apse2.). */
  baseUrl?: string;
  auth: SinchAuthConfig;
  timeoutMs?: number;
  /** A Sinch number of the project to send from (optional). */
  from?: string;
  /** Optional header line (50 characters at most). */
  headerText?: string;
  /**
   * How an uploaded PDF travels: 'json' (default: base64 in files[], labels as a JSON object, the
   * documented JSON form) or 'multipart' (a `file` part; labels as labels[name] fields, [UNSURE] whether
   * Sinch reads labels that way, so findExisting may answer `unknown` for such sends).
   */
  upload?: 'json' | 'multipart';
  /** Format Sinch uses for our FAX_COMPLETED callbacks: application/json (default) or multipart/form-data. */
  callbackContentType?: 'application/json' | 'multipart/form-data';
}

export type SinchDocument = { url: string } | { path: string } | { pdf: Buffer };

export interface SinchSendRequest {
  jobId: string;
  attempt: number;
  to: string;
  document: SinchDocument;
  callbackUrl?: string;
}

/** Sinch error bodies come in two shapes: {code, error, message, details.fieldViolations[]} and {error: {message}}. */
export function sinchErrorMessage(text: string): string | null {
  const b = tryJson(text) as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object') return null;
  const nested = b.error && typeof b.error === 'object' ? (b.error as Record<string, unknown>) : undefined;
  const parts: string[] = [];
  const main = [b.message, nested?.message, b.error].find((x) => typeof x === 'string' && x.trim() !== '');
  if (typeof main === 'string') parts.push(main.trim());
  const details = (b.details ?? nested?.details) as { fieldViolations?: unknown } | undefined;
  if (details && Array.isArray(details.fieldViolations)) {
    for (const v of details.fieldViolations as { field?: unknown; description?: unknown }[]) {
      if (typeof v.description === 'string') parts.push(typeof v.field === 'string' ? `${v.field}: ${v.description}` : v.description);
    }
  }
  return parts.length > 0 ? parts.join('; ') : null;
}

export class SinchClient {
  readonly auth: SinchAuth;
  private readonly faxesUrl: string;

  constructor(private readonly cfg: SinchClientConfig) {
    this.auth = new SinchAuth({ timeoutMs: cfg.timeoutMs, ...cfg.auth });
    const base = (cfg.baseUrl ?? SINCH_DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.faxesUrl = `${base}/projects/${encodeURIComponent(cfg.projectId)}/faxes`;
  }

  /** POST /faxes with labels {faxbot_job, faxbot_attempt}. Accepts a single Fax or an array of them in return. */
  async sendFax(req: SinchSendRequest): Promise<{ providerSid: string; fax: SinchFax }> {
    const labels = sendTags(req.jobId, req.attempt);
    const callbackContentType = this.cfg.callbackContentType ?? 'application/json';
    let body: string | FormData;
    let headers: Record<string, string> = {};
    const upload = 'url' in req.document ? null : 'pdf' in req.document ? req.document.pdf : await readFile(req.document.path);
    if (upload !== null && this.cfg.upload === 'multipart') {
      const fields: [string, string][] = [['to', req.to]];
      if (this.cfg.from) fields.push(['from', this.cfg.from]);
      if (req.callbackUrl) fields.push(['callbackUrl', req.callbackUrl], ['callbackUrlContentType', callbackContentType]);
      if (this.cfg.headerText) fields.push(['headerText', this.cfg.headerText.slice(0, 50)]);
      for (const [k, v] of Object.entries(labels)) fields.push([`labels[${k}]`, v]);
      const file: FilePart = { field: 'file', filename: `${req.jobId}.pdf`, contentType: 'application/pdf', data: upload };
      body = multipartBody(fields, [file]);
    } else {
      const json: Record<string, unknown> = { to: req.to, labels };
      if ('url' in req.document) json.contentUrl = req.document.url;
      else json.files = [{ file: upload!.toString('base64'), fileType: 'PDF' }];
      if (this.cfg.from) json.from = this.cfg.from;
      if (req.callbackUrl) Object.assign(json, { callbackUrl: req.callbackUrl, callbackUrlContentType: callbackContentType });
      if (this.cfg.headerText) json.headerText = this.cfg.headerText.slice(0, 50);
      body = JSON.stringify(json);
      headers = { 'content-type': 'application/json' };
    }
    const res = await this.request({ method: 'POST', url: this.faxesUrl, headers, body });
    const data = this.json(res);
    const first = Array.isArray(data) ? data[0] : data;
    const fax = sinchFaxSchema.safeParse(first);
    if (!fax.success) throw invalidResponse('sinch', res.status, 'no fax object with an id');
    return { providerSid: fax.data.id, fax: fax.data };
  }

  /** GET /faxes/{id}. */
  async getFax(id: string): Promise<SinchFax> {
    const res = await this.request({ method: 'GET', url: `${this.faxesUrl}/${encodeURIComponent(id)}` });
    const fax = sinchFaxSchema.safeParse(this.json(res));
    if (!fax.success) throw invalidResponse('sinch', res.status, 'fax object not understood');
    return fax.data;
  }

  /** GET /faxes/{id}/file.pdf: the document (inbound faxes). */
  async getFaxFile(id: string): Promise<Buffer> {
    const res = await this.request({ method: 'GET', url: `${this.faxesUrl}/${encodeURIComponent(id)}/file.pdf`, headers: { accept: 'application/pdf' } });
    if (res.status < 200 || res.status >= 300) throw httpError('sinch', res.status, res.headers, sinchErrorMessage(res.text));
    return res.bytes;
  }

  /** GET /faxes?to=&direction=&createTime>=&pageSize= (the `to` filter matches by prefix). */
  async listFaxes(q: { to?: string; direction?: 'OUTBOUND' | 'INBOUND'; createdAfter?: Date; pageSize?: number }): Promise<{ faxes: SinchFax[]; complete: boolean }> {
    const parts: string[] = [];
    if (q.to) parts.push(`to=${encodeURIComponent(q.to)}`);
    if (q.direction) parts.push(`direction=${q.direction}`);
    // Sinch spells a range as "createTime>=2021-10-01" (the operator is part of the parameter).
    if (q.createdAfter) parts.push(`createTime>=${encodeURIComponent(q.createdAfter.toISOString())}`);
    const pageSize = q.pageSize ?? 1000;
    parts.push(`pageSize=${pageSize}`);
    const res = await this.request({ method: 'GET', url: `${this.faxesUrl}?${parts.join('&')}` });
    const list = sinchListSchema.safeParse(this.json(res));
    if (!list.success) throw invalidResponse('sinch', res.status, 'fax list not understood');
    const faxes: SinchFax[] = [];
    for (const item of list.data.faxes ?? []) {
      const f = sinchFaxSchema.safeParse(item);
      if (f.success) faxes.push(f.data);
    }
    const total = typeof list.data.totalItems === 'number' ? list.data.totalItems : Number(list.data.totalItems ?? faxes.length);
    return { faxes, complete: !list.data.nextPageToken && total <= faxes.length };
  }

  /**
   * Finds the fax an attempt created. The documented list filters do not include labels, so this lists
   * outbound faxes to the same number since `since` and matches labels here. Faxes to that number
   * without our labels (or a truncated list) make the answer `unknown`, never a guess.
   */
  async findExisting(jobId: string, attempt: number, opts: { to: string; since?: Date }): Promise<Existing<SinchFax>> {
    const since = opts.since ?? new Date(Date.now() - 24 * 3600 * 1000);
    const { faxes, complete } = await this.listFaxes({ to: opts.to, direction: 'OUTBOUND', createdAfter: since });
    const candidates = faxes.filter((f) => f.to === opts.to);
    const mine = candidates.find((f) => tagsMatch(f.labels, jobId, attempt));
    if (mine) return { kind: 'found', providerSid: mine.id, fax: mine };
    const unlabeled = candidates.filter((f) => !f.labels || !(JOB_TAG in f.labels));
    if (unlabeled.length > 0) return { kind: 'unknown', reason: `${unlabeled.length} fax(es) to this number without our labels` };
    if (!complete) return { kind: 'unknown', reason: 'the provider list was truncated' };
    return { kind: 'none' };
  }

  private async request(req: HttpRequest): Promise<HttpResponse> {
    const send = async () =>
      providerFetch(
        { provider: 'sinch', timeoutMs: this.cfg.timeoutMs },
        { ...req, headers: { accept: 'application/json', ...req.headers, authorization: await this.auth.header() } },
      );
    let res = await send();
    if (res.status === 401 && this.auth.method === 'oauth') {
      // The cached token may have been revoked early: fetch a new one and try once more.
      this.auth.invalidate();
      res = await send();
    }
    return res;
  }

  private json(res: HttpResponse): unknown {
    if (res.status < 200 || res.status >= 300) throw httpError('sinch', res.status, res.headers, sinchErrorMessage(res.text));
    const body = tryJson(res.text);
    if (body === undefined) throw invalidResponse('sinch', res.status, 'empty or non-JSON body');
    return body;
  }
}
