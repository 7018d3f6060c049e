// EslConnection against the ESL simulator over real sockets: auth, subscriptions, reconnects, commands, errors.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  EslCommandError,
  EslError,
  EslTimeoutError,
  EslUnavailableError,
  type EslConnection,
} from '../../../src/backends/freeswitch/esl-connection.js';
import { SUBSCRIBE_COMMAND, type EslEvent } from '../../../src/backends/freeswitch/esl-event.js';
import { buildOriginate, callUuidFor, jobUuidFor } from '../../../src/backends/freeswitch/originate.js';
import { startEslSim, writeBlankFaxTiff, type EslSim } from '../../sim/esl/index.js';
import { captureLog, connect, sleep, stopAll, waitFor } from './helpers.js';

let dir: string;
let tiff: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'esl-conn-'));
  tiff = join(dir, 'doc.tif');
  writeBlankFaxTiff(tiff, 2);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function withSim(fn: (sim: EslSim) => Promise<void>, opts: Parameters<typeof startEslSim>[0] = {}): Promise<void> {
  const sim = await startEslSim({ password: 'pw', ...opts });
  try {
    await fn(sim);
  } finally {
    await stopAll();
    await sim.close();
  }
}

function originate(jobId: string, number: string, gateway = 'faxbot') {
  const callUuid = callUuidFor(jobId, 1);
  const jobUuid = jobUuidFor(jobId, 1);
  const { command } = buildOriginate({
    callUuid,
    jobId,
    attemptNo: 1,
    gateway,
    number,
    tiffPath: tiff,
    line: { t38: false, ecm: true, maxRate: 14400, step: 0 },
  });
  return { callUuid, jobUuid, command };
}

test('connects, authenticates and subscribes to exactly our events (CUSTOM subclasses named)', async () => {
  await withSim(async (sim) => {
    const conn = connect(sim);
    const states: string[] = [];
    conn.on('state', (s) => states.push(s));
    conn.start();
    await once(conn, 'connected');
    assert.equal(conn.state, 'connected');
    assert.equal(conn.lastError, null);
    assert.deepEqual(states, ['connecting', 'connected']);
    const lines = sim.commands.map((c) => c.line);
    assert.deepEqual(lines, ['auth pw', 'event json CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB', SUBSCRIBE_COMMAND]);
    assert.equal(
      SUBSCRIBE_COMMAND,
      'event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP_COMPLETE CUSTOM spandsp::txfaxresult spandsp::txfaxpageresult spandsp::rxfaxresult',
    );
    assert.match(await conn.api('status', 1000), /FreeSWITCH \(Version 1\.10\.12-release {2}64bit\) is ready/);
    await conn.stop();
    assert.equal(conn.state, 'stopped');
  });
});

test('a wrong password is auth_failed with one clear log line, and no reconnect storm', async () => {
  await withSim(async (sim) => {
    const log = captureLog();
    const conn = connect(sim, { password: 'definitely-wrong-password', logger: log.logger, authRetryMs: 60_000 });
    conn.start();
    await waitFor(() => conn.state === 'auth_failed', 'auth_failed');
    assert.match(conn.lastError ?? '', /refused the ESL password.*FREESWITCH_ESL_PASSWORD/);
    // esl on its own would reconnect every 200 ms here; we wait for the slow retry instead.
    await sleep(600);
    assert.equal(sim.accepted, 1);
    assert.equal(sim.authFailures, 1);
    assert.equal(conn.state, 'auth_failed');
    await assert.rejects(conn.api('status', 500), EslUnavailableError);
    const errors = log.lines().filter((l) => l.level >= 50);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.msg, /refused the event socket password/);
    assert.equal(log.text().includes('definitely-wrong-password'), false, 'the password never reaches the log');
    await conn.stop();
  });
});

test('after the password is fixed on the PBX, the slow retry gets in', async () => {
  await withSim(async (sim) => {
    const conn = connect(sim, { password: 'new-pass', authRetryMs: 150 });
    conn.start();
    await waitFor(() => conn.state === 'auth_failed', 'auth_failed');
    sim.setPassword('new-pass');
    await once(conn, 'connected');
    assert.equal(conn.lastError, null);
    assert.ok(sim.authFailures >= 1);
    await conn.stop();
  });
});

