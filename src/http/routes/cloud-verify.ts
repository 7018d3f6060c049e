// Shared by the provider webhook routes: the signed URL, signature failures as HTTP answers (audited), malformed bodies,
// and per provider the "verify the raw bytes, then parse them" step that its status and inbound routes both begin with.
import type { Audit } from '../../audit/audit.js';
import { BodyParseError } from '../../backends/cloud/body.js';
import type { VerifyResult } from '../../backends/cloud/crypto.js';
import type { CloudProviders } from '../../backends/cloud/providers.js';
import { parsePhaxioCallbackBody, verifyPhaxioCallback, type PhaxioCallback } from '../../backends/phaxio/callback.js';
import { parseSignalWireCallbackBody, signatureFromHeaders, verifySignalWireCallback, type SignalWireCallback } from '../../backends/signalwire/callback.js';
import { signalWireSigningKeys } from '../../backends/signalwire/config.js';
import { parseSinchCallbackBody, SINCH_SIGNATURE_HEADER, verifySinchCallback, type SinchCallback } from '../../backends/sinch/callback.js';
import type { Settings } from '../../config/index.js';
import { ApiError } from '../../errors.js';
import type { AppContext } from '../middleware/auth.js';
import { ErrorBody } from '../schemas.js';

export type VerifyFailure = Extract<VerifyResult, { ok: false }>['reason'];

/** Status callbacks are small; a received fax carries its document (Sinch JSON: base64). */
export const CALLBACK_MAX_BYTES = 2 * 1024 * 1024;
export const INBOUND_MAX_BYTES = 40 * 1024 * 1024;

/** The URL the provider called, as it signed it: PUBLIC_API_URL followed by the path and query as received. */
export function signedUrl(publicBase: string, ctx: AppContext): string {
  return `${publicBase}${ctx.originalUrl}`;
}

const ANSWERS: Record<VerifyFailure, [number, string, string]> = {
  missing_signature: [401, 'missing_signature', 'the webhook signature header is missing'],
  missing_credentials: [401, 'missing_credentials', 'the webhook credentials are missing'],
  bad_signature: [403, 'invalid_signature', 'the webhook signature does not match'],
  bad_credentials: [403, 'invalid_credentials', 'the webhook credentials are wrong'],
  not_configured: [500, 'verification_not_configured', 'webhook verification is on but no secret is configured for it'],
  malformed_body: [400, 'malformed_body', 'the webhook body cannot be parsed'],
};

/** The documented answers every provider webhook route shares: what `malformed` and `refuse` send. */
export const REFUSAL_ANSWERS = {
  400: { description: 'Malformed body', schema: ErrorBody },
  401: { description: 'Signature or credentials missing', schema: ErrorBody },
  403: { description: 'Signature or credentials wrong', schema: ErrorBody },
};

/** Audits a refused webhook ("bad signature", never the signature itself) and throws its answer. */
export async function refuse(audit: Audit, ctx: AppContext, provider: string, reason: VerifyFailure): Promise<never> {
  const [status, code, detail] = ANSWERS[reason];
  await audit.record({ type: 'callback.rejected', actor: provider, data: { reason, route: ctx.path, ip: ctx.ip } });
  throw new ApiError(status, code, detail);
}

/** A body that verified (or needed no verification) but is not what the provider sends. */
export async function malformed(audit: Audit, ctx: AppContext, provider: string, why: string): Promise<never> {
  await audit.record({ type: 'callback.rejected', actor: provider, data: { reason: 'malformed_body', route: ctx.path } });
  throw new ApiError(400, 'malformed_body', why);
}

/** Runs a provider's body parser; a BodyParseError becomes the audited 400 of `malformed`. */
export async function parsedOrMalformed<T>(audit: Audit, ctx: AppContext, provider: string, parse: () => T): Promise<T> {
  try {
    return parse();
  } catch (err) {
    if (err instanceof BodyParseError) return malformed(audit, ctx, provider, err.message);
    throw err;
  }
}

/** The provider could not be asked to confirm a callback: answer 503 so it delivers again later. */
export function providerUnavailable(provider: string, message: string): ApiError {
  return new ApiError(503, 'provider_unavailable', `${provider} could not be asked to confirm this callback (${message}); deliver it again later`, { 'Retry-After': '60' });
}

/** What the verifying helpers below need of a route's dependencies (both route files' deps have it). */
export interface VerifyDeps {
  settings: () => Settings;
  publicBase: () => string;
  cloud: CloudProviders;
  audit: Audit;
}

/** A webhook whose raw bytes passed the provider's check (or needed none), parsed. */
export interface Verified<C> {
  cb: C;
  /** How it was authenticated (e.g. "phaxio-hmac-sha1", "basic+hmac-sha1"); null: it was not, see each helper. */
  scheme: string | null;
}

