// Tells a client system that a fax arrived: a signed webhook per finished record, retried with backoff, durable in the database.
import type { Audit } from '../audit/audit.js';
import type { InboundFax } from '../db/schema.js';
import type { Logger } from '../log.js';
import { backoffDelay } from '../util/backoff.js';
import { postSigned } from '../webhooks/post.js';
import { PollingWorker } from '../webhooks/worker.js';
import { presentInbound } from './presenter.js';
import type { InboundStore } from './store.js';

/** Notifications sent per pass of the delivery loop. */
const BATCH = 20;

export interface NotifierOptions {
  url: () => string | undefined;
  secret: () => string | undefined;
  timeoutMs: () => number;
  maxAttempts: () => number;
  backoffMs: () => number;
  backoffMaxMs: () => number;
  pollMs: () => number;
  /** A tokenized PDF URL for a record, or null when it has no PDF. */
  pdfLink: (fax: InboundFax) => Promise<{ url: string; expiresAt: string } | null>;
}

export class InboundNotifier {
  private readonly worker: PollingWorker;
  private stopped = true;

  constructor(
    private readonly store: InboundStore,
    private readonly audit: Audit,
    private readonly log: Logger,
    private readonly opts: NotifierOptions,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.worker = new PollingWorker('inbound webhook delivery loop', () => this.deliverDue(), BATCH, opts.pollMs, log);
  }

  start(): void {
    this.stopped = false;
    this.worker.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.worker.stop();
  }

  /** A record was finished: deliver now rather than at the next poll. */
  wake(): void {
    this.worker.wake();
  }

  /** Delivers every notification that is due (each claimed first, so two instances never send the same one at once). */
  async deliverDue(now = new Date()): Promise<number> {
    if (!this.opts.url()) return 0;
    const ts = now.toISOString();
    const due = await this.store.db.k
      .selectFrom('inbound_faxes')
      .selectAll()
      .where('notify_state', '=', 'pending')
      .where('notify_next_at', '<=', ts)
      .where((eb) => eb.or([eb('notify_lease_until', 'is', null), eb('notify_lease_until', '<', ts)]))
      .orderBy('notify_next_at')
      .limit(BATCH)
      .execute();
    let n = 0;
    for (const row of due) {
      if (this.stopped) break;
      const lease = new Date(Date.now() + this.opts.timeoutMs() + 30_000).toISOString();
      const claimed = await this.store.db.k
        .updateTable('inbound_faxes')
        .set({ notify_lease_until: lease })
        .where('id', '=', row.id)
        .where('notify_state', '=', 'pending')
        .where((eb) => eb.or([eb('notify_lease_until', 'is', null), eb('notify_lease_until', '<', new Date().toISOString())]))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) continue;
      n++;
      await this.deliver(row);
    }
    return n;
  }

  private async deliver(row: InboundFax): Promise<void> {
    const url = this.opts.url();
    const secret = this.opts.secret();
    if (!url || !secret) return;
    const attempt = row.notify_attempts + 1;
    const event = row.status === 'received' ? 'inbound.received' : 'inbound.failed';
    let error: string | null;
    try {
      const link = await this.opts.pdfLink(row);
      const body = JSON.stringify({
        event,
        // Stable across retries: a receiver that got it twice (we crashed after sending) can tell.
        event_id: `${row.id}:${row.status}`,
        attempt,
        sent_at: new Date().toISOString(),
        fax: presentInbound(row, { mask: false, pdf: link }),
      });
      error = await postSigned(
        { url, secret, body, event, eventId: `${row.id}:${row.status}`, userAgent: 'faxbot-inbound-webhook/1', timeoutMs: this.opts.timeoutMs() },
        this.fetchImpl,
      );
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const ts = new Date().toISOString();
    if (error === null) {
      await this.store.patch(row.id, { notify_state: 'delivered', notify_attempts: attempt, notified_at: ts, notify_lease_until: null, notify_last_error: null });
      await this.audit.record({ type: 'inbound.notified', actor: 'inbound:webhook', subject: row.id, data: { event, attempts: attempt } });
      this.log.info({ inbound: row.id, event, attempts: attempt }, 'inbound webhook delivered');
      return;
    }
    if (attempt >= this.opts.maxAttempts()) {
      await this.store.patch(row.id, { notify_state: 'failed', notify_attempts: attempt, notify_lease_until: null, notify_last_error: error });
      await this.audit.record({ type: 'inbound.notify_failed', actor: 'inbound:webhook', subject: row.id, data: { event, attempts: attempt, error } });
      this.log.error({ inbound: row.id, attempts: attempt, error }, 'inbound webhook given up (INBOUND_WEBHOOK_MAX_ATTEMPTS)');
      return;
    }
    const next = new Date(Date.now() + backoffDelay(attempt - 1, { initialMs: this.opts.backoffMs(), maxMs: this.opts.backoffMaxMs() })).toISOString();
    await this.store.patch(row.id, { notify_attempts: attempt, notify_next_at: next, notify_lease_until: null, notify_last_error: error });
    this.log.warn({ inbound: row.id, attempt, error, next }, 'inbound webhook failed; retrying later');
  }
}
