// A fake SignalWire Compatibility fax API: checks requests as SignalWire does, fetches MediaUrl, signs callbacks Twilio-style.
import { createHmac, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  basicCredentials, E164, fetchDocument, playScripted, postWebhook, Script, sendJson, SimServer, type FetchedDocument, type SimRequest,
} from '../cloud-http.js';

export interface SignalWireSimFax {
  sid: string;
  account_sid: string;
  api_version: string;
  date_created: string;
  date_updated: string;
  direction: 'outbound' | 'inbound';
  from: string;
  to: string;
  media_url: string | null;
  media_sid: string;
  num_pages: string | null;
  price: string | null;
  price_unit: string;
  quality: string;
  status: string;
  duration: number | null;
  error_code: string | null;
  error_message: string | null;
  url: string;
  links: { media: string };
}

export interface SignalWireSimRecord {
  fax: SignalWireSimFax;
  statusCallback: string | null;
  fetched: FetchedDocument | null;
  media: Buffer | null;
}

export interface SignalWireSimOptions {
  projectId: string;
  apiToken: string;
  signingKey: string;
  /** Numbers of the project (From must be one). */
  numbers: string[];
}

/** The Twilio-style signature, written here independently of the code under test. */
export function twilioSign(key: string, url: string, params: readonly (readonly [string, string])[]): string {
  const sorted = [...params].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
  return createHmac('sha1', key).update(url + sorted.map(([k, v]) => k + v).join(''), 'utf8').digest('base64');
}

const twErr = (res: ServerResponse, status: number, code: number, message: string) =>
  sendJson(res, status, { code, message, more_info: `https://developer.signalwire.com/compatibility-api/errors/${code}`, status });

export class SignalWireSim {
  readonly server = new SimServer();
  readonly sendScript = new Script();
  readonly getScript = new Script();
  readonly faxes = new Map<string, SignalWireSimRecord>();
  readonly listQueries: URLSearchParams[] = [];
  readonly mediaRequests: { authorized: boolean }[] = [];
  private readonly prefix: string;

  constructor(readonly opts: SignalWireSimOptions) {
    this.prefix = `/api/laml/2010-04-01/Accounts/${opts.projectId}`;
  }

  /** Returns the space URL to configure (SIGNALWIRE_SPACE_URL). */
  async start(): Promise<string> {
    return this.server.start((req, res) => this.handle(req, res));
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: SimRequest, res: ServerResponse): Promise<void> {
    const c = basicCredentials(req.headers.authorization);
    const authorized = c?.user === this.opts.projectId && c.pass === this.opts.apiToken;
    const path = req.url.pathname;
    const media = /\/Faxes\/([^/]+)\/Media\/([^/]+)$/.exec(path);
    if (media) this.mediaRequests.push({ authorized });
    if (!authorized) return twErr(res, 401, 20003, 'Authentication Error - invalid username');
    if (!path.startsWith(this.prefix)) return twErr(res, 404, 20404, 'The requested resource was not found');
    const rest = path.slice(this.prefix.length);
    if (req.method === 'POST' && rest === '/Faxes.json') return this.create(req, res);
    if (req.method === 'GET') {
      if (playScripted(this.getScript.next(), res) === 'handled') return;
      if (rest === '/Faxes.json') return this.list(req, res);
      const m = /^\/Faxes\/([^/]+)\.json$/.exec(rest);
      const rec = m?.[1] ? this.faxes.get(m[1]) : undefined;
      if (m && rec) return sendJson(res, 200, rec.fax);
      if (media) {
        const r = this.faxes.get(media[1]!);
        if (!r?.media) return twErr(res, 404, 20404, 'The requested resource was not found');
        res.writeHead(200, { 'content-type': 'application/pdf' }).end(r.media);
        return;
      }
      return twErr(res, 404, 20404, 'The requested resource was not found');
    }
    if (req.method === 'POST') {
      const m = /^\/Faxes\/([^/]+)\.json$/.exec(rest);
      const rec = m?.[1] ? this.faxes.get(m[1]) : undefined;
      if (!rec) return twErr(res, 404, 20404, 'The requested resource was not found');
      const status = new URLSearchParams(req.raw.toString()).get('Status');
      if (status !== 'canceled') return twErr(res, 400, 21220, 'Invalid Status');
      if (rec.fax.status !== 'queued') return twErr(res, 400, 21220, 'Only queued faxes can be canceled');
      rec.fax.status = 'canceled';
      return sendJson(res, 200, rec.fax);
    }
    return twErr(res, 405, 20004, 'Method not allowed');
  }

