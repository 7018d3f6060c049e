// API keys: authenticate a presented token, create, list, revoke and rotate keys, and mint the first admin key on a fresh install.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../db/connect.js';
import type { ApiKeyRow } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { Principal } from './principal.js';
import { SCOPES, isScope } from './scopes.js';
import { hashToken, hashesEqual, mintToken, secretsEqual, tokenKeyId, type MintedToken } from './tokens.js';

export interface NewKey {
  name: string;
  scopes: readonly string[];
  rateLimitPerMinute?: number | null;
  expiresAt?: string | null;
}

export interface CreatedKey {
  id: string;
  token: string;
  row: ApiKeyRow;
}

/** A key as an admin may see it: never the token or its hash. */
export interface ApiKeyMeta {
  id: string;
  name: string;
  scopes: string[];
  rateLimitPerMinute: number | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  rotatedAt: string | null;
  /** Until when the token from before the last rotation still works (null: it stopped at once). */
  previousTokenValidUntil: string | null;
}

/** Why a token was refused (for the audit log; the client only ever sees "invalid API key"). */
export type AuthFailure = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'mismatch' | 'rotated';

export interface KeyOptions {
  bootstrapKey?: string | undefined;
  defaultRateLimit: number;
}

export class KeyError extends Error {
  constructor(
    readonly code: 'unknown_scope' | 'not_found' | 'revoked' | 'expired' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'KeyError';
  }
}

const LAST_USED_EVERY_MS = 60_000;
const DUMMY_HASH = hashToken('fbk_dummydummydu_' + 'x'.repeat(43));
/** The longest an old token may keep working after a rotation. */
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;

export class ApiKeys {
  private readonly lastUsedWritten = new Map<string, number>();
  private readonly opts: () => KeyOptions;

  /** `opts` may be a function so that API_KEY and MAX_REQUESTS_PER_MINUTE changed at run time are read through. */
  constructor(
    private readonly db: Db,
    opts: KeyOptions | (() => KeyOptions),
    private readonly log: Logger,
  ) {
    this.opts = typeof opts === 'function' ? opts : () => opts;
  }

  /**
   * The principal for a token, or the reason it was refused. Takes the same time for unknown and wrong keys,
   * and compares against both the current and the previous token hash whatever the outcome.
   */
  async authenticate(token: string): Promise<Principal | AuthFailure> {
    const o = this.opts();
    if (o.bootstrapKey && secretsEqual(token, o.bootstrapKey)) {
      return { keyId: 'env', name: 'API_KEY (environment)', scopes: [...SCOPES], rateLimitPerMinute: o.defaultRateLimit };
    }
    const id = tokenKeyId(token);
    const row = id === null ? undefined : await this.db.k.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    const presented = hashToken(token);
    if (!row) {
      hashesEqual(presented, DUMMY_HASH);
      hashesEqual(presented, DUMMY_HASH);
      return id === null ? 'malformed' : 'unknown';
    }
    const now = new Date().toISOString();
    const current = hashesEqual(presented, row.token_hash);
    const previous = hashesEqual(presented, row.prev_token_hash ?? DUMMY_HASH) && !!row.prev_token_hash;
    const inGrace = previous && row.prev_expires_at !== null && row.prev_expires_at !== undefined && row.prev_expires_at > now;
    if (!current && !inGrace) return previous ? 'rotated' : 'mismatch';
    if (row.revoked_at !== null) return 'revoked';
    if (row.expires_at !== null && row.expires_at <= now) return 'expired';
    this.touch(row.id);
    return {
      keyId: row.id,
      name: row.name,
      scopes: parseScopes(row.scopes),
      rateLimitPerMinute: row.rate_limit_per_minute ?? o.defaultRateLimit,
    };
  }

