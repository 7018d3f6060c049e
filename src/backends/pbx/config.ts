// Fax settings every PBX backend (Asterisk, FreeSWITCH) shares: station id, header, line options, TIFF format, Ghostscript, caller id.
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { envBool, envEnum, envInt, envString } from '../../config/env-types.js';
import type { FaxCompression, FaxPaperSize, FaxResolution } from '../../documents/pdf-to-tiff.js';
import type { FaxLineParams } from './ladder.js';

/** Characters both PBXs carry unchanged into a fax header (FreeSWITCH's originate parser refuses quotes, braces, `$`, `\`). */
const HEADER_RE = /^[A-Za-z0-9 +_.:@/=!#%&()*,;?~-]{1,50}$/;
/** T.30 identities (TSI/CSI) are at most 20 of digits, "+" and space. */
const STATION_RE = /^[0-9+ ]{1,20}$/;
const NUMBER_RE = /^\+?[0-9]{1,20}$/;
const NAME_RE = /^[A-Za-z0-9 +_.:@/=!#%&()*,;?~-]{1,40}$/;

/** An optional string setting (empty means unset), trimmed; `problem` names what is wrong with a value, or null. */
function checkedString(problem: (value: string) => string | null) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const s = v.trim();
      const why = problem(s);
      if (why !== null) {
        ctx.addIssue({ code: 'custom', message: why });
        return z.NEVER;
      }
      return s;
    });
}

/** An optional string setting that must match `re`. */
export function matching(re: RegExp, expected: string) {
  return checkedString((s) => (re.test(s) ? null : `expected ${expected}, got "${s}"`));
}

/** A PBX object's name (endpoint, application, gateway): letters, digits, "_", "-", ".". */
export function plainName(what: string) {
  return matching(/^[A-Za-z0-9_.-]{1,64}$/, `${what} (letters, digits, "_", "-", ".")`);
}

/**
 * An optional dial string template setting: it must contain {number}; `problem` names anything else
 * the PBX would misread in it (null when it is fine).
 */
export function dialTemplateSetting(example: string, problem: (template: string) => string | null) {
  return checkedString((s) => (s.includes('{number}') ? problem(s) : `must contain {number}, e.g. ${example}, got "${s}"`));
}

const maxRate = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const s = v === undefined || v.trim() === '' ? '14400' : v.trim();
    if (!['14400', '12000', '9600', '7200', '4800', '2400'].includes(s)) {
      ctx.addIssue({ code: 'custom', message: `expected one of 14400, 12000, 9600, 7200, 4800, 2400, got "${s}"` });
      return z.NEVER;
    }
    return Number(s);
  });

/** Add to the settings sections in src/config/index.ts (once, for every PBX backend). */
export const pbxFaxEnvSchema = {
  /** Our station id (TSI) shown on the far machine; also used by the inbound dialplan. */
  FAX_LOCAL_STATION_ID: matching(STATION_RE, 'up to 20 digits, spaces or "+" (a T.30 station id)'),
  /** The line printed on top of each page. */
  FAX_HEADER: matching(HEADER_RE, 'up to 50 letters, digits, spaces and + _ . : @ / = ! # % & ( ) * , ; ? ~ -'),
  /** T.30 error correction on the first attempt (the ladder turns it off after repeated protocol failures). */
  FAX_ECM: envBool(true),
  /** Highest modem speed on the first attempt, bit/s. */
  FAX_MAX_RATE: maxRate,
  /** Ask for T.38 on the first attempt (the ladder falls back to G.711 audio after a protocol failure). */
  FAX_T38: envBool(true),
  /** fine = 204x196 dpi, normal = 204x98. */
  FAX_RESOLUTION: envEnum(['fine', 'normal'] as const, 'fine'),
  /** g3 = T.4 1-D (most compatible), g4 = T.6 (smaller; the PBX transcodes on the line as needed). */
  FAX_TIFF_COMPRESSION: envEnum(['g3', 'g4'] as const, 'g3'),
  GHOSTSCRIPT_PATH: envString('gs'),
  /** Limit for one PDF → TIFF conversion. */
  FAX_CONVERT_TIMEOUT_SECONDS: envInt(120, 5, 3600),
  /** Conversions running at once; 0 = one per CPU core. Calls in flight can be many more. */
  FAX_CONVERT_CONCURRENCY: envInt(0, 0, 64),
  /** Caller id number presented on outbound fax calls (digits, optional leading +). */
  FAX_CALLER_ID_NUMBER: matching(NUMBER_RE, 'digits with an optional leading +'),
  FAX_CALLER_ID_NAME: matching(NAME_RE, 'up to 40 letters, digits, spaces and simple punctuation'),
};

