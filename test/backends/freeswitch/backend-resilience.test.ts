// FAX_BACKEND=freeswitch when the event socket goes wrong, through the public API: a dropped socket mid-call, FreeSWITCH
// restarting or unreachable, a wrong password, a command that gets no reply; readiness and start-up configuration errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackendConfigError, createBackend } from '../../../src/backends/registry.js';
import { maskedSettings, parseSettings } from '../../../src/config/index.js';
import { createLogger } from '../../../src/log.js';
import { waitFor } from '../../helpers/app.js';
import { expectSentAfterWaiting, expectWaitingUnsent } from '../../helpers/fax-jobs.js';
import { type EslSim } from '../../sim/esl/index.js';
import { attempts, callOf, ESL_PASS, finalJob, getJob, originates, postFax, readiness, freeswitchHarness } from './service-helpers.js';

const { sim, app } = freeswitchHarness();

/** Resolves once the service asked FreeSWITCH whether this call exists (after `from` in the command log). */
function askedAbout(s: EslSim, callUuid: string, from = 0): Promise<true> {
  return waitFor(async () => s.commands.slice(from).some((c) => c.line === `api uuid_exists ${callUuid}`) || undefined, 10_000, `uuid_exists ${callUuid}`);
}

describe('readiness and configuration', () => {
  test('connected: the event socket (with the FreeSWITCH version), spool and Ghostscript are reported ready', async () => {
    const s = await sim();
    const a = await app(s);
    const r = await waitFor(async () => {
      const x = await readiness(a);
      return x.status === 200 && x.checks.freeswitch_esl?.detail.includes('1.10.12') ? x : undefined;
    });
    assert.match(r.checks.freeswitch_esl!.detail, /^connected to FreeSWITCH 1\.10\.12-release at 127\.0\.0\.1:\d+$/);
    assert.equal(r.checks.fax_spool!.ok, true);
    assert.equal(r.checks.ghostscript!.ok, true);
  });

  test('wrong ESL password: readiness 503 naming ESL authentication, one log line per slow retry; jobs wait and go once it matches', async () => {
    const s = await sim({ password: 'what-freeswitch-has' });
    const t0 = Date.now();
    const a = await app(s, { FREESWITCH_ESL_REFUSED_RETRY_SECONDS: '0.3' });
    const r = await waitFor(async () => {
      const x = await readiness(a);
      return x.checks.freeswitch_esl?.detail.includes('authentication') ? x : undefined;
    });
    assert.equal(r.status, 503);
    assert.equal(r.checks.freeswitch_esl!.ok, false);
    assert.match(
      r.checks.freeswitch_esl!.detail,
      /^ESL authentication failed at 127\.0\.0\.1:\d+: FreeSWITCH refused the ESL password \(-ERR invalid\): check FREESWITCH_ESL_PASSWORD against event_socket\.conf\.xml$/,
    );
    const job = await postFax(a, '+15552000001', 1);
    // Several attempts are given back meanwhile; the job is never failed and FreeSWITCH is never asked to dial.
    await expectWaitingUnsent(a, job.id);
    assert.equal(originates(s).length, 0);
    // Not a reconnect storm: one try per FREESWITCH_ESL_REFUSED_RETRY_SECONDS, one error line per try.
    const elapsed = (Date.now() - t0) / 1000;
    assert.ok(s.authFailures <= elapsed / 0.3 + 2, `${s.authFailures} refused logins in ${elapsed} s`);
    const lines = a.logs.filter((l) => l.includes('FreeSWITCH refused the event socket password'));
    assert.ok(lines.length >= 1 && lines.length <= s.authFailures, `${lines.length} log lines for ${s.authFailures} refusals`);
    assert.ok(!a.logs.some((l) => l.includes(ESL_PASS) || l.includes('what-freeswitch-has')), 'no password in the logs');
    s.setPassword(ESL_PASS);
    await expectSentAfterWaiting(a, job.id, callOf);
    assert.equal(originates(s, job.id).length, 1);
  });

  test('missing settings stop the start with the names of what is missing', () => {
    const log = createLogger('silent');
    assert.throws(() => createBackend(parseSettings({ FAX_BACKEND: 'freeswitch' }), log), (e: unknown) =>
      e instanceof BackendConfigError && e.message === 'FAX_BACKEND=freeswitch needs FREESWITCH_ESL_PASSWORD, FREESWITCH_GATEWAY_NAME (or FREESWITCH_DIAL_TEMPLATE)');
    assert.throws(() => createBackend(parseSettings({ FAX_BACKEND: 'freeswitch', FREESWITCH_ESL_PASSWORD: 'p', FREESWITCH_DIAL_TEMPLATE: 'sofia/gateway/{gateway}/{number}' }), log),
      /needs FREESWITCH_GATEWAY_NAME \(FREESWITCH_DIAL_TEMPLATE uses \{gateway\}\)/);
    assert.throws(() => createBackend(parseSettings({ FAX_BACKEND: 'freeswitch', FREESWITCH_ESL_PASSWORD: 'p', FREESWITCH_GATEWAY_NAME: 'gw', FREESWITCH_FAX_DIR_PBX: '/srv/fax spool' }), log),
      /FREESWITCH_FAX_DIR_PBX may contain only letters/);
    assert.throws(() => parseSettings({ FREESWITCH_DIAL_TEMPLATE: 'sofia/external/carrier' }), /FREESWITCH_DIAL_TEMPLATE: must contain \{number\}/);
    assert.throws(() => parseSettings({ FREESWITCH_DIAL_TEMPLATE: 'sofia/external/{number}|sofia/other/{number}' }), /FREESWITCH_DIAL_TEMPLATE: expected an endpoint/);
    assert.throws(() => parseSettings({ FREESWITCH_GATEWAY_NAME: 'gw/1' }), /FREESWITCH_GATEWAY_NAME: expected a Sofia gateway name/);
    assert.throws(() => parseSettings({ FREESWITCH_T38_ENABLE: 'maybe' }), /FREESWITCH_T38_ENABLE: expected true or false/);
    const settings = parseSettings({ FAX_BACKEND: 'freeswitch', FREESWITCH_ESL_PASSWORD: 'p4ss', FREESWITCH_DIAL_TEMPLATE: 'sofia/external/{number}@sip.example.net' });
    const ok = createBackend(settings, log);
    assert.deepEqual([ok.name, ok.capacity, ok.needsGhostscript], ['freeswitch', 4, true]);
    const shown = maskedSettings(settings);
    assert.deepEqual(
      [shown.FREESWITCH_ESL_PASSWORD, shown.FREESWITCH_ESL_HOST, shown.FREESWITCH_ESL_PORT, shown.FREESWITCH_MAX_CHANNELS, shown.FREESWITCH_T38_ENABLE],
      ['********', '127.0.0.1', 8021, 4, null],
    );
  });
});

