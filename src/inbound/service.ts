// The inbound service: ingest, spool watchers, FreeSWITCH results, webhook worker, retention and recovery sweep, started and stopped together.
import { constants } from 'node:fs';
import { access, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Audit } from '../audit/audit.js';
import type { InboundSink, ReceivedFax } from '../backends/cloud/inbound-sink.js';
import type { ReadinessCheck } from '../backends/types.js';
import type { Db } from '../db/connect.js';
import type { InboundFax } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { LocalStore } from '../storage/local.js';
import { handleAsteriskHook } from './asterisk-hook.js';
import type { InboundSettings } from './config.js';
import { ingestFreeswitchResult, type FreeswitchRxResult } from './freeswitch.js';
import { InboundIngest } from './ingest.js';
import type { PbxFaxReport } from './reports.js';
import { InboundRetention } from './retention.js';
import { SpoolPaths, type PathRefusal } from './spool-paths.js';
import { SpoolWatcher } from './spool-watcher.js';
import { InboundStore } from './store.js';
import type { InboundReport, IngestResult } from './types.js';
import { InboundNotifier } from './webhook.js';

export interface InboundServiceDeps {
  settings: () => InboundSettings;
  db: Db;
  files: LocalStore;
  audit: Audit;
  log: Logger;
  scheduler: Scheduler;
  /** Hears how long each TIFF → PDF conversion took (metrics). */
  onConverted?: (seconds: number) => void;
  /** Replaceable for tests of the webhook worker. */
  fetchImpl?: typeof fetch;
}

export class InboundService implements InboundSink {
  readonly store: InboundStore;
  readonly ingestor: InboundIngest;
  readonly paths: SpoolPaths;
  readonly notifier: InboundNotifier;
  readonly retention: InboundRetention;
  private retentionRegistered = false;
  readonly watcher: SpoolWatcher;
  readonly quarantineDir: string;
  readonly files: LocalStore;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private started = false;

  constructor(private readonly d: InboundServiceDeps) {
    const s = d.settings();
    const log = d.log.child({ component: 'inbound' });
    this.store = new InboundStore(d.db);
    this.files = d.files;
    this.paths = new SpoolPaths(s.INBOUND_SPOOL_DIRS, s.INBOUND_SPOOL_MAP);
    this.quarantineDir = s.INBOUND_QUARANTINE_DIR ?? join(s.dataDir, 'inbound', 'quarantine');
    this.notifier = new InboundNotifier(
      this.store,
      d.audit,
      log,
      {
        url: () => this.d.settings().INBOUND_WEBHOOK_URL,
        secret: () => this.d.settings().INBOUND_WEBHOOK_SECRET,
        timeoutMs: () => this.d.settings().INBOUND_WEBHOOK_TIMEOUT_SECONDS * 1000,
        maxAttempts: () => this.d.settings().INBOUND_WEBHOOK_MAX_ATTEMPTS,
        backoffMs: () => this.d.settings().INBOUND_WEBHOOK_BACKOFF_SECONDS * 1000,
        backoffMaxMs: () => this.d.settings().INBOUND_WEBHOOK_BACKOFF_MAX_SECONDS * 1000,
        pollMs: () => this.d.settings().INBOUND_WEBHOOK_POLL_MS,
        pdfLink: (fax) => this.pdfLink(fax),
      },
      d.fetchImpl,
    );
    this.ingestor = new InboundIngest(
      this.store,
      d.files,
      d.audit,
      log,
      {
        instanceId: s.instanceId,
        tiffAction: s.INBOUND_TIFF_ACTION,
        quarantineDir: this.quarantineDir,
        maxTiffBytes: Math.floor(s.INBOUND_MAX_TIFF_MB * 1024 * 1024),
        routes: () => this.d.settings().INBOUND_ROUTES,
        webhookEnabled: () => this.d.settings().INBOUND_WEBHOOK_URL !== undefined,
        onConverted: d.onConverted,
      },
      () => this.notifier.wake(),
    );
    this.watcher = new SpoolWatcher(this.paths, this.ingestor, this.store, log, {
      stableMs: s.INBOUND_STABLE_MS,
      orphanGraceMs: s.INBOUND_ORPHAN_GRACE_SECONDS * 1000,
      polling: s.INBOUND_WATCH_POLLING,
      onRefused: (code, source, uid, via) => this.refused(code, source, uid, via),
    });
    this.retention = new InboundRetention(this.store, d.files, d.audit, log, {
      days: () => this.d.settings().INBOUND_RETENTION_DAYS,
      cron: s.INBOUND_RETENTION_CRON,
    });
  }

