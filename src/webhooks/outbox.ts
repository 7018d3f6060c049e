// The webhook outbox: status changes are written with the change (same transaction) and delivered by a worker,
// signed, in order per job, retried with backoff, and kept as a record. A slow receiver never delays a fax.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Database, FaxJob, WebhookDeliveriesTable } from '../db/schema.js';
import { presentJob } from '../jobs/presenter.js';
import type { Logger } from '../log.js';
import { backoffDelay } from '../util/backoff.js';
import { postSigned } from './post.js';
import { PollingWorker } from './worker.js';

export const FAX_STATUS_EVENT = 'fax.status';
const BATCH = 50;

export interface OutboxOptions {
  secret: () => string | undefined;
  timeoutMs: () => number;
  maxAttempts: () => number;
  backoffMs: () => number;
  backoffMaxMs: () => number;
  pollMs: () => number;
  onResult?: (result: 'delivered' | 'retry' | 'failed') => void;
}

/** Writes a status event for a job that asked for callbacks, inside the transaction that changed the job. */
export async function enqueueJobStatus(trx: Transaction<Database>, job: FaxJob): Promise<void> {
  if (!job.callback_url) return;
  const last = await trx
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('kind', '=', FAX_STATUS_EVENT)
    .where('subject', '=', job.id)
    .executeTakeFirst();
  const ts = new Date().toISOString();
  await trx
    .insertInto('webhook_deliveries')
    .values({
      id: randomUUID(),
      kind: FAX_STATUS_EVENT,
      subject: job.id,
      seq: Number(last?.seq ?? 0) + 1,
      url: job.callback_url,
      payload: JSON.stringify(presentJob(job)),
      state: 'pending',
      attempts: 0,
      next_at: ts,
      lease_until: null,
      last_error: null,
      created_at: ts,
      delivered_at: null,
    })
    .execute();
}

export class WebhookOutbox {
  private readonly worker: PollingWorker;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly opts: OutboxOptions,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.worker = new PollingWorker('webhook delivery loop', () => this.deliverDue(), BATCH, opts.pollMs, log);
  }

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** Something was enqueued: deliver now rather than at the next poll. */
  wake(): void {
    this.worker.wake();
  }

  /**
   * Delivers what is due: for each job only its oldest pending event, so a receiver sees a job's changes in
   * order; each is claimed with a lease first, so two instances never send the same one at once.
   */
  async deliverDue(now = new Date()): Promise<number> {
    const ts = now.toISOString();
    const due = await this.db.k
      .selectFrom('webhook_deliveries as w')
      .selectAll('w')
      .where('w.state', '=', 'pending')
      .where('w.next_at', '<=', ts)
      .where((eb) => eb.or([eb('w.lease_until', 'is', null), eb('w.lease_until', '<', ts)]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('webhook_deliveries as e')
              .select('e.id')
              .where('e.state', '=', 'pending')
              .whereRef('e.kind', '=', 'w.kind')
              .whereRef('e.subject', '=', 'w.subject')
              .whereRef('e.seq', '<', 'w.seq'),
          ),
        ),
      )
      .orderBy('w.next_at')
      .limit(BATCH)
      .execute();
    const claimed: WebhookDeliveriesTable[] = [];
    for (const row of due) {
      const lease = new Date(Date.now() + this.opts.timeoutMs() + 30_000).toISOString();
      const r = await this.db.k
        .updateTable('webhook_deliveries')
        .set({ lease_until: lease })
        .where('id', '=', row.id)
        .where('state', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', new Date().toISOString())]))
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) claimed.push(row);
    }
    // Receivers are independent: one slow receiver must not hold back another's events.
    await Promise.all(claimed.map((row) => this.deliver(row)));
    return claimed.length;
  }

  private async deliver(row: WebhookDeliveriesTable): Promise<void> {
    const secret = this.opts.secret();
    const attempt = row.attempts + 1;
    const eventId = `${row.subject}:${row.seq}`;
    const body = JSON.stringify({
      event: row.kind,
      event_id: eventId,
      sequence: row.seq,
      attempt,
      sent_at: new Date().toISOString(),
      job: JSON.parse(row.payload) as unknown,
    });
    const error = secret
      ? await postSigned(
          { url: row.url, secret, body, event: row.kind, eventId, userAgent: 'faxbot-status-webhook/1', timeoutMs: this.opts.timeoutMs() },
          this.fetchImpl,
        )
      : 'FAX_CALLBACK_SECRET is not set';
    const ts = new Date().toISOString();
    const where = this.db.k.updateTable('webhook_deliveries').where('id', '=', row.id);
    if (error === null) {
      await where.set({ state: 'delivered', attempts: attempt, delivered_at: ts, lease_until: null, last_error: null }).execute();
      this.opts.onResult?.('delivered');
      return;
    }
    if (attempt >= this.opts.maxAttempts()) {
      await where.set({ state: 'failed', attempts: attempt, lease_until: null, last_error: error }).execute();
      this.opts.onResult?.('failed');
      this.log.error({ job: row.subject, event: eventId, attempts: attempt, error }, 'status webhook given up (FAX_CALLBACK_MAX_ATTEMPTS)');
      return;
    }
    const next = new Date(Date.now() + backoffDelay(attempt - 1, { initialMs: this.opts.backoffMs(), maxMs: this.opts.backoffMaxMs() })).toISOString();
    await where.set({ attempts: attempt, next_at: next, lease_until: null, last_error: error }).execute();
    this.opts.onResult?.('retry');
    this.log.warn({ job: row.subject, event: eventId, attempt, error, next }, 'status webhook failed; retrying later');
  }
}
