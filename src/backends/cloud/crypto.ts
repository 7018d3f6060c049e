// Constant-time comparisons, HMACs and Basic-auth checks shared by every callback verifier.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compares two strings in constant time (for their length). Unequal lengths return false at once:
 * the lengths of our expected signatures are public (a digest size), so nothing leaks.
 */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    // Still spend the time of one comparison so a wrong length does not answer faster.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';
export type DigestEncoding = 'hex' | 'base64';

export function hmac(algorithm: HmacAlgorithm, key: string | Buffer, data: string | Buffer, encoding: DigestEncoding): string {
  return createHmac(algorithm, key).update(data).digest(encoding);
}

export function sha1Hex(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** Header lookup in a plain header map (Node lower-cases names; arrays take the first value). */
export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== want) continue;
    const s = Array.isArray(v) ? v[0] : v;
    return s === undefined ? undefined : s;
  }
  return undefined;
}

/** Checks `Authorization: Basic …` against the expected pair, both parts in constant time. */
export function checkBasicAuth(authorization: string | undefined, user: string, pass: string): boolean {
  if (!authorization) return false;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (!m || m[1] === undefined) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userOk = safeEqual(decoded.slice(0, colon), user);
  const passOk = safeEqual(decoded.slice(colon + 1), pass);
  return userOk && passOk;
}

/**
 * The answer of every callback verifier. Suggested HTTP answers: `missing_*` → 401, `bad_*` → 403,
 * `not_configured` → 500 (verification on, no secret set: refuse rather than accept), `malformed_body` → 400.
 */
export type VerifyResult =
  | { ok: true; scheme: string }
  | {
      ok: false;
      reason: 'missing_signature' | 'bad_signature' | 'missing_credentials' | 'bad_credentials' | 'not_configured' | 'malformed_body';
    };
