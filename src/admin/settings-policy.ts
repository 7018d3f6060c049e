// Which settings can change while the service runs, which need a restart, and which only the environment may set.

/**
 * Settings read through `Services.settings` on every use, so replacing the settings object applies them.
 * Everything else is restart-required by default: a setting an area caches at start (the backend, the
 * database pool, the dispatcher's timers, the logger, the audit sinks, the scheduler's interval) must not
 * look changed while the old value is still in use. An area that reads a setting through adds it here.
 */
export const LIVE_SETTINGS: ReadonlySet<string> = new Set([
  'API_KEY',
  'REQUIRE_API_KEY',
  'MAX_REQUESTS_PER_MINUTE',
  'MAX_FILE_SIZE_MB',
  'FAX_MAX_PAGES',
  'FAX_PAGE_SIZE',
  'FAX_DISABLED',
  'FAX_JOB_DEADLINE_MINUTES',
  'ARTIFACT_TTL_DAYS',
  'FEATURE_V3_PLUGINS',
  'AUDIT_TAIL_HEARTBEAT_SECONDS',
]);

/**
 * Settings the admin API may never set: the gates of the admin API itself, and every setting naming a file or
 * directory on this host (an API key must not be a way to make the service write or read arbitrary paths).
 */
const LOCKED = new Set(['ADMIN_ALLOW_RESTART', 'ENABLE_PERSISTED_SETTINGS', 'FAX_DATA_DIR', 'AUDIT_LOG_SYSLOG_ADDRESS']);
const LOCKED_SUFFIXES = ['_DIR', '_PATH', '_FILE'];

export type SettingPolicy = 'live' | 'restart' | 'locked';

export function settingPolicy(name: string): SettingPolicy {
  if (LOCKED.has(name) || LOCKED_SUFFIXES.some((s) => name.endsWith(s))) return 'locked';
  return LIVE_SETTINGS.has(name) ? 'live' : 'restart';
}
