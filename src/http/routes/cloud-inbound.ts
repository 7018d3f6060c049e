// Faxes received by cloud providers: verified webhooks whose document and metadata go to the InboundSink, once per fax.
//
// POST /phaxio-inbound, /sinch-inbound, /signalwire-inbound (answers <Receive>) and /signalwire-inbound/received.
import { z } from 'zod';
import { ProviderError } from '../../backends/cloud/http.js';
import type { InboundSink, ReceivedFax } from '../../backends/cloud/inbound-sink.js';
import { receiveFaxLaml } from '../../backends/signalwire/callback.js';
import { ApiError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { AppContext } from '../middleware/auth.js';
import type { Routes } from '../route.js';
import { ErrorBody } from '../schemas.js';
import {
  CALLBACK_MAX_BYTES, INBOUND_MAX_BYTES, malformed, REFUSAL_ANSWERS, signalWireScheme, verifiedPhaxio, verifiedSignalWire, verifiedSinch, type VerifyDeps,
} from './cloud-verify.js';

export interface CloudInboundDeps extends VerifyDeps {
  inbound: InboundSink;
  log: Logger;
}

const Stored = z.object({ status: z.literal('ok'), id: z.string().nullable(), duplicate: z.boolean() });
const answers = {
  200: { description: 'Stored (a repeated delivery of the same fax changes nothing)', schema: Stored },
  ...REFUSAL_ANSWERS,
  500: { description: 'Verification is on but not configured, or the fax could not be stored (the provider retries)', schema: ErrorBody },
  503: { description: 'The document could not be fetched from the provider (it retries)', schema: ErrorBody },
};

async function store(d: CloudInboundDeps, ctx: AppContext, fax: ReceivedFax): Promise<void> {
  const r = await d.inbound.receive(fax);
  ctx.status = 200;
  ctx.body = { status: 'ok', id: r.id, duplicate: r.duplicate };
}

/** Fetching the document from the provider failed: 503 so the provider delivers the webhook again. */
function fetchFailed(provider: string, err: ProviderError): ApiError {
  return new ApiError(503, 'provider_unavailable', `could not fetch the received fax from ${provider} (${err.message}); deliver it again later`, { 'Retry-After': '60' });
}

export function cloudInboundRoutes(routes: Routes, d: CloudInboundDeps): void {
  routes.add({
    method: 'POST',
    path: '/phaxio-inbound',
    summary: 'Phaxio received-fax webhook',
    description: 'X-Phaxio-Signature is verified unless PHAXIO_INBOUND_VERIFY_SIGNATURE=false (same schemes as /phaxio-callback).',
    tags: ['inbound'],
    auth: 'custom',
    body: { kind: 'raw', contentTypes: ['multipart/form-data'], maxBytes: INBOUND_MAX_BYTES, description: 'fax (JSON) and the PDF as the "file" part' },
    responses: answers,
    handler: async (ctx, { raw }) => {
      const { cb } = await verifiedPhaxio(ctx, raw, d, { inbound: true });
      if (cb.kind !== 'received') {
        await d.audit.record({ type: 'callback.ignored', actor: 'phaxio', data: { reason: 'status_on_inbound_route' } });
        ctx.body = { status: 'ok', id: null, duplicate: false };
        return;
      }
      let pdf = cb.pdf?.data ?? null;
      if (pdf === null && d.cloud.phaxio.missing.length === 0) {
        try {
          pdf = await d.cloud.phaxio.client.getFaxFile(cb.providerSid);
        } catch (err) {
          if (err instanceof ProviderError) throw fetchFailed('Phaxio', err);
          throw err;
        }
      }
      await store(d, ctx, {
        source: 'phaxio', sourceUid: cb.providerSid, to: cb.to, from: cb.from, pages: cb.pages, pdf,
        status: pdf === null ? 'failed' : 'received', error: pdf === null ? 'Phaxio delivered no document for this fax' : null,
      });
    },
  });

  routes.add({
    method: 'POST',
    path: '/sinch-inbound',
    summary: 'Sinch INCOMING_FAX webhook',
    description:
      'Checked with SINCH_INBOUND_BASIC_USER/PASS and/or X-Sinch-Signature (SINCH_INBOUND_HMAC_SECRET), as configured. ' +
      'With neither, the fax and its document are read from Sinch\'s API (by the id in the event) instead of the body.',
    tags: ['inbound'],
    auth: 'custom',
    body: { kind: 'raw', contentTypes: ['application/json', 'multipart/form-data'], maxBytes: INBOUND_MAX_BYTES, description: 'Sinch fax event with the document' },
    responses: answers,
    handler: async (ctx, { raw }) => {
      const sinch = d.cloud.sinch;
      const { cb, scheme } = await verifiedSinch(ctx, raw, d);
      const fromApi = scheme === null;
      if (cb.kind !== 'incoming') {
        await d.audit.record({ type: 'callback.ignored', actor: 'sinch', data: { reason: 'status_on_inbound_route' } });
        ctx.body = { status: 'ok', id: null, duplicate: false };
        return;
      }
      let { from, to, pages, pdf } = cb;
      try {
        if (fromApi) {
          // Unauthenticated: only what Sinch's API says about this id counts.
          const fax = await sinch.client.getFax(cb.providerSid);
          if ((fax.direction ?? '').toUpperCase() !== 'INBOUND') {
            await d.audit.record({ type: 'callback.ignored', actor: 'sinch', data: { reason: 'not_an_inbound_fax' } });
            ctx.body = { status: 'ok', id: null, duplicate: false };
            return;
          }
          from = fax.from ?? null;
          to = fax.to ?? null;
          pages = typeof fax.numberOfPages === 'number' ? fax.numberOfPages : pages;
          pdf = null;
        }
        if (pdf === null && sinch.missing.length === 0) pdf = await sinch.client.getFaxFile(cb.providerSid);
      } catch (err) {
        if (err instanceof ProviderError) throw fetchFailed('Sinch', err);
        throw err;
      }
      await store(d, ctx, {
        source: 'sinch', sourceUid: cb.providerSid, to, from, pages, pdf,
        status: pdf === null ? 'failed' : 'received', error: pdf === null ? 'Sinch delivered no document for this fax' : null,
      });
    },
  });

  routes.add({
    method: 'POST',
    path: '/signalwire-inbound',
    summary: 'SignalWire incoming fax call: answers <Receive> (set the number to accept calls as fax with this URL)',
    description: 'Signature-verified like /signalwire-callback; the answer asks SignalWire to post the result to /signalwire-inbound/received.',
    tags: ['inbound'],
    auth: 'custom',
    body: { kind: 'raw', contentTypes: ['application/x-www-form-urlencoded'], maxBytes: CALLBACK_MAX_BYTES, description: 'SignalWire call parameters' },
    responses: { 200: { description: 'LaML <Response><Receive …/></Response>', contentType: 'application/xml' }, 401: answers[401], 403: answers[403], 500: answers[500] },
    handler: async (ctx, { raw }) => {
      const s = d.settings();
      await signalWireScheme(ctx, raw, d);
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body = receiveFaxLaml(`${d.publicBase()}/signalwire-inbound/received`, { pageSize: s.FAX_PAGE_SIZE });
    },
  });

  routes.add({
    method: 'POST',
    path: '/signalwire-inbound/received',
    summary: 'SignalWire <Receive> result: the received fax\'s MediaUrl is downloaded and stored',
    tags: ['inbound'],
    auth: 'custom',
    body: { kind: 'raw', contentTypes: ['application/x-www-form-urlencoded'], maxBytes: CALLBACK_MAX_BYTES, description: 'SignalWire fax parameters' },
    responses: answers,
    handler: async (ctx, { raw }) => {
      const { cb } = await verifiedSignalWire(ctx, raw, d);
      if (cb.kind !== 'received' || cb.status.state !== 'final' || !cb.status.outcome.ok) {
        // A reception that failed is recorded too, so the admin sees it.
        const error = cb.status.state === 'final' && !cb.status.outcome.ok ? cb.status.outcome.error : `SignalWire reported ${cb.faxStatus}`;
        if (cb.status.state !== 'final') {
          ctx.body = { status: 'ok', id: null, duplicate: false };
          return;
        }
        return store(d, ctx, {
          source: 'signalwire', sourceUid: cb.providerSid, to: cb.kind === 'received' ? cb.to : null, from: cb.kind === 'received' ? cb.from : null,
          pages: null, pdf: null, status: 'failed', error,
        });
      }
      if (!cb.mediaUrl) return malformed(d.audit, ctx, 'signalwire', 'a received fax without MediaUrl');
      let pdf: Buffer;
      try {
        pdf = await d.cloud.signalwire.client.downloadMedia(cb.mediaUrl);
      } catch (err) {
        if (err instanceof ProviderError) throw fetchFailed('SignalWire', err);
        throw err;
      }
      await store(d, ctx, { source: 'signalwire', sourceUid: cb.providerSid, to: cb.to, from: cb.from, pages: cb.pages, pdf, status: 'received', error: null });
    },
  });
}
