// Prometheus metrics (prom-client), one registry per service instance; fed by HTTP middleware and audit events.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoredAuditEvent } from './audit/audit.js';
import type { FaxBackend } from './backends/types.js';
import type { Db } from './db/connect.js';

export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly attempts: Counter<'backend' | 'outcome' | 'failure_class'>;
  readonly callDuration: Histogram<'backend' | 'outcome'>;
  readonly pagesSent: Counter<'backend'>;
  readonly jobsFinished: Counter<'backend' | 'status'>;
  readonly conversion: Histogram<'kind'>;
  readonly inboundReceived: Counter<'source' | 'status'>;
  readonly webhookDeliveries: Counter<'kind' | 'result'>;

  constructor(db: Db, backend: () => FaxBackend) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'faxbot_process_' });
    this.httpDuration = new Histogram({
      name: 'faxbot_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [r],
    });
    this.attempts = new Counter({ name: 'faxbot_fax_attempts_total', help: 'Finished fax attempts', labelNames: ['backend', 'outcome', 'failure_class'], registers: [r] });
    this.callDuration = new Histogram({
      name: 'faxbot_fax_call_duration_seconds',
      help: 'Fax attempt duration from claim to outcome',
      labelNames: ['backend', 'outcome'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200],
      registers: [r],
    });
    this.pagesSent = new Counter({ name: 'faxbot_fax_pages_sent_total', help: 'Pages of faxes that ended SUCCESS', labelNames: ['backend'], registers: [r] });
    this.jobsFinished = new Counter({ name: 'faxbot_fax_jobs_finished_total', help: 'Jobs that reached a final status', labelNames: ['backend', 'status'], registers: [r] });
    this.conversion = new Histogram({
      name: 'faxbot_document_conversion_seconds',
      help: 'Document conversion time',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [r],
    });
    this.inboundReceived = new Counter({ name: 'faxbot_inbound_faxes_total', help: 'Inbound faxes recorded', labelNames: ['source', 'status'], registers: [r] });
    this.webhookDeliveries = new Counter({ name: 'faxbot_webhook_deliveries_total', help: 'Webhook delivery attempts', labelNames: ['kind', 'result'], registers: [r] });

    // Read from the database at scrape time, so every instance reports the same shared truth.
    new Gauge({
      name: 'faxbot_fax_jobs',
      help: 'Jobs by status and backend',
      labelNames: ['status', 'backend'],
      registers: [r],
      async collect() {
        const rows = await db.k.selectFrom('fax_jobs').select(['status', 'backend', (eb) => eb.fn.countAll<string | number>().as('n')]).groupBy(['status', 'backend']).execute();
        this.reset();
        for (const row of rows) this.set({ status: row.status, backend: row.backend }, Number(row.n));
      },
    });
    new Gauge({
      name: 'faxbot_queue_depth',
      help: 'Jobs waiting to be sent (queued, due or not)',
      registers: [r],
      async collect() {
        const row = await db.k.selectFrom('fax_jobs').select((eb) => eb.fn.countAll<string | number>().as('n')).where('status', '=', 'queued').executeTakeFirstOrThrow();
        this.set(Number(row.n));
      },
    });
    new Gauge({
      name: 'faxbot_backend_up',
      help: '1 when every readiness check of the outbound backend passes (PBX connected, credentials present)',
      labelNames: ['backend'],
      registers: [r],
      async collect() {
        const b = backend();
        const checks = await b.readiness().catch(() => [{ name: 'backend', ok: false }]);
        this.reset();
        this.set({ backend: b.name }, checks.every((c) => c.ok) ? 1 : 0);
      },
    });
  }

  /** Turns audit events into counters: the audit stream already says every time a job or fax moves. */
  onAudit(e: StoredAuditEvent): void {
    const d = e.data ?? {};
    const backend = typeof d.backend === 'string' ? d.backend : 'unknown';
    switch (e.type) {
      case 'job.succeeded':
      case 'job.failed':
      case 'job.retry_scheduled': {
        const outcome = e.type === 'job.succeeded' ? 'success' : 'failed';
        if (d.attempt !== undefined) {
          this.attempts.inc({ backend, outcome, failure_class: typeof d.failure_class === 'string' ? d.failure_class : '' });
          if (typeof d.duration_ms === 'number') this.callDuration.observe({ backend, outcome }, d.duration_ms / 1000);
        }
        if (e.type === 'job.succeeded' && typeof d.pages === 'number') this.pagesSent.inc({ backend }, d.pages);
        if (e.type !== 'job.retry_scheduled') this.jobsFinished.inc({ backend, status: e.type === 'job.succeeded' ? 'SUCCESS' : 'FAILED' });
        break;
      }
      case 'inbound.notified':
        this.webhookDeliveries.inc({ kind: 'inbound', result: 'delivered' });
        break;
      case 'inbound.notify_failed':
        this.webhookDeliveries.inc({ kind: 'inbound', result: 'failed' });
        break;
      case 'inbound.received':
      case 'inbound.failed':
        this.inboundReceived.inc({ source: typeof d.source === 'string' ? d.source : 'unknown', status: e.type === 'inbound.received' ? 'received' : 'failed' });
        break;
    }
  }
}