describe('connection trouble mid-call', () => {
  test('socket dropped mid-fax and back before the end: the service asks about the call, follows it, SUCCESS', async () => {
    const s = await sim();
    s.hold('+15553000001');
    const a = await app(s);
    const job = await postFax(a, '+15553000001');
    await waitFor(async () => s.isHeld('+15553000001') || undefined);
    const from = s.commands.length;
    const sockets = s.accepted;
    s.dropSockets();
    await waitFor(async () => (s.accepted > sockets && s.clientCount === 1) || undefined);
    await askedAbout(s, callOf(job.id), from);
    s.release('+15553000001');
    const done = await finalJob(a, job.id);
    assert.deepEqual([done.status, done.error, done.pages, done.provider_sid], ['SUCCESS', null, 2, callOf(job.id)]);
    assert.equal(originates(s, job.id).length, 1);
  });

  test('socket dropped and the call ends before it is back: FAILED as outcome unknown (never SUCCESS without a result seen), never sent again', async () => {
    const s = await sim();
    s.hold('+15553000002');
    const a = await app(s);
    const job = await postFax(a, '+15553000002');
    await waitFor(async () => s.isHeld('+15553000002') || undefined);
    s.refuseConnections(true); // keep the service away until the call is over
    s.dropSockets();
    s.release('+15553000002');
    await s.idle(); // the fax went through, and nobody heard it
    assert.equal((await getJob(a, job.id)).status, 'in_progress');
    s.refuseConnections(false);
    const done = await finalJob(a, job.id);
    assert.deepEqual(
      [done.status, done.error, done.provider_sid],
      ['FAILED', 'FreeSWITCH no longer has the call and no result was recorded; the fax may or may not have been sent', callOf(job.id)],
    );
    const all = await attempts(a, job.id);
    assert.deepEqual(all.map((x) => x.failure_class), ['unknown']);
    assert.equal(originates(s, job.id).length, 1);
  });

  test('FreeSWITCH restarts mid-fax: FAILED as outcome unknown, saying so; never sent again', async () => {
    const s = await sim();
    s.hold('+15553000003');
    const a = await app(s);
    const job = await postFax(a, '+15553000003');
    await waitFor(async () => s.isHeld('+15553000003') || undefined);
    await s.restart({ downMs: 100 });
    const done = await finalJob(a, job.id);
    assert.deepEqual(
      [done.status, done.error, done.provider_sid],
      ['FAILED', 'FreeSWITCH restarted while the call was up; whether the fax went through is unknown', callOf(job.id)],
    );
    const [att, ...rest] = await attempts(a, job.id);
    assert.deepEqual([att!.failure_class, att!.cause, rest.length], ['unknown', 'FreeSWITCH restarted', 0]);
    assert.equal(originates(s, job.id).length, 1);
  });

  test('FreeSWITCH unreachable when a job is due: it waits queued (not failed) and goes out once the event socket is back', async () => {
    const s = await sim();
    const a = await app(s);
    await waitFor(async () => (await readiness(a)).status === 200 || undefined);
    s.refuseConnections(true);
    s.dropSockets();
    const down = await waitFor(async () => {
      const r = await readiness(a);
      return r.status === 503 ? r : undefined;
    });
    assert.match(down.checks.freeswitch_esl!.detail, /^FreeSWITCH event socket not reachable \(reconnecting\) at 127\.0\.0\.1:\d+: connection closed by FreeSWITCH$/);
    const job = await postFax(a, '+15553000004', 1);
    await expectWaitingUnsent(a, job.id);
    s.refuseConnections(false);
    await expectSentAfterWaiting(a, job.id, callOf);
    assert.equal(originates(s, job.id).length, 1);
  });

  test('a BACKGROUND_JOB that overtakes the bgapi reply (an unknown gateway fails at once) still settles the job', async () => {
    const s = await sim({ jobBeforeReply: true });
    const a = await app(s, { FREESWITCH_GATEWAY_NAME: 'nosuchgateway' });
    const job = await postFax(a, '+15553000006', 1);
    const done = await finalJob(a, job.id);
    assert.deepEqual(
      [done.status, done.error, done.provider_sid],
      ['FAILED', 'the PBX has no such gateway (check the gateway name setting)', callOf(job.id)],
    );
    const [att] = await attempts(a, job.id);
    assert.deepEqual([att!.failure_class, att!.state], ['permanent', 'ended']);
  });

  test('a bgapi that gets no reply (FreeSWITCH wedged): the call is looked for by its uuid, never dialled again; unknown', async () => {
    const s = await sim();
    const a = await app(s, { FREESWITCH_ESL_TIMEOUT_SECONDS: '0.3' });
    await waitFor(async () => (await readiness(a)).status === 200 || undefined);
    s.stalled = true;
    const job = await postFax(a, '+15553000005', 1);
    await waitFor(async () => originates(s, job.id).length === 1 || undefined);
    const from = s.commands.length;
    s.stalled = false;
    // The timed-out socket is replaced; the new one asks about the call, which FreeSWITCH never created.
    await askedAbout(s, callOf(job.id), from);
    const done = await finalJob(a, job.id);
    assert.deepEqual([done.status, done.provider_sid], ['FAILED', callOf(job.id)]);
    assert.match(done.error!, /may or may not have been sent/);
    const all = await attempts(a, job.id);
    assert.deepEqual(all.map((x) => [x.failure_class, x.details.originateUncertain]), [['unknown', true]]);
    assert.equal(originates(s, job.id).length, 1);
  });
});
