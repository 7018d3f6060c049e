// Inbound and hot-folder settings, keyed by their environment names (a section for src/config), with their parsers.
import { isAbsolute, normalize } from 'node:path';
import { z } from 'zod';
import { envBool, envEnum, envInt, envNumber, envString, envUrl } from '../config/env-types.js';
import { parseRoutes, type MailboxRoute } from './mailbox.js';

export type SpoolSource = 'asterisk' | 'freeswitch';

export interface SpoolDir {
  /** Absolute local directory. */
  dir: string;
  /** Which PBX writes here; 'auto' decides per file (a UUID name is FreeSWITCH's, anything else Asterisk's). */
  source: SpoolSource | 'auto';
}

export interface PathMapping {
  /** The spool as the PBX names it. */
  pbx: string;
  /** The same directory as this service sees it. */
  local: string;
}

function cleanDir(p: string): string {
  const n = normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/** `INBOUND_SPOOL_DIRS`: comma-separated absolute directories, each optionally tagged `asterisk:` or `freeswitch:`. */
export function parseSpoolDirs(v: string): SpoolDir[] | string {
  const out: SpoolDir[] = [];
  for (const raw of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^(asterisk|freeswitch):(.*)$/i.exec(raw);
    const dir = m ? m[2]!.trim() : raw;
    if (!isAbsolute(dir)) return `"${raw}" is not an absolute directory (optionally prefixed asterisk: or freeswitch:)`;
    if (dir.split('/').includes('..')) return `"${raw}" must not contain ".."`;
    out.push({ dir: cleanDir(dir), source: m ? (m[1]!.toLowerCase() as SpoolSource) : 'auto' });
  }
  return out;
}

/** `INBOUND_SPOOL_MAP`: comma-separated `<path the PBX uses>=<path here>` pairs, both absolute. */
export function parseSpoolMap(v: string): PathMapping[] | string {
  const out: PathMapping[] = [];
  for (const raw of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const i = raw.indexOf('=');
    const pbx = i < 0 ? '' : raw.slice(0, i).trim();
    const local = i < 0 ? '' : raw.slice(i + 1).trim();
    if (!isAbsolute(pbx) || !isAbsolute(local)) return `"${raw}" must be <absolute path on the PBX>=<absolute path here>`;
    if (pbx.split('/').includes('..') || local.split('/').includes('..')) return `"${raw}" must not contain ".."`;
    out.push({ pbx: cleanDir(pbx), local: cleanDir(local) });
  }
  // Longest PBX prefix first, so /a/b=… wins over /a=… for files under /a/b.
  return out.sort((a, b) => b.pbx.length - a.pbx.length);
}

function listSetting<T>(parse: (v: string) => T[] | string) {
  return z
    .string()
    .optional()
    .transform((v, ctx): T[] => {
      if (v === undefined || v.trim() === '') return [];
      const r = parse(v);
      if (typeof r === 'string') {
        ctx.addIssue({ code: 'custom', message: r });
        return z.NEVER;
      }
      return r;
    });
}

const cron = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const s = v === undefined || v.trim() === '' ? fallback : v.trim();
      // Five or six fields of digits, ranges, lists, steps and *; node-cron validates fully at start.
      if (!/^(\S+\s+){4,5}\S+$/.test(s)) {
        ctx.addIssue({ code: 'custom', message: `expected a cron expression such as "${fallback}", got "${s}"` });
        return z.NEVER;
      }
      return s;
    });

/** Add to the settings sections in src/config/index.ts. */
export const inboundEnvSchema = {
  INBOUND_ENABLED: envBool(false),
  /** Shared secret of POST /_internal/asterisk/inbound (header X-Internal-Secret). Unset: the hook refuses every call. */
  ASTERISK_INBOUND_SECRET: envString(),
  INBOUND_SPOOL_DIRS: listSetting<SpoolDir>(parseSpoolDirs),
  INBOUND_SPOOL_MAP: listSetting<PathMapping>(parseSpoolMap),
  /** Watch the spool directories (chokidar) and scan them at start-up. */
  INBOUND_WATCH: envBool(true),
  /** Poll instead of inotify (network file systems that deliver no events). */
  INBOUND_WATCH_POLLING: envBool(false),
  /** A file counts as written once its size has not changed for this long. */
  INBOUND_STABLE_MS: envInt(2000, 50, 600_000),
  /** A TIFF with neither hook nor sidecar is ingested (numbers unknown) once untouched this long. */
  INBOUND_ORPHAN_GRACE_SECONDS: envNumber(300, 0.05, 7 * 24 * 3600),
  /** What happens to a received TIFF after ingest: moved into the data dir (archive) or left in the spool (keep). */
  INBOUND_TIFF_ACTION: envEnum(['archive', 'keep'] as const, 'archive'),
  /** Unreadable TIFFs are moved here (never deleted). Default: <FAX_DATA_DIR>/inbound/quarantine. */
  INBOUND_QUARANTINE_DIR: envString(),
  INBOUND_MAX_TIFF_MB: envNumber(100, 0.01, 2048),
  /** Re-tries interrupted ingests (and expired claims of other instances) this often. */
  INBOUND_SWEEP_SECONDS: envNumber(60, 0.05, 86_400),
  INBOUND_TOKEN_TTL_MINUTES: envInt(60, 1, 7 * 24 * 60),
  /** Days to keep received documents; 0 keeps them forever. The record stays. */
  INBOUND_RETENTION_DAYS: envNumber(30, 0, 36_500),
  INBOUND_RETENTION_CRON: cron('17 * * * *'),
  /** `<number or prefix*>=<mailbox>` pairs, comma-separated; `*` alone is the default mailbox. */
  INBOUND_ROUTES: listSetting<MailboxRoute>(parseRoutes),
  INBOUND_WEBHOOK_URL: envUrl(),
  INBOUND_WEBHOOK_SECRET: envString(),
  INBOUND_WEBHOOK_TIMEOUT_SECONDS: envNumber(10, 0.1, 300),
  INBOUND_WEBHOOK_MAX_ATTEMPTS: envInt(15, 1, 1000),
  /** First retry delay; each further one doubles, up to INBOUND_WEBHOOK_BACKOFF_MAX_SECONDS. */
  INBOUND_WEBHOOK_BACKOFF_SECONDS: envNumber(15, 0.01, 86_400),
  INBOUND_WEBHOOK_BACKOFF_MAX_SECONDS: envNumber(3600, 0.01, 7 * 86_400),
  INBOUND_WEBHOOK_POLL_MS: envInt(2000, 10, 600_000),
};

export const inboundSecrets = ['ASTERISK_INBOUND_SECRET', 'INBOUND_WEBHOOK_SECRET'] as const;

/** The inbound settings as the inbound service reads them. */
export type InboundSettings = { [K in keyof typeof inboundEnvSchema]: z.output<(typeof inboundEnvSchema)[K]> } & {
  readonly dataDir: string;
  readonly PUBLIC_API_URL?: string | undefined;
  readonly instanceId: string;
};
