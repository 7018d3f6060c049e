// Core settings every deployment has: HTTP, storage, database, auth, outbound jobs and the sandbox backend.
import { hostname } from 'node:os';
import { z } from 'zod';
import { envBool, envEnum, envInt, envNumber, envString, envUrl } from './env-types.js';
import { parseRetryRule } from './retry-rule.js';

const backendName = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return 'sandbox';
    const s = v.trim().toLowerCase();
    if (s === 'asterisk') return 'sip';
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(s)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected sandbox, sip (alias asterisk), freeswitch, phaxio, sinch, signalwire or a manifest id, got "${v}"`,
      });
      return z.NEVER;
    }
    return s;
  });

const databaseUrl = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined;
    const s = v.trim();
    if (/^postgres(ql)?:\/\//i.test(s) || /^sqlite:/i.test(s) || /^file:/i.test(s)) return s;
    ctx.addIssue({
      code: 'custom',
      message: `expected postgres://user@host:port/db or sqlite:///path/to/file.db, got "${s.replace(/\/\/[^@/]*@/, '//***@')}"`,
    });
    return z.NEVER;
  });

const retry = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const r = parseRetryRule(v === undefined || v.trim() === '' ? fallback : v.trim());
      if (typeof r === 'string') {
        ctx.addIssue({ code: 'custom', message: r });
        return z.NEVER;
      }
      return r;
    });

export const coreSchema = {
  PORT: envInt(8080, 0, 65535),
  HOST: envString('127.0.0.1'),
  FAX_DATA_DIR: envString('./faxdata'),
  DATABASE_URL: databaseUrl,
  DB_POOL_MAX: envInt(10, 1, 200),
  SQLITE_SYNCHRONOUS: envEnum(['FULL', 'NORMAL'] as const, 'FULL'),
  LOG_LEVEL: envEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  INSTANCE_ID: envString(),
  PUBLIC_API_URL: envUrl('http://localhost:8080'),

  API_KEY: envString(),
  REQUIRE_API_KEY: envBool(true),
  MAX_REQUESTS_PER_MINUTE: envInt(0, 0, 1_000_000),

  MAX_FILE_SIZE_MB: envNumber(10, 0.001, 1024),
  FAX_MAX_PAGES: envInt(200, 1, 10_000),
  FAX_PAGE_SIZE: envEnum(['letter', 'a4'] as const, 'letter'),
  PDF_TOKEN_TTL_MINUTES: envInt(60, 1, 7 * 24 * 60),

  FAX_BACKEND: backendName,
  FAX_DISABLED: envBool(false),
  FAX_JOB_DEADLINE_MINUTES: envInt(240, 1, 7 * 24 * 60),
  JOB_LEASE_SECONDS: envInt(60, 5, 3600),
  FAX_ATTEMPT_TIMEOUT_MINUTES: envNumber(20, 0.001, 24 * 60),
  FAX_ATTEMPT_TIMEOUT_PER_PAGE_SECONDS: envInt(120, 0, 3600),
  DISPATCH_POLL_MS: envInt(500, 10, 60_000),
  FAX_RETRY_BUSY: retry('4:180'),
  FAX_RETRY_NO_ANSWER: retry('3:300'),
  FAX_RETRY_CONGESTION: retry('5:60:2'),
  FAX_RETRY_PROTOCOL: retry('3:120'),
  FAX_RETRY_TRANSIENT: retry('6:30:2'),

  SANDBOX_DELAY_SECONDS: envNumber(2, 0, 3600),
  SANDBOX_MAX_CHANNELS: envInt(4, 1, 1000),
};

/** Settings that are secrets: masked in every admin view and never logged. */
export const coreSecrets = ['API_KEY', 'DATABASE_URL'] as const;

/** Default instance id: stable across restarts of the same process slot, distinct per port on one host. */
export function defaultInstanceId(port: number): string {
  return `${hostname()}:${port}`;
}
