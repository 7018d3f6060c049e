// Sending faxes and reading jobs through the public API, for end-to-end tests of any backend (and the checks the PBX backends share).
import assert from 'node:assert/strict';
import type { FaxAttempt } from '../../src/db/schema.js';
import type { FaxJobOut } from '../../src/jobs/presenter.js';
import { faxForm, waitFor, type TestApp } from './app.js';
import { makePdf } from './docs.js';

export type Job = FaxJobOut;

/** Fax settings every PBX backend test uses: identities, and one try per failure class unless a test says otherwise. */
export const PBX_TEST_ENV: Readonly<Record<string, string>> = {
  FAX_LOCAL_STATION_ID: '+1 555 000 0001',
  FAX_HEADER: 'Faxbot test',
  FAX_CALLER_ID_NUMBER: '+15550000001',
  FAX_CALLER_ID_NAME: 'Faxbot',
  FAX_RETRY_BUSY: '1:0',
  FAX_RETRY_NO_ANSWER: '1:0',
  FAX_RETRY_CONGESTION: '1:0',
  FAX_RETRY_PROTOCOL: '1:0',
  FAX_RETRY_TRANSIENT: '1:0',
};

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

export type AttemptRows = Awaited<ReturnType<typeof attempts>>;

/** One scripted scenario of an end-to-end test: where to send, and what the API must show at the end. */
export interface ScenarioCase {
  name: string;
  number: string;
  pages?: number;
  expect: { status: 'SUCCESS' | 'FAILED'; error: string | null; pages: number; attempt: number };
  check?: (a: AttemptRows) => void;
}

/**
 * Posts every case at once, then checks each job's final status, error, pages, provider_sid (`sidOf`
 * the attempt that ended it) and backend, the attempts' provider_sids, the case's own check and `more`.
 */
export async function expectScenarioEnds<C extends ScenarioCase>(
  app: TestApp,
  cases: readonly C[],
  o: { backend: string; sidOf: (jobId: string, attemptNo: number) => string; more?: (c: C, jobId: string) => void },
): Promise<void> {
  const posted = new Map<C, Job>();
  for (const c of cases) posted.set(c, await postFax(app, c.number, c.pages ?? 2));
  for (const c of cases) {
    const id = posted.get(c)!.id;
    const j = await finalJob(app, id);
    try {
      assert.deepEqual(
        { status: j.status, error: j.error, pages: j.pages, provider_sid: j.provider_sid, backend: j.backend },
        { status: c.expect.status, error: c.expect.error, pages: c.expect.pages, provider_sid: o.sidOf(id, c.expect.attempt), backend: o.backend },
      );
      const a = await attempts(app, id);
      assert.equal(a.length, c.expect.attempt);
      assert.deepEqual(a.map((x) => x.provider_sid), a.map((x) => o.sidOf(id, x.attempt_no)));
      c.check?.(a);
      o.more?.(c, id);
    } catch (err) {
      throw new Error(`${c.name}: ${(err as Error).message}`);
    }
  }
}

/** While the PBX cannot be reached: the job waits queued, unclaimed (no attempts used up), and is never failed. */
export async function expectWaitingUnsent(app: TestApp, jobId: string): Promise<void> {
  // Several dispatcher passes go by while the PBX is unreachable (it is not claimed meanwhile).
  await new Promise((r) => setTimeout(r, 20 * app.settings.DISPATCH_POLL_MS));
  const waiting = await getJob(app, jobId);
  assert.equal(waiting.status, 'queued');
  assert.equal(waiting.error, null);
  // At most the one attempt a claim racing the outage took, given back uncounted.
  const all = await attempts(app, jobId);
  assert.ok(all.length <= 1 && all.every((x) => x.outcome === 'aborted' && x.failure_class === null), JSON.stringify(all));
}

/** After the PBX came back: the job went out once, and the attempts before it were given back uncounted. Returns the job. */
export async function expectSentAfterWaiting(app: TestApp, jobId: string, sidOf: (jobId: string, attemptNo: number) => string): Promise<Job> {
  const done = await finalJob(app, jobId);
  assert.deepEqual([done.status, done.pages], ['SUCCESS', 1]);
  const all = await attempts(app, jobId);
  assert.ok(all.slice(0, -1).every((x) => x.outcome === 'aborted' && x.failure_class === null), 'the attempts while down were given back uncounted');
  assert.equal(done.provider_sid, sidOf(jobId, all.at(-1)!.attempt_no));
  return done;
}

/**
 * Capacity 2 with `jobs` whose calls all stay up until released: releases one call at a time and checks
 * that each freed channel goes to the next job in line, and only then. `up()` lists the PBX's call ids,
 * `ready(i)` says job i's call has reached the point where it waits.
 */
export async function expectTwoAtATime(
  app: TestApp,
  jobs: readonly Job[],
  o: { up: () => string[]; sidOf: (jobId: string) => string; ready?: (i: number) => boolean; release: (i: number) => void },
): Promise<void> {
  const status = async (): Promise<string[]> => (await Promise.all(jobs.map((j) => getJob(app, j.id)))).map((j) => j.status);
  const rounds = jobs.map((_, i) => (i + 1 < jobs.length ? [i, i + 1] : [i]));
  for (const [round, want] of rounds.entries()) {
    const ids = want.map((i) => o.sidOf(jobs[i]!.id)).sort();
    await waitFor(
      async () => (JSON.stringify(o.up().sort()) === JSON.stringify(ids) && want.every((i) => o.ready?.(i) ?? true)) || undefined,
      10_000,
      `round ${round}: calls ${want.join(',')} up`,
    );
    const st = await status();
    for (const [i, x] of st.entries()) {
      const expected = want.includes(i) ? 'in_progress' : i < want[0]! ? 'SUCCESS' : 'queued';
      assert.equal(x, expected, `round ${round}, job ${i}`);
    }
    o.release(want[0]!);
    await finalJob(app, jobs[want[0]!]!.id);
  }
}

/** Posts one 1-page fax per number, a few ms apart (the queue is ordered by created_at). */
export async function postInOrder(app: TestApp, numbers: readonly string[]): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const n of numbers) {
    jobs.push(await postFax(app, n, 1));
    await new Promise((r) => setTimeout(r, 3));
  }
  return jobs;
}
