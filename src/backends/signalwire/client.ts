// SignalWire Compatibility (LaML) fax client: send by MediaUrl, fetch for polling, list to find a send whose answer was lost.
import {
  basicAuth, httpError, invalidResponse, providerFetch, tryJson, type HttpRequest, type HttpResponse,
} from '../cloud/http.js';
import type { Existing } from '../cloud/status.js';
import { signalWireFaxSchema, signalWireListSchema, type SignalWireFax } from './types.js';

export interface SignalWireClientConfig {
  /** SIGNALWIRE_SPACE_URL: "example.signalwire.com" or a full URL (https:// is assumed without a scheme). */
  spaceUrl: string;
  projectId: string;
  apiToken: string;
  /** SIGNALWIRE_FAX_FROM_E164: the sending number (From is required). */
  from: string;
  quality?: 'standard' | 'fine' | 'superfine';
  timeoutMs?: number;
}

export interface SignalWireSendRequest {
  jobId: string;
  attempt: number;
  to: string;
  /** The public PDF URL SignalWire fetches (PUBLIC_API_URL/fax/{id}/pdf?token=…). */
  mediaUrl: string;
  /**
   * Where status changes go. Make it unique per attempt (e.g. …/signalwire-callback?job_id=…&attempt=…):
   * the Fax resource has no tag or label field, so this URL and the MediaUrl are what tie a fax to us.
   */
  statusCallback?: string;
}

/** Normalises SIGNALWIRE_SPACE_URL to an origin without a trailing slash. */
export function spaceOrigin(spaceUrl: string): string {
  const s = spaceUrl.trim().replace(/\/+$/, '');
  return /^https?:\/\//i.test(s) ? s : `https://${s}`;
}

/** Compatibility API errors: {code, message, more_info, status} (Twilio style) or {errors: [{code, message, detail}]}. */
export function signalWireErrorMessage(text: string): string | null {
  const b = tryJson(text) as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object') return null;
  if (typeof b.message === 'string' && b.message.trim() !== '') return b.code !== undefined ? `${b.message} (code ${String(b.code)})` : b.message;
  if (Array.isArray(b.errors)) {
    const msgs = (b.errors as { message?: unknown; detail?: unknown }[])
      .map((e) => [e.message, e.detail].filter((x) => typeof x === 'string' && x !== '').join(': '))
      .filter((m) => m !== '');
    if (msgs.length > 0) return msgs.join('; ');
  }
  return null;
}

