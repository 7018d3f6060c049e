// Shared by the provider webhook routes: the signed URL, signature failures as HTTP answers (audited), malformed bodies.
import type { Audit } from '../../audit/audit.js';
import type { VerifyResult } from '../../backends/cloud/crypto.js';
import { ApiError } from '../../errors.js';
import type { AppContext } from '../middleware/auth.js';

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

/** The provider could not be asked to confirm a callback: answer 503 so it delivers again later. */
export function providerUnavailable(provider: string, message: string): ApiError {
  return new ApiError(503, 'provider_unavailable', `${provider} could not be asked to confirm this callback (${message}); deliver it again later`, { 'Retry-After': '60' });
}
