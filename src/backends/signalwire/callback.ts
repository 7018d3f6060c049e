// SignalWire webhooks: status callbacks and <Receive> results (form posts), and X-SignalWire-Signature in its real scheme.
import { BodyParseError, field, parseCallbackBody, type FormField } from '../cloud/body.js';
import { hmac, safeEqual, type VerifyResult } from '../cloud/crypto.js';
import { pageCount, type CloudStatus } from '../cloud/status.js';
import { mapSignalWireStatus } from './status.js';

export type SignalWireCallback =
  | {
      kind: 'status';
      providerSid: string;
      /** FaxStatus as sent. */
      faxStatus: string;
      status: CloudStatus;
      /** From the callback URL's query (job_id, attempt), as we set it in StatusCallback. */
      jobId: string | null;
      attempt: number | null;
      remoteStationId: string | null;
    }
  | {
      kind: 'received';
      providerSid: string;
      faxStatus: string;
      status: CloudStatus;
      /** Sender and our number, E.164. Never log them unmasked. */
      from: string | null;
      to: string | null;
      pages: number | null;
      /** Download with SignalWireClient.downloadMedia. */
      mediaUrl: string | null;
      remoteStationId: string | null;
    };

/**
 * Interprets a status callback or a <Receive action> post. `url` is the callback URL (its job_id and
 * attempt query parameters identify our job). Inbound is told apart by FaxStatus receiving/received
 * (or Direction inbound).
 */
export function parseSignalWireCallback(fields: readonly FormField[], url?: string): SignalWireCallback {
  const sid = field(fields, 'FaxSid');
  const faxStatus = field(fields, 'FaxStatus') ?? field(fields, 'Status');
  if (!sid || !faxStatus) throw new BodyParseError('SignalWire callback: FaxSid or FaxStatus missing');
  const status = mapSignalWireStatus({
    status: faxStatus, numPages: field(fields, 'NumPages'), errorCode: field(fields, 'ErrorCode'), errorMessage: field(fields, 'ErrorMessage') ?? null,
  });
  const remoteStationId = field(fields, 'RemoteStationId') ?? null;
  const direction = (field(fields, 'Direction') ?? '').toLowerCase();
  const fs = faxStatus.toLowerCase();
  if (direction === 'inbound' || fs === 'received' || fs === 'receiving') {
    return {
      kind: 'received', providerSid: sid, faxStatus, status, from: field(fields, 'From') ?? null, to: field(fields, 'To') ?? null,
      pages: pageCount(field(fields, 'NumPages')), mediaUrl: field(fields, 'MediaUrl') ?? null, remoteStationId,
    };
  }
  let jobId: string | null = null;
  let attempt: number | null = null;
  if (url) {
    try {
      const q = new URL(url).searchParams;
      jobId = q.get('job_id');
      const a = q.get('attempt');
      attempt = a !== null && /^\d+$/.test(a) ? Number(a) : null;
    } catch {
      // An unparsable URL leaves the job to be found by FaxSid.
    }
  }
  return { kind: 'status', providerSid: sid, faxStatus, status, jobId, attempt, remoteStationId };
}

/** Parses the raw body (application/x-www-form-urlencoded, multipart accepted) and interprets it. */
export function parseSignalWireCallbackBody(rawBody: Buffer, contentType: string | undefined, url?: string): SignalWireCallback {
  const body = parseCallbackBody(rawBody, contentType);
  if (body.kind !== 'form') throw new BodyParseError('SignalWire callback: expected a form body');
  return parseSignalWireCallback(body.fields, url);
}

/** The signature headers, in the order they are read. */
export const SIGNALWIRE_SIGNATURE_HEADERS = ['x-signalwire-signature', 'x-twilio-signature'] as const;

/** X-SignalWire-Signature, falling back to X-Twilio-Signature. */
export function signatureFromHeaders(headers: Record<string, string | string[] | undefined>): string | undefined {
  for (const name of SIGNALWIRE_SIGNATURE_HEADERS) {
    for (const [k, v] of Object.entries(headers)) {
      if (k.toLowerCase() !== name) continue;
      const s = Array.isArray(v) ? v[0] : v;
      if (s) return s;
    }
  }
  return undefined;
}