/** Our document URLs look like …/fax/{job id}/pdf?token=…: a media_url of that form belongs to this deployment. */
const OUR_MEDIA = /\/fax\/([^/?#]+)\/pdf(?:[?#]|$)/;

export class SignalWireClient {
  private readonly origin: string;
  private readonly faxesUrl: string;
  private readonly auth: string;

  constructor(private readonly cfg: SignalWireClientConfig) {
    this.origin = spaceOrigin(cfg.spaceUrl);
    this.faxesUrl = `${this.origin}/api/laml/2010-04-01/Accounts/${encodeURIComponent(cfg.projectId)}/Faxes`;
    this.auth = basicAuth(cfg.projectId, cfg.apiToken);
  }

  /** POST …/Faxes.json (form-encoded): To, From, MediaUrl, Quality, StatusCallback. */
  async sendFax(req: SignalWireSendRequest): Promise<{ providerSid: string; fax: SignalWireFax }> {
    const form = new URLSearchParams();
    form.set('To', req.to);
    form.set('From', this.cfg.from);
    form.set('MediaUrl', req.mediaUrl);
    form.set('Quality', this.cfg.quality ?? 'fine');
    if (req.statusCallback) {
      form.set('StatusCallback', req.statusCallback);
      form.set('StatusCallbackMethod', 'POST');
    }
    const res = await this.request({
      method: 'POST', url: `${this.faxesUrl}.json`, body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const fax = signalWireFaxSchema.safeParse(this.json(res));
    if (!fax.success) throw invalidResponse('signalwire', res.status, 'no fax resource with a sid');
    return { providerSid: fax.data.sid, fax: fax.data };
  }

  /** GET …/Faxes/{sid}.json (for polling, SIGNALWIRE_STATUS_POLL_SECONDS). */
  async getFax(sid: string): Promise<SignalWireFax> {
    const res = await this.request({ method: 'GET', url: `${this.faxesUrl}/${encodeURIComponent(sid)}.json` });
    const fax = signalWireFaxSchema.safeParse(this.json(res));
    if (!fax.success) throw invalidResponse('signalwire', res.status, 'fax resource not understood');
    return fax.data;
  }

  /** POST …/Faxes/{sid}.json Status=canceled (only a queued fax can be cancelled). */
  async cancelFax(sid: string): Promise<SignalWireFax> {
    const res = await this.request({
      method: 'POST', url: `${this.faxesUrl}/${encodeURIComponent(sid)}.json`, body: 'Status=canceled',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const fax = signalWireFaxSchema.safeParse(this.json(res));
    if (!fax.success) throw invalidResponse('signalwire', res.status, 'fax resource not understood');
    return fax.data;
  }

  /** GET …/Faxes.json?To=&DateCreatedAfter=&PageSize= */
  async listFaxes(q: { to?: string; from?: string; createdAfter?: Date; pageSize?: number }): Promise<{ faxes: SignalWireFax[]; complete: boolean }> {
    const p = new URLSearchParams();
    if (q.to) p.set('To', q.to);
    if (q.from) p.set('From', q.from);
    if (q.createdAfter) p.set('DateCreatedAfter', q.createdAfter.toISOString());
    p.set('PageSize', String(q.pageSize ?? 1000));
    const res = await this.request({ method: 'GET', url: `${this.faxesUrl}.json?${p.toString()}` });
    const list = signalWireListSchema.safeParse(this.json(res));
    if (!list.success) throw invalidResponse('signalwire', res.status, 'fax list not understood');
    const faxes: SignalWireFax[] = [];
    for (const item of list.data.faxes) {
      const f = signalWireFaxSchema.safeParse(item);
      if (f.success) faxes.push(f.data);
    }
    return { faxes, complete: !list.data.next_page_uri && !list.data.meta?.next_page_url };
  }

  /**
   * Finds the fax an attempt created. SignalWire faxes carry no tags, so this lists outbound faxes to the
   * number created since `since` (the attempt's start) and matches our job id inside media_url; the
   * oldest match is the attempt's fax. A fax to that number whose media_url is not one of our document
   * URLs (or a truncated list) makes the answer `unknown`.
   */
  async findExisting(jobId: string, _attempt: number, opts: { to: string; since: Date }): Promise<Existing<SignalWireFax>> {
    const { faxes, complete } = await this.listFaxes({ to: opts.to, createdAfter: opts.since });
    const outbound = faxes.filter((f) => (f.direction ?? 'outbound').toLowerCase().startsWith('outbound') && f.to === opts.to);
    const mine = outbound
      .filter((f) => OUR_MEDIA.exec(f.media_url ?? '')?.[1] === jobId)
      .sort((a, b) => Date.parse(a.date_created ?? '') - Date.parse(b.date_created ?? ''));
    if (mine[0]) return { kind: 'found', providerSid: mine[0].sid, fax: mine[0] };
    const unrecognised = outbound.filter((f) => !OUR_MEDIA.test(f.media_url ?? ''));
    if (unrecognised.length > 0) return { kind: 'unknown', reason: `${unrecognised.length} fax(es) to this number not traceable to a job` };
    if (!complete) return { kind: 'unknown', reason: 'the provider list was truncated' };
    return { kind: 'none' };
  }

  /**
   * Downloads a received fax's MediaUrl. Credentials go only to the configured space: a MediaUrl on
   * another host is fetched without them, so a forged callback cannot collect our token.
   */
  async downloadMedia(mediaUrl: string): Promise<Buffer> {
    let u: URL;
    try {
      u = new URL(mediaUrl, this.origin);
    } catch {
      throw invalidResponse('signalwire', 200, 'MediaUrl is not a URL');
    }
    const sameSpace = u.origin === new URL(this.origin).origin;
    const res = await providerFetch({ provider: 'signalwire', timeoutMs: this.cfg.timeoutMs }, {
      method: 'GET', url: u.toString(), headers: sameSpace ? { authorization: this.auth } : {},
    });
    if (res.status < 200 || res.status >= 300) throw httpError('signalwire', res.status, res.headers, signalWireErrorMessage(res.text));
    return res.bytes;
  }

  private request(req: HttpRequest): Promise<HttpResponse> {
    return providerFetch(
      { provider: 'signalwire', timeoutMs: this.cfg.timeoutMs },
      { ...req, headers: { accept: 'application/json', ...req.headers, authorization: this.auth } },
    );
  }

  private json(res: HttpResponse): unknown {
    if (res.status < 200 || res.status >= 300) throw httpError('signalwire', res.status, res.headers, signalWireErrorMessage(res.text));
    const body = tryJson(res.text);
    if (body === undefined) throw invalidResponse('signalwire', res.status, 'empty or non-JSON body');
    return body;
  }
}
