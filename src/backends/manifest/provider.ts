// Runs a manifest: renders its send and poll requests, reads ids and statuses back, parses and verifies its callbacks.
import { readFile } from 'node:fs/promises';
import { BodyParseError, parseCallbackBody } from '../cloud/body.js';
import { hmac, headerValue, safeEqual, type VerifyResult } from '../cloud/crypto.js';
import {
  basicAuth, clipMessage, httpError, invalidResponse, multipartBody, providerFetch, tryJson,
  type FilePart, type HttpRequest, type HttpResponse,
} from '../cloud/http.js';
import { pageCount, type CloudStatus, type Existing } from '../cloud/status.js';
import { ManifestError, type Manifest, type StatusRule } from './load.js';
import type { JsonTemplate } from './schema.js';
import { parseSelector, select, selectText, type Selector } from './select.js';
import { parseTemplate, refsOf, renderTemplate, type TemplatePart } from './template.js';

/** Resolves a manifest's settings from the environment; throws ManifestError naming each missing variable. */
export function resolveManifestSettings(m: Manifest, env: Record<string, string | undefined>): Map<string, string> {
  const values = new Map<string, string>();
  const issues: string[] = [];
  for (const [name, s] of Object.entries(m.json.settings ?? {})) {
    const v = env[s.env]?.trim();
    if (v) values.set(`settings.${name}`, v);
    else if (s.default !== undefined) values.set(`settings.${name}`, s.default);
    else if (s.required !== false) issues.push(`${m.source}: settings.${name}: environment variable ${s.env} is not set`);
    else values.set(`settings.${name}`, '');
  }
  if (issues.length > 0) throw new ManifestError(issues);
  return values;
}

function tpl(s: string): TemplatePart[] {
  const parts = parseTemplate(s);
  // Templates were checked at load; a failure here is a bug, not a user error.
  if (typeof parts === 'string') throw new Error(`manifest template: ${parts}`);
  return parts;
}

function sel(s: string): Selector;
function sel(s: string | undefined): Selector | undefined;
function sel(s: string | undefined): Selector | undefined {
  if (s === undefined) return undefined;
  const r = parseSelector(s);
  if (typeof r === 'string') throw new Error(`manifest selector: ${r}`);
  return r;
}

const DEFAULT_ERROR_SELECTORS = ['$.message', '$.error.message', '$.error', '$.detail', '$.errors[0].message'].map((s) => sel(s));

export interface ManifestSendRequest {
  jobId: string;
  attempt: number;
  to: string;
  /** For send.document "url": the public tokenized URL of the PDF. */
  documentUrl?: string;
  /** For send.document "upload": the PDF, in memory or on disk. */
  pdf?: Buffer;
  pdfPath?: string;
  /** The callback URL for {{callback_url}} (e.g. PUBLIC_API_URL/manifest-callback/{id}?job_id=…&attempt=…). */
  callbackUrl?: string;
}

export interface ManifestCallback {
  providerSid: string | null;
  jobId: string | null;
  attempt: number | null;
  providerStatus: string | null;
  status: CloudStatus;
}

export class ManifestProvider {
  readonly id: string;
  readonly name: string;
  private readonly settings: Map<string, string>;
  /** Placeholders the send templates use. */
  private readonly sendRefs: ReadonlySet<string>;

  constructor(readonly manifest: Manifest, env: Record<string, string | undefined>) {
    this.id = manifest.json.id;
    this.name = manifest.json.name;
    this.settings = resolveManifestSettings(manifest, env);
    this.sendRefs = new Set(sendTemplates(manifest).flatMap((t) => refsOf(tpl(t))));
    const probe = new Map([...this.settings, ...['to', 'job_id', 'attempt', 'callback_url', 'document_url', 'document_base64', 'provider_id'].map((k) => [k, 'x'] as [string, string])]);
    for (const [where, url] of [['send.url', manifest.json.send.url], ['poll.url', manifest.json.poll?.url], ['find.url', manifest.json.find?.url]] as const) {
      if (url === undefined) continue;
      try {
        const u = new URL(renderTemplate(tpl(url), probe));
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
      } catch {
        throw new ManifestError([`${manifest.source}: ${where}: with the configured settings it is not an http(s) URL`]);
      }
    }
  }

  get hasPoll(): boolean {
    return this.manifest.json.poll !== undefined;
  }

