// Benchmark: 1,000 faxes through the real service (its own process, FAX_BACKEND=freeswitch, POST /fax over HTTP) against
// the ESL simulator, up to 200 calls in flight. Reports completions, event-to-database latency, peak RSS and wall time
// (the measuring is bench/lib/pbx-calls.ts, shared with the Asterisk benchmark).
//
// The event that decides a successful call here is spandsp::txfaxresult (it comes before CHANNEL_HANGUP_COMPLETE);
// the simulator stamps each one as it sends it. All calls share one event socket, as in production.
import { pathToFileURL } from 'node:url';
import { callUuidFor } from '../src/backends/freeswitch/originate.js';
import { startEslSim, TIMING } from '../test/sim/esl/index.js';
import { benchPbxCalls, PBX_BENCH } from './lib/pbx-calls.js';

/** Simulated milliseconds of a 1-page fax, answer included. */
const ONE_PAGE_MS = TIMING.ring + TIMING.jobAfterAnswer + TIMING.negotiateAudio + TIMING.firstPage + TIMING.byeAfterLastPage;

export async function run(): Promise<void> {
  await benchPbxCalls(`ESL simulator, FREESWITCH_MAX_CHANNELS=${PBX_BENCH.channels}`, 'simulator sends spandsp::txfaxresult', async () => {
    const decided = new Map<string, number>();
    const sim = await startEslSim({
      password: 'bench-secret',
      timeScale: (PBX_BENCH.callSeconds * 1000) / ONE_PAGE_MS,
      onEvent: (ev) => {
        if (ev.uuid && (ev.subclass === 'spandsp::txfaxresult' || ev.name === 'CHANNEL_HANGUP_COMPLETE') && !decided.has(ev.uuid)) decided.set(ev.uuid, Date.now());
      },
    });
    const env = {
      FAX_BACKEND: 'freeswitch',
      FREESWITCH_ESL_PORT: String(sim.port),
      FREESWITCH_ESL_PASSWORD: 'bench-secret',
      FREESWITCH_GATEWAY_NAME: 'faxbot',
      FREESWITCH_MAX_CHANNELS: String(PBX_BENCH.channels),
    };
    const decidedAt = (jobId: string, attemptNo: number): number | undefined => decided.get(callUuidFor(jobId, attemptNo));
    return { target: { env, decidedAt, peakCalls: () => sim.peakChannels }, close: () => sim.close() };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
