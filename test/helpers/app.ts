// Starts the whole service in-process for a test: temp data dir, SQLite or PostgreSQL, a random port.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after } from 'node:test';
import type { FaxBackend } from '../../src/backends/types.js';
import { parseSettings, type Settings } from '../../src/config/index.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startApp, type RunningApp } from '../../src/services.js';
import { createPgDatabase, type TestDialect } from './db.js';

export interface TestApp extends RunningApp {
  dataDir: string;
  adminKey: string;
  settings: Settings;
  /** The variables the service started from; POST /admin/settings/reload re-reads this object. */
  env: Record<string, string>;
  /** Everything the service logged, one JSON line each. */
  logs: string[];
  /** Fetch against the app with the admin key unless other headers are given. */
  req(path: string, init?: RequestInit & { key?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  dialect?: TestDialect;
  env?: Record<string, string>;
  backend?: (settings: Settings, log: Logger) => FaxBackend;
  /** Reuse a data dir and database (restart tests). */
  dataDir?: string;
  databaseUrl?: string;
  /** Replaces process.exit for POST /admin/restart. */
  exit?: (code: number) => void;
}

export async function startTestApp(o: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'faxbot-test-')));
  let dropDb: (() => Promise<void>) | undefined;
  let dbUrl = o.databaseUrl;
  if (!dbUrl && o.dialect === 'postgres') {
    const created = await createPgDatabase();
    dbUrl = created.url;
    dropDb = created.drop;
  }
  const adminKey = 'test-admin-key-' + Math.random().toString(36).slice(2);
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    FAX_DATA_DIR: dataDir,
    API_KEY: adminKey,
    LOG_LEVEL: 'debug',
    SANDBOX_DELAY_SECONDS: '0.05',
    DISPATCH_POLL_MS: '50',
    ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
    ...o.env,
  };
  const settings = parseSettings(env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
      cb();
    },
  });
  const log = createLogger(settings.LOG_LEVEL, sink);
  const running = await startApp(settings, log, {
    ...(o.backend ? { backend: o.backend(settings, log) } : {}),
    // The test's variables play the process environment (reload re-reads them, never the runner's own).
    environment: () => env,
    exit: o.exit ?? ((code) => {
      throw new Error(`the service tried to exit with code ${code} in a test`);
    }),
  });
  const req = (path: string, init: RequestInit & { key?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    const key = init.key === undefined ? adminKey : init.key;
    if (key !== null && !headers.has('X-API-Key')) headers.set('X-API-Key', key);
    return fetch(running.url + path, { ...init, headers });
  };
  let closed = false;
  return {
    ...running,
    dataDir,
    adminKey,
    settings,
    env,
    logs,
    req,
    close: async () => {
      if (closed) return;
      closed = true;
      await running.stop();
      if (!o.dataDir) await rm(dataDir, { recursive: true, force: true });
      if (dropDb) await dropDb();
    },
  };
}

/** Polls until `fn` returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** multipart/form-data body for POST /fax. */
export function faxForm(to: string | null, file: Uint8Array | string | null, filename = 'doc.pdf'): FormData {
  const f = new FormData();
  if (to !== null) f.set('to', to);
  if (file !== null) f.set('file', new Blob([typeof file === 'string' ? Buffer.from(file) : file]), filename);
  return f;
}

/**
 * Registers, for the calling test file, a list of things to close after all its tests (in reverse order);
 * returns the function that adds one. Call it once, at the top level of the file.
 */
export function closeAfterAll(): (fn: () => Promise<unknown> | unknown) => void {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  return (fn) => void cleanups.push(fn);
}