  private async create(req: SimRequest, res: ServerResponse): Promise<void> {
    const scripted = playScripted(this.sendScript.next(), res);
    if (scripted === 'handled') return;
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return twErr(res, 400, 21000, 'Request body must be application/x-www-form-urlencoded');
    }
    const p = new URLSearchParams(req.raw.toString('utf8'));
    const to = p.get('To');
    const from = p.get('From');
    const mediaUrl = p.get('MediaUrl');
    const quality = p.get('Quality') ?? 'fine';
    if (!to || !(E164.test(to) || to.startsWith('sip:'))) return twErr(res, 400, 21211, `The 'To' number ${to ?? ''} is not a valid phone number.`);
    if (!from || !E164.test(from)) return twErr(res, 400, 21212, `The 'From' number ${from ?? ''} is not a valid phone number.`);
    if (!this.opts.numbers.includes(from)) return twErr(res, 400, 21606, `The 'From' phone number provided (${from}) is not a valid fax-capable number for this project.`);
    if (!mediaUrl) return twErr(res, 400, 21620, 'MediaUrl is required.');
    if (!['standard', 'fine', 'superfine'].includes(quality)) return twErr(res, 400, 21621, `Quality ${quality} is not valid.`);
    const sid = randomUUID();
    const now = new Date().toISOString();
    const fax: SignalWireSimFax = {
      sid, account_sid: this.opts.projectId, api_version: 'v1', date_created: now, date_updated: now, direction: 'outbound',
      from, to, media_url: mediaUrl, media_sid: randomUUID(), num_pages: null, price: null, price_unit: 'USD', quality, status: 'queued',
      duration: null, error_code: null, error_message: null,
      url: `${this.prefix}/Faxes/${sid}`, links: { media: `${this.prefix}/Faxes/${sid}/Media` },
    };
    const rec: SignalWireSimRecord = { fax, statusCallback: p.get('StatusCallback'), fetched: await fetchDocument(mediaUrl), media: null };
    this.faxes.set(sid, rec);
    if (scripted === 'lose') return;
    sendJson(res, 201, fax);
  }

  private list(req: SimRequest, res: ServerResponse): void {
    const q = req.url.searchParams;
    this.listQueries.push(q);
    const to = q.get('To');
    const after = q.get('DateCreatedAfter');
    const faxes = [...this.faxes.values()]
      .map((r) => r.fax)
      .filter((f) => !to || f.to === to)
      .filter((f) => !after || Date.parse(f.date_created) > Date.parse(after) - 1)
      .sort((a, b) => Date.parse(b.date_created) - Date.parse(a.date_created));
    const size = Number(q.get('PageSize') ?? 50);
    sendJson(res, 200, {
      faxes: faxes.slice(0, size), first_page_uri: `${this.prefix}/Faxes.json?Page=0`, next_page_uri: faxes.length > size ? `${this.prefix}/Faxes.json?Page=1` : null,
      page: 0, page_size: size, uri: `${this.prefix}/Faxes.json`,
    });
  }

  /** Adds an outbound fax someone else sent to `to`, with a media URL that is not ours. */
  addForeign(to: string): void {
    const sid = randomUUID();
    const now = new Date().toISOString();
    this.faxes.set(sid, {
      fax: { sid, account_sid: this.opts.projectId, api_version: 'v1', date_created: now, date_updated: now, direction: 'outbound', from: this.opts.numbers[0]!, to, media_url: 'https://files.example.com/other.pdf', media_sid: randomUUID(), num_pages: '1', price: '0.01', price_unit: 'USD', quality: 'fine', status: 'delivered', duration: 40, error_code: null, error_message: null, url: '', links: { media: '' } },
      statusCallback: null, fetched: null, media: null,
    });
  }

  /** Moves a fax to a final status and POSTs its StatusCallback, signed (optionally over the URL with an explicit port). */
  async complete(
    sid: string,
    result: { status: 'delivered'; pages: number } | { status: 'busy' | 'no-answer' | 'failed' | 'canceled'; errorCode?: string; errorMessage?: string },
    sign: { key?: string; explicitPort?: boolean; header?: 'x-signalwire-signature' | 'x-twilio-signature' } = {},
  ): Promise<{ status: number; text: string }> {
    const rec = this.faxes.get(sid);
    if (!rec?.statusCallback) throw new Error(`no fax ${sid} with a StatusCallback`);
    const f = rec.fax;
    const r = rec.fetched && !rec.fetched.ok ? { status: 'failed' as const, errorCode: '15002', errorMessage: 'Unable to fetch media' } : result;
    f.status = r.status;
    f.date_updated = new Date().toISOString();
    if (r.status === 'delivered') {
      f.num_pages = String(r.pages);
      f.duration = 30 * r.pages;
    } else {
      f.error_code = r.errorCode ?? null;
      f.error_message = r.errorMessage ?? null;
    }
    const params: [string, string][] = [
      ['AccountSid', this.opts.projectId], ['ApiVersion', 'v1'], ['FaxSid', sid], ['FaxStatus', f.status], ['From', f.from], ['To', f.to],
      ['MediaSid', f.media_sid], ['MediaUrl', `${this.server.url}${this.prefix}/Faxes/${sid}/Media/${f.media_sid}`], ['OriginalMediaUrl', f.media_url ?? ''],
      ['NumPages', f.num_pages ?? '0'], ['RemoteStationId', r.status === 'delivered' ? '+1 555 123 4567' : ''],
    ];
    if (f.error_code) params.push(['ErrorCode', f.error_code]);
    if (f.error_message) params.push(['ErrorMessage', f.error_message]);
    return this.post(rec.statusCallback, params, sign);
  }

  /** A received fax: SignalWire posts the <Receive> action with MediaUrl (fetchable with our credentials). */
  async receive(actionUrl: string, opts: { from: string; to: string; pdf: Buffer; pages: number }): Promise<{ status: number; text: string; sid: string }> {
    const sid = randomUUID();
    const mediaSid = randomUUID();
    const now = new Date().toISOString();
    this.faxes.set(sid, {
      fax: { sid, account_sid: this.opts.projectId, api_version: 'v1', date_created: now, date_updated: now, direction: 'inbound', from: opts.from, to: opts.to, media_url: null, media_sid: mediaSid, num_pages: String(opts.pages), price: null, price_unit: 'USD', quality: 'fine', status: 'received', duration: 60, error_code: null, error_message: null, url: '', links: { media: '' } },
      statusCallback: null, fetched: null, media: opts.pdf,
    });
    const r = await this.post(actionUrl, [
      ['AccountSid', this.opts.projectId], ['ApiVersion', 'v1'], ['FaxSid', sid], ['FaxStatus', 'received'], ['From', opts.from], ['To', opts.to],
      ['NumPages', String(opts.pages)], ['MediaUrl', `${this.server.url}${this.prefix}/Faxes/${sid}/Media/${mediaSid}`], ['RemoteStationId', 'SENDER'],
    ], {});
    return { ...r, sid };
  }

  private post(url: string, params: [string, string][], sign: { key?: string; explicitPort?: boolean; header?: string }): Promise<{ status: number; text: string }> {
    let signedUrl = url;
    if (sign.explicitPort) {
      const u = new URL(url);
      if (!u.port) signedUrl = `${u.protocol}//${u.host}:${u.protocol === 'https:' ? 443 : 80}${u.pathname}${u.search}`;
    }
    const signature = twilioSign(sign.key ?? this.opts.signingKey, signedUrl, params);
    return postWebhook(url, new URLSearchParams(params).toString(), {
      'content-type': 'application/x-www-form-urlencoded', [sign.header ?? 'x-signalwire-signature']: signature, 'user-agent': 'SignalWire-LaML',
    });
  }
}
