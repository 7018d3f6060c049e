// Asterisk (FAX_BACKEND=sip) settings, keyed by their environment names (a section for src/config), and the backend config built from them.
import { join } from 'node:path';
import { envInt, envNumber, envString, envUrl } from '../../config/env-types.js';
import { dialTemplateSetting, plainName, type PbxBackendConfig } from '../pbx/config.js';

const dialTemplate = dialTemplateSetting('PJSIP/{number}@carrier', (s) =>
  /[,&\s]/.test(s) || !/^[A-Za-z0-9]+\//.test(s) ? `expected TECH/resource without commas, "&" or spaces (e.g. PJSIP/{number}@carrier), got "${s}"` : null,
);

/** Add to the settings sections in src/config/index.ts. */
export const asteriskEnvSchema = {
  /** Asterisk's HTTP server (http.conf), plus its prefix if one is set; no credentials in it. */
  ARI_URL: envUrl('http://127.0.0.1:8088'),
  ARI_USERNAME: envString(),
  ARI_PASSWORD: envString(),
  /** The Stasis application Faxbot registers (originated calls enter it on answer). */
  ARI_APP: plainName('an ARI application name').transform((v) => v ?? 'faxbot'),
  /** Longest wait between reconnection tries after Asterisk went away. */
  ARI_RECONNECT_MAX_SECONDS: envNumber(30, 0.01, 3600),
  /** Wait before trying again after Asterisk refused the credentials or has no /ari/events. */
  ARI_REFUSED_RETRY_SECONDS: envNumber(60, 0.01, 3600),
  /** PJSIP endpoint of the trunk: calls go to PJSIP/<number>@<endpoint>. */
  ASTERISK_TRUNK_ENDPOINT: plainName('a PJSIP endpoint name'),
  /** Instead of the trunk endpoint: a dial string with {number}, e.g. PJSIP/{number}@carrier or PJSIP/carrier/sip:{number}@sip.example.net. */
  ASTERISK_DIAL_TEMPLATE: dialTemplate,
  /** Calls in flight at most (per instance). */
  ASTERISK_MAX_CHANNELS: envInt(4, 1, 1000),
  /** How long a call may ring before it counts as no answer. */
  ASTERISK_DIAL_TIMEOUT_SECONDS: envInt(60, 5, 600),
  /** Where this service writes outbound TIFFs; Asterisk must be able to read them. Default <FAX_DATA_DIR>/spool/asterisk. */
  ASTERISK_FAX_DIR: envString(),
  /** The same directory as Asterisk sees it, when it differs (Asterisk in another container). */
  ASTERISK_FAX_DIR_PBX: envString(),
};

export const asteriskSecrets = ['ARI_PASSWORD'] as const;

export interface AsteriskSettings {
  ARI_URL?: string | undefined;
  ARI_USERNAME?: string | undefined;
  ARI_PASSWORD?: string | undefined;
  ARI_APP: string;
  ARI_RECONNECT_MAX_SECONDS: number;
  ARI_REFUSED_RETRY_SECONDS: number;
  ASTERISK_TRUNK_ENDPOINT?: string | undefined;
  ASTERISK_DIAL_TEMPLATE?: string | undefined;
  ASTERISK_MAX_CHANNELS: number;
  ASTERISK_DIAL_TIMEOUT_SECONDS: number;
  ASTERISK_FAX_DIR?: string | undefined;
  ASTERISK_FAX_DIR_PBX?: string | undefined;
}

export interface AsteriskConfig extends PbxBackendConfig {
  ari: { url: string; username: string; password: string; app: string; reconnectMaxMs: number; refusedRetryMs: number };
  dial: { trunk?: string; template?: string };
  dialTimeoutSec: number;
}

/** Names of settings FAX_BACKEND=sip cannot start without. */
export function asteriskMissing(s: AsteriskSettings): string[] {
  const missing: string[] = [];
  if (!s.ARI_USERNAME) missing.push('ARI_USERNAME');
  if (!s.ARI_PASSWORD) missing.push('ARI_PASSWORD');
  if (!s.ASTERISK_TRUNK_ENDPOINT && !s.ASTERISK_DIAL_TEMPLATE) missing.push('ASTERISK_TRUNK_ENDPOINT (or ASTERISK_DIAL_TEMPLATE)');
  return missing;
}

export function asteriskConfig(s: AsteriskSettings, dataDir: string): AsteriskConfig {
  return {
    ari: {
      url: s.ARI_URL ?? 'http://127.0.0.1:8088',
      username: s.ARI_USERNAME ?? '',
      password: s.ARI_PASSWORD ?? '',
      app: s.ARI_APP,
      reconnectMaxMs: Math.round(s.ARI_RECONNECT_MAX_SECONDS * 1000),
      refusedRetryMs: Math.round(s.ARI_REFUSED_RETRY_SECONDS * 1000),
    },
    dial: s.ASTERISK_DIAL_TEMPLATE ? { template: s.ASTERISK_DIAL_TEMPLATE } : { trunk: s.ASTERISK_TRUNK_ENDPOINT ?? '' },
    maxChannels: s.ASTERISK_MAX_CHANNELS,
    dialTimeoutSec: s.ASTERISK_DIAL_TIMEOUT_SECONDS,
    spoolDir: s.ASTERISK_FAX_DIR ?? join(dataDir, 'spool', 'asterisk'),
    spoolDirPbx: s.ASTERISK_FAX_DIR_PBX,
  };
}
