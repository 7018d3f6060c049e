// Helpers for driving the whole service with FAX_BACKEND=sip against the ARI simulator, through the public API.
import { closeAfterAll, startTestApp, waitFor, type TestApp, type TestAppOptions } from '../../helpers/app.js';
import { createAsteriskBackend } from '../../../src/backends/asterisk/backend.js';
import { startAriSim, type AriSim, type AriSimOptions, type RecordedRequest } from '../../sim/ari/index.js';

import { PBX_TEST_ENV } from '../../helpers/fax-jobs.js';

export { attempts, finalJob, getJob, postFax, readiness, type Job } from '../../helpers/fax-jobs.js';

export const ARI_USER = 'faxbot';
export const ARI_PASS = 'sim-secret-9f2c';

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
    ...PBX_TEST_ENV,
    ...extra,
  };
}

export function startSipApp(sim: AriSim, extra: Record<string, string> = {}, o: Omit<TestAppOptions, 'env'> = {}): Promise<TestApp> {
  return startTestApp({ ...o, env: sipEnv(sim, extra) });
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

/**
 * For a test file: an ARI simulator and the service on it, both closed after the file's tests. The backend
 * gives up waiting for ARI quickly (production waits 2 s before giving an attempt back).
 */
export function asteriskHarness() {
  const defer = closeAfterAll();
  return {
    defer,
    async sim(opts: AriSimOptions = {}): Promise<AriSim> {
      const s = await startAriSim({ username: ARI_USER, password: ARI_PASS, ...opts });
      defer(() => s.close());
      return s;
    },
    async app(s: AriSim, env: Record<string, string> = {}, more: { dataDir?: string; databaseUrl?: string } = {}): Promise<TestApp> {
      const a = await startTestApp({ ...more, env: sipEnv(s, env), backend: (settings, log) => createAsteriskBackend(settings, log, { connectWaitMs: 50 }) });
      defer(() => a.close());
      return a;
    },
  };
}
