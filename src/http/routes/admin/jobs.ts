// /admin/fax-jobs: every job (filters, pages, masked numbers), one job with its attempts, and its stored PDF.
import { z } from 'zod';
import { ApiError } from '../../../errors.js';
import { listJobs, presentAdminJob, presentAttempt } from '../../../jobs/admin-view.js';
import type { Services } from '../../../services.js';
import type { Routes } from '../../route.js';
import { ErrorBody, IdParam, errors } from '../../schemas.js';
import { auditAccess, auditAs, isoTime, queryInt } from './common.js';

const STATUSES = ['queued', 'in_progress', 'SUCCESS', 'FAILED', 'disabled'] as const;

const AdminJob = z.object({
  id: z.string(),
  to: z.string().describe('Masked: only the last four digits'),
  status: z.enum(STATUSES),
  error: z.string().nullable(),
  failure_class: z.string().nullable(),
  pages: z.number().nullable(),
  backend: z.string(),
  provider_sid: z.string().nullable(),
  source: z.string(),
  owner_key_id: z.string().nullable(),
  attempt_count: z.number(),
  next_attempt_at: z.string().nullable(),
  deadline_at: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  completed_at: z.string().nullable(),
  document: z.object({ stored: z.boolean(), bytes: z.number(), removed_at: z.string().nullable() }),
});

const Attempt = z.object({
  attempt_no: z.number(),
  backend: z.string(),
  instance_id: z.string(),
  state: z.string(),
  outcome: z.string().nullable(),
  failure_class: z.string().nullable(),
  error: z.string().nullable(),
  cause: z.string().nullable().describe('Raw cause, e.g. "17 User busy (SIP 486)"'),
  provider_sid: z.string().nullable(),
  call_id: z.string().nullable(),
  pages: z.number().nullable(),
  details: z.record(z.string(), z.unknown()),
  started_at: z.string(),
  dialed_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  duration_seconds: z.number().nullable(),
});

export function jobRoutes(routes: Routes, s: Services): void {
  const before = [auditAccess(s.audit)];

  routes.add({
    method: 'GET',
    path: '/admin/fax-jobs',
    summary: 'All fax jobs, newest first: filter by status, backend and creation time; numbers masked',
    tags: ['admin', 'jobs'],
    auth: 'admin',
    before,
    query: z.object({
      status: z
        .string()
        .optional()
        .transform((v, ctx) => {
          if (v === undefined || v === '') return undefined;
          const list = v.split(',').map((x) => x.trim());
          const bad = list.filter((x) => !(STATUSES as readonly string[]).includes(x));
          if (bad.length > 0) {
            ctx.addIssue({ code: 'custom', message: `unknown status ${bad.join(', ')} (one or more of ${STATUSES.join(', ')}, comma-separated)` });
            return z.NEVER;
          }
          return list as (typeof STATUSES)[number][];
        }),
      backend: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected a backend name').optional(),
      from: isoTime.optional().describe('created at or after (ISO 8601)'),
      to: isoTime.optional().describe('created before (ISO 8601)'),
      limit: queryInt(1, 500, 50),
      offset: queryInt(0, 10_000_000, 0),
    }),
    responses: {
      200: { description: 'A page of jobs', schema: z.object({ jobs: z.array(AdminJob), total: z.number(), limit: z.number(), offset: z.number() }) },
      ...errors(400, 401, 403, 429),
    },
    handler: async (ctx, { query }) => {
      if (query.from && query.to && query.from >= query.to) throw new ApiError(400, 'validation_error', 'query.from: must be before query.to');
      const { jobs, total } = await listJobs(s.db, { status: query.status, backend: query.backend, from: query.from, to: query.to }, query.limit, query.offset);
      ctx.body = { jobs: jobs.map(presentAdminJob), total, limit: query.limit, offset: query.offset };
    },
  });

  routes.add({
    method: 'GET',
    path: '/admin/fax-jobs/:id',
    summary: 'One job with every attempt: state, outcome, failure class, error, raw cause, provider id, pages, details, timing',
    tags: ['admin', 'jobs'],
    auth: 'admin',
    before,
    params: IdParam,
    responses: { 200: { description: 'The job', schema: AdminJob.extend({ attempts: z.array(Attempt) }) }, ...errors(401, 403, 404, 429) },
    handler: async (ctx, { params }) => {
      const job = await s.jobs.get(params.id);
      if (!job) throw new ApiError(404, 'not_found', 'fax job not found');
      ctx.body = { ...presentAdminJob(job), attempts: (await s.jobs.attempts(job.id)).map(presentAttempt) };
    },
  });

  routes.add({
    method: 'GET',
    path: '/admin/fax-jobs/:id/pdf',
    summary: 'The outbound PDF as stored (audited as document.served)',
    tags: ['admin', 'jobs'],
    auth: 'admin',
    before,
    params: IdParam,
    responses: {
      200: { description: 'The PDF', contentType: 'application/pdf' },
      410: { description: 'Removed by artifact cleanup (ARTIFACT_TTL_DAYS)', schema: ErrorBody },
      ...errors(401, 403, 404, 429),
    },
    handler: async (ctx, { params }) => {
      const job = await s.jobs.get(params.id);
      if (!job) throw new ApiError(404, 'not_found', 'fax job not found');
      if (job.document_removed_at) {
        throw new ApiError(410, 'document_removed', `the document was removed by artifact cleanup on ${job.document_removed_at} (ARTIFACT_TTL_DAYS); the job record is kept`);
      }
      if (job.document_path === '') throw new ApiError(404, 'no_document', 'no document was stored for this job (it was accepted while FAX_DISABLED=true)');
      let bytes: Buffer;
      try {
        bytes = await s.store.read(job.document_path);
      } catch {
        throw new ApiError(404, 'document_missing', 'the stored document is missing from storage');
      }
      await auditAs(ctx, s.audit, { type: 'document.served', subject: job.id, data: { kind: 'outbound', via: 'admin', bytes: bytes.length } });
      ctx.type = 'application/pdf';
      ctx.set('Content-Disposition', `attachment; filename="fax-${job.id}.pdf"`);
      ctx.body = bytes;
    },
  });
}
