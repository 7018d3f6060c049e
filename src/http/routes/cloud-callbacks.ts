// Status callbacks from cloud providers: verified over the exact raw bytes, then applied to the job once.
//
// POST /phaxio-callback, /sinch-callback, /signalwire-callback and /manifest-callback/{id}. A callback
// that cannot be authenticated (verification off or not configured) is only a hint: the provider's
// API is asked for the fax's status instead of believing the body.
import { z } from 'zod';
import { ProviderError } from '../../backends/cloud/http.js';
import type { CloudStatus } from '../../backends/cloud/status.js';
import { ApiError } from '../../errors.js';
import type { ApplyResult, CallbackApplier, StatusReport } from '../../jobs/cloud-callbacks.js';
import type { AppContext } from '../middleware/auth.js';
import type { Routes } from '../route.js';
import { ErrorBody } from '../schemas.js';
import {
  CALLBACK_MAX_BYTES, parsedOrMalformed, providerUnavailable, REFUSAL_ANSWERS, refuse, signedUrl, verifiedPhaxio, verifiedSignalWire, verifiedSinch,
  type VerifyDeps,
} from './cloud-verify.js';

export interface CloudCallbackDeps extends VerifyDeps {
  applier: CallbackApplier;
}

const Ack = z.object({ status: z.literal('ok'), result: z.enum(['settled', 'progress', 'ignored']) });
const CallbackQuery = z.object({
  job_id: z.string().max(200).optional(),
  attempt: z.string().regex(/^\d{1,6}$/, 'expected an attempt number').optional(),
});

const answers = {
  200: { description: 'Accepted (also for unknown, replayed or stale callbacks, which change nothing and are audited)', schema: Ack },
  ...REFUSAL_ANSWERS,
  500: { description: 'Verification is on but not configured', schema: ErrorBody },
  503: { description: 'The provider could not be asked to confirm an unauthenticated callback', schema: ErrorBody },
};

function ack(ctx: AppContext, r: ApplyResult): void {
  ctx.status = 200;
  ctx.body = { status: 'ok', result: r.applied };
}

/** Runs the applier; a failed confirmation at the provider becomes 503 so the provider tries again. */
async function apply(d: CloudCallbackDeps, ctx: AppContext, report: StatusReport, label: string): Promise<void> {
  try {
    ack(ctx, await d.applier.apply(report));
  } catch (err) {
    if (err instanceof ProviderError) throw providerUnavailable(label, err.message);
    throw err;
  }
}

function attemptOf(q: { attempt?: string | undefined }): number | null {
  return q.attempt === undefined ? null : Number(q.attempt);
}

