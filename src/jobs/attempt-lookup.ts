// Read-only questions about jobs and attempts that callbacks, polling and the admin refresh ask.
import type { InFlightAttempt } from '../backends/types.js';
import type { Db } from '../db/connect.js';
import type { FaxAttempt, FaxJob } from '../db/schema.js';
import type { LocalStore } from '../storage/local.js';
import { parseDetails } from './job-store.js';

/** True while the job is in progress on exactly this attempt (only then can an outcome for it still apply). */
export async function attemptLive(db: Db, jobId: string, attemptNo: number): Promise<boolean> {
  const j = await db.k.selectFrom('fax_jobs').select(['status', 'attempt_count']).where('id', '=', jobId).executeTakeFirst();
  return j !== undefined && j.status === 'in_progress' && j.attempt_count === attemptNo;
}

/** The newest attempt that carries this provider fax id (indexed through call_id, which mirrors provider_sid). */
export async function attemptByProviderSid(db: Db, providerSid: string, jobId?: string): Promise<FaxAttempt | undefined> {
  let q = db.k.selectFrom('fax_attempts').selectAll().where('call_id', '=', providerSid).where('provider_sid', '=', providerSid);
  if (jobId !== undefined) q = q.where('job_id', '=', jobId);
  return q.orderBy('attempt_no', 'desc').limit(1).executeTakeFirst();
}

export async function attemptOf(db: Db, jobId: string, attemptNo: number): Promise<FaxAttempt | undefined> {
  return db.k.selectFrom('fax_attempts').selectAll().where('job_id', '=', jobId).where('attempt_no', '=', attemptNo).executeTakeFirst();
}

/** The job's current attempt as a backend sees an attempt in flight, or null when none is (queued, final, not yet dialled). */
export async function currentInFlight(db: Db, files: LocalStore, job: FaxJob): Promise<InFlightAttempt | null> {
  if (job.status !== 'in_progress' || job.attempt_count < 1) return null;
  const a = await attemptOf(db, job.id, job.attempt_count);
  if (!a || (a.state !== 'dialing' && a.state !== 'active')) return null;
  return {
    job: { id: job.id, to: job.to_number, pdfPath: job.document_path ? files.path(job.document_path) : '', pages: job.pages },
    attemptNo: a.attempt_no,
    state: a.state,
    providerSid: a.provider_sid,
    callId: a.call_id,
    details: parseDetails(a.details),
  };
}
