// Sinch Fax webhooks (FAX_COMPLETED, INCOMING_FAX) in JSON or multipart, and their verification: Basic and/or an HMAC.
import { BodyParseError, field, parseCallbackBody, type CallbackBody, type FormField } from '../cloud/body.js';
import { checkBasicAuth, hmac, safeEqual, type VerifyResult } from '../cloud/crypto.js';
import { flattenedFields, jsonField } from '../cloud/form-object.js';
import { pageCount, type CloudStatus } from '../cloud/status.js';
import { readTags } from '../cloud/tags.js';
import { mapSinchFax } from './status.js';
import { sinchFaxSchema, type SinchFax } from './types.js';

export type SinchCallback =
  | {
      kind: 'status';
      /** FAX_COMPLETED, or another event about an outbound fax. */
      event: string;
      eventTime: string | null;
      providerSid: string;
      fax: SinchFax;
      status: CloudStatus;
      /** From the fax's labels (set by sendFax). */
      jobId: string | null;
      attempt: number | null;
    }
  | {
      kind: 'incoming';
      event: string;
      eventTime: string | null;
      providerSid: string;
      fax: SinchFax;
      /** Sender and our number, E.164. Never log them unmasked. */
      from: string | null;
      to: string | null;
      pages: number | null;
      /** The received document (multipart `file` part or JSON base64 `file`); null if Sinch sent none. */
      pdf: Buffer | null;
      fileType: string | null;
    };

/** Multipart events carry the fax as a JSON string field, or flattened as fax[name] / fax.name fields. */
function faxFromFields(fields: readonly FormField[]): unknown {
  const json = jsonField(fields, 'fax', 'Sinch callback');
  if (json !== undefined) return json;
  const flat = flattenedFields(fields, /^fax(?:\[([A-Za-z_]+)\]|\.([A-Za-z_]+))$/);
  // Some deliveries flatten the fax object itself into the top-level fields.
  if (Object.keys(flat).length === 0 && field(fields, 'id') !== undefined) {
    for (const f of fields) if (f.name !== 'file') flat[f.name] = f.value;
  }
  return flat;
}

/** Interprets a Sinch webhook body already parsed by parseCallbackBody. */
export function parseSinchCallback(body: CallbackBody): SinchCallback {
  let event: string | undefined;
  let eventTime: string | null = null;
  let rawFax: unknown;
  let pdf: Buffer | null = null;
  let fileType: string | null = null;
  if (body.kind === 'json') {
    const j = body.json as Record<string, unknown> | null;
    if (!j || typeof j !== 'object') throw new BodyParseError('Sinch callback: JSON is not an object');
    event = typeof j.event === 'string' ? j.event : undefined;
    eventTime = typeof j.eventTime === 'string' ? j.eventTime : null;
    rawFax = j.fax;
    if (typeof j.file === 'string' && j.file !== '') {
      pdf = Buffer.from(j.file, 'base64');
      fileType = typeof j.fileType === 'string' ? j.fileType : null;
    }
  } else {
    event = field(body.fields, 'event');
    eventTime = field(body.fields, 'eventTime') ?? null;
    rawFax = faxFromFields(body.fields);
    const file = body.files.find((f) => f.name === 'file') ?? body.files[0];
    if (file) {
      pdf = file.data;
      fileType = file.contentType;
    }
  }
  const parsed = sinchFaxSchema.safeParse(rawFax);
  if (!parsed.success) throw new BodyParseError('Sinch callback: fax object without id or status');
  const fax = parsed.data;
  const ev = event ?? (fax.direction?.toUpperCase() === 'INBOUND' ? 'INCOMING_FAX' : 'FAX_COMPLETED');
  if (ev === 'INCOMING_FAX' || fax.direction?.toUpperCase() === 'INBOUND') {
    return {
      kind: 'incoming', event: ev, eventTime, providerSid: fax.id, fax,
      from: fax.from ?? null, to: fax.to ?? null, pages: pageCount(fax.numberOfPages), pdf, fileType,
    };
  }
  const tags = readTags(fax.labels);
  return { kind: 'status', event: ev, eventTime, providerSid: fax.id, fax, status: mapSinchFax(fax), jobId: tags.jobId, attempt: tags.attempt };
}

/** Parses a raw webhook body by its Content-Type. */
export function parseSinchCallbackBody(rawBody: Buffer, contentType: string | undefined): SinchCallback {
  return parseSinchCallback(parseCallbackBody(rawBody, contentType));
}

/** The header carrying the optional HMAC. */
export const SINCH_SIGNATURE_HEADER = 'X-Sinch-Signature';

export interface SinchVerifyInput {
  rawBody: Buffer;
  /** The Authorization header. */
  authorization: string | undefined;
  /** X-Sinch-Signature. */
  signature: string | undefined;
  /** SINCH_INBOUND_BASIC_USER / SINCH_INBOUND_BASIC_PASS: put them in the webhook URL as https://user:pass@host/… */
  basicUser?: string;
  basicPass?: string;
  /** SINCH_INBOUND_HMAC_SECRET. */
  hmacSecret?: string;
}

/**
 * Checks every configured guard; all must pass.
 * - Basic: `Authorization: Basic` must carry SINCH_INBOUND_BASIC_USER:SINCH_INBOUND_BASIC_PASS (Sinch sends
 *   the credentials embedded in the webhook URL this way).
 * - HMAC: `X-Sinch-Signature` must be the lowercase hex HMAC of the exact raw body keyed by
 *   SINCH_INBOUND_HMAC_SECRET, with SHA-1 (what Sinch's own .NET SDK checks for fax events) or SHA-256
 *   (the reference's scheme). Sinch's Fax docs do not document signing: with only an HMAC configured,
 *   real notifications are refused unless Sinch (or a proxy) adds this header.
 * Nothing configured → `not_configured`: the route then should re-fetch the fax (getFax) before trusting it.
 */
export function verifySinchCallback(input: SinchVerifyInput): VerifyResult {
  const basic = !!(input.basicUser && input.basicPass);
  const secret = input.hmacSecret?.trim();
  if (!basic && !secret) return { ok: false, reason: 'not_configured' };
  const schemes: string[] = [];
  if (basic) {
    if (!input.authorization) return { ok: false, reason: 'missing_credentials' };
    if (!checkBasicAuth(input.authorization, input.basicUser!, input.basicPass!)) return { ok: false, reason: 'bad_credentials' };
    schemes.push('basic');
  }
  if (secret) {
    const sig = input.signature?.trim().toLowerCase();
    if (!sig) return { ok: false, reason: 'missing_signature' };
    const sha1 = safeEqual(sig, hmac('sha1', secret, input.rawBody, 'hex'));
    const sha256 = safeEqual(sig, hmac('sha256', secret, input.rawBody, 'hex'));
    if (!sha1 && !sha256) return { ok: false, reason: 'bad_signature' };
    schemes.push(sha1 ? 'hmac-sha1' : 'hmac-sha256');
  }
  return { ok: true, scheme: schemes.join('+') };
}
