// Phaxio v2.1 REST client: send (by URL or upload), read one fax, list by our tag to find a send whose answer was lost.
import { readFile } from 'node:fs/promises';
import {
  basicAuth, clipMessage, httpError, invalidResponse, multipartBody, providerFetch, ProviderError, tryJson,
  type FilePart, type HttpRequest, type HttpResponse,
} from '../cloud/http.js';
import type { Existing } from '../cloud/status.js';
import { ATTEMPT_TAG, JOB_TAG, sendTags, tagsMatch } from '../cloud/tags.js';
import { phaxioEnvelopeSchema, phaxioFaxSchema, type PhaxioFax } from './types.js';

export const PHAXIO_DEFAULT_BASE_URL = 'https://api.phaxio.com/v2.1';

export interface PhaxioClientConfig {
  apiKey: string;
  apiSecret: string;
  /** PHAXIO_BASE_URL; default https://api.phaxio.com/v2.1. */
  baseUrl?: string;
  timeoutMs?: number;
  /** Optional header line printed on each page (50 characters at most). */
  headerText?: string;
  /** Optional caller id (a Phaxio number of the account). */
  callerId?: string;
}

/** What to fax: a URL Phaxio fetches (content_url), or a PDF we upload (file). */
export type PhaxioDocument = { url: string } | { path: string } | { pdf: Buffer };

export interface PhaxioSendRequest {
  jobId: string;
  attempt: number;
  /** E.164. */
  to: string;
  document: PhaxioDocument;
  /** Overrides the account's webhook for this fax, e.g. PUBLIC_API_URL/phaxio-callback?job_id=…&attempt=…. */
  callbackUrl?: string;
}

export class PhaxioClient {
  private readonly base: string;
  private readonly auth: string;

