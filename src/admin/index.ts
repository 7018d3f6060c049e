// The administration runtime: live settings, audit sinks and tail, artifact cleanup task and the restart control.
import { AuditSinks } from '../audit/sinks.js';
import { AuditTail } from '../audit/tail.js';
import { cleanupArtifacts } from '../scheduler/artifact-cleanup.js';
import type { Services } from '../services.js';
import type { SettingsProbe } from './probes.js';
import { RestartController } from './restart.js';
import { SettingsManager } from './settings-manager.js';
import type { EnvMap } from './settings-source.js';

export interface AdminOptions {
  /** The variables the settings came from (process.env in production), re-read on reload. */
  environment: () => EnvMap;
  exit: (code: number) => void;
}

export interface AdminRuntime {
  settings: SettingsManager;
  sinks: AuditSinks;
  tail: AuditTail;
  restart: RestartController;
  /** Checks POST /admin/settings/validate runs besides database, storage, Ghostscript and the backend; areas push theirs. */
  probes: SettingsProbe[];
  startedAt: number;
  start(): void;
  stop(): Promise<void>;
}

export const ARTIFACT_CLEANUP_TASK = 'artifact-cleanup';

export function buildAdmin(s: Services, o: AdminOptions): AdminRuntime {
  const log = s.log.child({ component: 'admin' });
  const settings = new SettingsManager({
    environment: o.environment,
    initial: s.settings,
    apply: (next) => {
      s.settings = next;
    },
  });
  // Sinks are built from the settings at start (AUDIT_LOG_* are restart-required).
  const sinks = new AuditSinks(s.settings, log);
  const tail = new AuditTail(s.audit, () => s.settings.AUDIT_TAIL_HEARTBEAT_SECONDS * 1000);
  const restart = new RestartController({ allowed: () => s.settings.ADMIN_ALLOW_RESTART, exit: o.exit, log });
  s.scheduler.register({
    name: ARTIFACT_CLEANUP_TASK,
    everyMinutes: s.settings.CLEANUP_INTERVAL_MINUTES,
    // The TTL is read at each run: ARTIFACT_TTL_DAYS changes apply without a restart (0 turns the task into a no-op).
    run: ({ signal }) => cleanupArtifacts({ db: s.db, store: s.store, audit: s.audit, log }, s.settings.ARTIFACT_TTL_DAYS, new Date(), signal),
  });
  return {
    settings,
    sinks,
    tail,
    restart,
    probes: [],
    startedAt: Date.now(),
    start: () => sinks.attach(s.audit),
    stop: async () => {
      tail.closeAll();
      await sinks.close();
    },
  };
}
