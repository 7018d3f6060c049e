// API key tokens: "fbk_<id>_<secret>"; only a SHA-256 of the whole token is stored, compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const ID_ALPHABET = 'abcdefghijkmnopqrstuvwxyz23456789';

function randomId(len: number): string {
  const bytes = randomBytes(len);
  let out = '';
  for (let i = 0; i < len; i++) out += ID_ALPHABET[bytes[i]! % ID_ALPHABET.length];
  return out;
}

export interface MintedToken {
  id: string;
  token: string;
  hash: string;
}

/** A new key: a public id (used to find the row) and 256 random bits of secret. Rotation keeps the id. */
export function mintToken(keepId?: string): MintedToken {
  const id = keepId ?? randomId(12);
  const token = `fbk_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The key id inside a token, or null when the token is not in our format. */
export function tokenKeyId(token: string): string | null {
  const m = /^fbk_([a-z0-9]{12})_[A-Za-z0-9_-]{43}$/.exec(token);
  return m ? m[1]! : null;
}

/** Constant-time comparison of two hex digests (of equal, fixed length). */
export function hashesEqual(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  if (a.length !== b.length || a.length === 0) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** Constant-time comparison of two secrets of any length (both are hashed first, so lengths do not leak). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}
