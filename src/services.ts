// The composition root: builds every service from the settings, starts them in order and stops them in reverse.
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { buildAdmin, type AdminRuntime } from './admin/index.js';
import type { EnvMap } from './admin/settings-source.js';
import { ApiKeys } from './auth/api-keys.js';
import { RateLimiter } from './auth/rate-limit.js';
import { Audit } from './audit/audit.js';
import { publicBase } from './backends/cloud/config.js';
import type { InboundSink } from './backends/cloud/inbound-sink.js';
import { buildCloudProviders, type CloudProviders } from './backends/cloud/providers.js';
import { createBackend } from './backends/registry.js';
import type { FaxBackend } from './backends/types.js';
import type { Settings } from './config/index.js';
import { openDb, type Db } from './db/connect.js';
import { ghostscriptVersion } from './documents/ghostscript.js';
import { migrateToLatest } from './db/migrate.js';
import { createHttpApp, maxUploadBytes } from './http/app.js';
import { InboundService } from './inbound/service.js';
import { HotFolder } from './hotfolder/hot-folder.js';
import { MULTIPART_OVERHEAD } from './http/routes/fax.js';
import { closeServer, listen } from './http/server.js';
import { attemptLive } from './jobs/attempt-lookup.js';
import { CallbackApplier } from './jobs/cloud-callbacks.js';
import { Dispatcher } from './jobs/dispatcher.js';
import { DocumentTokens } from './jobs/document-tokens.js';
import { JobStore, type StatusHook } from './jobs/job-store.js';
import type { RetryRules } from './jobs/retry-policy.js';
import { FaxSubmitter } from './jobs/submit.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { checkReadiness, type ReadinessReport } from './readiness.js';
import { pgAdvisoryLock } from './scheduler/pg-lock.js';
import { FreeswitchBackend } from './backends/freeswitch/backend.js';
import { attachFreeswitchInbound } from './inbound/freeswitch.js';
import { WebhookOutbox, enqueueJobStatus } from './webhooks/outbox.js';
import { Scheduler, localLock } from './scheduler/scheduler.js';
import { LocalStore } from './storage/local.js';

export interface Services {
  settings: Settings;
  log: Logger;
  db: Db;
  store: LocalStore;
  audit: Audit;
  apiKeys: ApiKeys;
  limiter: RateLimiter;
  jobs: JobStore;
  submitter: FaxSubmitter;
  backend: FaxBackend;
  dispatcher: Dispatcher;
  inbound: InboundService;
  /** Null unless HOTFOLDER_DIR is set. */
  hotfolder: HotFolder | null;
  readiness: () => Promise<ReadinessReport>;
  /** Cloud provider adapters (callback routes use them whatever FAX_BACKEND is). */
  cloud: CloudProviders;
  documentTokens: DocumentTokens;
  callbacks: CallbackApplier;
  /** Where faxes received by cloud providers go (the inbound ingest replaces the default). */
  inboundSink: InboundSink;
  metrics: Metrics;
  webhooks: WebhookOutbox;
  /** Periodic tasks (artifact cleanup; other areas register theirs). */
  scheduler: Scheduler;
  /** Live settings, audit sinks and tail, restart control. */
  admin: AdminRuntime;
}

export interface BuildOptions {
  /** Replace the backend FAX_BACKEND names (tests use this to count calls); production never does. */
  backend?: FaxBackend;
  /** The variables `settings` were parsed from, re-read by POST /admin/settings/reload (default process.env). */
  environment?: () => EnvMap;
  /** How POST /admin/restart ends the process (default process.exit); tests inject a recorder. */
  exit?: (code: number) => void;
}

export function retryRules(s: Settings): RetryRules {
  return {
    busy: s.FAX_RETRY_BUSY,
    no_answer: s.FAX_RETRY_NO_ANSWER,
    congestion: s.FAX_RETRY_CONGESTION,
    protocol: s.FAX_RETRY_PROTOCOL,
    transient: s.FAX_RETRY_TRANSIENT,
  };
}

