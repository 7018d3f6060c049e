// Benchmark: 1,000 faxes through the real service (its own process, FAX_BACKEND=sip, POST /fax over HTTP) against the ARI
// simulator, up to 200 calls in flight. Reports completions, event-to-database latency, peak RSS and wall time
// (the measuring is bench/lib/pbx-calls.ts, shared with the FreeSWITCH benchmark).
//
// The event that decides a call here is its ChannelDestroyed, which the simulator stamps as it sends it.
import { pathToFileURL } from 'node:url';
import { startAriSim } from '../test/sim/ari/index.js';
import { benchPbxCalls, PBX_BENCH } from './lib/pbx-calls.js';

export async function run(): Promise<void> {
  await benchPbxCalls(`ARI simulator, ASTERISK_MAX_CHANNELS=${PBX_BENCH.channels}`, 'simulator sends ChannelDestroyed', async () => {
    // A 1-page fax is ≈12.2 simulated seconds.
    const msPerSecond = (PBX_BENCH.callSeconds * 1000) / 12.2;
    const sim = await startAriSim({ username: 'faxbot', password: 'bench-secret', msPerSecond, defaultScenario: { kind: 'success', pages: 1 } });
    let destroyedAt: Map<string, number> | undefined;
    const env = {
      FAX_BACKEND: 'sip',
      ARI_URL: sim.url,
      ARI_USERNAME: 'faxbot',
      ARI_PASSWORD: 'bench-secret',
      ASTERISK_TRUNK_ENDPOINT: 'bench-trunk',
      ASTERISK_MAX_CHANNELS: String(PBX_BENCH.channels),
    };
    const decidedAt = (jobId: string, attemptNo: number): number | undefined => {
      if (!destroyedAt) {
        destroyedAt = new Map();
        for (const { event } of sim.sentEvents) {
          if (event.type !== 'ChannelDestroyed') continue;
          destroyedAt.set(String((event.channel as { id: string }).id), Date.parse(String(event.timestamp).replace('+0000', 'Z')));
        }
      }
      return destroyedAt.get(`faxbot-${jobId}-${attemptNo}`);
    };
    return { target: { env, decidedAt, peakCalls: () => sim.peakChannels }, close: () => sim.close() };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
