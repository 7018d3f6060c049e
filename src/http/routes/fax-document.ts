// GET /fax/{id}/pdf?token=…: the original PDF for a cloud provider, with a short-lived token instead of an API key.
import { z } from 'zod';
import type { Audit } from '../../audit/audit.js';
import { ApiError } from '../../errors.js';
import type { DocumentTokens } from '../../jobs/document-tokens.js';
import type { LocalStore } from '../../storage/local.js';
import type { Routes } from '../route.js';
import { ErrorBody, IdParam } from '../schemas.js';

export interface FaxDocumentRouteDeps {
  tokens: DocumentTokens;
  files: LocalStore;
  audit: Audit;
}

export function faxDocumentRoutes(routes: Routes, d: FaxDocumentRouteDeps): void {
  routes.add({
    method: 'GET',
    path: '/fax/:id/pdf',
    summary: 'Serve a fax job\'s PDF to a cloud provider (tokenized, no API key)',
    description:
      'The token is issued when the job is sent by URL (PUBLIC_API_URL/fax/{id}/pdf?token=…) and is valid for ' +
      'PDF_TOKEN_TTL_MINUTES; each send replaces the previous token. Never cached.',
    tags: ['fax'],
    auth: 'public',
    params: IdParam,
    query: z.object({ token: z.string().max(200).optional() }),
    responses: {
      200: { description: 'The PDF', contentType: 'application/pdf' },
      403: { description: 'Missing, wrong or expired token', schema: ErrorBody },
      404: { description: 'Unknown job, or its document is no longer stored', schema: ErrorBody },
    },
    handler: async (ctx, { params, query }) => {
      const r = await d.tokens.check(params.id, query.token);
      if (r.kind === 'unknown_job') throw new ApiError(404, 'not_found', 'fax job not found');
      if (r.kind === 'denied') {
        await d.audit.record({ type: 'document.denied', actor: 'token', subject: params.id, data: { reason: r.reason, ip: ctx.ip } });
        throw new ApiError(403, 'invalid_token', r.reason === 'expired' ? 'the document token has expired' : 'invalid or missing document token');
      }
      let pdf: Buffer;
      try {
        if (r.job.document_path === '') throw Object.assign(new Error('no document'), { code: 'ENOENT' });
        pdf = await d.files.read(r.job.document_path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await d.audit.record({ type: 'document.gone', actor: 'token', subject: params.id, data: {} });
        throw new ApiError(404, 'document_gone', 'the document of this fax is no longer stored (removed after ARTIFACT_TTL_DAYS or never kept)');
      }
      await d.audit.record({ type: 'document.served', actor: 'token', subject: params.id, data: { bytes: pdf.length, ip: ctx.ip } });
      ctx.status = 200;
      ctx.type = 'application/pdf';
      ctx.set('Cache-Control', 'no-store, private');
      ctx.set('Pragma', 'no-cache');
      ctx.set('Content-Disposition', `inline; filename="fax-${r.job.id}.pdf"`);
      ctx.set('X-Robots-Tag', 'noindex');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.body = pdf;
    },
  });
}
