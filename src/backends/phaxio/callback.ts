// Phaxio webhooks: parse status and received-fax callbacks, and verify X-Phaxio-Signature over the exact bytes received.
import { BodyParseError, field, parseCallbackBody, type FormField, type FormFile } from '../cloud/body.js';
import { hmac, safeEqual, sha1Hex, type VerifyResult } from '../cloud/crypto.js';
import { flattenedFields, jsonField } from '../cloud/form-object.js';
import { pageCount, type CloudStatus } from '../cloud/status.js';
import { readTags } from '../cloud/tags.js';
import { mapPhaxioFax } from './status.js';
import { phaxioFaxSchema, type PhaxioFax } from './types.js';

export type PhaxioCallback =
  | {
      kind: 'status';
      /** fax_completed (postflight), transmitting_page or retry_scheduled (inflight), or a legacy callback (null). */
      eventType: string | null;
      providerSid: string;
      fax: PhaxioFax;
      status: CloudStatus;
      /** From the fax's tags (set by sendFax); the callback URL's job_id query is the other source. */
      jobId: string | null;
      attempt: number | null;
      /** transmitting_page: the page being sent now. */
      page: number | null;
    }
  | {
      kind: 'received';
      eventType: string | null;
      providerSid: string;
      fax: PhaxioFax;
      isTest: boolean;
      /** Sender and our number, as Phaxio gives them (E.164). Never log them unmasked. */
      from: string | null;
      to: string | null;
      pages: number | null;
      /** The PDF part named "file" (v1 named it "filename"); null when Phaxio sent none. */
      pdf: FormFile | null;
    };

/** Builds the fax object: the v2.1 `fax` JSON string, or legacy `fax[field]` form fields. */
function faxFromFields(fields: readonly FormField[]): unknown {
  const json = jsonField(fields, 'fax', 'Phaxio callback');
  if (json !== undefined) return json;
  const legacy = flattenedFields(fields, /^fax\[([a-z_]+)\]$/);
  if (Object.keys(legacy).length === 0) throw new BodyParseError('Phaxio callback: no fax object');
  return legacy;
}

/** Interprets a Phaxio callback already split into fields and files (see parsePhaxioCallbackBody). */
export function parsePhaxioCallback(form: { fields: readonly FormField[]; files: readonly FormFile[] }): PhaxioCallback {
  const parsed = phaxioFaxSchema.safeParse(faxFromFields(form.fields));
  if (!parsed.success) throw new BodyParseError('Phaxio callback: fax object without id or status');
  const fax = parsed.data;
  const eventType = field(form.fields, 'event_type') ?? null;
  const direction = (fax.direction ?? field(form.fields, 'direction') ?? '').toLowerCase();
  if (direction === 'received' || eventType === 'fax_received') {
    const pdf = form.files.find((f) => f.name === 'file') ?? form.files.find((f) => f.name === 'filename') ?? null;
    const isTest = fax.is_test === true || fax.is_test === 'true' || field(form.fields, 'is_test') === 'true';
    return {
      kind: 'received', eventType, providerSid: fax.id, fax, isTest,
      from: fax.from_number ?? null, to: fax.to_number ?? null, pages: pageCount(fax.num_pages), pdf,
    };
  }
  const tags = readTags(fax.tags);
  const pageField = field(form.fields, 'page');
  let status = mapPhaxioFax(fax);
  const page = pageField === undefined ? null : pageCount(pageField);
  // An inflight webhook is progress even if the fax object still says queued.
  if ((eventType === 'transmitting_page' || eventType === 'retry_scheduled') && status.state !== 'final') {
    status = { state: 'in_progress', providerStatus: fax.status, pages: page === null ? null : Math.max(0, page - 1) };
  }
  return { kind: 'status', eventType, providerSid: fax.id, fax, status, jobId: tags.jobId, attempt: tags.attempt, page };
}

/** Parses the raw callback body (multipart as Phaxio sends it; urlencoded accepted for legacy callbacks). */
export function parsePhaxioCallbackBody(rawBody: Buffer, contentType: string | undefined): PhaxioCallback {
  const body = parseCallbackBody(rawBody, contentType);
  if (body.kind !== 'form') throw new BodyParseError('Phaxio callback: expected a form body');
  return parsePhaxioCallback(body);
}

/**
 * Phaxio's signature: HMAC-SHA1, keyed by the webhook (callback) token, over the exact callback URL,
 * then each form field sorted by name as name+value, then each file sorted by part name as
 * name+sha1hex(bytes); lowercase hex (phaxio-ruby lib/phaxio/resources/webhook.rb).
 */
export function phaxioSignature(url: string, fields: readonly FormField[], files: readonly FormFile[], token: string): string {
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  let data = url;
  for (const f of [...fields].sort(byName)) data += f.name + f.value;
  for (const f of [...files].sort(byName)) data += f.name + sha1Hex(f.data);
  return hmac('sha1', token, Buffer.from(data, 'utf8'), 'hex');
}

export interface PhaxioVerifyInput {
  /** The exact URL given to Phaxio (scheme, host, path, query as sent), e.g. PUBLIC_API_URL + the request's original URL. */
  url: string;
  rawBody: Buffer;
  contentType: string | undefined;
  /** X-Phaxio-Signature. */
  signature: string | undefined;
  /** PHAXIO_CALLBACK_TOKEN: enables Phaxio's own HMAC-SHA1 scheme. */
  callbackToken?: string;
  /** PHAXIO_API_SECRET: enables the reference's HMAC-SHA256-over-raw-body scheme. */
  apiSecret?: string;
}

/**
 * Verifies a callback under either accepted scheme:
 * (a) Phaxio's real one (HMAC-SHA1 with the callback token, see phaxioSignature), over fields parsed from
 *     the raw bytes exactly as received; (b) the reference's: hex HMAC-SHA256 of the raw body, keyed by
 *     the API secret. Both comparisons are constant-time; a body re-serialized after parsing fails both.
 */
export function verifyPhaxioCallback(input: PhaxioVerifyInput): VerifyResult {
  const token = input.callbackToken?.trim();
  const secret = input.apiSecret?.trim();
  if (!token && !secret) return { ok: false, reason: 'not_configured' };
  const sig = input.signature?.trim().toLowerCase();
  if (!sig) return { ok: false, reason: 'missing_signature' };
  let matched: string | null = null;
  if (token) {
    try {
      const body = parseCallbackBody(input.rawBody, input.contentType);
      if (body.kind === 'form' && safeEqual(sig, phaxioSignature(input.url, body.fields, body.files, token))) matched = 'phaxio-hmac-sha1';
    } catch (err) {
      if (!(err instanceof BodyParseError)) throw err;
      if (!secret) return { ok: false, reason: 'malformed_body' };
    }
  }
  if (secret && safeEqual(sig, hmac('sha256', secret, input.rawBody, 'hex'))) matched ??= 'raw-body-hmac-sha256';
  return matched ? { ok: true, scheme: matched } : { ok: false, reason: 'bad_signature' };
}