export function cloudCallbackRoutes(routes: Routes, d: CloudCallbackDeps): void {
  routes.add({
    method: 'POST',
    path: '/phaxio-callback',
    summary: 'Phaxio fax status webhook (per-fax callback_url)',
    description:
      'Correlated by ?job_id= (and the fax\'s tags). With PHAXIO_VERIFY_SIGNATURE=true, X-Phaxio-Signature must be ' +
      'Phaxio\'s HMAC-SHA1 with PHAXIO_CALLBACK_TOKEN over the URL, sorted fields and file hashes, or the HMAC-SHA256 of ' +
      'the raw body with PHAXIO_API_SECRET. Unverified callbacks are confirmed with Phaxio\'s API before use.',
    tags: ['callbacks'],
    auth: 'custom',
    query: CallbackQuery,
    body: { kind: 'raw', contentTypes: ['multipart/form-data', 'application/x-www-form-urlencoded'], maxBytes: CALLBACK_MAX_BYTES, description: 'Phaxio webhook form' },
    responses: answers,
    handler: async (ctx, { query, raw }) => {
      const { cb, scheme } = await verifiedPhaxio(ctx, raw, d, { inbound: false });
      const verifiedBy = scheme ?? 'unverified';
      if (cb.kind !== 'status') {
        await d.audit.record({ type: 'callback.ignored', actor: 'phaxio', data: { reason: 'received_fax_on_status_route' } });
        return ack(ctx, { applied: 'ignored', reason: 'unattributable', jobId: null });
      }
      if (cb.jobId && query.job_id && cb.jobId !== query.job_id) {
        await d.audit.record({ type: 'callback.ignored', actor: 'phaxio', subject: query.job_id, data: { reason: 'job_mismatch' } });
        return ack(ctx, { applied: 'ignored', reason: 'unattributable', jobId: null });
      }
      const phaxio = d.cloud.phaxio;
      const hint = verifiedBy === 'unverified' && phaxio.missing.length === 0;
      await apply(d, ctx, {
        provider: 'phaxio', providerSid: cb.providerSid, jobId: cb.jobId ?? query.job_id ?? null, attempt: cb.attempt ?? attemptOf(query),
        status: cb.status, verifiedBy: hint ? 'refetched' : verifiedBy,
        ...(hint ? { refetch: (c: { providerSid: string }) => phaxio.getStatus(c.providerSid) } : {}),
      }, 'Phaxio');
    },
  });

  routes.add({
    method: 'POST',
    path: '/sinch-callback',
    summary: 'Sinch Fax FAX_COMPLETED webhook (per-fax callbackUrl)',
    description:
      'Checked with SINCH_INBOUND_BASIC_USER/PASS (sent by Sinch from the credentials in the callback URL) and/or ' +
      'X-Sinch-Signature (HMAC of the raw body with SINCH_INBOUND_HMAC_SECRET). With neither configured, the fax\'s ' +
      'status is read from Sinch\'s API instead of the body.',
    tags: ['callbacks'],
    auth: 'custom',
    query: CallbackQuery,
    body: { kind: 'raw', contentTypes: ['application/json', 'multipart/form-data'], maxBytes: CALLBACK_MAX_BYTES, description: 'Sinch fax event' },
    responses: answers,
    handler: async (ctx, { query, raw }) => {
      const sinch = d.cloud.sinch;
      const { cb, scheme } = await verifiedSinch(ctx, raw, d);
      // Sinch signs nothing by default: without a guard, the API is asked instead (verifiedSinch refused it if we cannot ask).
      const hint = scheme === null;
      if (cb.kind !== 'status') {
        await d.audit.record({ type: 'callback.ignored', actor: 'sinch', data: { reason: 'incoming_fax_on_status_route' } });
        return ack(ctx, { applied: 'ignored', reason: 'unattributable', jobId: null });
      }
      await apply(d, ctx, {
        provider: 'sinch', providerSid: cb.providerSid, jobId: cb.jobId ?? query.job_id ?? null, attempt: cb.attempt ?? attemptOf(query),
        status: cb.status, verifiedBy: scheme ?? 'refetched',
        ...(hint ? { refetch: (c: { providerSid: string }) => sinch.getStatus(c.providerSid) } : {}),
      }, 'Sinch');
    },
  });

  routes.add({
    method: 'POST',
    path: '/signalwire-callback',
    summary: 'SignalWire fax StatusCallback',
    description:
      'X-SignalWire-Signature (or X-Twilio-Signature) must be the Compatibility API signature: base64 HMAC-SHA1 over ' +
      'PUBLIC_API_URL + path and query + the sorted parameters, keyed by SIGNALWIRE_WEBHOOK_SIGNING_KEY (or the API token).',
    tags: ['callbacks'],
    auth: 'custom',
    query: CallbackQuery,
    body: { kind: 'raw', contentTypes: ['application/x-www-form-urlencoded'], maxBytes: CALLBACK_MAX_BYTES, description: 'SignalWire status parameters' },
    responses: answers,
    handler: async (ctx, { raw }) => {
      const { cb, scheme } = await verifiedSignalWire(ctx, raw, d);
      if (cb.kind !== 'status') {
        await d.audit.record({ type: 'callback.ignored', actor: 'signalwire', data: { reason: 'received_fax_on_status_route' } });
        return ack(ctx, { applied: 'ignored', reason: 'unattributable', jobId: null });
      }
      await apply(d, ctx, { provider: 'signalwire', providerSid: cb.providerSid, jobId: cb.jobId, attempt: cb.attempt, status: cb.status, verifiedBy: scheme }, 'SignalWire');
    },
  });

  routes.add({
    method: 'POST',
    path: '/manifest-callback/:id',
    summary: 'Status webhook of a manifest provider',
    description:
      'Parsed and verified as the manifest\'s callback section says. Without a signature (or its secret), the status is ' +
      'read with the manifest\'s poll request when it has one.',
    tags: ['callbacks'],
    auth: 'custom',
    params: z.object({ id: z.string().max(64) }),
    query: CallbackQuery,
    body: { kind: 'raw', contentTypes: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'], maxBytes: CALLBACK_MAX_BYTES, description: 'As the manifest describes' },
    responses: { ...answers, 404: { description: 'No active manifest provider with this id, or it takes no callbacks', schema: ErrorBody } },
    handler: async (ctx, { params, raw }) => {
      const m = d.cloud.manifest;
      if (!m || m.name !== params.id || !m.provider.hasCallback) {
        throw new ApiError(404, 'not_found', `no active manifest provider "${params.id}" that takes callbacks`);
      }
      const body = raw ?? Buffer.alloc(0);
      const url = signedUrl(d.publicBase(), ctx);
      const v = m.provider.verifyCallback({ rawBody: body, url, headers: ctx.headers });
      let hint = false;
      let verifiedBy = v.ok ? v.scheme : 'unverified';
      if (!v.ok) {
        if (v.reason !== 'not_configured') return refuse(d.audit, ctx, m.name, v.reason);
        hint = m.canPoll;
      }
      const cb = await parsedOrMalformed(d.audit, ctx, m.name, () => m.provider.parseCallback(body, ctx.get('Content-Type') || undefined, url));
      if (hint && cb.providerSid) verifiedBy = 'refetched';
      await apply(d, ctx, {
        provider: m.name, providerSid: cb.providerSid, jobId: cb.jobId, attempt: cb.attempt, status: cb.status, verifiedBy,
        ...(hint ? { refetch: (c: { providerSid: string; jobId: string; attemptNo: number; to: string }): Promise<CloudStatus> => m.getStatus(c.providerSid, c) } : {}),
      }, m.label);
    },
  });
}