/**
 * The Compatibility (Twilio-style) signature: base64 HMAC-SHA1 over the full URL followed by every
 * POST parameter sorted by name as name+value (a repeated name's distinct values sorted, as the
 * Twilio/SignalWire SDK validators do), keyed by the project's Signing Key.
 */
export function signalWireSignature(url: string, params: readonly FormField[], key: string): string {
  const byName = new Map<string, string[]>();
  for (const p of params) byName.set(p.name, [...(byName.get(p.name) ?? []), p.value]);
  let data = url;
  for (const name of [...byName.keys()].sort()) {
    for (const v of [...new Set(byName.get(name))].sort()) data += name + v;
  }
  return hmac('sha1', key, Buffer.from(data, 'utf8'), 'base64');
}

/** The URL as given, with an explicit default port, and without one: SignalWire may sign either form. */
export function urlVariants(url: string): string[] {
  const out = new Set<string>([url]);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [url];
  }
  const noPort = new URL(u.toString());
  noPort.port = '';
  out.add(noPort.toString());
  if (!u.port) {
    const port = u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '';
    if (port) {
      // WHATWG URL drops a default port, so the explicit form is spliced in by hand (as twilio-node does).
      const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
      out.add(`${u.protocol}//${auth}${u.host}:${port}${u.pathname}${u.search}${u.hash}`);
    }
  }
  return [...out];
}

export interface SignalWireVerifyInput {
  /** The exact URL SignalWire called (the StatusCallback or action URL as configured, query included). */
  url: string;
  rawBody: Buffer;
  contentType: string | undefined;
  /** X-SignalWire-Signature (or X-Twilio-Signature): see signatureFromHeaders. */
  signature: string | undefined;
  /** SIGNALWIRE_WEBHOOK_SIGNING_KEY first; older setups signed with the API token, which may follow. */
  keys: readonly (string | undefined)[];
}

/**
 * Verifies a webhook: for form bodies the Compatibility scheme (base64 HMAC-SHA1 of URL + sorted params),
 * trying the URL with and without an explicit default port; for any body also the JSON scheme
 * (lowercase hex HMAC-SHA1 of URL + raw body). Constant-time comparisons throughout.
 */
export function verifySignalWireCallback(input: SignalWireVerifyInput): VerifyResult {
  const keys = input.keys.map((k) => k?.trim()).filter((k): k is string => !!k);
  if (keys.length === 0) return { ok: false, reason: 'not_configured' };
  const sig = input.signature?.trim();
  if (!sig) return { ok: false, reason: 'missing_signature' };
  let params: FormField[] | null = null;
  try {
    const body = parseCallbackBody(input.rawBody, input.contentType);
    if (body.kind === 'form') params = body.fields;
  } catch (err) {
    if (!(err instanceof BodyParseError)) throw err;
  }
  let ok: string | null = null;
  for (const key of keys) {
    for (const url of urlVariants(input.url)) {
      if (params && safeEqual(sig, signalWireSignature(url, params, key))) ok ??= 'compat-hmac-sha1';
      const hex = hmac('sha1', key, Buffer.concat([Buffer.from(url, 'utf8'), input.rawBody]), 'hex');
      if (safeEqual(sig.toLowerCase(), hex)) ok ??= 'json-hmac-sha1';
    }
  }
  return ok ? { ok: true, scheme: ok } : { ok: false, reason: 'bad_signature' };
}

/** The LaML answer to an inbound fax call: receive it and post the result (with MediaUrl) to `actionUrl`. */
export function receiveFaxLaml(actionUrl: string, opts: { mediaType?: 'application/pdf' | 'image/tiff'; pageSize?: 'letter' | 'legal' | 'a4' } = {}): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Receive action="${esc(actionUrl)}" method="POST" mediaType="${opts.mediaType ?? 'application/pdf'}" pageSize="${opts.pageSize ?? 'letter'}"/></Response>\n`;
}