export const pbxFaxSecrets = [] as const;

/** The settings this layer reads (the shared section plus core's page size and page limit). */
export interface PbxFaxSettings {
  FAX_LOCAL_STATION_ID?: string | undefined;
  FAX_HEADER?: string | undefined;
  FAX_ECM: boolean;
  FAX_MAX_RATE: number;
  FAX_T38: boolean;
  FAX_RESOLUTION: FaxResolution;
  FAX_TIFF_COMPRESSION: FaxCompression;
  GHOSTSCRIPT_PATH?: string | undefined;
  FAX_CONVERT_TIMEOUT_SECONDS: number;
  FAX_CONVERT_CONCURRENCY: number;
  FAX_CALLER_ID_NUMBER?: string | undefined;
  FAX_CALLER_ID_NAME?: string | undefined;
  FAX_PAGE_SIZE: FaxPaperSize;
  FAX_MAX_PAGES: number;
}

/** How documents become fax TIFFs. */
export interface FaxTiffFormat {
  resolution: FaxResolution;
  compression: FaxCompression;
  paperSize: FaxPaperSize;
  maxPages: number;
  timeoutMs: number;
  gsPath: string;
  /** Conversions at once. */
  concurrency: number;
}

/** What every PBX backend's own config has: its capacity and its spool, under both names. */
export interface PbxBackendConfig {
  /** Calls in flight at most (per instance). */
  maxChannels: number;
  /** Where this service writes the TIFFs. */
  spoolDir: string;
  /** The same directory as the PBX sees it, when it differs. */
  spoolDirPbx?: string | undefined;
}

/** Everything a PBX backend needs to know about the fax itself, whatever the PBX. */
export interface PbxFaxConfig {
  stationId?: string | undefined;
  header?: string | undefined;
  callerIdNumber?: string | undefined;
  callerIdName?: string | undefined;
  /** The first rung of the fallback ladder (pbx/ladder.ts). */
  line: Omit<FaxLineParams, 'step'>;
  tiff: FaxTiffFormat;
}

export function pbxFaxConfig(s: PbxFaxSettings): PbxFaxConfig {
  return {
    stationId: s.FAX_LOCAL_STATION_ID,
    header: s.FAX_HEADER,
    callerIdNumber: s.FAX_CALLER_ID_NUMBER,
    callerIdName: s.FAX_CALLER_ID_NAME,
    line: { t38: s.FAX_T38, ecm: s.FAX_ECM, maxRate: s.FAX_MAX_RATE },
    tiff: {
      resolution: s.FAX_RESOLUTION,
      compression: s.FAX_TIFF_COMPRESSION,
      paperSize: s.FAX_PAGE_SIZE,
      maxPages: s.FAX_MAX_PAGES,
      timeoutMs: s.FAX_CONVERT_TIMEOUT_SECONDS * 1000,
      gsPath: s.GHOSTSCRIPT_PATH ?? 'gs',
      concurrency: s.FAX_CONVERT_CONCURRENCY > 0 ? s.FAX_CONVERT_CONCURRENCY : availableParallelism(),
    },
  };
}
