// Whole outbound calls over real sockets: AriClient + CallTracker + FaxCall against the ARI simulator, per scenario,
// plus lost WebSockets, an Asterisk restart and a restart of the service itself.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AriClient } from '../../../src/backends/asterisk/ari-client.js';
import type { AriEvent } from '../../../src/backends/asterisk/ari-types.js';
import { CallTracker } from '../../../src/backends/asterisk/call-tracker.js';
import { buildOriginate, channelIdFor, resultVarName } from '../../../src/backends/asterisk/dialplan-contract.js';
import type { FaxCallSignal } from '../../../src/backends/asterisk/fax-call.js';
import { ladderStep, type FaxLineParams } from '../../../src/backends/pbx/ladder.js';
import type { Outcome } from '../../../src/backends/types.js';
import { startAriSim, type AriSim, type AriSimOptions, type SimScenario } from '../../sim/ari/index.js';

const USER = 'faxbot';
const PASS = 'sim-pass';
const dir = mkdtempSync(join(tmpdir(), 'faxbot-ari-'));
const TIFF = join(dir, 'job.tif');
writeFileSync(TIFF, Buffer.from('49492a00080000000000', 'hex'));
const CONFIGURED = { t38: true, ecm: true, maxRate: 14400 };

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

interface Harness {
  sim: AriSim;
  client: AriClient;
  tracker: CallTracker;
}

function connect(sim: AriSim, reconnectMs = 5): { client: AriClient; tracker: CallTracker } {
  const client = new AriClient({
    url: sim.url, username: USER, password: PASS, app: 'faxbot',
    reconnect: { initialMs: reconnectMs, maxMs: reconnectMs * 4 }, refusedRetryMs: 10, pingIntervalMs: 0,
  });
  const tracker = new CallTracker(client);
  tracker.setMaxListeners(0); // the tests wait on many calls at once
  cleanups.push(async () => {
    tracker.close();
    await client.stop();
  });
  client.start();
  return { client, tracker };
}

async function harness(opts: AriSimOptions = {}): Promise<Harness> {
  const sim = await startAriSim({ username: USER, password: PASS, ...opts });
  cleanups.push(() => sim.close());
  const { client, tracker } = connect(sim);
  await client.whenConnected(3000);
  return { sim, client, tracker };
}

