// Helpers for driving the whole service with FAX_BACKEND=freeswitch against the ESL simulator, through the public API.
import { callUuidFor } from '../../../src/backends/freeswitch/originate.js';
import { closeAfterAll, startTestApp, type TestApp, type TestAppOptions } from '../../helpers/app.js';
import { createFreeswitchBackend } from '../../../src/backends/freeswitch/backend.js';
import { parseOriginateArgs, startEslSim, type EslSim, type EslSimOptions, type ParsedOriginate } from '../../sim/esl/index.js';

import { PBX_TEST_ENV } from '../../helpers/fax-jobs.js';

export { attempts, finalJob, getJob, postFax, readiness, type Job } from '../../helpers/fax-jobs.js';

export const ESL_PASS = 'sim-esl-secret-4b7d';
export const GATEWAY = 'faxbot';

/** Settings for a service pointed at the simulator: fast reconnects, no retry delays, one try per class unless overridden. */
export function fsEnv(sim: EslSim, extra: Record<string, string> = {}): Record<string, string> {
  return {
    FAX_BACKEND: 'freeswitch',
    FREESWITCH_ESL_HOST: '127.0.0.1',
    FREESWITCH_ESL_PORT: String(sim.port),
    FREESWITCH_ESL_PASSWORD: ESL_PASS,
    FREESWITCH_GATEWAY_NAME: GATEWAY,
    FREESWITCH_ORIGINATE_TIMEOUT_SECONDS: '30',
    FREESWITCH_ESL_RECONNECT_MAX_SECONDS: '0.05',
    FREESWITCH_ESL_REFUSED_RETRY_SECONDS: '0.05',
    FREESWITCH_ESL_TIMEOUT_SECONDS: '5',
    ...PBX_TEST_ENV,
    ...extra,
  };
}

export function startFsApp(sim: EslSim, extra: Record<string, string> = {}, o: Omit<TestAppOptions, 'env'> = {}): Promise<TestApp> {
  return startTestApp({ ...o, env: fsEnv(sim, extra) });
}

/** The call uuid (provider_sid) of a job's attempt. */
export const callOf = (jobId: string, attemptNo = 1): string => callUuidFor(jobId, attemptNo);

export interface SeenOriginate extends ParsedOriginate {
  /** The bgapi's Job-UUID header. */
  jobUuid: string | undefined;
}

/** The originates the simulator received (from its command log), optionally only those of one job. */
export function originates(sim: EslSim, jobId?: string): SeenOriginate[] {
  const out: SeenOriginate[] = [];
  for (const c of sim.commands) {
    if (!c.line.startsWith('bgapi originate ')) continue;
    const p = parseOriginateArgs(c.line.slice('bgapi originate '.length));
    if (!p.ok) continue;
    if (jobId && p.value.vars['faxbot_job_id'] !== jobId) continue;
    out.push({ ...p.value, jobUuid: c.headers['Job-UUID'] });
  }
  return out;
}

/**
 * For a test file: an ESL simulator and the service on it, both closed after the file's tests. The backend
 * gives up waiting for the event socket quickly (production waits 2 s before giving an attempt back).
 */
export function freeswitchHarness() {
  const defer = closeAfterAll();
  return {
    defer,
    async sim(opts: EslSimOptions = {}): Promise<EslSim> {
      const s = await startEslSim({ password: ESL_PASS, ...opts });
      defer(() => s.close());
      return s;
    },
    async app(s: EslSim, env: Record<string, string> = {}, more: { dataDir?: string; databaseUrl?: string } = {}): Promise<TestApp> {
      const a = await startTestApp({ ...more, env: fsEnv(s, env), backend: (settings, log) => createFreeswitchBackend(settings, log, { connectWaitMs: 50 }) });
      defer(() => a.close());
      return a;
    },
  };
}