test('a command before auth gets "-ERR command not found" from the simulator and the socket stays open', async () => {
  // (The raw-socket form of this is in test/sim/esl/sim.test.ts; here: the connection never sends one.)
  await withSim(async (sim) => {
    const conn = connect(sim);
    conn.start();
    await once(conn, 'connected');
    assert.equal(sim.commands[0]?.line, 'auth pw');
    await conn.stop();
  });
});

test('reconnects after dropped sockets and redoes the subscription; calls go on meanwhile', async () => {
  await withSim(
    async (sim) => {
      const conn = connect(sim);
      conn.start();
      await once(conn, 'connected');
      const o = originate('job-drop', '15551110001');
      const seen: EslEvent[] = [];
      conn.on('event', (ev) => {
        if (ev.headers['Unique-ID'] === o.callUuid) seen.push(ev);
      });
      await conn.bgapi(o.command, { jobUuid: o.jobUuid, timeoutMs: 1000 });
      const disconnected = once(conn, 'disconnected');
      sim.dropSockets();
      await disconnected;
      assert.notEqual(conn.state, 'connected');
      await once(conn, 'connected');
      assert.equal(sim.commands.filter((c) => c.line === SUBSCRIBE_COMMAND).length, 2);
      // The call survived the drop: the PBX still has it, and its later events reach us again.
      assert.equal(await conn.uuidExists(o.callUuid), true);
      await waitFor(() => seen.some((e) => e.name === 'CHANNEL_HANGUP_COMPLETE'), 'hangup after reconnect');
      await conn.stop();
    },
    { timeScale: 0.005 },
  );
});

test('FreeSWITCH restart: refused while down, backoff, reconnect; the channels are gone', async () => {
  await withSim(
    async (sim) => {
      const conn = connect(sim, { reconnectInitialMs: 20, reconnectMaxMs: 100 });
      conn.start();
      await once(conn, 'connected');
      const o = originate('job-restart', '15551110002');
      sim.script('15551110002', 'no-answer');
      await conn.bgapi(o.command, { jobUuid: o.jobUuid, timeoutMs: 1000 });
      await waitFor(() => sim.channels().length === 1, 'call up');
      const states: string[] = [];
      conn.on('state', (s) => states.push(s));
      const restarted = sim.restart({ downMs: 300, crash: true });
      await once(conn, 'disconnected');
      await restarted;
      await once(conn, 'connected');
      assert.ok(states.includes('disconnected'));
      assert.ok(sim.accepted >= 2);
      assert.equal(sim.commands.filter((c) => c.line === SUBSCRIBE_COMMAND).length, 2, 'subscribed again');
      assert.equal(await conn.uuidExists(o.callUuid), false);
      assert.deepEqual(await conn.showChannels(), []);
      await conn.stop();
    },
    { timeScale: 0.05 },
  );
});

test('a clean FreeSWITCH shutdown (disconnect notice) is a disconnect like any other', async () => {
  await withSim(async (sim) => {
    const conn = connect(sim);
    conn.start();
    await once(conn, 'connected');
    const restarted = sim.restart({ downMs: 100 });
    await once(conn, 'disconnected');
    await restarted;
    await once(conn, 'connected');
    await conn.stop();
  });
});

test('a FreeSWITCH that is down at start: retried with capped backoff, connected once it is up', async () => {
  const sim = await startEslSim({ password: 'pw' });
  const port = sim.port;
  await sim.close();
  let again: EslSim | null = null;
  try {
    const log = captureLog('debug');
    const conn = connect(sim, { port, logger: log.logger, reconnectInitialMs: 10, reconnectMaxMs: 40 });
    conn.start();
    await waitFor(() => conn.lastError === 'ECONNREFUSED', 'ECONNREFUSED');
    await sleep(200);
    // One warning for the outage, the retries only at debug.
    assert.equal(log.lines().filter((l) => l.level === 40).length, 1);
    again = await startEslSim({ password: 'pw', port });
    await waitFor(() => conn.state === 'connected', 'connected after the PBX came up');
  } finally {
    await stopAll();
    await again?.close();
  }
});

