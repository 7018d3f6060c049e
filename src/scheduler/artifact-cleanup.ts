// Artifact cleanup: removes the stored documents of finished jobs older than ARTIFACT_TTL_DAYS; the job rows stay.
import type { Audit } from '../audit/audit.js';
import type { Db } from '../db/connect.js';
import { FINAL_STATUSES } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { LocalStore } from '../storage/local.js';

export interface CleanupResult {
  removed: number;
  failed: number;
}

const BATCH = 200;

/**
 * One pass. A job is eligible only in a final status (SUCCESS, FAILED, disabled): a queued or in-progress job
 * is never touched, whatever its age. The file is removed first and the row marked after, so a crash in
 * between only leaves a job that the next pass removes again (removing a missing file is not an error).
 */
export async function cleanupArtifacts(
  d: { db: Db; store: LocalStore; audit: Audit; log: Logger },
  ttlDays: number,
  now: Date = new Date(),
  signal?: AbortSignal,
): Promise<CleanupResult> {
  const result: CleanupResult = { removed: 0, failed: 0 };
  if (!(ttlDays > 0)) return result;
  const cutoff = new Date(now.getTime() - ttlDays * 86_400_000).toISOString();
  const failedIds = new Set<string>();
  for (;;) {
    if (signal?.aborted) break;
    const batch = await d.db.k
      .selectFrom('fax_jobs')
      .select(['id', 'document_path', 'status'])
      .where('status', 'in', [...FINAL_STATUSES])
      .where('document_removed_at', 'is', null)
      .where('document_path', '!=', '')
      .where((eb) => eb.or([eb('completed_at', '<', cutoff), eb.and([eb('completed_at', 'is', null), eb('updated_at', '<', cutoff)])]))
      .orderBy('created_at')
      .limit(BATCH + failedIds.size)
      .execute();
    const todo = batch.filter((j) => !failedIds.has(j.id));
    if (todo.length === 0) break;
    for (const j of todo) {
      try {
        await d.store.remove(j.document_path);
      } catch (err) {
        failedIds.add(j.id);
        result.failed += 1;
        d.log.warn({ jobId: j.id, err: err instanceof Error ? err.message : String(err) }, 'artifact cleanup: could not remove a document; will retry next run');
        continue;
      }
      const ts = new Date().toISOString();
      const event = await d.db.k.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('fax_jobs')
          .set({ document_removed_at: ts })
          .where('id', '=', j.id)
          .where('status', 'in', [...FINAL_STATUSES])
          .where('document_removed_at', 'is', null)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return null;
        return d.audit.insert(trx, { type: 'document.removed', actor: 'artifact-cleanup', subject: j.id, data: { reason: 'ttl', ttl_days: ttlDays, status: j.status } });
      });
      if (event) {
        d.audit.publish(event);
        result.removed += 1;
      }
    }
    if (todo.length < BATCH) break;
  }
  if (result.removed > 0 || result.failed > 0) {
    await d.audit.record({ type: 'artifacts.cleanup', actor: 'artifact-cleanup', data: { removed: result.removed, failed: result.failed, ttl_days: ttlDays } });
    d.log.info({ removed: result.removed, failed: result.failed, ttlDays }, 'artifact cleanup finished');
  }
  return result;
}