export async function buildServices(settings: Settings, log: Logger, opts: BuildOptions = {}): Promise<Services> {
  mkdirSync(settings.dataDir, { recursive: true });
  // Before the database: an unknown FAX_BACKEND or an invalid manifest stops the start-up with nothing opened.
  const cloud = buildCloudProviders(settings, log);
  const db = openDb({ url: settings.DATABASE_URL, dataDir: settings.dataDir, poolMax: settings.DB_POOL_MAX, sqliteSynchronous: settings.SQLITE_SYNCHRONOUS });
  try {
    const applied = await migrateToLatest(db);
    if (applied.length > 0) log.info({ migrations: applied, database: db.describe }, 'database migrated');
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  const store = new LocalStore(settings.dataDir);
  const audit = new Audit(db, settings.instanceId, log);
  // Read through the live settings: API_KEY and MAX_REQUESTS_PER_MINUTE can change without a restart.
  const apiKeys = new ApiKeys(db, () => ({ bootstrapKey: s.settings.API_KEY, defaultRateLimit: s.settings.MAX_REQUESTS_PER_MINUTE }), log);
  // Status webhooks: written in the transaction of each status change, delivered by the outbox worker.
  let outbox: WebhookOutbox | null = null;
  const onStatus: StatusHook = async (trx, job) => {
    if (!job.callback_url) return;
    await enqueueJobStatus(trx, job);
    // After the commit (which follows within milliseconds); the worker's poll catches it otherwise.
    setTimeout(() => outbox?.wake(), 20).unref();
  };
  const jobs = new JobStore(db, audit, onStatus);
  const documentTokens = new DocumentTokens(db, () => ({ ttlMinutes: settings.PDF_TOKEN_TTL_MINUTES, publicBase: publicBase(settings) }));
  const backend =
    opts.backend ??
    createBackend(settings, log, { cloud, documentUrl: (id) => documentTokens.issueUrl(id), attemptLive: (id, n) => attemptLive(db, id, n) });
  const s = { settings, log, db, store, audit, apiKeys, limiter: new RateLimiter(), jobs, backend, cloud, documentTokens } as Services;
  s.dispatcher = new Dispatcher(
    jobs,
    backend,
    store,
    audit,
    {
      instanceId: settings.instanceId,
      leaseMs: settings.JOB_LEASE_SECONDS * 1000,
      pollMs: settings.DISPATCH_POLL_MS,
      rules: retryRules(settings),
      attemptTimeoutMs: settings.FAX_ATTEMPT_TIMEOUT_MINUTES * 60_000,
      perPageMs: settings.FAX_ATTEMPT_TIMEOUT_PER_PAGE_SECONDS * 1000,
    },
    log.child({ component: 'dispatcher' }),
  );
  s.submitter = new FaxSubmitter(
    db,
    store,
    audit,
    () => ({
      backend: s.backend.name,
      disabled: s.settings.FAX_DISABLED,
      maxPages: s.settings.FAX_MAX_PAGES,
      pageSize: s.settings.FAX_PAGE_SIZE,
      deadlineMinutes: s.settings.FAX_JOB_DEADLINE_MINUTES,
    }),
    () => s.dispatcher.wake(),
    onStatus,
    (sec) => s.metrics.conversion.observe({ kind: 'text_to_pdf' }, sec),
  );
  s.scheduler = new Scheduler(log.child({ component: 'scheduler' }), db.dialect === 'postgres' ? pgAdvisoryLock(db) : localLock);
  s.inbound = new InboundService({
    settings: () => s.settings,
    db,
    files: store,
    audit,
    log,
    scheduler: s.scheduler,
    onConverted: (sec) => s.metrics.conversion.observe({ kind: 'tiff_to_pdf' }, sec),
  });
  s.hotfolder = settings.HOTFOLDER_DIR
    ? new HotFolder(s.submitter, db, audit, log.child({ component: 'hotfolder' }), {
        dir: settings.HOTFOLDER_DIR,
        stableMs: settings.HOTFOLDER_STABLE_MS,
        maxWriteMs: settings.HOTFOLDER_MAX_WRITE_SECONDS * 1000,
        graceMs: settings.HOTFOLDER_GRACE_SECONDS * 1000,
        rescanMs: settings.HOTFOLDER_RESCAN_SECONDS * 1000,
        statusPollMs: settings.HOTFOLDER_STATUS_POLL_SECONDS * 1000,
        polling: settings.HOTFOLDER_POLLING,
        maxBytes: () => maxUploadBytes(s),
        maxPages: () => s.settings.FAX_MAX_PAGES,
      })
    : null;
  s.readiness = () =>
    checkReadiness({
      db,
      store,
      backend: s.backend,
      ghostscriptVersion: () => ghostscriptVersion(settings.GHOSTSCRIPT_PATH),
      extra: [() => s.inbound.readiness(), () => s.hotfolder?.readiness() ?? Promise.resolve([])],
    });
  s.callbacks = new CallbackApplier(db, s.dispatcher, audit, log.child({ component: 'callbacks' }));
  // The inbound ingest takes cloud providers' received faxes too (one record per provider fax id).
  s.inboundSink = s.inbound;
  s.metrics = new Metrics(db, () => s.backend);
  backend.observeConversions?.((sec) => s.metrics.conversion.observe({ kind: 'pdf_to_tiff' }, sec));
  outbox = new WebhookOutbox(db, log.child({ component: 'webhooks' }), {
    secret: () => s.settings.FAX_CALLBACK_SECRET,
    timeoutMs: () => s.settings.FAX_CALLBACK_TIMEOUT_SECONDS * 1000,
    maxAttempts: () => s.settings.FAX_CALLBACK_MAX_ATTEMPTS,
    backoffMs: () => s.settings.FAX_CALLBACK_BACKOFF_SECONDS * 1000,
    backoffMaxMs: () => s.settings.FAX_CALLBACK_BACKOFF_MAX_SECONDS * 1000,
    pollMs: () => s.settings.FAX_CALLBACK_POLL_MS,
    onResult: (result) => s.metrics.webhookDeliveries.inc({ kind: 'fax.status', result }),
  });
  s.webhooks = outbox;
  audit.onEvent((e) => s.metrics.onAudit(e));
  s.admin = buildAdmin(s, { environment: opts.environment ?? (() => process.env), exit: opts.exit ?? ((code) => process.exit(code)) });
  return s;
}

export interface RunningApp {
  services: Services;
  server: Server;
  url: string;
  stop(): Promise<void>;
}

/** Starts everything: database, first admin key, backend, dispatcher (after reconciling), then HTTP. */
export async function startApp(settings: Settings, log: Logger, opts: BuildOptions = {}): Promise<RunningApp> {
  const s = await buildServices(settings, log, opts);
  try {
    if (settings.REQUIRE_API_KEY) await s.apiKeys.ensureInitialAdminKey(settings.dataDir);
    else log.warn('REQUIRE_API_KEY=false: requests without an API key are accepted (fax and inbound scopes, no admin); do not expose this service');
    if (settings.FAX_DISABLED) log.warn('FAX_DISABLED=true: new faxes are accepted but never sent (status "disabled")');
    // Sinks first, so that what the dispatcher records while adopting work reaches the audit file/syslog too.
    s.admin.start();
    await s.backend.start(s.dispatcher);
    await s.dispatcher.start();
    await s.inbound.start();
    // FreeSWITCH reports received faxes on the same event socket the backend keeps open.
    const detachFreeswitchInbound =
      s.backend instanceof FreeswitchBackend && s.inbound.enabled
        ? attachFreeswitchInbound(s.backend.connection, (r) => s.inbound.fromFreeswitch(r), log.child({ component: 'inbound' }))
        : () => undefined;
    await s.hotfolder?.start();
    s.scheduler.start();
    s.webhooks.start();
    const app = createHttpApp(s);
    const { server, url } = await listen(app, {
      host: settings.HOST ?? '127.0.0.1',
      port: settings.PORT,
      maxBodyBytes: () => maxUploadBytes(s) + MULTIPART_OVERHEAD,
    });
    log.info({ url, backend: s.backend.name, database: s.db.describe, instance: settings.instanceId }, 'faxbot listening');
    let stopping: Promise<void> | null = null;
    const stop = () =>
      (stopping ??= (async () => {
        s.admin.tail.closeAll();
        await closeServer(server, 10_000);
        await s.hotfolder?.stop();
        detachFreeswitchInbound();
        await s.inbound.stop();
        await s.scheduler.stop();
        await s.webhooks.stop();
        await s.dispatcher.stop();
        await s.backend.stop();
        await s.admin.stop();
        await s.db.close();
      })());
    s.admin.restart.setStop(stop);
    return { services: s, server, url, stop };
  } catch (err) {
    await s.hotfolder?.stop().catch(() => undefined);
    await s.inbound.stop().catch(() => undefined);
    await s.scheduler.stop().catch(() => undefined);
    await s.webhooks.stop().catch(() => undefined);
    await s.admin.stop().catch(() => undefined);
    await s.dispatcher.stop().catch(() => undefined);
    await s.backend.stop().catch(() => undefined);
    await s.db.close().catch(() => undefined);
    throw err;
  }
}
