// The ARI client against the simulator over real sockets: connect, REST, reconnect, backoff, refusals, error kinds.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { AriClient, type AriClientOptions } from '../../../src/backends/asterisk/ari-client.js';
import { AriHttpError, AriTimeoutError, AriUnavailableError } from '../../../src/backends/asterisk/ari-errors.js';
import { backoffDelay } from '../../../src/util/backoff.js';
import { createLogger } from '../../../src/log.js';
import { startAriSim, type AriSim } from '../../sim/ari/index.js';

const USER = 'faxbot';
const PASS = 'pa55-Word-never-logged';

const clients: AriClient[] = [];
const sims: AriSim[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all(sims.map((s) => s.close()));
});

async function sim(): Promise<AriSim> {
  const s = await startAriSim({ username: USER, password: PASS });
  sims.push(s);
  return s;
}

function client(url: string, extra: Partial<AriClientOptions> = {}): AriClient {
  const c = new AriClient({
    url, username: USER, password: PASS, app: 'faxbot',
    reconnect: { initialMs: 5, maxMs: 40 }, refusedRetryMs: 30, requestTimeoutMs: 2000, pingIntervalMs: 0, ...extra,
  });
  clients.push(c);
  return c;
}

function once<T>(emitter: AriClient, name: 'connected' | 'disconnected'): Promise<T> {
  return new Promise((r) => emitter.once(name, ((...a: unknown[]) => r(a[0] as T)) as () => void));
}

async function waitFor(pred: () => boolean, what: string, ms = 3000): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test('connects with HTTP Basic (no api_key in any URL) and reads info and globals', async () => {
  const s = await sim();
  const c = client(s.url);
  c.start();
  await c.whenConnected(2000);
  assert.equal(c.state, 'connected');
  assert.equal(c.lastError, null);
  const info = await c.info();
  assert.equal(info.system?.version, '20.20.1');
  assert.ok(info.status?.startup_time);
  assert.equal(await c.getGlobalVar('FAXBOT_RESULT_nothing_1'), '');
  await c.setGlobalVar('FAXBOT_TEST', 'x|y');
  assert.equal(await c.getGlobalVar('FAXBOT_TEST'), 'x|y');
  await c.setGlobalVar('FAXBOT_TEST', null);
  assert.equal(s.globals.has('FAXBOT_TEST'), false);
  assert.deepEqual(await c.listChannels(), []);
  assert.equal(await c.getChannel('nope'), null);
  assert.ok(s.requests.every((r) => r.auth === 'basic' && !('api_key' in r.query)));
  assert.deepEqual(s.wsAttempts.map((a) => [a.status, a.app, a.subscribeAll]), [[101, 'faxbot', false]]);
  // The simulator also takes ?api_key=user:pass, as Asterisk does, and never records the key.
  const ok = await fetch(`${s.url}/ari/asterisk/info?api_key=${encodeURIComponent(`${USER}:${PASS}`)}`);
  assert.equal(ok.status, 200);
  const bad = await fetch(`${s.url}/ari/asterisk/info?api_key=${USER}:wrong`);
  assert.equal(bad.status, 401);
  await bad.body?.cancel();
  await ok.body?.cancel();
  assert.ok(s.requests.every((r) => !JSON.stringify(r).includes(PASS)));
});

