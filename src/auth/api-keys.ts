// API keys: authenticate a presented token, create keys, and mint the first admin key on a fresh install.
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

/** Why a token was refused (for the audit log; the client only ever sees "invalid API key"). */
export type AuthFailure = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'mismatch';

const LAST_USED_EVERY_MS = 60_000;
const DUMMY_HASH = hashToken('fbk_dummydummydu_' + 'x'.repeat(43));

export class ApiKeys {
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly opts: { bootstrapKey?: string | undefined; defaultRateLimit: number },
    private readonly log: Logger,
  ) {}

  /** The principal for a token, or the reason it was refused. Takes the same time for unknown and wrong keys. */
  async authenticate(token: string): Promise<Principal | AuthFailure> {
    if (this.opts.bootstrapKey && secretsEqual(token, this.opts.bootstrapKey)) {
      return { keyId: 'env', name: 'API_KEY (environment)', scopes: [...SCOPES], rateLimitPerMinute: this.opts.defaultRateLimit };
    }
    const id = tokenKeyId(token);
    const row = id === null ? undefined : await this.db.k.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    const presented = hashToken(token);
    if (!row) {
      hashesEqual(presented, DUMMY_HASH);
      return id === null ? 'malformed' : 'unknown';
    }
    if (!hashesEqual(presented, row.token_hash)) return 'mismatch';
    if (row.revoked_at !== null) return 'revoked';
    const now = new Date().toISOString();
    if (row.expires_at !== null && row.expires_at <= now) return 'expired';
    this.touch(row.id);
    return {
      keyId: row.id,
      name: row.name,
      scopes: parseScopes(row.scopes),
      rateLimitPerMinute: row.rate_limit_per_minute ?? this.opts.defaultRateLimit,
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

  async count(): Promise<number> {
    const r = await this.db.k.selectFrom('api_keys').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * On a fresh install with keys required and none configured, creates an admin key and writes it to
   * FAX_DATA_DIR/initial-admin-key (mode 0600). The key itself is never logged, only where it is.
   */
  async ensureInitialAdminKey(dataDir: string): Promise<string | null> {
    if (this.opts.bootstrapKey) return null;
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

function keyRow(minted: MintedToken, k: NewKey): ApiKeyRow {
  const bad = k.scopes.filter((s) => !isScope(s));
  if (bad.length > 0) throw new Error(`unknown scopes: ${bad.join(', ')}`);
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
  };
}
