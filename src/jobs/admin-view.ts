// The admin's view of jobs: filtered, paginated lists and a detail with every attempt; numbers masked everywhere.
import type { Db } from '../db/connect.js';
import type { FaxAttempt, FaxJob, JobStatus } from '../db/schema.js';
import { maskNumber } from '../log.js';
import { parseDetails } from './job-store.js';

export interface JobFilter {
  status?: JobStatus[];
  backend?: string;
  /** created_at >= from (ISO) */
  from?: string;
  /** created_at < to (ISO) */
  to?: string;
}

// A run of digits that may be a phone number, with the separators people write (remote station ids often are one).
const NUMBER_RUN = /\+?\d[\d ().-]{5,}\d/g;

/** Masks phone-like digit runs inside free text (errors, causes, remote station ids) except dates and times. */
export function maskNumbersIn(text: string | null): string | null {
  if (text === null) return null;
  return text.replace(NUMBER_RUN, (m) => (/^\d{4}-\d\d-\d\d/.test(m) || m.replace(/\D/g, '').length < 7 ? m : maskNumber(m)));
}

function maskDeep(v: unknown): unknown {
  if (typeof v === 'string') return maskNumbersIn(v);
  if (Array.isArray(v)) return v.map(maskDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskDeep(x)]));
  return v;
}

export function presentAdminJob(j: FaxJob) {
  return {
    id: j.id,
    to: maskNumber(j.to_number),
    status: j.status,
    error: maskNumbersIn(j.error),
    failure_class: j.failure_class,
    pages: j.pages,
    backend: j.backend,
    provider_sid: j.provider_sid,
    source: j.source,
    owner_key_id: j.owner_key_id,
    attempt_count: j.attempt_count,
    next_attempt_at: j.status === 'queued' ? j.next_attempt_at : null,
    deadline_at: j.deadline_at,
    created_at: j.created_at,
    updated_at: j.updated_at,
    completed_at: j.completed_at,
    document: {
      stored: j.document_path !== '' && !j.document_removed_at,
      bytes: j.document_bytes,
      removed_at: j.document_removed_at ?? null,
    },
  };
}

export function presentAttempt(a: FaxAttempt) {
  const end = a.ended_at ? Date.parse(a.ended_at) : null;
  return {
    attempt_no: a.attempt_no,
    backend: a.backend,
    instance_id: a.instance_id,
    state: a.state,
    outcome: a.outcome,
    failure_class: a.failure_class,
    error: maskNumbersIn(a.error),
    cause: maskNumbersIn(a.cause),
    provider_sid: a.provider_sid,
    call_id: a.call_id,
    pages: a.pages,
    details: maskDeep(parseDetails(a.details)) as Record<string, unknown>,
    started_at: a.started_at,
    dialed_at: a.dialed_at,
    ended_at: a.ended_at,
    duration_seconds: end === null ? null : Math.max(0, Math.round((end - Date.parse(a.dialed_at ?? a.started_at)) / 100) / 10),
  };
}

export async function listJobs(db: Db, f: JobFilter, limit: number, offset: number): Promise<{ jobs: FaxJob[]; total: number }> {
  let q = db.k.selectFrom('fax_jobs');
  if (f.status && f.status.length > 0) q = q.where('status', 'in', f.status);
  if (f.backend !== undefined) q = q.where('backend', '=', f.backend);
  if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('created_at', '<', f.to);
  const [jobs, count] = await Promise.all([
    q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { jobs, total: Number(count.n) };
}