/**
 * Phaxio: X-Phaxio-Signature is checked when verification is on, which the status route takes from
 * PHAXIO_VERIFY_SIGNATURE and the inbound route from PHAXIO_INBOUND_VERIFY_SIGNATURE (`inbound`).
 * scheme null: verification is off.
 */
export async function verifiedPhaxio(ctx: AppContext, raw: Buffer | null, d: VerifyDeps, o: { inbound: boolean }): Promise<Verified<PhaxioCallback>> {
  const s = d.settings();
  const body = raw ?? Buffer.alloc(0);
  const contentType = ctx.get('Content-Type') || undefined;
  let scheme: string | null = null;
  if (o.inbound ? s.PHAXIO_INBOUND_VERIFY_SIGNATURE : s.PHAXIO_VERIFY_SIGNATURE) {
    const v = verifyPhaxioCallback({
      url: signedUrl(d.publicBase(), ctx), rawBody: body, contentType, signature: ctx.get('X-Phaxio-Signature') || undefined,
      ...(s.PHAXIO_CALLBACK_TOKEN ? { callbackToken: s.PHAXIO_CALLBACK_TOKEN } : {}),
      ...(s.PHAXIO_API_SECRET ? { apiSecret: s.PHAXIO_API_SECRET } : {}),
    });
    if (!v.ok) return refuse(d.audit, ctx, 'phaxio', v.reason);
    scheme = v.scheme;
  }
  const cb = await parsedOrMalformed(d.audit, ctx, 'phaxio', () => parsePhaxioCallbackBody(body, contentType));
  return { cb, scheme };
}

/**
 * Sinch: Basic credentials and/or X-Sinch-Signature, as configured. scheme null: neither is configured
 * and Sinch's API can be asked, so the caller must believe only what the API says (Sinch signs nothing
 * by default). Neither configured and no API credentials: refused.
 */
export async function verifiedSinch(ctx: AppContext, raw: Buffer | null, d: VerifyDeps): Promise<Verified<SinchCallback>> {
  const s = d.settings();
  const body = raw ?? Buffer.alloc(0);
  const v = verifySinchCallback({
    rawBody: body, authorization: ctx.get('Authorization') || undefined, signature: ctx.get(SINCH_SIGNATURE_HEADER) || undefined,
    ...(s.SINCH_INBOUND_BASIC_USER ? { basicUser: s.SINCH_INBOUND_BASIC_USER } : {}),
    ...(s.SINCH_INBOUND_BASIC_PASS ? { basicPass: s.SINCH_INBOUND_BASIC_PASS } : {}),
    ...(s.SINCH_INBOUND_HMAC_SECRET ? { hmacSecret: s.SINCH_INBOUND_HMAC_SECRET } : {}),
  });
  if (!v.ok && (v.reason !== 'not_configured' || d.cloud.sinch.missing.length > 0)) return refuse(d.audit, ctx, 'sinch', v.reason);
  const cb = await parsedOrMalformed(d.audit, ctx, 'sinch', () => parseSinchCallbackBody(body, ctx.get('Content-Type') || undefined));
  return { cb, scheme: v.ok ? v.scheme : null };
}

/** SignalWire's signature over `url` (PUBLIC_API_URL + the path and query as received); refused (audited) unless it matches. */
async function signalWireSchemeAt(ctx: AppContext, body: Buffer, url: string, d: VerifyDeps): Promise<string> {
  const v = verifySignalWireCallback({
    url, rawBody: body, contentType: ctx.get('Content-Type') || undefined, signature: signatureFromHeaders(ctx.headers), keys: signalWireSigningKeys(d.settings()),
  });
  if (!v.ok) return refuse(d.audit, ctx, 'signalwire', v.reason);
  return v.scheme;
}

/** SignalWire, for a route that reads no parameters: only the signature (always required), refused unless it matches. */
export function signalWireScheme(ctx: AppContext, raw: Buffer | null, d: VerifyDeps): Promise<string> {
  return signalWireSchemeAt(ctx, raw ?? Buffer.alloc(0), signedUrl(d.publicBase(), ctx), d);
}

/** SignalWire: the signature (always required), then the parameters parsed against the same URL. */
export async function verifiedSignalWire(ctx: AppContext, raw: Buffer | null, d: VerifyDeps): Promise<Verified<SignalWireCallback> & { scheme: string }> {
  const body = raw ?? Buffer.alloc(0);
  const url = signedUrl(d.publicBase(), ctx);
  const scheme = await signalWireSchemeAt(ctx, body, url, d);
  const cb = await parsedOrMalformed(d.audit, ctx, 'signalwire', () => parseSignalWireCallbackBody(body, ctx.get('Content-Type') || undefined, url));
  return { cb, scheme };
}
