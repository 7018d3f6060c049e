// POST /admin/fax-jobs/{id}/refresh: ask the job's provider now for the fax's current status, and answer with the job.
import type { FaxBackend } from '../../backends/types.js';
import { CannotRefreshError } from '../../backends/cloud/backend.js';
import { ProviderError } from '../../backends/cloud/http.js';
import type { Db } from '../../db/connect.js';
import { ApiError } from '../../errors.js';
import { currentInFlight } from '../../jobs/attempt-lookup.js';
import type { JobStore } from '../../jobs/job-store.js';
import { presentJob } from '../../jobs/presenter.js';
import type { LocalStore } from '../../storage/local.js';
import type { Routes } from '../route.js';
import { ErrorBody, FaxJobOutSchema, IdParam, errors } from '../schemas.js';

export interface AdminRefreshDeps {
  db: Db;
  jobs: JobStore;
  files: LocalStore;
  backend: () => FaxBackend;
}

export function adminRefreshRoutes(routes: Routes, d: AdminRefreshDeps): void {
  routes.add({
    method: 'POST',
    path: '/admin/fax-jobs/:id/refresh',
    summary: 'Ask the provider now for the status of a job in flight',
    description:
      'For a job in progress on a backend that can be asked (cloud providers, manifest providers with a poll request), ' +
      'the provider is asked at once and a final status is applied as a callback would be. A job that is queued or ' +
      'final is answered as it is.',
    tags: ['admin'],
    auth: 'admin',
    params: IdParam,
    responses: {
      200: { description: 'The job after the refresh', schema: FaxJobOutSchema },
      ...errors(401, 403, 404, 409),
      502: { description: 'The provider could not be asked', schema: ErrorBody },
    },
    handler: async (ctx, { params }) => {
      const job = await d.jobs.get(params.id);
      if (!job) throw new ApiError(404, 'not_found', 'fax job not found');
      const attempt = await currentInFlight(d.db, d.files, job);
      if (attempt) {
        const backend = d.backend();
        if (job.backend !== backend.name) {
          throw new ApiError(409, 'other_backend', `the job is in flight on the ${job.backend} backend, but this service runs ${backend.name}`);
        }
        if (!backend.refresh) throw new ApiError(409, 'refresh_unsupported', `the ${backend.name} backend cannot be asked for a job's status`);
        try {
          await backend.refresh(attempt);
        } catch (err) {
          if (err instanceof ProviderError) throw new ApiError(502, 'provider_error', err.message);
          if (err instanceof CannotRefreshError) throw new ApiError(409, 'refresh_unsupported', err.message);
          throw err;
        }
      }
      ctx.body = presentJob((await d.jobs.get(params.id)) ?? job);
    },
  });
}