  get hasCallback(): boolean {
    return this.manifest.json.callback !== undefined;
  }

  get pollIntervalSeconds(): number | null {
    return this.manifest.json.poll ? (this.manifest.json.poll.intervalSeconds ?? 60) : null;
  }

  /** Environment variables holding secrets (for masking in admin views). */
  get secretEnvNames(): string[] {
    return Object.values(this.manifest.json.settings ?? {}).filter((s) => s.secret).map((s) => s.env);
  }

  /** Sends per send.*; resolves with the provider's id (and its status when the answer carries one). */
  async send(req: ManifestSendRequest): Promise<{ providerSid: string; status: CloudStatus | null }> {
    const s = this.manifest.json.send;
    const values = new Map(this.settings);
    values.set('to', req.to).set('job_id', req.jobId).set('attempt', String(req.attempt));
    if (req.callbackUrl !== undefined) values.set('callback_url', req.callbackUrl);
    let pdf: Buffer | null = null;
    if (s.document === 'url') {
      if (!req.documentUrl) throw new Error(`manifest ${this.id}: send.document is "url" but no document URL was given`);
      values.set('document_url', req.documentUrl);
    } else {
      pdf = req.pdf ?? (req.pdfPath ? await readFile(req.pdfPath) : null);
      if (!pdf) throw new Error(`manifest ${this.id}: send.document is "upload" but no PDF was given`);
      values.set('document_base64', pdf.toString('base64'));
    }
    if (this.sendRefs.has('callback_url') && req.callbackUrl === undefined) throw new Error(`manifest ${this.id}: {{callback_url}} is used but no callback URL was given`);

    const headers: Record<string, string> = {};
    for (const [h, v] of Object.entries(s.headers ?? {})) headers[h] = renderTemplate(tpl(v), values);
    let body: HttpRequest['body'];
    const b = s.body;
    if (b?.type === 'json') {
      body = JSON.stringify(renderJson(b.fields, values));
      headers['content-type'] = 'application/json';
    } else if (b?.type === 'form') {
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(b.fields)) form.append(k, renderTemplate(tpl(v), values));
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (b?.type === 'multipart') {
      const fields = Object.entries(b.fields).map(([k, v]) => [k, renderTemplate(tpl(v), values)] as const);
      const files: FilePart[] = [];
      if (b.file && pdf) {
        files.push({
          field: b.file.field,
          filename: renderTemplate(tpl(b.file.filename ?? '{{job_id}}.pdf'), values),
          contentType: b.file.contentType ?? 'application/pdf',
          data: pdf,
        });
      }
      body = multipartBody(fields, files);
    }
    const res = await this.request({
      method: s.method, url: renderTemplate(tpl(s.url), values, encodeURIComponent), headers, body,
      timeoutMs: (s.timeoutSeconds ?? 30) * 1000,
    });
    const json = this.json(res);
    const providerSid = selectText(json, sel(s.response.providerId));
    if (!providerSid) throw invalidResponse(this.id, res.status, `no provider id at ${s.response.providerId}`);
    const raw = selectText(json, sel(s.response.status));
    return { providerSid, status: raw === null ? null : this.mapStatus(raw, null, selectText(json, sel(s.response.error))) };
  }

  /** Asks the provider (poll.*) for the fax's state. */
  async getStatus(providerSid: string, ctx: { jobId: string; attempt: number; to: string }): Promise<CloudStatus> {
    const p = this.manifest.json.poll;
    if (!p) throw new Error(`manifest ${this.id} has no poll section`);
    const values = new Map(this.settings);
    values.set('provider_id', providerSid).set('job_id', ctx.jobId).set('attempt', String(ctx.attempt)).set('to', ctx.to);
    const headers: Record<string, string> = {};
    for (const [h, v] of Object.entries(p.headers ?? {})) headers[h] = renderTemplate(tpl(v), values);
    const res = await this.request({ method: p.method, url: renderTemplate(tpl(p.url), values, encodeURIComponent), headers, timeoutMs: (p.timeoutSeconds ?? 30) * 1000 });
    const json = this.json(res);
    const raw = selectText(json, sel(p.response.status));
    if (raw === null) throw invalidResponse(this.id, res.status, `no status at ${p.response.status}`);
    return this.mapStatus(raw, p.response.pages ? select(json, sel(p.response.pages)) : null, selectText(json, sel(p.response.error)));
  }

