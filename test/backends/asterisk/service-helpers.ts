// Helpers for driving the whole service with FAX_BACKEND=sip against the ARI simulator, through the public API.
import type { FaxAttempt } from '../../../src/db/schema.js';
import { faxForm, startTestApp, waitFor, type TestApp, type TestAppOptions } from '../../helpers/app.js';
import { makePdf } from '../../helpers/docs.js';
import type { AriSim, RecordedRequest } from '../../sim/ari/index.js';

export const ARI_USER = 'faxbot';
export const ARI_PASS = 'sim-secret-9f2c';

export interface Job {
  id: string;
  to: string;
  status: string;
  error: string | null;
  pages: number | null;
  backend: string;
  provider_sid: string | null;
}

/** Settings for a service pointed at the simulator: fast reconnects, no retry delays, one try per class unless overridden. */
export function sipEnv(sim: AriSim, extra: Record<string, string> = {}): Record<string, string> {
  return {
    FAX_BACKEND: 'asterisk',
    ARI_URL: sim.url,
    ARI_USERNAME: ARI_USER,
    ARI_PASSWORD: ARI_PASS,
    ARI_APP: 'faxbot',
    ASTERISK_TRUNK_ENDPOINT: 'faxbot-trunk',
    ASTERISK_DIAL_TIMEOUT_SECONDS: '30',
    ARI_RECONNECT_MAX_SECONDS: '0.05',
    ARI_REFUSED_RETRY_SECONDS: '0.05',
    FAX_LOCAL_STATION_ID: '+1 555 000 0001',
    FAX_HEADER: 'Faxbot test',
    FAX_CALLER_ID_NUMBER: '+15550000001',
    FAX_CALLER_ID_NAME: 'Faxbot',
    FAX_RETRY_BUSY: '1:0',
    FAX_RETRY_NO_ANSWER: '1:0',
    FAX_RETRY_CONGESTION: '1:0',
    FAX_RETRY_PROTOCOL: '1:0',
    FAX_RETRY_TRANSIENT: '1:0',
    ...extra,
  };
}

export function startSipApp(sim: AriSim, extra: Record<string, string> = {}, o: Omit<TestAppOptions, 'env'> = {}): Promise<TestApp> {
  return startTestApp({ ...o, env: sipEnv(sim, extra) });
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

export const channelOf = (jobId: string, attemptNo = 1): string => `faxbot-${jobId}-${attemptNo}`;

export function originates(sim: AriSim, jobId?: string): RecordedRequest[] {
  return sim.requests.filter((r) => r.method === 'POST' && r.path === '/ari/channels' && (!jobId || r.query.channelId?.startsWith(`faxbot-${jobId}-`)));
}

/** Resolves once the simulator sent an event of this channel matching `pred` (e.g. SendFAX began). */
export function simSaw(sim: AriSim, channelId: string, pred: (e: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<true> {
  return waitFor(async () => sim.sentEvents.some(({ event }) => (event.channel as { id?: string } | undefined)?.id === channelId && pred(event)) || undefined,
    timeoutMs, `simulator event for ${channelId}`);
}

export const faxStarted = (e: Record<string, unknown>): boolean => e.type === 'ChannelVarset' && e.variable === 'FAXSTATUS';

export async function readiness(app: TestApp): Promise<{ status: number; checks: Record<string, { ok: boolean; detail: string }> }> {
  const r = await fetch(`${app.url}/health/ready`);
  return { status: r.status, checks: ((await r.json()) as { checks: Record<string, { ok: boolean; detail: string }> }).checks };
}
