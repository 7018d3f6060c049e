// Zod building blocks for environment variables: every value arrives as a string (or not at all).
import { z } from 'zod';

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** Boolean env var: true/false/1/0/yes/no/on/off, case-insensitive. */
export function envBool(defaultValue: boolean) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return defaultValue;
      const s = v.trim().toLowerCase();
      if (TRUE.has(s)) return true;
      if (FALSE.has(s)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
      return z.NEVER;
    });
}

/** Integer env var within [min, max]. */
export function envInt(defaultValue: number, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return defaultValue;
      const s = v.trim();
      if (!/^-?\d+$/.test(s)) {
        ctx.addIssue({ code: 'custom', message: `expected an integer between ${min} and ${max}, got "${v}"` });
        return z.NEVER;
      }
      const n = Number(s);
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected an integer between ${min} and ${max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });
}

/** Number (may be fractional) within [min, max]. */
export function envNumber(defaultValue: number, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return defaultValue;
      const n = Number(v.trim());
      if (!Number.isFinite(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a number between ${min} and ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });
}

/** Free string; empty means "not set" (undefined) unless a default is given. */
export function envString(defaultValue?: string) {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? defaultValue : v.trim()));
}

/** One of a fixed set of values (case-insensitive input, canonical output). */
export function envEnum<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z
    .string()
    .optional()
    .transform((v, ctx): T[number] => {
      if (v === undefined || v.trim() === '') return defaultValue;
      const s = v.trim().toLowerCase();
      const hit = values.find((x) => x.toLowerCase() === s);
      if (hit === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected one of ${values.join(', ')}, got "${v}"` });
        return z.NEVER;
      }
      return hit;
    });
}

/** http(s) URL; empty means unset. Trailing slashes are removed. */
export function envUrl(defaultValue?: string, protocols: readonly string[] = ['http:', 'https:']) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      const raw = v === undefined || v.trim() === '' ? defaultValue : v.trim();
      if (raw === undefined) return undefined;
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected a URL (${protocols.join(' or ')}), got "${raw}"` });
        return z.NEVER;
      }
      if (!protocols.includes(u.protocol)) {
        ctx.addIssue({ code: 'custom', message: `expected a URL with ${protocols.join(' or ')}, got "${raw}"` });
        return z.NEVER;
      }
      return raw.replace(/\/+$/, '');
    });
}

/** Comma-separated list of non-empty strings. */
export function envList(defaultValue: string[] = []) {
  return z
    .string()
    .optional()
    .transform((v) =>
      v === undefined || v.trim() === ''
        ? defaultValue
        : v.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
    );
}
