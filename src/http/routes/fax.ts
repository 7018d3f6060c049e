// POST /fax (multipart `to` + `file` → 202 with the queued job) and GET /fax/{id}.
import { z } from 'zod';
import { isAdmin } from '../../auth/principal.js';
import { ApiError } from '../../errors.js';
import type { JobStore } from '../../jobs/job-store.js';
import { presentJob } from '../../jobs/presenter.js';
import type { FaxSubmitter } from '../../jobs/submit.js';
import { checkCallbackUrl } from '../../webhooks/callback-url.js';
import { formField, formatMb, multipart, uploadedFile } from '../multipart.js';
import type { Routes } from '../route.js';
import { FaxJobOutSchema, IdParam, errors } from '../schemas.js';

export interface FaxRouteDeps {
  jobs: JobStore;
  submitter: FaxSubmitter;
  maxUploadBytes: () => number;
  callbacks: () => { allowedHosts: readonly string[]; secretConfigured: boolean };
}

/** Room for the multipart envelope and the `to` field around the file itself. */
export const MULTIPART_OVERHEAD = 64 * 1024;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function faxRoutes(routes: Routes, d: FaxRouteDeps): void {
  routes.add({
    method: 'POST',
    path: '/fax',
    summary: 'Send a fax: a PDF or UTF-8 text file to a number',
    description:
      'The file type is decided by its content (PDF or UTF-8 text), never its name. Text is rendered to PDF. ' +
      'An Idempotency-Key header makes a retried request return the first job instead of sending again (24 h).',
    tags: ['fax'],
    auth: 'fax:send',
    headers: { 'Idempotency-Key': 'Optional; 1–255 printable ASCII characters' },
    body: {
      kind: 'multipart',
      description: 'multipart/form-data',
      fields: z.object({
        to: z.string().describe('Destination: optional + and 6–20 digits (spaces, dashes, dots, parentheses ignored)'),
        file: z.string().describe('The document (PDF or UTF-8 text), at most MAX_FILE_SIZE_MB'),
        callback_url: z
          .string()
          .optional()
          .describe('Optional http(s) URL that receives every status change of the job, signed with X-Faxbot-Signature (see README)'),
      }),
    },
    responses: { 202: { description: 'Accepted and queued', schema: FaxJobOutSchema }, ...errors(400, 401, 403, 409, 413, 415, 429) },
    before: [
      async (ctx, next) => {
        // Refuse a declared oversize body before reading a byte of it.
        const declared = Number(ctx.get('Content-Length') || NaN);
        if (Number.isFinite(declared) && declared > d.maxUploadBytes() + MULTIPART_OVERHEAD) {
          throw new ApiError(413, 'file_too_large', `the file is larger than the ${formatMb(d.maxUploadBytes())} limit (MAX_FILE_SIZE_MB)`);
        }
        if (!ctx.is('multipart/form-data')) {
          throw new ApiError(400, 'multipart_required', 'send the fax as multipart/form-data with the fields "to" and "file"');
        }
        await multipart(d.maxUploadBytes())(ctx, next);
      },
    ],
    handler: async (ctx, { body }) => {
      const files = (ctx.request as unknown as { files?: unknown }).files;
      const to = formField(body, 'to');
      if (to === 'many') throw new ApiError(400, 'invalid_number', 'send one destination number in "to"');
      if (to === null || to.trim() === '') throw new ApiError(400, 'missing_to', 'the form field "to" (destination number) is required');
      const file = uploadedFile(files, 'file');
      if (file === 'many') throw new ApiError(400, 'too_many_files', 'send exactly one file in the "file" field');
      if (file === null) throw new ApiError(400, 'missing_file', 'the form field "file" (a PDF or text file) is required');
      const cb = formField(body, 'callback_url');
      if (cb === 'many') throw new ApiError(400, 'invalid_callback_url', 'send one callback_url');
      let callbackUrl: string | null = null;
      if (cb !== null && cb.trim() !== '') {
        const c = d.callbacks();
        const checked = checkCallbackUrl(cb, c.allowedHosts, c.secretConfigured);
        if (!checked.ok) throw new ApiError(400, checked.code, checked.reason);
        callbackUrl = checked.url;
      }
      const idem = ctx.get('Idempotency-Key');
      if (idem !== '' && !IDEMPOTENCY_KEY.test(idem)) {
        throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
      }
      const { job, replayed } = await d.submitter.submit({
        principal: ctx.state.principal!,
        to,
        file: file.bytes,
        idempotencyKey: idem === '' ? undefined : idem,
        callbackUrl,
      });
      ctx.status = 202;
      if (replayed) ctx.set('Idempotent-Replayed', 'true');
      ctx.body = presentJob(job);
    },
  });

  routes.add({
    method: 'GET',
    path: '/fax/:id',
    summary: 'Get a fax job and its status',
    tags: ['fax'],
    auth: 'fax:read',
    params: IdParam,
    responses: { 200: { description: 'The job', schema: FaxJobOutSchema }, ...errors(401, 403, 404, 429) },
    handler: async (ctx, { params }) => {
      const p = ctx.state.principal!;
      const job = await d.jobs.get(params.id);
      // Another key's job is "not found", not "forbidden": a key must not learn which ids exist.
      if (!job || (!isAdmin(p) && (job.owner_key_id ?? null) !== p.keyId)) throw new ApiError(404, 'not_found', 'fax job not found');
      ctx.body = presentJob(job);
    },
  });
}
