// FreeSWITCH (FAX_BACKEND=freeswitch) settings, keyed by their environment names (a section for src/config), and the backend config built from them.
import { join } from 'node:path';
import { z } from 'zod';
import { envInt, envNumber, envString } from '../../config/env-types.js';
import { dialTemplateSetting, plainName, type PbxBackendConfig } from '../pbx/config.js';

const dialTemplate = dialTemplateSetting('sofia/gateway/{gateway}/{number} or sofia/external/{number}@sip.example.net', (s) => {
  // After the {} block FreeSWITCH splits a dial string on "|" and ","; spaces end the argument.
  const bare = s.replaceAll('{number}', '').replaceAll('{gateway}', '');
  return !/^[A-Za-z0-9_.:@/+=;#-]+$/.test(bare) || !/^[a-z]+\//.test(s)
    ? `expected an endpoint/resource without spaces, commas or "|" (e.g. sofia/external/{number}@sip.example.net), got "${s}"`
    : null;
});

/** Unset means "as FAX_T38". */
const optionalBool = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined;
    const s = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
    ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
    return z.NEVER;
  });

/** Add to the settings sections in src/config/index.ts. */
export const freeswitchEnvSchema = {
  /** Where FreeSWITCH's event socket listens (event_socket.conf.xml listen-ip). */
  FREESWITCH_ESL_HOST: envString('127.0.0.1'),
  FREESWITCH_ESL_PORT: envInt(8021, 1, 65535),
  FREESWITCH_ESL_PASSWORD: envString(),
  /** Longest wait between reconnection tries after FreeSWITCH went away. */
  FREESWITCH_ESL_RECONNECT_MAX_SECONDS: envNumber(10, 0.01, 3600),
  /** Wait before trying again after FreeSWITCH refused the password. */
  FREESWITCH_ESL_REFUSED_RETRY_SECONDS: envNumber(30, 0.01, 3600),
  /** How long a command (api, bgapi) may wait for FreeSWITCH's reply. */
  FREESWITCH_ESL_TIMEOUT_SECONDS: envNumber(5, 0.1, 120),
  /** Sofia gateway of the trunk: calls go to sofia/gateway/<name>/<number>. */
  FREESWITCH_GATEWAY_NAME: plainName('a Sofia gateway name'),
  /** Instead of the gateway: a dial string with {number} (and optionally {gateway}), e.g. sofia/external/{number}@sip.example.net. */
  FREESWITCH_DIAL_TEMPLATE: dialTemplate,
  /** Ask for T.38 on the first attempt (fax_enable_t38_request); unset = FAX_T38. The ladder falls back to audio after a protocol failure. */
  FREESWITCH_T38_ENABLE: optionalBool,
  /** Calls in flight at most (per instance). */
  FREESWITCH_MAX_CHANNELS: envInt(4, 1, 1000),
  /** How long a call may ring before it counts as no answer (originate_timeout). */
  FREESWITCH_ORIGINATE_TIMEOUT_SECONDS: envInt(60, 5, 600),
  /** Where this service writes outbound TIFFs; FreeSWITCH must be able to read them. Default <FAX_DATA_DIR>/spool/freeswitch. */
  FREESWITCH_FAX_DIR: envString(),
  /** The same directory as FreeSWITCH sees it, when it differs (FreeSWITCH in another container). */
  FREESWITCH_FAX_DIR_PBX: envString(),
};

export const freeswitchSecrets = ['FREESWITCH_ESL_PASSWORD'] as const;

export interface FreeswitchSettings {
  FREESWITCH_ESL_HOST?: string | undefined;
  FREESWITCH_ESL_PORT: number;
  FREESWITCH_ESL_PASSWORD?: string | undefined;
  FREESWITCH_ESL_RECONNECT_MAX_SECONDS: number;
  FREESWITCH_ESL_REFUSED_RETRY_SECONDS: number;
  FREESWITCH_ESL_TIMEOUT_SECONDS: number;
  FREESWITCH_GATEWAY_NAME?: string | undefined;
  FREESWITCH_DIAL_TEMPLATE?: string | undefined;
  FREESWITCH_T38_ENABLE?: boolean | undefined;
  FREESWITCH_MAX_CHANNELS: number;
  FREESWITCH_ORIGINATE_TIMEOUT_SECONDS: number;
  FREESWITCH_FAX_DIR?: string | undefined;
  FREESWITCH_FAX_DIR_PBX?: string | undefined;
}

export interface FreeswitchConfig extends PbxBackendConfig {
  esl: { host: string; port: number; password: string; reconnectMaxMs: number; refusedRetryMs: number; timeoutMs: number };
  /** Empty when the dial template does not use {gateway}. */
  gateway: string;
  dialTemplate?: string | undefined;
  /** Overrides FAX_T38 for the first rung of the ladder. */
  t38Request?: boolean | undefined;
  originateTimeoutSec: number;
}

/** Names of settings FAX_BACKEND=freeswitch cannot start without. */
export function freeswitchMissing(s: FreeswitchSettings): string[] {
  const missing: string[] = [];
  if (!s.FREESWITCH_ESL_PASSWORD) missing.push('FREESWITCH_ESL_PASSWORD');
  const template = s.FREESWITCH_DIAL_TEMPLATE;
  if (!s.FREESWITCH_GATEWAY_NAME) {
    if (!template) missing.push('FREESWITCH_GATEWAY_NAME (or FREESWITCH_DIAL_TEMPLATE)');
    else if (template.includes('{gateway}')) missing.push('FREESWITCH_GATEWAY_NAME (FREESWITCH_DIAL_TEMPLATE uses {gateway})');
  }
  return missing;
}

export function freeswitchConfig(s: FreeswitchSettings, dataDir: string): FreeswitchConfig {
  return {
    esl: {
      host: s.FREESWITCH_ESL_HOST ?? '127.0.0.1',
      port: s.FREESWITCH_ESL_PORT,
      password: s.FREESWITCH_ESL_PASSWORD ?? '',
      reconnectMaxMs: Math.round(s.FREESWITCH_ESL_RECONNECT_MAX_SECONDS * 1000),
      refusedRetryMs: Math.round(s.FREESWITCH_ESL_REFUSED_RETRY_SECONDS * 1000),
      timeoutMs: Math.round(s.FREESWITCH_ESL_TIMEOUT_SECONDS * 1000),
    },
    gateway: s.FREESWITCH_GATEWAY_NAME ?? '',
    dialTemplate: s.FREESWITCH_DIAL_TEMPLATE,
    t38Request: s.FREESWITCH_T38_ENABLE,
    maxChannels: s.FREESWITCH_MAX_CHANNELS,
    originateTimeoutSec: s.FREESWITCH_ORIGINATE_TIMEOUT_SECONDS,
    spoolDir: s.FREESWITCH_FAX_DIR ?? join(dataDir, 'spool', 'freeswitch'),
    spoolDirPbx: s.FREESWITCH_FAX_DIR_PBX,
  };
}