test('HTTP errors carry status and Asterisk\'s message; 404s become null where the API says so', async () => {
  const s = await sim();
  const c = client(s.url);
  c.start();
  await c.whenConnected(2000);
  await assert.rejects(c.continueInDialplan('missing', { context: 'faxbot-outbound', extension: 'send', priority: 1 }), (e: unknown) =>
    e instanceof AriHttpError && e.status === 404 && e.ariMessage === 'Channel not found' && e.notSent);
  assert.equal(await c.getChannelVar('missing', 'FAXSTATUS'), null);
  await assert.rejects(c.hangup('missing'), (e: unknown) => e instanceof AriHttpError && e.status === 404);
  s.script('5550100', { kind: 'no_answer' });
  const params = { endpoint: 'PJSIP/5550100@trunk', channelId: 'faxbot-dup-1', appArgs: ['dup', '1'], timeoutSec: 60_000 };
  const ch = await c.originate(params);
  assert.equal(ch.id, 'faxbot-dup-1');
  assert.equal(ch.state, 'Down');
  await assert.rejects(c.originate(params), (e: unknown) => e instanceof AriHttpError && e.status === 409);
  await assert.rejects(c.originate({ ...params, channelId: 'faxbot-dup-2', endpoint: 'nonsense' }), (e: unknown) => e instanceof AriHttpError && e.status === 400);
  assert.equal(await c.getChannelVar('faxbot-dup-1', 'FAXJOB'), null, 'unset variable reads as null');
  await c.hangup('faxbot-dup-1', 'normal');
  await s.idle();
  // The originate went with the recorded shape: endpoint etc. in the query, variables in the body.
  const req = s.requests.find((r) => r.method === 'POST' && r.path === '/ari/channels' && r.status === 200)!;
  assert.equal(req.query.app, 'faxbot');
  assert.equal(req.query.appArgs, 'dup,1');
  assert.deepEqual(req.body, { variables: {} });
});

test('originate refuses while the event socket is down: the call could not be followed', async () => {
  const s = await sim();
  const c = client(s.url);
  await assert.rejects(c.originate({ endpoint: 'PJSIP/1@t', channelId: 'x', appArgs: [] }), (e: unknown) =>
    e instanceof AriUnavailableError && e.notSent);
  assert.equal(s.requests.length, 0);
});

test('AriUnavailableError when nothing listens, AriTimeoutError when Asterisk took the request and went quiet', async () => {
  const port = await closedPort();
  const c = client(`http://127.0.0.1:${port}`, { requestTimeoutMs: 300 });
  await assert.rejects(c.info(), (e: unknown) => e instanceof AriUnavailableError && e.code === 'ECONNREFUSED');
  await assert.rejects(
    new AriClient({ url: 'http://no-such-host.invalid:8088', username: USER, password: PASS, app: 'faxbot' }).info(),
    (e: unknown) => e instanceof AriUnavailableError);

  // A peer that accepts the request and never answers.
  const hung = http.createServer(() => undefined);
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  try {
    const h = client(`http://127.0.0.1:${(hung.address() as AddressInfo).port}`, { requestTimeoutMs: 100 });
    await assert.rejects(h.info(), (e: unknown) => e instanceof AriTimeoutError && !e.notSent);
    await assert.rejects(h.hangup('x'), (e: unknown) => e instanceof AriTimeoutError);
  } finally {
    hung.closeAllConnections();
    await new Promise<void>((r) => hung.close(() => r()));
  }
  // A peer that drops the connection after reading the request: may have acted.
  const rude = http.createServer((req) => req.socket.destroy());
  await new Promise<void>((r) => rude.listen(0, '127.0.0.1', r));
  try {
    const r = client(`http://127.0.0.1:${(rude.address() as AddressInfo).port}`);
    await assert.rejects(r.info(), (e: unknown) => e instanceof AriTimeoutError);
  } finally {
    await new Promise<void>((res) => rude.close(() => res()));
  }
});

test('reconnects after the WebSocket drops, and after Asterisk restarts (REST refused while down)', async () => {
  const s = await sim();
  const c = client(s.url);
  c.start();
  await c.whenConnected(2000);
  const down = once<{ code: number }>(c, 'disconnected');
  const up = once(c, 'connected');
  s.dropWebSocket();
  await down;
  await up;
  assert.equal(c.state, 'connected');

  const before = (await c.info()).status?.startup_time;
  const down2 = once(c, 'disconnected');
  const restarting = s.restart({ downMs: 80 });
  await down2;
  await assert.rejects(c.info(), (e: unknown) => e instanceof AriUnavailableError);
  await restarting;
  await c.whenConnected(3000);
  const afterRestart = (await c.info()).status?.startup_time;
  assert.ok(afterRestart && before && Date.parse(afterRestart) >= Date.parse(before));
  assert.ok(s.wsAttempts.filter((a) => a.status === 101).length >= 3);
});