  constructor(private readonly cfg: PhaxioClientConfig) {
    this.base = (cfg.baseUrl ?? PHAXIO_DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.auth = basicAuth(cfg.apiKey, cfg.apiSecret);
  }

  /** POST /faxes (multipart), tagged tag[faxbot_job] and tag[faxbot_attempt]. Resolves with Phaxio's fax id. */
  async sendFax(req: PhaxioSendRequest): Promise<{ providerSid: string }> {
    const fields: [string, string][] = [['to', req.to]];
    const files: FilePart[] = [];
    if ('url' in req.document) fields.push(['content_url', req.document.url]);
    else {
      const data = 'pdf' in req.document ? req.document.pdf : await readFile(req.document.path);
      // The file name reaches Phaxio's records: our job id, never the client's name for the document.
      files.push({ field: 'file', filename: `${req.jobId}.pdf`, contentType: 'application/pdf', data });
    }
    if (req.callbackUrl) fields.push(['callback_url', req.callbackUrl]);
    if (this.cfg.headerText) fields.push(['header_text', this.cfg.headerText.slice(0, 50)]);
    if (this.cfg.callerId) fields.push(['caller_id', this.cfg.callerId]);
    for (const [k, v] of Object.entries(sendTags(req.jobId, req.attempt))) fields.push([`tag[${k}]`, v]);

    const res = await this.request({ method: 'POST', url: `${this.base}/faxes`, body: multipartBody(fields, files) });
    const data = this.envelope(res);
    const id = (data as { id?: unknown } | null)?.id;
    if (typeof id !== 'number' && (typeof id !== 'string' || id === '')) throw invalidResponse('phaxio', res.status, 'no fax id in data');
    return { providerSid: String(id) };
  }

  /** GET /faxes/{id}: the Fax Object. */
  async getFax(id: string): Promise<PhaxioFax> {
    const res = await this.request({ method: 'GET', url: `${this.base}/faxes/${encodeURIComponent(id)}` });
    const parsed = phaxioFaxSchema.safeParse(this.envelope(res));
    if (!parsed.success) throw invalidResponse('phaxio', res.status, 'fax object not understood');
    return parsed.data;
  }

  /** GET /faxes/{id}/file: the PDF (received faxes, or what was sent). */
  async getFaxFile(id: string): Promise<Buffer> {
    const res = await this.request({ method: 'GET', url: `${this.base}/faxes/${encodeURIComponent(id)}/file` });
    if (res.status >= 300) throw this.error(res);
    return res.bytes;
  }

  /** GET /faxes with filters (tag[name]=value, created_after, direction, per_page). */
  async listFaxes(query: { tags?: Record<string, string>; createdAfter?: Date; direction?: 'sent' | 'received'; perPage?: number }): Promise<PhaxioFax[]> {
    const q = new URLSearchParams();
    if (query.createdAfter) q.set('created_after', query.createdAfter.toISOString());
    if (query.direction) q.set('direction', query.direction);
    for (const [k, v] of Object.entries(query.tags ?? {})) q.set(`tag[${k}]`, v);
    q.set('per_page', String(query.perPage ?? 100));
    const res = await this.request({ method: 'GET', url: `${this.base}/faxes?${q.toString()}` });
    const data = this.envelope(res);
    if (!Array.isArray(data)) throw invalidResponse('phaxio', res.status, 'fax list not understood');
    const out: PhaxioFax[] = [];
    for (const item of data) {
      const p = phaxioFaxSchema.safeParse(item);
      if (p.success) out.push(p.data);
    }
    return out;
  }

  /**
   * Looks for the fax a given attempt of a job created: Phaxio filters the list by our job tag, we pick
   * the attempt. `none` is certain (every send carries the tag); `since` narrows the list (default 7 days).
   */
  async findExisting(jobId: string, attempt: number, opts: { since?: Date } = {}): Promise<Existing<PhaxioFax>> {
    const since = opts.since ?? new Date(Date.now() - 7 * 24 * 3600 * 1000);
    const faxes = await this.listFaxes({ tags: { [JOB_TAG]: jobId }, createdAfter: since, direction: 'sent', perPage: 100 });
    const mine = faxes.filter((f) => tagsMatch(f.tags, jobId, attempt));
    const fax = mine[0];
    if (fax) return { kind: 'found', providerSid: fax.id, fax };
    // Faxes of this job without an attempt tag would be ambiguous (none are made by this client).
    if (faxes.some((f) => tagsMatch(f.tags, jobId) && !(f.tags && ATTEMPT_TAG in f.tags))) {
      return { kind: 'unknown', reason: 'faxes tagged with this job but without an attempt number' };
    }
    return { kind: 'none' };
  }

  private async request(req: HttpRequest): Promise<HttpResponse> {
    return providerFetch(
      { provider: 'phaxio', timeoutMs: this.cfg.timeoutMs },
      { ...req, headers: { ...req.headers, authorization: this.auth, accept: 'application/json' } },
    );
  }

  private error(res: HttpResponse): ProviderError {
    const body = tryJson(res.text) as { message?: unknown } | undefined;
    const message = typeof body?.message === 'string' ? body.message : null;
    return httpError('phaxio', res.status, res.headers, message);
  }

  /** Unwraps {success, message, data}; a non-2xx answer or success=false becomes a classified ProviderError. */
  private envelope(res: HttpResponse): unknown {
    if (res.status < 200 || res.status >= 300) throw this.error(res);
    const env = phaxioEnvelopeSchema.safeParse(tryJson(res.text));
    if (!env.success) throw invalidResponse('phaxio', res.status, 'not a {success, message, data} envelope');
    if (!env.data.success) {
      // Phaxio said no while answering 2xx: the request was read and refused; nothing was queued.
      const err = httpError('phaxio', 422, res.headers, env.data.message ?? null);
      throw new ProviderError({
        provider: 'phaxio', status: res.status, providerMessage: clipMessage(env.data.message ?? null),
        message: err.message.replace('(HTTP 422)', `(HTTP ${res.status}, success=false)`),
        failureClass: err.failureClass, sent: true, maybeCreated: false, code: 'refused',
      });
    }
    return env.data.data;
  }
}