  /** Records last use at most once a minute per key, off the request path. */
  private touch(id: string): void {
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(id) ?? 0) < LAST_USED_EVERY_MS) return;
    this.lastUsedWritten.set(id, now);
    this.db.k
      .updateTable('api_keys')
      .set({ last_used_at: new Date(now).toISOString() })
      .where('id', '=', id)
      .execute()
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'could not record key use'));
  }

  async create(k: NewKey): Promise<CreatedKey> {
    const minted = mintToken();
    const row = keyRow(minted, k);
    await this.db.k.insertInto('api_keys').values(row).execute();
    return { id: minted.id, token: minted.token, row };
  }

  async get(id: string): Promise<ApiKeyRow | undefined> {
    return this.db.k.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Every key, newest first, as metadata. */
  async list(): Promise<ApiKeyMeta[]> {
    const rows = await this.db.k.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(keyMeta);
  }

  /**
   * Revokes a key: from now on neither its token nor a previous one in grace authenticates.
   * Returns the row and whether this call changed it (a second revoke is a no-op).
   */
  async revoke(id: string): Promise<{ row: ApiKeyRow; changed: boolean } | null> {
    const ts = new Date().toISOString();
    const r = await this.db.k
      .updateTable('api_keys')
      .set({ revoked_at: ts, prev_token_hash: null, prev_expires_at: null })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    const row = await this.get(id);
    if (!row) return null;
    return { row, changed: Number(r.numUpdatedRows) === 1 };
  }

  /**
   * Gives a key a new token (same id, scopes and jobs). Without grace the old token stops at once; with
   * `graceSeconds` it keeps working until then. Only the token before this rotation is kept: rotating twice
   * within a grace period ends the older one's grace.
   */
  async rotate(id: string, graceSeconds = 0): Promise<{ token: string; row: ApiKeyRow }> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_ROTATION_GRACE_SECONDS) {
      throw new KeyError('invalid', `grace_seconds must be an integer from 0 to ${MAX_ROTATION_GRACE_SECONDS}`);
    }
    const row = await this.get(id);
    if (!row) throw new KeyError('not_found', 'API key not found');
    const now = new Date();
    if (row.revoked_at !== null) throw new KeyError('revoked', 'a revoked key cannot be rotated; create a new key');
    if (row.expires_at !== null && row.expires_at <= now.toISOString()) throw new KeyError('expired', 'an expired key cannot be rotated; create a new key');
    const minted = mintToken(row.id);
    const ts = now.toISOString();
    const prevUntil = graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000).toISOString() : null;
    // Conditional on the hash we read: two rotations racing cannot both hand out a working token.
    const r = await this.db.k
      .updateTable('api_keys')
      .set({
        token_hash: minted.hash,
        // Kept even without grace (already expired then), so a later use of the old token is audited as "rotated".
        prev_token_hash: row.token_hash,
        prev_expires_at: prevUntil ?? ts,
        rotated_at: ts,
      })
      .where('id', '=', id)
      .where('token_hash', '=', row.token_hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new KeyError('invalid', 'the key changed while it was being rotated; try again');
    const updated = await this.get(id);
    return { token: minted.token, row: updated! };
  }

  async count(): Promise<number> {
    const r = await this.db.k.selectFrom('api_keys').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * On a fresh install with keys required and none configured, creates an admin key and writes it to
   * FAX_DATA_DIR/initial-admin-key (mode 0600). The key itself is never logged, only where it is.
   */
  async ensureInitialAdminKey(dataDir: string): Promise<string | null> {
    if (this.opts().bootstrapKey) return null;
    if ((await this.count()) > 0) return null;
    const path = join(dataDir, 'initial-admin-key');
    const minted = mintToken();
    const row = keyRow(minted, { name: 'initial admin key', scopes: ['admin'] });
    // The file is written before the row: a crash in between leaves a stale file that the next start
    // overwrites, never a key in the database that nobody holds.
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, minted.token + '\n', { mode: 0o600 });
    chmodSync(path, 0o600);
    await this.db.k.insertInto('api_keys').values(row).execute();
    this.log.warn(
      { path, keyId: row.id },
      'no API key existed: created an admin key and wrote it to this file (readable by this user only); use it to create your own keys, then delete the file',
    );
    return path;
  }
}

export function parseScopes(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

export function keyMeta(r: ApiKeyRow): ApiKeyMeta {
  const now = new Date().toISOString();
  const prev = r.prev_token_hash && r.prev_expires_at && r.prev_expires_at > now ? r.prev_expires_at : null;
  return {
    id: r.id,
    name: r.name,
    scopes: parseScopes(r.scopes),
    rateLimitPerMinute: r.rate_limit_per_minute,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    rotatedAt: r.rotated_at ?? null,
    previousTokenValidUntil: prev,
  };
}

function keyRow(minted: MintedToken, k: NewKey): ApiKeyRow {
  const bad = k.scopes.filter((s) => !isScope(s));
  if (bad.length > 0) throw new KeyError('unknown_scope', `unknown scopes: ${bad.join(', ')} (known: ${SCOPES.join(', ')})`);
  return {
    id: minted.id,
    name: k.name,
    token_hash: minted.hash,
    scopes: JSON.stringify([...new Set(k.scopes)]),
    rate_limit_per_minute: k.rateLimitPerMinute ?? null,
    created_at: new Date().toISOString(),
    last_used_at: null,
    expires_at: k.expiresAt ?? null,
    revoked_at: null,
    prev_token_hash: null,
    prev_expires_at: null,
    rotated_at: null,
  };
}
