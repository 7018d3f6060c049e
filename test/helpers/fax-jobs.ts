// Sending faxes and reading jobs through the public API, for end-to-end tests of any backend.
import type { FaxAttempt } from '../../src/db/schema.js';
import { faxForm, waitFor, type TestApp } from './app.js';
import { makePdf } from './docs.js';

export interface Job {
  id: string;
  to: string;
  status: string;
  error: string | null;
  pages: number | null;
  backend: string;
  provider_sid: string | null;
}

const pdfs = new Map<number, Uint8Array>();
async function pdf(pages: number): Promise<Uint8Array> {
  let p = pdfs.get(pages);
  if (!p) {
    p = await makePdf(pages);
    pdfs.set(pages, p);
  }
  return p;
}

/** POST /fax with a real PDF; returns the 202 body. */
export async function postFax(app: TestApp, to: string, pages = 2): Promise<Job> {
  const res = await app.req('/fax', { method: 'POST', body: faxForm(to, await pdf(pages)) });
  const body = (await res.json()) as Job;
  if (res.status !== 202) throw new Error(`POST /fax answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

export async function getJob(app: TestApp, id: string): Promise<Job> {
  return (await (await app.req(`/fax/${id}`)).json()) as Job;
}

export function finalJob(app: TestApp, id: string, timeoutMs = 20_000): Promise<Job> {
  return waitFor(async () => {
    const j = await getJob(app, id);
    return j.status === 'SUCCESS' || j.status === 'FAILED' ? j : undefined;
  }, timeoutMs, `job ${id} to finish`);
}

/** The attempts as the admin view will show them (from the database), details parsed. */
export async function attempts(app: TestApp, id: string): Promise<(Omit<FaxAttempt, 'details'> & { details: Record<string, unknown> })[]> {
  const rows = await app.services.jobs.attempts(id);
  return rows.map((r) => ({ ...r, details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : {} }));
}

export async function readiness(app: TestApp): Promise<{ status: number; checks: Record<string, { ok: boolean; detail: string }> }> {
  const r = await fetch(`${app.url}/health/ready`);
  return { status: r.status, checks: ((await r.json()) as { checks: Record<string, { ok: boolean; detail: string }> }).checks };
}
