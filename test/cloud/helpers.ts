// Helpers for the cloud end-to-end tests: the whole service on a known port (so PUBLIC_API_URL points at it), jobs, audit.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faxForm, startTestApp, waitFor, type TestApp, type TestAppOptions } from '../helpers/app.js';
import { createPgDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/process.js';
import type { FaxJobOut } from '../../src/jobs/presenter.js';

/** The job as the API shows it. */
export type JobView = FaxJobOut;

export { freePort };

/**
 * Starts the service on a port chosen first, so PUBLIC_API_URL (document and callback URLs given to the
 * fake provider) reaches it. Another process may take that port between our probe and our listen: then
 * another port is tried (or, for a restart on a given port, the same one a little later). The data
 * directory and PostgreSQL database are made here, so a failed attempt leaves nothing behind.
 * Provider requests time out after 2 s unless the test says otherwise.
 */
export async function startCloudApp(o: TestAppOptions & { port?: number }): Promise<TestApp & { port: number }> {
  const ownDir = o.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'faxbot-cloud-')) : null;
  const pg = !o.databaseUrl && o.dialect === 'postgres' ? await createPgDatabase() : null;
  const cleanup = async () => {
    if (ownDir) await rm(ownDir, { recursive: true, force: true });
    await pg?.drop();
  };
  let lastErr: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = o.port ?? (await freePort());
    try {
      const app = await startTestApp({
        ...o,
        dataDir: o.dataDir ?? ownDir!,
        ...(pg ? { databaseUrl: pg.url } : {}),
        env: { PORT: String(port), PUBLIC_API_URL: `http://127.0.0.1:${port}`, CLOUD_HTTP_TIMEOUT_SECONDS: '2', FAX_RETRY_TRANSIENT: '3:0', ...o.env },
      });
      const close = app.close;
      return Object.assign(app, {
        port,
        close: async () => {
          await close();
          await cleanup();
        },
      });
    } catch (err) {
      lastErr = err;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await cleanup();
  throw lastErr;
}

export async function submit(app: TestApp, to: string, pdf: Uint8Array): Promise<string> {
  const res = await app.req('/fax', { method: 'POST', body: faxForm(to, pdf) });
  const body = (await res.json()) as { id?: string; detail?: string };
  if (res.status !== 202 || !body.id) throw new Error(`POST /fax answered ${res.status}: ${body.detail ?? ''}`);
  return body.id;
}

export async function getJob(app: TestApp, id: string): Promise<JobView> {
  const res = await app.req(`/fax/${id}`);
  if (res.status !== 200) throw new Error(`GET /fax/${id} answered ${res.status}`);
  return (await res.json()) as JobView;
}

export function waitJob(app: TestApp, id: string, pred: (j: JobView) => boolean, what: string, timeoutMs = 15_000): Promise<JobView> {
  return waitFor(async () => {
    const j = await getJob(app, id);
    return pred(j) ? j : undefined;
  }, timeoutMs, `job ${id}: ${what}`);
}

/** The job once a provider accepted it (provider_sid set). */
export function waitSent(app: TestApp, id: string): Promise<JobView> {
  return waitJob(app, id, (j) => j.status === 'in_progress' && j.provider_sid !== null, 'sent to the provider');
}

export function waitFinal(app: TestApp, id: string, timeoutMs?: number): Promise<JobView> {
  return waitJob(app, id, (j) => j.status === 'SUCCESS' || j.status === 'FAILED', 'final', timeoutMs);
}

export interface AuditRow {
  type: string;
  actor: string | null;
  subject: string | null;
  data: Record<string, unknown>;
}

export async function audits(app: TestApp, type: string): Promise<AuditRow[]> {
  const rows = await app.services.db.k.selectFrom('audit_events').select(['type', 'actor', 'subject', 'data']).where('type', '=', type).orderBy('seq').execute();
  return rows.map((r) => ({ type: r.type, actor: r.actor, subject: r.subject, data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : {} }));
}

/** Attempts of a job as stored. */
export async function attempts(app: TestApp, id: string) {
  return app.services.db.k.selectFrom('fax_attempts').selectAll().where('job_id', '=', id).orderBy('attempt_no').execute();
}

/** Moves a job's document token into the past, as if PDF_TOKEN_TTL_MINUTES had passed. */
export async function expireToken(app: TestApp, id: string): Promise<void> {
  await app.services.db.k.updateTable('fax_jobs').set({ pdf_token_expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', id).execute();
}

/** No full phone number, document token or secret in anything the service logged. */
export function assertCleanLogs(app: TestApp, secrets: string[]): void {
  const text = app.logs.join('\n');
  for (const s of secrets) if (s && text.includes(s)) throw new Error(`the logs contain "${s.slice(0, 6)}…"`);
}
