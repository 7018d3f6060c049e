// Test helpers for inbound: an app with a temp spool, the exact bodies Asterisk's CURL() posts, fixture TIFFs.
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDialect } from '../helpers/db.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

export const TIFF_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'tiff');
export const SECRET = 'fixture-secret';

export interface InboundTestApp extends TestApp {
  spool: string;
  root: string;
}

/** The whole service with inbound on, a fresh spool directory and short timers. */
export async function startInboundApp(
  o: { dialect?: TestDialect; env?: Record<string, string>; root?: string; dataDir?: string; databaseUrl?: string } = {},
): Promise<InboundTestApp> {
  const root = o.root ?? (await mkdtemp(join(tmpdir(), 'faxbot-inbound-')));
  const spool = join(root, 'spool');
  await mkdir(spool, { recursive: true });
  const started = startTestApp({
    ...(o.dialect ? { dialect: o.dialect } : {}),
    // Inside root, so removing root cleans everything, also when the start fails.
    dataDir: o.dataDir ?? join(root, 'data'),
    ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
    env: {
      INBOUND_ENABLED: 'true',
      ASTERISK_INBOUND_SECRET: SECRET,
      INBOUND_SPOOL_DIRS: spool,
      INBOUND_STABLE_MS: '100',
      INBOUND_ORPHAN_GRACE_SECONDS: '0.5',
      INBOUND_SWEEP_SECONDS: '0.5',
      PUBLIC_API_URL: 'http://127.0.0.1:1',
      ...o.env,
    },
  });
  const app = await started.catch(async (err: unknown) => {
    if (!o.root) await rm(root, { recursive: true, force: true });
    throw err;
  });
  const close = app.close;
  return {
    ...app,
    spool,
    root,
    close: async () => {
      await close();
      if (!o.root) await rm(root, { recursive: true, force: true });
    },
  };
}

/** The body exactly as the shipped dialplan builds it (every value a string, this key order). */
export function asteriskBody(o: { tiff_path: string; to_number?: string; from_number?: string; faxstatus?: string; faxpages?: string; uniqueid: string }): string {
  return JSON.stringify({
    tiff_path: o.tiff_path,
    to_number: o.to_number ?? '1000',
    from_number: o.from_number ?? '+15550000001',
    faxstatus: o.faxstatus ?? 'SUCCESS',
    faxpages: o.faxpages ?? '2',
    uniqueid: o.uniqueid,
  });
}

let uidSeq = 0;
/** A fresh Asterisk-style UNIQUEID. */
export function newUid(): string {
  uidSeq++;
  return `${1795778000 + Math.floor(Math.random() * 100000)}.${uidSeq}`;
}

export async function postHook(app: TestApp, body: string, secret: string | null = SECRET): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'asterisk-libcurl-agent/1.0' };
  if (secret !== null) headers['X-Internal-Secret'] = secret;
  const res = await fetch(`${app.url}/_internal/asterisk/inbound`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function putFixture(name: string, dir: string, as: string): Promise<string> {
  const dest = join(dir, as);
  await copyFile(join(TIFF_FIXTURES, name), dest);
  return dest;
}

export async function inboundCount(app: TestApp): Promise<number> {
  const r = await app.services.db.k.selectFrom('inbound_faxes').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function auditTypes(app: TestApp, prefix = 'inbound.'): Promise<{ type: string; subject: string | null; data: string | null }[]> {
  return app.services.db.k
    .selectFrom('audit_events')
    .select(['type', 'subject', 'data'])
    .where('type', 'like', `${prefix}%`)
    .orderBy('seq')
    .execute();
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}
