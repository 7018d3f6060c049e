// Opens the database named by DATABASE_URL: an embedded SQLite file by default, PostgreSQL for postgres:// URLs.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  readonly k: Kysely<Database>;
  readonly dialect: Dialect;
  /** Where it points, without credentials (for logs and the admin view). */
  readonly describe: string;
  close(): Promise<void>;
}

export interface DbOptions {
  url?: string | undefined;
  dataDir: string;
  poolMax?: number;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
}

/** sqlite:///./a.db → ./a.db, sqlite:////abs/a.db → /abs/a.db, sqlite:a.db → a.db, file:a.db → a.db */
export function sqlitePathFromUrl(url: string): string {
  let rest = url.replace(/^(sqlite|file):/i, '');
  if (rest.startsWith('///')) rest = rest.slice(3);
  else if (rest.startsWith('//')) rest = rest.slice(2);
  return rest;
}

export function openDb(opts: DbOptions): Db {
  const url = opts.url;
  if (url !== undefined && /^postgres(ql)?:\/\//i.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: opts.poolMax ?? 10 });
    // A client whose connection dies (server restart, terminated session) must not crash the process: an idle
    // one is dropped by the pool, a checked-out one fails its query, and the next query reconnects.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const k = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const u = new URL(url);
    return {
      k,
      dialect: 'postgres',
      describe: `postgres://${u.hostname}:${u.port || '5432'}${u.pathname}`,
      close: () => k.destroy(),
    };
  }
  const path = resolve(url === undefined ? join(opts.dataDir, 'faxbot.db') : sqlitePathFromUrl(url));
  mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a job answered with 202 survives a power cut, not only a process crash.
  sqlite.pragma(`synchronous = ${opts.sqliteSynchronous ?? 'FULL'}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const k = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { k, dialect: 'sqlite', describe: `sqlite:${path}`, close: () => k.destroy() };
}