test('api and bgapi: replies, our own Job-UUID, BACKGROUND_JOB, -ERR as EslCommandError', async () => {
  await withSim(async (sim) => {
    const conn = connect(sim);
    conn.start();
    await once(conn, 'connected');
    await assert.rejects(conn.api('nosuchcommand', 1000), (e: unknown) => e instanceof EslCommandError && e.reply === '-ERR nosuchcommand Command not found!');
    const o = originate('job-bg', '15551110003', 'no-such-gateway');
    const job = new Promise<EslEvent>((resolve) => conn.on('BACKGROUND_JOB', (ev) => ev.headers['Job-UUID'] === o.jobUuid && resolve(ev)));
    const res = await conn.bgapi(o.command, { jobUuid: o.jobUuid, timeoutMs: 1000 });
    assert.equal(res.jobUuid, o.jobUuid);
    const bg = await job;
    assert.equal(bg.headers['_body'], '-ERR INVALID_GATEWAY\n');
    assert.equal(bg.headers['Job-Command'], 'originate');
    const sent = sim.commands.find((c) => c.line.startsWith('bgapi originate'));
    assert.equal(sent?.headers['Job-UUID'], o.jobUuid);
    await assert.rejects(conn.bgapi('status', { jobUuid: 'nope', timeoutMs: 100 }), EslError);
    await assert.rejects(conn.api('status\n\napi status', 100), /single line/);
    await conn.stop();
  });
});

test('a BACKGROUND_JOB arriving before the bgapi reply is still seen, and replies stay in order', async () => {
  await withSim(
    async (sim) => {
      const conn = connect(sim);
      conn.start();
      await once(conn, 'connected');
      const o = originate('job-race', '15551110004', 'nope');
      let bodyBeforeReply: string | null = null;
      conn.on('BACKGROUND_JOB', (ev) => {
        if (ev.headers['Job-UUID'] === o.jobUuid) bodyBeforeReply = ev.headers['_body'] ?? null;
      });
      await conn.bgapi(o.command, { jobUuid: o.jobUuid, timeoutMs: 1000 });
      assert.equal(bodyBeforeReply, '-ERR INVALID_GATEWAY\n');
      assert.equal(await conn.uuidExists(o.callUuid), false);
      assert.match(await conn.api('status', 1000), /is ready/);
      await conn.stop();
    },
    { jobBeforeReply: true },
  );
});

test('no reply in time: EslTimeoutError (may have run), and the socket is replaced so replies cannot shift', async () => {
  await withSim(async (sim) => {
    const conn = connect(sim);
    conn.start();
    await once(conn, 'connected');
    sim.stalled = true;
    const disconnected = once(conn, 'disconnected');
    await assert.rejects(conn.api('status', 100), (e: unknown) => e instanceof EslTimeoutError && e.reason === 'timeout');
    await disconnected;
    sim.stalled = false;
    await once(conn, 'connected');
    assert.equal(await conn.api('uuid_exists 00000000-0000-4000-8000-000000000000', 1000), 'false');
    assert.match(await conn.api('status', 1000), /is ready/);
    await conn.stop();
  });
});

test('the socket closing while waiting: EslTimeoutError reason closed; not connected: EslUnavailableError', async () => {
  await withSim(async (sim) => {
    const conn = connect(sim);
    await assert.rejects(conn.api('status', 100), EslUnavailableError);
    conn.start();
    await once(conn, 'connected');
    sim.stalled = true;
    const pending = conn.api('status', 5000);
    await waitFor(() => sim.commands.some((c) => c.line === 'api status'), 'command sent');
    sim.dropSockets();
    await assert.rejects(pending, (e: unknown) => e instanceof EslTimeoutError && e.reason === 'closed');
    await conn.stop();
    await assert.rejects(conn.uuidExists(callUuidFor('x', 1)), EslUnavailableError);
  });
});