  /**
   * Looks for the fax an attempt created (find.*): lists the provider's faxes for this job and matches
   * the attempt. Without a find section the answer is `unknown` (use an idempotency header instead).
   */
  async findExisting(jobId: string, attempt: number, ctx: { to: string }): Promise<Existing<{ providerSid: string; status: CloudStatus | null }>> {
    const f = this.manifest.json.find;
    if (!f) return { kind: 'unknown', reason: `manifest ${this.id} has no find section` };
    const values = new Map(this.settings);
    values.set('job_id', jobId).set('attempt', String(attempt)).set('to', ctx.to);
    const headers: Record<string, string> = {};
    for (const [h, v] of Object.entries(f.headers ?? {})) headers[h] = renderTemplate(tpl(v), values);
    const res = await this.request({ method: f.method, url: renderTemplate(tpl(f.url), values, encodeURIComponent), headers, timeoutMs: (f.timeoutSeconds ?? 30) * 1000 });
    const items = select(this.json(res), sel(f.response.items));
    if (!Array.isArray(items)) throw invalidResponse(this.id, res.status, `no list at ${f.response.items}`);
    for (const item of items) {
      if (f.response.jobId && selectText(item, sel(f.response.jobId)) !== jobId) continue;
      if (selectText(item, sel(f.response.attempt)) !== String(attempt)) continue;
      const providerSid = selectText(item, sel(f.response.providerId));
      if (!providerSid) continue;
      const raw = selectText(item, sel(f.response.status));
      return { kind: 'found', providerSid, fax: { providerSid, status: raw === null ? null : this.mapStatus(raw, null, null) } };
    }
    return { kind: 'none' };
  }

  /** A provider status string → our state, through status.map (exact, then case-insensitive). Unknown → in progress. */
  mapStatus(raw: string, pages: unknown, error: string | null): CloudStatus {
    const rule = this.rule(raw);
    const n = pageCount(pages);
    if (!rule) return { state: 'in_progress', providerStatus: raw, pages: n };
    if (rule.status === 'queued') return { state: 'queued', providerStatus: raw, pages: null };
    if (rule.status === 'in_progress') return { state: 'in_progress', providerStatus: raw, pages: n };
    if (rule.status === 'SUCCESS') return { state: 'final', providerStatus: raw, outcome: { ok: true, pages: n, cause: raw } };
    const msg = clipMessage(error);
    return {
      state: 'final',
      providerStatus: raw,
      outcome: {
        ok: false,
        failureClass: rule.failureClass ?? this.manifest.defaultFailureClass,
        error: msg ? `${this.name}: ${msg}` : `${this.name} reported ${raw}`,
        cause: msg ? `${raw}: ${msg}` : raw,
        ...(n === null ? {} : { pages: n }),
        details: { provider_status: raw },
      },
    };
  }

  /** Parses a callback (callback.*). `url` (the request URL) supplies job_id / attempt when the body does not. */
  parseCallback(rawBody: Buffer, contentType: string | undefined, url?: string): ManifestCallback {
    const c = this.manifest.json.callback;
    if (!c) throw new Error(`manifest ${this.id} has no callback section`);
    const parsed = parseCallbackBody(rawBody, contentType);
    let data: unknown;
    if (parsed.kind === 'json') data = parsed.json;
    else {
      const o: Record<string, string> = {};
      for (const f of parsed.fields) if (!(f.name in o)) o[f.name] = f.value;
      data = o;
    }
    if (c.format === 'json' && parsed.kind !== 'json') throw new BodyParseError(`${this.id} callback: expected JSON`);
    if (c.format === 'form' && parsed.kind !== 'form') throw new BodyParseError(`${this.id} callback: expected a form body`);
    const raw = selectText(data, sel(c.status));
    if (raw === null) throw new BodyParseError(`${this.id} callback: no status at ${c.status}`);
    let q: URLSearchParams | null = null;
    if (url) {
      try {
        q = new URL(url).searchParams;
      } catch {
        q = null;
      }
    }
    const attemptText = selectText(data, sel(c.attempt)) ?? q?.get('attempt') ?? null;
    return {
      providerSid: selectText(data, sel(c.providerId)),
      jobId: selectText(data, sel(c.jobId)) ?? q?.get('job_id') ?? null,
      attempt: attemptText !== null && /^\d+$/.test(attemptText) ? Number(attemptText) : null,
      providerStatus: raw,
      status: this.mapStatus(raw, c.pages ? select(data, sel(c.pages)) : null, selectText(data, sel(c.error))),
    };
  }