  get enabled(): boolean {
    return this.d.settings().INBOUND_ENABLED;
  }

  /** Finishes what a previous run left half done, then starts the watchers, the webhook worker, retention and the sweep. */
  async start(): Promise<void> {
    const s = this.d.settings();
    if (!s.INBOUND_ENABLED) return;
    if (s.INBOUND_WEBHOOK_URL && !s.INBOUND_WEBHOOK_SECRET) {
      throw new Error('INBOUND_WEBHOOK_URL is set but INBOUND_WEBHOOK_SECRET is not: inbound webhooks are always signed');
    }
    this.started = true;
    await mkdir(this.quarantineDir, { recursive: true });
    // Claims held by this instance id belong to a process that no longer runs.
    await this.sweep(true);
    if (s.INBOUND_WATCH && this.paths.dirs.length > 0) await this.watcher.start();
    this.notifier.start();
    // Also with INBOUND_RETENTION_DAYS=0: the same task purges expired PDF tokens.
    if (!this.retentionRegistered) {
      this.retention.register(this.d.scheduler);
      this.retentionRegistered = true;
    }
    this.scheduleSweep();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    await this.sweeping;
    await this.watcher.stop();
    await this.notifier.stop();
  }

  /** The general ingest entry for other reporters (cloud callbacks): see InboundReport. */
  ingest(report: InboundReport): Promise<IngestResult> {
    return this.ingestor.ingest(report);
  }