test('uuid helpers on a live call: exists, getvar, dump, show channels, kill', async () => {
  await withSim(
    async (sim) => {
      const conn = connect(sim);
      conn.start();
      await once(conn, 'connected');
      assert.deepEqual(await conn.showChannels(), []);
      sim.script('15551110005', 'no-answer');
      const o = originate('job-live', '15551110005');
      await conn.bgapi(o.command, { jobUuid: o.jobUuid, timeoutMs: 1000 });
      await waitFor(() => sim.channels().length === 1, 'ringing');
      assert.equal(await conn.uuidExists(o.callUuid), true);
      assert.equal(await conn.uuidGetVar(o.callUuid, 'faxbot_job_id'), 'job-live');
      assert.equal(await conn.uuidGetVar(o.callUuid, 'fax_success'), null);
      const dump = await conn.uuidDump(o.callUuid);
      assert.equal(dump?.['Unique-ID'], o.callUuid);
      assert.equal(dump?.['variable_faxbot_attempt'], '1');
      const rows = await conn.showChannels();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.uuid, o.callUuid);
      const hangup = new Promise<EslEvent>((resolve) => conn.on('CHANNEL_HANGUP_COMPLETE', (ev) => ev.headers['Unique-ID'] === o.callUuid && resolve(ev)));
      assert.equal(await conn.uuidKill(o.callUuid, 'NORMAL_CLEARING'), true);
      assert.equal((await hangup).headers['Hangup-Cause'], 'NORMAL_CLEARING');
      await waitFor(() => sim.channels().length === 0, 'gone');
      assert.equal(await conn.uuidKill(o.callUuid), false);
      assert.equal(await conn.uuidGetVar(o.callUuid, 'faxbot_job_id'), null);
      assert.equal(await conn.uuidDump(o.callUuid), null);
      await assert.rejects(conn.uuidKill('not-a-uuid'), EslError);
      await conn.stop();
    },
    { timeScale: 0.05 },
  );
});

test('every client sees every call: a second instance gets the events of the first one\'s call', async () => {
  await withSim(async (sim) => {
    const a = connect(sim);
    const b = connect(sim);
    a.start();
    b.start();
    await Promise.all([once(a, 'connected'), once(b, 'connected')]);
    const o = originate('job-shared', '15551110006');
    const onB = new Promise<EslEvent>((resolve) => b.on('spandsp::txfaxresult', (ev) => ev.headers['Unique-ID'] === o.callUuid && resolve(ev)));
    await a.bgapi(o.command, { jobUuid: o.jobUuid, timeoutMs: 1000 });
    const ev = await onB;
    assert.equal(ev.headers['variable_faxbot_job_id'], 'job-shared');
    await Promise.all([a.stop(), b.stop()]);
  });
});

test('BACKGROUND_JOBs nobody awaited do not pile up inside esl (every job of every client would)', async () => {
  await withSim(async (sim) => {
    const conn = connect(sim);
    conn.start();
    await once(conn, 'connected');
    let seen = 0;
    conn.on('BACKGROUND_JOB', () => seen++);
    for (let i = 0; i < 50; i++) await conn.bgapi('status', { jobUuid: crypto.randomUUID(), timeoutMs: 1000 });
    await waitFor(() => seen === 50, 'all jobs');
    // esl keeps unawaited jobs in a private map until the socket closes; the connection drains it.
    const later = (conn as unknown as { call: { __later: Map<string, unknown> } }).call.__later;
    assert.equal(later.size, 0);
    await conn.stop();
  });
});

test('logs keep the password and phone numbers out, even at trace level', async () => {
  await withSim(async (sim) => {
    const log = captureLog('trace');
    const conn = connect(sim, { logger: log.logger });
    conn.start();
    await once(conn, 'connected');
    const o = originate('job-log', '15559876543');
    await conn.bgapi(o.command, { jobUuid: o.jobUuid, timeoutMs: 1000 });
    await sim.idle();
    await sleep(20);
    await conn.stop();
    const text = log.text();
    assert.ok(text.length > 0);
    assert.equal(text.includes('auth pw'), false);
    assert.equal(text.includes('15559876543'), false);
  });
});

export type { EslConnection };
