// Every simulator scenario end to end: originate over a real ESL socket, route events, settle the call.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FaxCallTracker } from '../../../src/backends/freeswitch/call-tracker.js';
import type { EslConnection } from '../../../src/backends/freeswitch/esl-connection.js';
import { FaxCall, settleAfterRestart } from '../../../src/backends/freeswitch/fax-call.js';
import { buildOriginate, callUuidFor, jobUuidFor } from '../../../src/backends/freeswitch/originate.js';
import { ladderStep } from '../../../src/backends/pbx/ladder.js';
import type { Outcome } from '../../../src/backends/types.js';
import { startEslSim, writeBlankFaxTiff, type EslSim, type Scenario, type ScenarioName } from '../../sim/esl/index.js';
import { connect, stopAll, waitFor } from './helpers.js';

let dir: string;
let twoPages: string;
let sim: EslSim;
let conn: EslConnection;
const tracker = new FaxCallTracker();
const outcomes = new Map<string, Outcome>();
let seq = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'esl-scen-'));
  twoPages = join(dir, 'two.tif');
  writeBlankFaxTiff(twoPages, 2);
  sim = await startEslSim({ password: 'pw', deadGateways: ['deadgw'], downGateways: ['downgw'] });
  conn = connect(sim);
  conn.on('event', (ev) => {
    const r = tracker.route(ev);
    if (r?.update.outcome) outcomes.set(r.call.callUuid, r.update.outcome);
  });
  conn.start();
  await once(conn, 'connected');
});