  /**
   * Verifies callback.signature: the header must hold prefix + digest of the raw body (or URL + raw
   * body), keyed by the secret setting; constant-time. No signature section → not_configured.
   */
  verifyCallback(input: { rawBody: Buffer; url: string; headers: Record<string, string | string[] | undefined> }): VerifyResult {
    const sig = this.manifest.json.callback?.signature;
    if (!sig) return { ok: false, reason: 'not_configured' };
    const secret = this.settings.get(`settings.${sig.secretSetting}`);
    if (!secret) return { ok: false, reason: 'not_configured' };
    let got = headerValue(input.headers, sig.header)?.trim();
    if (!got) return { ok: false, reason: 'missing_signature' };
    if (sig.prefix) {
      if (!got.toLowerCase().startsWith(sig.prefix.toLowerCase())) return { ok: false, reason: 'bad_signature' };
      got = got.slice(sig.prefix.length);
    }
    const payload = sig.payload === 'url+body' ? Buffer.concat([Buffer.from(input.url, 'utf8'), input.rawBody]) : input.rawBody;
    const want = hmac(sig.algorithm, secret, payload, sig.encoding);
    const ok = sig.encoding === 'hex' ? safeEqual(got.toLowerCase(), want) : safeEqual(got, want);
    return ok ? { ok: true, scheme: `hmac-${sig.algorithm}` } : { ok: false, reason: 'bad_signature' };
  }

  private rule(raw: string): StatusRule | undefined {
    const exact = this.manifest.statusMap.get(raw);
    if (exact) return exact;
    const lower = raw.toLowerCase();
    for (const [k, v] of this.manifest.statusMap) if (k.toLowerCase() === lower) return v;
    return undefined;
  }

  private request(req: HttpRequest): Promise<HttpResponse> {
    const a = this.manifest.json.auth;
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    let url = req.url;
    const v = (s: string) => renderTemplate(tpl(s), this.settings);
    if (a.scheme === 'basic') headers.authorization = basicAuth(v(a.username), v(a.password));
    else if (a.scheme === 'bearer') headers.authorization = `Bearer ${v(a.token)}`;
    else if (a.scheme === 'header') headers[a.name] = v(a.value);
    else if (a.scheme === 'query') {
      const u = new URL(url);
      u.searchParams.set(a.name, v(a.value));
      url = u.toString();
    }
    return providerFetch({ provider: this.id }, { ...req, url, headers });
  }

  private json(res: HttpResponse): unknown {
    const body = tryJson(res.text);
    if (res.status < 200 || res.status >= 300) {
      const sels = this.manifest.json.errorMessage ? [sel(this.manifest.json.errorMessage)] : DEFAULT_ERROR_SELECTORS;
      let msg: string | null = null;
      for (const s of sels) {
        msg = selectText(body, s);
        if (msg) break;
      }
      throw httpError(this.id, res.status, res.headers, msg ?? (body === undefined && res.text.length < 200 ? res.text : null));
    }
    if (body === undefined) throw invalidResponse(this.id, res.status, 'empty or non-JSON body');
    return body;
  }
}

/** Every template string of the send request (URL, headers, body, file name). */
function sendTemplates(m: Manifest): string[] {
  const s = m.json.send;
  const out = [s.url, ...Object.values(s.headers ?? {})];
  const walk = (v: JsonTemplate): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  if (s.body?.type === 'json') walk(s.body.fields);
  else if (s.body) out.push(...Object.values(s.body.fields));
  if (s.body?.type === 'multipart' && s.body.file?.filename) out.push(s.body.file.filename);
  return out;
}

function renderJson(v: JsonTemplate, values: ReadonlyMap<string, string>): unknown {
  if (typeof v === 'string') return renderTemplate(tpl(v), values);
  if (Array.isArray(v)) return v.map((x) => renderJson(x, values));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderJson(x, values)]));
  return v;
}

/** Loads settings and builds the provider; throws ManifestError if a required variable is missing. */
export function createManifestProvider(manifest: Manifest, env: Record<string, string | undefined> = process.env): ManifestProvider {
  return new ManifestProvider(manifest, env);
}
