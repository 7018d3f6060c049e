// Retention: received PDFs and TIFFs are deleted after INBOUND_RETENTION_DAYS by a scheduled task; the record stays.
import { unlink } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Audit } from '../audit/audit.js';
import type { InboundFax } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { LocalStore } from '../storage/local.js';
import { sidecarArchiveKey } from './ingest.js';
import type { InboundStore } from './store.js';

export interface RetentionOptions {
  /** 0 keeps documents forever. */
  days: () => number;
  cron: string;
}

export class InboundRetention {
  constructor(
    private readonly store: InboundStore,
    private readonly files: LocalStore,
    private readonly audit: Audit,
    private readonly log: Logger,
    private readonly opts: RetentionOptions,
  ) {}

  /** Runs on the shared scheduler: one run at a time, and one instance at a time when several share a database. */
  register(scheduler: Scheduler): void {
    scheduler.register({
      name: 'inbound-retention',
      cron: this.opts.cron,
      exclusive: true,
      run: async () => {
        try {
          await this.run();
        } catch (err) {
          this.log.error({ err: String(err) }, 'inbound retention run failed; it runs again at the next schedule');
          throw err;
        }
      },
    });
  }

  /** Deletes the documents of every record received before now − days; returns how many records were cleaned. */
  async run(now = new Date()): Promise<number> {
    await this.store.purgeExpiredTokens(now);
    const days = this.opts.days();
    if (days <= 0) return 0;
    const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
    let cleaned = 0;
    let after: { at: string; id: string } | null = null;
    for (;;) {
      let q = this.store.db.k
        .selectFrom('inbound_faxes')
        .selectAll()
        .where('documents_removed_at', 'is', null)
        .where('ingest_state', '=', 'done')
        .where('received_at', '<', cutoff)
        .where((eb) => eb.or([eb('pdf_path', 'is not', null), eb('tiff_path', 'is not', null)]));
      // One pass in (received_at, id) order: a record whose files cannot be deleted now is skipped, not retried forever.
      if (after) {
        const a = after;
        q = q.where((eb) => eb.or([eb('received_at', '>', a.at), eb.and([eb('received_at', '=', a.at), eb('id', '>', a.id)])]));
      }
      const rows = await q.orderBy('received_at').orderBy('id').limit(200).execute();
      if (rows.length === 0) break;
      const last = rows[rows.length - 1]!;
      after = { at: last.received_at, id: last.id };
      for (const row of rows) {
        try {
          if (await this.clean(row, days)) cleaned++;
        } catch (err) {
          this.log.error({ inbound: row.id, err: (err as NodeJS.ErrnoException).code ?? String(err) }, 'inbound documents could not be removed; retried at the next run');
        }
      }
    }
    if (cleaned > 0) this.log.info({ records: cleaned, days }, 'inbound documents removed by retention');
    return cleaned;
  }

  /** Deletes one record's files, then marks the record; true when this call marked it. */
  private async clean(row: InboundFax, days: number): Promise<boolean> {
    const removed: string[] = [];
    if (row.pdf_path) {
      await this.files.remove(row.pdf_path);
      removed.push('pdf');
    }
    if (row.tiff_path) {
      // A storage key when archived, the spool path when INBOUND_TIFF_ACTION=keep left it there.
      if (isAbsolute(row.tiff_path)) await unlink(row.tiff_path).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
      else await this.files.remove(row.tiff_path);
      removed.push('tiff');
    }
    await this.files.remove(sidecarArchiveKey(row.id));
    const ts = new Date().toISOString();
    // Files first, then the record: a crash in between leaves the files gone and the run repeats
    // the update. Only the instance whose update applies records the event (all may run this task).
    const event = await this.store.db.k.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('inbound_faxes')
        .set({
          pdf_path: null,
          tiff_path: null,
          documents_removed_at: ts,
          note: `documents removed after ${days} days (INBOUND_RETENTION_DAYS)`,
          updated_at: ts,
        })
        .where('id', '=', row.id)
        .where('documents_removed_at', 'is', null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return null;
      return this.audit.insert(trx, { type: 'inbound.documents_removed', actor: 'retention', subject: row.id, data: { days, removed } });
    });
    await this.store.db.k.deleteFrom('inbound_pdf_tokens').where('inbound_id', '=', row.id).execute();
    if (!event) return false;
    this.audit.publish(event);
    return true;
  }
}
