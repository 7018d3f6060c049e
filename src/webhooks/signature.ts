// Signing of the webhooks Faxbot sends (inbound faxes, job status): HMAC-SHA256 over "<t>.<raw body>".
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Faxbot-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * What a receiver does (and the tests): recompute the HMAC over the raw body with the header's
 * timestamp, compare in constant time, and refuse timestamps older than `toleranceSeconds` (replays).
 */
export function verifyWebhookSignature(secret: string, header: string, rawBody: string, toleranceSeconds = 300, now = Date.now()): boolean {
  const parts = new Map<string, string[]>();
  for (const kv of header.split(',')) {
    const i = kv.indexOf('=');
    if (i < 0) continue;
    const k = kv.slice(0, i).trim();
    parts.set(k, [...(parts.get(k) ?? []), kv.slice(i + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${rawBody}`, 'utf8').digest('hex'), 'hex');
  let ok = false;
  for (const v of parts.get('v1') ?? []) {
    const given = Buffer.from(/^[0-9a-f]{64}$/i.test(v) ? v : '', 'hex');
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

