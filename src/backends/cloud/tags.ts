// How every send is tagged with our job id and attempt, so a lost answer can be found again at the provider.

/** Tag / label names, identical at Phaxio (tag[...]) and Sinch (labels{...}). */
export const JOB_TAG = 'faxbot_job';
export const ATTEMPT_TAG = 'faxbot_attempt';

export function sendTags(jobId: string, attempt: number): Record<string, string> {
  return { [JOB_TAG]: jobId, [ATTEMPT_TAG]: String(attempt) };
}

/** Whether a provider's tag map names this job (and, when given, this attempt). */
export function tagsMatch(tags: unknown, jobId: string, attempt?: number): boolean {
  if (!tags || typeof tags !== 'object') return false;
  const t = tags as Record<string, unknown>;
  if (t[JOB_TAG] !== jobId) return false;
  return attempt === undefined || String(t[ATTEMPT_TAG]) === String(attempt);
}

/** Reads job id and attempt back from a tag map (callbacks carry the fax's tags). */
export function readTags(tags: unknown): { jobId: string | null; attempt: number | null } {
  if (!tags || typeof tags !== 'object') return { jobId: null, attempt: null };
  const t = tags as Record<string, unknown>;
  const jobId = typeof t[JOB_TAG] === 'string' && t[JOB_TAG] !== '' ? (t[JOB_TAG] as string) : null;
  const a = t[ATTEMPT_TAG];
  const attempt = typeof a === 'number' ? a : typeof a === 'string' && /^\d+$/.test(a) ? Number(a) : null;
  return { jobId, attempt };
}