  /**
   * A fax a cloud provider received (the cloud inbound routes' InboundSink): into the same ingest,
   * keyed by (provider, provider fax id). A PDF is stored as it is, a TIFF converted, anything else
   * quarantined with a FAILED record. Throws when the document cannot be stored, so the provider retries.
   */
  async receive(fax: ReceivedFax): Promise<{ id: string; duplicate: boolean }> {
    const b = fax.pdf;
    const tiff = b !== null && b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a) || (b[0] === 0x4d && b[1] === 0x4d && b[3] === 0x2a));
    const { fax: row, created } = await this.ingestor.ingest({
      source: fax.source,
      sourceUid: fax.sourceUid,
      via: 'callback',
      toNumber: fax.to,
      fromNumber: fax.from,
      success: fax.status === 'received',
      pages: fax.pages,
      error: fax.error,
      document: b === null ? { kind: 'none' } : tiff ? { kind: 'tiff-bytes', bytes: b } : { kind: 'pdf', bytes: b },
    });
    return { id: row.id, duplicate: !created };
  }

  /** POST /_internal/asterisk/inbound after the secret and the body were checked. */
  asteriskHook(report: PbxFaxReport): Promise<IngestResult> {
    return handleAsteriskHook(
      { ingest: this.ingestor, store: this.store, paths: this.paths, onRefused: (c, src, uid, via) => this.refused(c, src, uid, via) },
      report,
    );
  }

  /** One FreeSWITCH result from the ESL connection (spandsp::rxfaxresult or the rx leg's CHANNEL_HANGUP_COMPLETE). */
  fromFreeswitch(result: FreeswitchRxResult): Promise<IngestResult> {
    return ingestFreeswitchResult({ ingest: this.ingestor, paths: this.paths, onRefused: (c, src, uid, via) => this.refused(c, src, uid, via) }, result);
  }

  /** A fresh tokenized link to the record's PDF, or null when it has none. */
  async pdfLink(fax: InboundFax): Promise<{ url: string; expiresAt: string } | null> {
    if (!fax.pdf_path) return null;
    const s = this.d.settings();
    const { token, expiresAt } = await this.store.mintToken(fax.id, s.INBOUND_TOKEN_TTL_MINUTES);
    const base = s.PUBLIC_API_URL ?? 'http://localhost:8080';
    return { url: `${base}/inbound/${encodeURIComponent(fax.id)}/pdf?token=${token}`, expiresAt };
  }

  /** Readiness (when inbound is enabled): every spool readable (and writable when TIFFs are archived), quarantine writable. */
  async readiness(): Promise<ReadinessCheck[]> {
    const s = this.d.settings();
    if (!s.INBOUND_ENABLED) return [];
    const checks: ReadinessCheck[] = [];
    const mode = s.INBOUND_TIFF_ACTION === 'archive' ? constants.R_OK | constants.W_OK | constants.X_OK : constants.R_OK | constants.X_OK;
    for (const d of this.paths.dirs) {
      try {
        await access(d.dir, mode);
        checks.push({ name: `inbound_spool:${d.dir}`, ok: true, detail: s.INBOUND_TIFF_ACTION === 'archive' ? 'readable and writable' : 'readable' });
      } catch (err) {
        const why = s.INBOUND_TIFF_ACTION === 'archive' ? 'must be readable and writable (INBOUND_TIFF_ACTION=archive moves TIFFs out)' : 'must be readable';
        checks.push({ name: `inbound_spool:${d.dir}`, ok: false, detail: `${(err as NodeJS.ErrnoException).code ?? String(err)}: ${why}` });
      }
    }
    checks.push(await writableCheck('inbound_quarantine', this.quarantineDir));
    return checks;
  }

  /** Finishes records whose document work was interrupted; runs at start (taking over own claims) and periodically. */
  async sweep(takeOver = false): Promise<void> {
    const run = (async () => {
      const s = this.d.settings();
      const rows = await this.store.unfinished(new Date(), s.instanceId, takeOver, takeOver ? 0 : Math.min(10_000, s.INBOUND_SWEEP_SECONDS * 1000));
      for (const row of rows) {
        try {
          await this.ingestor.resume(row, takeOver);
        } catch (err) {
          this.d.log.error({ inbound: row.id, err: String(err) }, 'could not finish an interrupted inbound fax; retried at the next sweep');
        }
      }
    })();
    this.sweeping = run;
    try {
      await run;
    } finally {
      if (this.sweeping === run) this.sweeping = null;
    }
  }

  private scheduleSweep(): void {
    if (!this.started) return;
    this.sweepTimer = setTimeout(() => {
      this.sweep()
        .catch((err: unknown) => this.d.log.error({ err: String(err) }, 'inbound sweep failed'))
        .finally(() => this.scheduleSweep());
    }, this.d.settings().INBOUND_SWEEP_SECONDS * 1000);
  }

  private async refused(code: PathRefusal, source: string, uid: string, via: string): Promise<void> {
    this.d.log.warn({ source, uid, via, code }, 'inbound TIFF path refused');
    await this.d.audit.record({ type: 'inbound.path_refused', actor: `inbound:${via}`, subject: `${source}:${uid}`, data: { code, via } });
  }
}

async function writableCheck(name: string, dir: string): Promise<ReadinessCheck> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    const probe = join(dir, `.probe-${process.pid}-${Date.now()}`);
    const fh = await open(probe, 'w', 0o600);
    await fh.close();
    await unlink(probe);
    return { name, ok: true, detail: `${dir}: writable` };
  } catch (err) {
    return { name, ok: false, detail: `${dir}: not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
}
