// Administration settings keyed by environment name (a section for src/config): gates, audit sinks, cleanup, plugins.
import { envBool, envEnum, envInt, envNumber, envString } from '../config/env-types.js';

export const SYSLOG_FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;

/** Add to the settings sections in src/config/index.ts. Names follow the reference implementation. */
export const adminEnvSchema = {
  /** POST /admin/restart exits the process (a supervisor must restart it). Environment only. */
  ADMIN_ALLOW_RESTART: envBool(false),
  /** POST /admin/settings/persist may write the env file. Environment only. */
  ENABLE_PERSISTED_SETTINGS: envBool(false),

  /** Copy audit events to the sinks below (they are always stored in the database for /admin/logs). */
  AUDIT_LOG_ENABLED: envBool(false),
  /** json: one JSON object a line; text: "ts type actor subject key=value ...". */
  AUDIT_LOG_FORMAT: envEnum(['json', 'text'] as const, 'json'),
  /** Append audit lines to this file (created with mode 0600). */
  AUDIT_LOG_FILE: envString(),
  AUDIT_LOG_SYSLOG: envBool(false),
  /** A unix datagram socket path (default /dev/log), udp://host:port or host:port. */
  AUDIT_LOG_SYSLOG_ADDRESS: envString('/dev/log'),
  /** auto: RFC 3164 on a local socket (what journald and rsyslog's imuxsock parse), RFC 5424 over UDP. */
  AUDIT_LOG_SYSLOG_FORMAT: envEnum(['auto', 'rfc5424', 'rfc3164'] as const, 'auto'),
  AUDIT_LOG_SYSLOG_FACILITY: envEnum(SYSLOG_FACILITIES, 'authpriv'),
  /** Comment line sent on GET /admin/logs/tail when no event came for this long. */
  AUDIT_TAIL_HEARTBEAT_SECONDS: envNumber(15, 0.05, 300),

  /** Remove stored documents of finished jobs older than this many days (0 = keep forever). */
  ARTIFACT_TTL_DAYS: envInt(0, 0, 36_500),
  CLEANUP_INTERVAL_MINUTES: envInt(1440, 1, 525_600),

  /** The /plugins and /plugin-registry routes (404 while off). */
  FEATURE_V3_PLUGINS: envBool(false),
  /** JSON config store for plugin settings (default FAX_DATA_DIR/faxbot.config.json); read at start beneath the env file. */
  FAXBOT_CONFIG_PATH: envString(),
  /** Curated plugin list served by /plugin-registry (default: the one shipped in config/plugin-registry.json). */
  PLUGIN_REGISTRY_PATH: envString(),
};

/** No admin setting is a secret. */
export const adminSecrets = [] as const;
