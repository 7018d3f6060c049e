// Configuration sanity checks for diagnostics: each names the setting and says what to do; no values of secrets.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { asteriskMissing } from '../backends/asterisk/config.js';
import { phaxioMissing } from '../backends/phaxio/config.js';
import { signalWireMissing } from '../backends/signalwire/config.js';
import { sinchMissing } from '../backends/sinch/config.js';
import type { Settings } from '../config/index.js';

export interface ConfigCheck {
  name: string;
  level: 'ok' | 'info' | 'warn' | 'error';
  detail: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

export function configChecks(s: Settings, pendingRestart: string[]): ConfigCheck[] {
  const out: ConfigCheck[] = [];
  const add = (name: string, level: ConfigCheck['level'], detail: string) => out.push({ name, level, detail });

  if (!s.REQUIRE_API_KEY) {
    add('REQUIRE_API_KEY', LOOPBACK.test(s.HOST ?? '') ? 'warn' : 'error', `API keys are not required and HOST=${s.HOST ?? ''}: anyone who reaches the port can send faxes and read inbound faxes`);
  } else add('REQUIRE_API_KEY', 'ok', 'API keys are required');
  if (s.API_KEY !== undefined && s.API_KEY.length < 24) add('API_KEY', 'warn', 'the bootstrap API_KEY is shorter than 24 characters; use a long random value or per-client keys');
  if (s.FAX_BACKEND === 'sandbox') add('FAX_BACKEND', 'warn', 'sandbox: faxes are simulated, nothing is sent');
  if (s.FAX_DISABLED) add('FAX_DISABLED', 'warn', 'new faxes are accepted but never sent');
  const missing =
    s.FAX_BACKEND === 'sip' ? asteriskMissing(s) : s.FAX_BACKEND === 'phaxio' ? phaxioMissing(s) : s.FAX_BACKEND === 'sinch' ? sinchMissing(s) : s.FAX_BACKEND === 'signalwire' ? signalWireMissing(s) : [];
  if (missing.length > 0) add('FAX_BACKEND', 'error', `${s.FAX_BACKEND} needs ${missing.join(', ')}`);
  if (['phaxio', 'sinch', 'signalwire'].includes(s.FAX_BACKEND) || !['sandbox', 'sip', 'freeswitch'].includes(s.FAX_BACKEND)) {
    const u = s.PUBLIC_API_URL ? new URL(s.PUBLIC_API_URL) : null;
    if (!u || LOOPBACK.test(u.hostname)) add('PUBLIC_API_URL', 'warn', 'a cloud provider must reach this service (documents, callbacks); PUBLIC_API_URL points at this machine');
    else if (u.protocol !== 'https:') add('PUBLIC_API_URL', 'warn', 'PUBLIC_API_URL is not https: documents and callbacks would cross the internet unencrypted');
  }
  if (s.SQLITE_SYNCHRONOUS === 'NORMAL' && (s.DATABASE_URL === undefined || !/^postgres/i.test(s.DATABASE_URL))) {
    add('SQLITE_SYNCHRONOUS', 'warn', 'NORMAL: an accepted fax may be lost on a power cut (FULL is safe)');
  }
  if (s.ARTIFACT_TTL_DAYS === 0) add('ARTIFACT_TTL_DAYS', 'info', 'stored documents are kept forever; set a retention in days to remove them');
  else add('ARTIFACT_TTL_DAYS', 'ok', `documents of finished jobs are removed after ${s.ARTIFACT_TTL_DAYS} day(s), checked every ${s.CLEANUP_INTERVAL_MINUTES} minute(s)`);
  if (!s.AUDIT_LOG_ENABLED) add('AUDIT_LOG_ENABLED', 'info', 'audit events are stored in the database only (no file or syslog copy)');
  if (s.ADMIN_ALLOW_RESTART) add('ADMIN_ALLOW_RESTART', 'info', 'POST /admin/restart exits the process: run under a supervisor that restarts it');
  if (pendingRestart.length > 0) add('restart', 'warn', `changed settings wait for a restart: ${pendingRestart.join(', ')}`);
  if (existsSync(join(s.dataDir, 'initial-admin-key'))) add('initial-admin-key', 'warn', `${join(s.dataDir, 'initial-admin-key')} still exists: create your own keys, then delete it`);
  try {
    const mode = statSync(s.dataDir).mode & 0o777;
    if (mode & 0o007) add('FAX_DATA_DIR', 'warn', `${s.dataDir} is accessible to every user (mode ${mode.toString(8)}); faxes are stored there: chmod o-rwx`);
  } catch {
    add('FAX_DATA_DIR', 'error', `${s.dataDir} does not exist or cannot be read`);
  }
  return out;
}