test('reconnect backoff grows and is capped', async () => {
  const port = await closedPort();
  const c = client(`http://127.0.0.1:${port}`, { reconnect: { initialMs: 2, maxMs: 16 }, random: () => 1 });
  const delays: number[] = [];
  c.on('reconnecting', (i) => delays.push(i.delayMs));
  c.start();
  await waitFor(() => delays.length >= 8, 'eight reconnect attempts');
  await c.stop();
  assert.deepEqual(delays.slice(0, 6), [2, 4, 8, 16, 16, 16]);
  assert.ok(delays.every((d) => d <= 16));
  assert.equal(c.state, 'stopped');
  // With jitter the delay stays within [half, full] of the capped value.
  for (let i = 0; i < 40; i++) {
    const d = backoffDelay(i, { initialMs: 500, maxMs: 30_000 });
    assert.ok(d >= Math.min(30_000, 500 * 2 ** i) / 2 - 1 && d <= 30_000);
  }
});

test('a wrong password is auth_failed with a clear message and a slow retry, not a storm; fixed credentials reconnect', async () => {
  const s = await sim();
  s.setCredentials(USER, 'something-else');
  const lines: string[] = [];
  const logger = createLogger('debug', new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } }));
  const c = client(s.url, { refusedRetryMs: 10_000, logger });
  const reconnects: { delayMs: number; state: string }[] = [];
  c.on('reconnecting', (i) => reconnects.push(i));
  c.start();
  await waitFor(() => c.state === 'auth_failed', 'auth_failed');
  assert.match(c.lastError ?? '', /ARI_USERNAME and ARI_PASSWORD/);
  assert.deepEqual(reconnects, [{ attempt: 0, delayMs: 10_000, state: 'auth_failed' }]);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(s.wsAttempts.filter((a) => a.status === 401).length, 1, 'one refused attempt, then a slow retry');
  await assert.rejects(c.info(), (e: unknown) => e instanceof AriHttpError && e.status === 401);
  await c.stop();

  // Credentials fixed on the PBX: the next (slow) retry gets in.
  s.setCredentials(USER, 'wrong-again');
  const c2 = client(s.url, { refusedRetryMs: 30, logger });
  c2.start();
  await waitFor(() => c2.state === 'auth_failed', 'auth_failed');
  s.setCredentials(USER, PASS);
  await c2.whenConnected(3000);
  const all = lines.join('') + (c.lastError ?? '');
  assert.ok(!all.includes(PASS), 'password must never be logged');
  assert.ok(!all.includes(Buffer.from(`${USER}:${PASS}`).toString('base64')), 'basic credentials must never be logged');
});

test('404 on /ari/events is events_unavailable, telling the admin about res_ari_events', async () => {
  const s = await sim();
  s.setEventsUnavailable(true);
  const c = client(s.url, { refusedRetryMs: 20 });
  c.start();
  await waitFor(() => c.state === 'events_unavailable', 'events_unavailable');
  assert.match(c.lastError ?? '', /res_ari_events/);
  assert.match(c.lastError ?? '', /20\.20/);
  s.setEventsUnavailable(false);
  await c.whenConnected(3000);
});

test('constructor rejects credentials in the URL and a malformed app name', () => {
  assert.throws(() => new AriClient({ url: `http://${USER}:${PASS}@127.0.0.1:8088`, username: USER, password: PASS, app: 'x' }), (e: Error) =>
    !e.message.includes(PASS));
  assert.throws(() => new AriClient({ url: 'http://127.0.0.1:8088', username: USER, password: PASS, app: 'a,b' }));
});