after(async () => {
  await stopAll();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Sent {
  callUuid: string;
  outcome: Promise<Outcome>;
}

async function send(scenario: ScenarioName | Scenario | null, o: { gateway?: string; tiff?: string; t38?: boolean; protocolFailures?: number } = {}): Promise<Sent> {
  const jobId = `job-${++seq}`;
  const number = `1555200${String(seq).padStart(4, '0')}`;
  if (scenario) sim.script(number, scenario);
  const callUuid = callUuidFor(jobId, 1);
  const jobUuid = jobUuidFor(jobId, 1);
  tracker.track(new FaxCall({ callUuid, jobUuid }));
  const { command } = buildOriginate({
    callUuid,
    jobId,
    attemptNo: 1,
    gateway: o.gateway ?? 'faxbot',
    number,
    tiffPath: o.tiff ?? twoPages,
    line: ladderStep({ t38: o.t38 ?? true, ecm: true, maxRate: 14400 }, o.protocolFailures ?? 0),
    stationId: '+15550001111',
    header: 'Faxbot test',
  });
  await conn.bgapi(command, { jobUuid, timeoutMs: 2000 });
  const outcome = (async () => {
    await waitFor(() => outcomes.has(callUuid), `outcome of ${jobId}`);
    return outcomes.get(callUuid)!;
  })();
  return { callUuid, outcome };
}

function failed(o: Outcome): Extract<Outcome, { ok: false }> {
  assert.equal(o.ok, false, JSON.stringify(o));
  return o as Extract<Outcome, { ok: false }>;
}

test('success over audio and over T.38, refused T.38 falls back to audio and succeeds', async () => {
  const [audio, t38, refused] = await Promise.all([send('success', { t38: false }), send('t38'), send('t38-refused')]);
  const a = await audio.outcome;
  assert.ok(a.ok);
  assert.equal(a.pages, 2);
  assert.equal(a.details?.t38Status, 'off');
  const t = await t38.outcome;
  assert.ok(t.ok);
  assert.equal(t.details?.t38Status, 'negotiated');
  const r = await refused.outcome;
  assert.ok(r.ok);
  assert.equal(r.details?.t38Status, 'refused');
  assert.equal(r.details?.transport, 'audio');
});

test('the far end asks for T.38: accepted because our leg always enables it (even on the audio rung)', async () => {
  const s = await send('remote-requests-t38', { t38: false });
  const o = await s.outcome;
  assert.ok(o.ok);
  assert.equal(o.details?.t38Status, 'negotiated');
});

test('busy, no answer, unallocated, rejected: classes and readable errors, nothing sent', async () => {
  const [busy, noAnswer, unalloc, rejected] = await Promise.all([send('busy'), send('no-answer'), send('unallocated'), send('rejected')]);
  const b = failed(await busy.outcome);
  assert.equal(b.failureClass, 'busy');
  assert.equal(b.error, 'line busy');
  assert.equal(b.cause, '17 USER_BUSY (SIP 486)');
  const n = failed(await noAnswer.outcome);
  assert.equal(n.failureClass, 'no_answer');
  const u = failed(await unalloc.outcome);
  assert.equal(u.failureClass, 'permanent');
  assert.match(u.error, /not in service/);
  const r = failed(await rejected.outcome);
  assert.equal(r.failureClass, 'permanent');
  for (const o of [b, n, u, r]) assert.equal(o.pages, 0);
});

test('gateway problems: unknown name (no channel at all), unreachable, down', async () => {
  const [unknown, dead, down] = await Promise.all([send(null, { gateway: 'nosuchgw' }), send(null, { gateway: 'deadgw' }), send(null, { gateway: 'downgw' })]);
  const u = failed(await unknown.outcome);
  assert.equal(u.failureClass, 'permanent');
  assert.match(u.error, /no such gateway/);
  const d = failed(await dead.outcome);
  assert.equal(d.failureClass, 'congestion');
  assert.equal(d.cause, '41 NORMAL_TEMPORARY_FAILURE (SIP 503)');
  assert.equal(failed(await down.outcome).failureClass, 'congestion');
});

test('answered but failed: remote hang-up, no fax tones, training failure, partial pages', async () => {
  const [hangup, silent, train, partial] = await Promise.all([send('remote-hangup'), send('no-fax-tones'), send('train-fail'), send('partial')]);
  const h = failed(await hangup.outcome);
  assert.equal(h.failureClass, 'protocol');
  assert.equal(h.error, 'fax failed: The call dropped prematurely');
  assert.equal(h.pages, 0);
  const s = failed(await silent.outcome);
  assert.equal(s.failureClass, 'no_answer');
  assert.equal(s.error, 'answered, but no fax machine responded');
  const t = failed(await train.outcome);
  assert.equal(t.failureClass, 'protocol');
  assert.match(t.error, /Failed to train/);
  const p = failed(await partial.outcome);
  assert.equal(p.failureClass, 'protocol');
  assert.equal(p.pages, 1);
  assert.equal(p.error, 'fax failed: The call dropped prematurely (1 of 2 pages sent)');
});

test('a TIFF missing on the PBX: answered, no result event, class document', async () => {
  const s = await send('success', { tiff: join(dir, 'not-there.tif') });
  const o = failed(await s.outcome);
  assert.equal(o.failureClass, 'document');
  assert.match(o.error, /could not read the fax file/);
});

test('slow answer still succeeds; a 4-page document reports 4 pages', async () => {
  const four = join(dir, 'four.tif');
  writeBlankFaxTiff(four, 4);
  const [slow, long] = await Promise.all([send('slow-answer'), send('success', { tiff: four })]);
  assert.ok((await slow.outcome).ok);
  const l = await long.outcome;
  assert.ok(l.ok);
  assert.equal(l.pages, 4);
});

test('FreeSWITCH restart mid-call: the call is gone after reconnect and settles as unknown', async () => {
  const slow = await startEslSim({ password: 'pw', timeScale: 0.05 });
  const c = connect(slow);
  try {
    c.start();
    await once(c, 'connected');
    const callUuid = callUuidFor('job-restart-mid', 1);
    const jobUuid = jobUuidFor('job-restart-mid', 1);
    const { command } = buildOriginate({ callUuid, jobId: 'job-restart-mid', attemptNo: 1, gateway: 'faxbot', number: '15553330001', tiffPath: twoPages, line: ladderStep({ t38: false, ecm: true, maxRate: 14400 }, 0) });
    const call = new FaxCall({ callUuid, jobUuid });
    c.on('event', (ev) => call.handle(ev));
    await c.bgapi(command, { jobUuid, timeoutMs: 1000 });
    await waitFor(() => call.phase === 'answered', 'answered');
    await slow.restart({ downMs: 100 });
    await once(c, 'connected');
    assert.equal(call.outcome, null);
    const exists = await c.uuidExists(callUuid);
    const decision = settleAfterRestart({ exists, channel: exists ? await c.uuidDump(callUuid) : null });
    assert.equal(decision.action, 'settle');
    assert.ok(decision.action === 'settle' && !decision.outcome.ok && decision.outcome.failureClass === 'unknown');
  } finally {
    await c.stop();
    await slow.close();
  }
});

test('service restart mid-call: a new connection finds the call by its uuid and follows it to the end', async () => {
  const slow = await startEslSim({ password: 'pw', timeScale: 0.01 });
  const first = connect(slow);
  const second = connect(slow);
  try {
    first.start();
    await once(first, 'connected');
    const callUuid = callUuidFor('job-follow', 1);
    const jobUuid = jobUuidFor('job-follow', 1);
    const { command } = buildOriginate({ callUuid, jobId: 'job-follow', attemptNo: 1, gateway: 'faxbot', number: '15553330002', tiffPath: twoPages, line: ladderStep({ t38: false, ecm: true, maxRate: 14400 }, 0) });
    await first.bgapi(command, { jobUuid, timeoutMs: 1000 });
    await waitFor(() => slow.channels().some((ch) => ch.answerState === 'answered'), 'answered');
    await first.stop(); // the old process dies; FreeSWITCH keeps the call
    second.start();
    await once(second, 'connected');
    const exists = await second.uuidExists(callUuidFor('job-follow', 1));
    const decision = settleAfterRestart({ exists, channel: exists ? await second.uuidDump(callUuid) : null });
    assert.deepEqual(decision, { action: 'follow' });
    const call = new FaxCall({ callUuid, jobUuid });
    const done = new Promise<Outcome>((resolve) => second.on('event', (ev) => call.handle(ev)?.outcome && resolve(call.outcome!)));
    const o = await done;
    assert.ok(o.ok);
    assert.equal(o.pages, 2);
  } finally {
    await second.stop();
    await slow.close();
  }
});

test('events missed while the socket was down: the call is gone, nothing recorded → unknown', async () => {
  const slow = await startEslSim({ password: 'pw', timeScale: 0.01 });
  const c = connect(slow, { reconnectInitialMs: 300, reconnectMaxMs: 300 });
  try {
    c.start();
    await once(c, 'connected');
    const callUuid = callUuidFor('job-gap', 1);
    const jobUuid = jobUuidFor('job-gap', 1);
    const { command } = buildOriginate({ callUuid, jobId: 'job-gap', attemptNo: 1, gateway: 'faxbot', number: '15553330003', tiffPath: twoPages, line: ladderStep({ t38: false, ecm: true, maxRate: 14400 }, 0) });
    const call = new FaxCall({ callUuid, jobUuid });
    c.on('event', (ev) => call.handle(ev));
    await c.bgapi(command, { jobUuid, timeoutMs: 1000 });
    await waitFor(() => call.phase === 'answered', 'answered');
    slow.dropSockets();
    await slow.idle(); // the fax ends while we are disconnected (reconnect waits 300 ms)
    await once(c, 'connected');
    assert.equal(call.outcome, null, 'the final events went to nobody');
    const exists = await c.uuidExists(callUuid);
    assert.equal(exists, false);
    const decision = settleAfterRestart({ exists });
    assert.ok(decision.action === 'settle' && !decision.outcome.ok && decision.outcome.failureClass === 'unknown');
  } finally {
    await c.stop();
    await slow.close();
  }
});