function outcomeOf(tracker: CallTracker, channelId: string, ms = 5000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no outcome for ${channelId}`)), ms);
    t.unref();
    const on = (id: string, o: Outcome): void => {
      if (id !== channelId) return;
      clearTimeout(t);
      tracker.off('outcome', on);
      resolve(o);
    };
    tracker.on('outcome', on);
  });
}

function signalOf(tracker: CallTracker, channelId: string, kind: FaxCallSignal['kind']): Promise<void> {
  return new Promise((resolve) => {
    const on = (id: string, s: FaxCallSignal): void => {
      if (id === channelId && s.kind === kind) {
        tracker.off('signal', on);
        resolve();
      }
    };
    tracker.on('signal', on);
  });
}

let jobSeq = 0;
async function sendFax(
  h: { client: AriClient; tracker: CallTracker },
  number: string,
  o: { line?: FaxLineParams; pages?: number; tiff?: string; job?: string; attempt?: number; timeoutSec?: number } = {},
): Promise<{ channelId: string; outcome: Promise<Outcome> }> {
  const job = o.job ?? `job${++jobSeq}`;
  const attempt = o.attempt ?? 1;
  const params = buildOriginate({
    jobId: job, attemptNo: attempt, number, pbxTiffPath: o.tiff ?? TIFF, line: o.line ?? { ...CONFIGURED, step: 0 },
    header: 'Faxbot, test header', stationId: '+15550000001', callerIdName: 'Faxbot', callerIdNumber: '+15550000001',
    dial: { trunk: 'faxbot-trunk' }, timeoutSec: o.timeoutSec ?? 30,
  });
  const outcome = outcomeOf(h.tracker, params.channelId);
  h.tracker.track(params.channelId, { totalPages: o.pages ?? 2 });
  await h.client.originate(params);
  return { channelId: params.channelId, outcome };
}

function failed(o: Outcome): Extract<Outcome, { ok: false }> {
  assert.equal(o.ok, false, `expected a failure, got ${JSON.stringify(o)}`);
  return o as Extract<Outcome, { ok: false }>;
}

test('every scenario ends with the right class, error, pages and cause', async () => {
  const h = await harness();
  const table: [string, SimScenario, (o: Outcome) => void][] = [
    ['5551001', { kind: 'success', pages: 2 }, (o) => {
      assert.equal(o.ok, true);
      assert.deepEqual(o.ok && o.details, { mode: 'audio', bitRate: 14400, resolution: '8031x7700', remoteStationId: '+15550001000', ecm: true });
      assert.equal(o.ok && o.pages, 2);
    }],
    ['5551002', { kind: 'success', pages: 2, t38: true }, (o) => assert.equal(o.ok && o.details?.mode, 'T38')],
    ['5551003', { kind: 'success', pages: 2, remoteHangsUpFirst: false, answerDelaySec: 4 }, (o) => assert.equal(o.ok && o.pages, 2)],
    ['5551004', { kind: 'busy' }, (o) => assert.deepEqual(o, { ok: false, failureClass: 'busy', error: 'line busy', cause: '17 USER_BUSY (SIP 486)', pages: 0 })],
    ['5551005', { kind: 'no_answer' }, (o) => assert.deepEqual(o, { ok: false, failureClass: 'no_answer', error: 'no answer', cause: '19 NO_ANSWER (SIP 480)', pages: 0 })],
    ['5551006', { kind: 'congestion' }, (o) => assert.deepEqual([failed(o).failureClass, failed(o).cause], ['congestion', '34 NORMAL_CIRCUIT_CONGESTION (SIP 503)'])],
    ['5551007', { kind: 'rejected' }, (o) => assert.deepEqual([failed(o).failureClass, failed(o).error, failed(o).cause],
      ['permanent', 'call rejected by the far end or the carrier', '21 CALL_REJECTED (SIP 403)'])],
    ['5551008', { kind: 'unallocated' }, (o) => assert.deepEqual([failed(o).failureClass, failed(o).error],
      ['permanent', 'number not in service (unallocated)'])],
    ['5551009', { kind: 'remote_hangup' }, (o) => assert.deepEqual([failed(o).failureClass, failed(o).error, failed(o).pages],
      ['protocol', 'the far end hung up during the fax, before any page was sent', 0])],
    ['5551010', { kind: 'partial', pagesSent: 1, totalPages: 2 }, (o) => assert.deepEqual([failed(o).failureClass, failed(o).error, failed(o).pages, failed(o).cause],
      ['protocol', 'the far end hung up after 1 of 2 pages', 1, 'T.30 49: The call dropped prematurely; hangup 0 NONE'])],
    ['5551011', { kind: 'fax_error', error: 'Failed to train with any of the compatible modems' }, (o) => assert.deepEqual(
      [failed(o).failureClass, failed(o).error], ['protocol', 'fax failed: Failed to train with any of the compatible modems'])],
    ['5551012', { kind: 't38_fail' }, (o) => assert.deepEqual([failed(o).failureClass, failed(o).error],
      ['protocol', 'fax failed: T.38 negotiation with the far end failed'])],
  ];
  for (const [number, scenario] of table) h.sim.script(number, scenario);
  const runs = await Promise.all(table.map(([number]) => sendFax(h, number)));
  const outcomes = await Promise.all(runs.map((r) => r.outcome));
  table.forEach(([number, , check], i) => {
    try {
      check(outcomes[i]!);
    } catch (err) {
      throw new Error(`${number}: ${(err as Error).message}`);
    }
  });
  await h.sim.idle();

  // Answered calls were continued into the shipped context; each left its durable record until forget().
  const continued = h.sim.requests.filter((r) => r.path.endsWith('/continue'));
  assert.ok(continued.length >= 7 && continued.every((r) => r.query.context === 'faxbot-outbound' && r.query.extension === 'send' && r.status === 204));
  const first = runs[0]!.channelId;
  assert.match(h.sim.globals.get(resultVarName('job1', 1)) ?? '', /^v1\|SUCCESS\|2\|/);
  assert.ok(h.tracker.get(first)?.facts.report, 'the FaxResult UserEvent arrived');
  await h.tracker.forget(first);
  assert.equal(h.sim.globals.has(resultVarName('job1', 1)), false);
  // The originate carried the whole per-job contract.
  const orig = h.sim.requests.find((r) => r.path === '/ari/channels' && r.method === 'POST')!;
  assert.equal(orig.query.endpoint, 'PJSIP/5551001@faxbot-trunk');
  assert.equal(orig.query.channelId, 'faxbot-job1-1');
  assert.equal(orig.query.callerId, '"Faxbot" <+15550000001>');
  assert.deepEqual(Object.keys((orig.body as { variables: object }).variables).sort(),
    ['FAXATTEMPT', 'FAXECM', 'FAXFILE', 'FAXHEADER', 'FAXJOB', 'FAXMAXRATE', 'FAXSTATIONID', 'FAXT38']);
});

test('a missing TIFF is a document failure; a T.38 failure succeeds on the next rung of the ladder (forced audio)', async () => {
  const h = await harness();
  const missing = await sendFax(h, '5552001', { tiff: join(dir, 'does-not-exist.tif') });
  const m = failed(await missing.outcome);
  assert.deepEqual([m.failureClass, m.error], ['document', 'the PBX could not read the fax file (missing or unreadable TIFF)']);

  h.sim.script('5552002', { kind: 't38_fail', pages: 2 });
  const first = await sendFax(h, '5552002', { job: 'ladder', attempt: 1, line: ladderStep(CONFIGURED, 0) });
  assert.equal(failed(await first.outcome).failureClass, 'protocol');
  const second = await sendFax(h, '5552002', { job: 'ladder', attempt: 2, line: ladderStep(CONFIGURED, 1) });
  const o = await second.outcome;
  assert.equal(o.ok, true);
  assert.equal(o.ok && o.details?.mode, 'audio');
  const bodies = h.sim.requests.filter((r) => r.path === '/ari/channels' && r.method === 'POST').map((r) => (r.body as { variables: Record<string, string> }).variables.FAXT38);
  assert.deepEqual(bodies.slice(-2), ['yes', 'no']);
});

test('a retried originate for the same attempt gets 409: the channel id is deterministic', async () => {
  const h = await harness();
  h.sim.script('5553001', { kind: 'no_answer' });
  // Rings for 100 simulated minutes (≈6 s): still up when the same originate comes again, however loaded the machine.
  const { channelId } = await sendFax(h, '5553001', { job: 'dup', timeoutSec: 6000 });
  assert.equal(channelId, channelIdFor('dup', 1));
  await assert.rejects(sendFax(h, '5553001', { job: 'dup', timeoutSec: 6000 }), (e: Error & { status?: number }) => e.status === 409);
  await h.client.hangup(channelId);
  await h.sim.idle();
});

test('our hang-up mid-fax (DELETE) reports the pages sent so far', async () => {
  const h = await harness();
  h.sim.script('5554001', { kind: 'success', pages: 3, secondsPerPage: 2000 });
  const run = await sendFax(h, '5554001', { pages: 3 });
  await signalOf(h.tracker, run.channelId, 'fax_started');
  await new Promise((r) => setTimeout(r, 20)); // during page 1 (2 s per page)
  await h.client.hangup(run.channelId, 'normal');
  const o = failed(await run.outcome);
  assert.equal(o.failureClass, 'protocol');
  assert.ok((o.pages ?? 0) < 3);
});

test('WebSocket lost mid-fax and the call ends meanwhile: the outcome comes from the GLOBAL record', async () => {
  const h = await harness();
  h.sim.script('5555001', { kind: 'success', pages: 2, secondsPerPage: 5 });
  const run = await sendFax(h, '5555001');
  await signalOf(h.tracker, run.channelId, 'fax_started');
  h.sim.setEventsUnavailable(true); // hold the reconnect off until the call is over
  h.sim.dropWebSocket();
  await h.sim.idle();
  h.sim.setEventsUnavailable(false);
  const o = await run.outcome;
  assert.equal(o.ok, true);
  assert.equal(o.ok && o.pages, 2);
  assert.ok(h.sim.requests.some((r) => r.path === '/ari/asterisk/variable' && r.method === 'GET' && r.query.variable?.startsWith('FAXBOT_RESULT_')));
});

test('WebSocket lost mid-fax and back before the end: events resume and the call settles normally', async () => {
  const h = await harness();
  h.sim.script('5555002', { kind: 'success', pages: 2, secondsPerPage: 150 });
  const run = await sendFax(h, '5555002');
  await signalOf(h.tracker, run.channelId, 'fax_started');
  h.sim.dropWebSocket();
  const o = await run.outcome;
  assert.equal(o.ok, true);
  assert.equal(o.ok && o.pages, 2);
});

test('answered while the WebSocket was down: Stasis() finds no app and hangs up; nothing was sent, retriable', async () => {
  const h = await harness();
  h.sim.script('5555003', { kind: 'success', pages: 1, answerDelaySec: 300 });
  const run = await sendFax(h, '5555003');
  h.sim.setEventsUnavailable(true);
  h.sim.dropWebSocket();
  await h.sim.idle();
  h.sim.setEventsUnavailable(false);
  const o = failed(await run.outcome);
  assert.deepEqual([o.failureClass, o.pages], ['transient', 0]);
});

test('Asterisk restarts mid-fax: the outcome is unknown (never success, never silently retried)', async () => {
  const h = await harness();
  h.sim.script('5556001', { kind: 'success', pages: 3, secondsPerPage: 100 });
  const run = await sendFax(h, '5556001');
  await signalOf(h.tracker, run.channelId, 'fax_started');
  await h.sim.restart({ downMs: 30 });
  const o = failed(await run.outcome);
  assert.equal(o.failureClass, 'unknown');
  assert.match(o.error, /Asterisk restarted/);
});

test('the service restarts mid-fax: a new client follows the live call to its end', async () => {
  const sim = await startAriSim({ username: USER, password: PASS });
  cleanups.push(() => sim.close());
  const a = connect(sim);
  await a.client.whenConnected(3000);
  sim.script('5557001', { kind: 'success', pages: 2, secondsPerPage: 60 });
  const startedAt = new Date();
  const run = await sendFax(a, '5557001');
  run.outcome.catch(() => undefined); // the old process never learns it
  await signalOf(a.tracker, run.channelId, 'fax_started');
  a.tracker.close();
  await a.client.stop(); // the old process dies

  const b = connect(sim);
  await b.client.whenConnected(3000);
  const outcome = outcomeOf(b.tracker, run.channelId);
  b.tracker.track(run.channelId, { totalPages: 2, startedAt });
  await b.tracker.resync();
  const o = await outcome;
  assert.equal(o.ok, true);
  assert.equal(o.ok && o.pages, 2);
});

test('the service restarts and the call ended meanwhile: settled from the record; a call left waiting in Stasis is continued', async () => {
  const sim = await startAriSim({ username: USER, password: PASS, stasisTimeoutSec: 100_000 });
  cleanups.push(() => sim.close());
  const a = connect(sim);
  await a.client.whenConnected(3000);
  sim.script('5558001', { kind: 'partial', pagesSent: 1, totalPages: 2, secondsPerPage: 5 });
  const startedAt = new Date();
  const ended = await sendFax(a, '5558001');
  ended.outcome.catch(() => undefined); // the old process never learns it
  await signalOf(a.tracker, ended.channelId, 'fax_started');
  // A second call whose StasisStart reaches the old process, which dies before continuing it.
  a.tracker.close();
  const stasis = new Promise<void>((r) => {
    const on = (ev: AriEvent): void => {
      if (ev.type === 'StasisStart' && ev.channel.id === channelIdFor('waiting', 1)) {
        a.client.off('event', on);
        r();
      }
    };
    a.client.on('event', on);
  });
  await a.client.originate(buildOriginate({
    jobId: 'waiting', attemptNo: 1, number: '5558002', pbxTiffPath: TIFF, line: { ...CONFIGURED, step: 0 }, dial: { trunk: 'faxbot-trunk' },
  }));
  await stasis;
  await a.client.stop();
  await new Promise((r) => setTimeout(r, 30));

  const b = connect(sim);
  await b.client.whenConnected(3000);
  const o1 = outcomeOf(b.tracker, ended.channelId);
  const o2 = outcomeOf(b.tracker, channelIdFor('waiting', 1));
  b.tracker.track(ended.channelId, { totalPages: 2, startedAt });
  b.tracker.track(channelIdFor('waiting', 1), { totalPages: 1, startedAt });
  await b.tracker.resync();
  const partial = failed(await o1);
  assert.deepEqual([partial.failureClass, partial.pages, partial.error], ['protocol', 1, 'the far end hung up after 1 of 2 pages']);
  const waiting = await o2;
  assert.equal(waiting.ok, true);
});
