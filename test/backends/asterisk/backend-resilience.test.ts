// FAX_BACKEND=sip when the connection to Asterisk goes wrong, through the public API: a lost WebSocket, Asterisk
// restarting or down, refused credentials, a missing /ari/events; readiness and start-up configuration errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackendConfigError, createBackend } from '../../../src/backends/registry.js';
import { maskedSettings, parseSettings } from '../../../src/config/index.js';
import { createLogger } from '../../../src/log.js';
import { waitFor } from '../../helpers/app.js';
import { expectSentAfterWaiting, expectWaitingUnsent } from '../../helpers/fax-jobs.js';
import { ARI_PASS, ARI_USER, attempts, channelOf, faxStarted, finalJob, getJob, originates, postFax, readiness, simSaw, asteriskHarness } from './service-helpers.js';

const { sim, app } = asteriskHarness();

describe('readiness and configuration', () => {
  test('connected: ARI, spool and Ghostscript are reported ready', async () => {
    const s = await sim();
    const a = await app(s);
    const r = await waitFor(async () => {
      const x = await readiness(a);
      return x.status === 200 ? x : undefined;
    });
    assert.match(r.checks.asterisk_ari!.detail, /^connected to Asterisk 20\.20\.1 at http:\/\/127\.0\.0\.1:\d+ as app "faxbot"$/);
    assert.equal(r.checks.fax_spool!.ok, true);
    assert.equal(r.checks.ghostscript!.ok, true);
  });

  test('wrong ARI password: readiness 503 naming ARI authentication; jobs wait queued and go once the password matches', async () => {
    const s = await sim({ password: 'what-asterisk-has' });
    const a = await app(s);
    const r = await waitFor(async () => {
      const x = await readiness(a);
      return x.checks.asterisk_ari?.detail.includes('authentication') ? x : undefined;
    });
    assert.equal(r.status, 503);
    assert.equal(r.checks.asterisk_ari!.ok, false);
    assert.match(r.checks.asterisk_ari!.detail, /^ARI authentication failed at .*: Asterisk refused the ARI credentials \(HTTP 401\): check ARI_USERNAME and ARI_PASSWORD/);
    assert.ok(!r.checks.asterisk_ari!.detail.includes(ARI_PASS), 'the password is not shown');
    const job = await postFax(a, '+15552000001', 1);
    // Several attempts are given back meanwhile; the job is never failed.
    await expectWaitingUnsent(a, job.id);
    assert.equal(originates(s).length, 0);
    s.setCredentials(ARI_USER, ARI_PASS);
    await expectSentAfterWaiting(a, job.id, channelOf);
    assert.equal(originates(s, job.id).length, 1);
  });

  test('Asterisk 20.20.x without res_ari_events: readiness explains it', async () => {
    const s = await sim();
    s.setEventsUnavailable(true);
    const a = await app(s);
    const r = await waitFor(async () => {
      const x = await readiness(a);
      return x.checks.asterisk_ari?.detail.includes('res_ari_events') ? x : undefined;
    });
    assert.equal(r.status, 503);
    assert.match(r.checks.asterisk_ari!.detail, /^ARI events unavailable .*20\.20\.x .*stasis_app_claim_channel/);
  });

  test('missing settings stop the start with the names of what is missing', () => {
    const log = createLogger('silent');
    assert.throws(() => createBackend(parseSettings({ FAX_BACKEND: 'sip' }), log), (e: unknown) =>
      e instanceof BackendConfigError && e.message === 'FAX_BACKEND=sip needs ARI_USERNAME, ARI_PASSWORD, ASTERISK_TRUNK_ENDPOINT (or ASTERISK_DIAL_TEMPLATE)');
    assert.throws(() => createBackend(parseSettings({ FAX_BACKEND: 'asterisk', ARI_USERNAME: 'u', ARI_PASSWORD: 'p', ASTERISK_TRUNK_ENDPOINT: 't', ASTERISK_FAX_DIR_PBX: '/srv/fax spool' }), log),
      /ASTERISK_FAX_DIR_PBX may contain only letters/);
    assert.throws(() => parseSettings({ ASTERISK_DIAL_TEMPLATE: 'PJSIP/carrier' }), /ASTERISK_DIAL_TEMPLATE: must contain \{number\}/);
    const settings = parseSettings({ FAX_BACKEND: 'asterisk', ARI_USERNAME: 'u', ARI_PASSWORD: 'p4ss', ASTERISK_DIAL_TEMPLATE: 'PJSIP/carrier/sip:{number}@sip.example.net' });
    const ok = createBackend(settings, log);
    assert.deepEqual([ok.name, ok.capacity, ok.needsGhostscript], ['sip', 4, true]);
    const shown = maskedSettings(settings);
    assert.deepEqual([shown.ARI_PASSWORD, shown.ARI_USERNAME, shown.ARI_APP, shown.ASTERISK_MAX_CHANNELS], ['********', 'u', 'faxbot', 4]);
  });
});

describe('connection trouble mid-call', () => {
  test('WebSocket dropped mid-fax and back before the end: the job ends SUCCESS', async () => {
    const s = await sim();
    s.script('+15553000001', { kind: 'success', pages: 2 });
    s.hold('+15553000001');
    const a = await app(s);
    const job = await postFax(a, '+15553000001');
    await simSaw(s, channelOf(job.id), faxStarted);
    const sockets = s.wsAttempts.length;
    s.dropWebSocket();
    await waitFor(async () => (s.wsAttempts.length > sockets && s.socketCount() === 1) || undefined);
    // Back, and re-subscribed to the call (the tracker asked about it after the reconnect).
    await waitFor(async () => s.requests.some((r) => r.path === '/ari/applications/faxbot/subscription' && r.query.eventSource === `channel:${channelOf(job.id)}` && r.status === 200) || undefined);
    s.release('+15553000001');
    const done = await finalJob(a, job.id);
    assert.deepEqual([done.status, done.error, done.pages, done.provider_sid], ['SUCCESS', null, 2, channelOf(job.id)]);
  });

  test('WebSocket dropped and the call ends before it is back: the outcome comes from the record Asterisk kept', async () => {
    const s = await sim();
    s.script('+15553000002', { kind: 'partial', pagesSent: 1, totalPages: 2, secondsPerPage: 40 });
    const a = await app(s);
    const job = await postFax(a, '+15553000002');
    await simSaw(s, channelOf(job.id), faxStarted);
    s.setEventsUnavailable(true); // hold the reconnection off until the call is over
    s.dropWebSocket();
    await s.idle();
    assert.equal((await getJob(a, job.id)).status, 'in_progress');
    s.setEventsUnavailable(false);
    const done = await finalJob(a, job.id);
    assert.deepEqual([done.status, done.error, done.pages], ['FAILED', 'the far end hung up after 1 of 2 pages', 1]);
    assert.ok(s.requests.some((r) => r.path === '/ari/asterisk/variable' && r.query.variable === `FAXBOT_RESULT_${job.id}_1`));
  });

  test('Asterisk restarts mid-fax: FAILED as outcome unknown, never SUCCESS, never sent again', async () => {
    const s = await sim();
    s.script('+15553000003', { kind: 'success', pages: 2 });
    s.hold('+15553000003');
    const a = await app(s);
    const job = await postFax(a, '+15553000003');
    await simSaw(s, channelOf(job.id), faxStarted);
    await s.restart({ downMs: 100 });
    const done = await finalJob(a, job.id);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.error, 'Asterisk restarted while the call was up; whether the fax went through is unknown');
    assert.equal(done.provider_sid, channelOf(job.id));
    const [att, ...rest] = await attempts(a, job.id);
    assert.deepEqual([att!.failure_class, rest.length], ['unknown', 0]);
    assert.equal(originates(s, job.id).length, 1);
  });

  test('Asterisk down when a job is due: it waits queued (not failed) and goes out once ARI is back', async () => {
    const s = await sim();
    const a = await app(s);
    await waitFor(async () => (await readiness(a)).status === 200 || undefined);
    await s.stop();
    const down = await waitFor(async () => {
      const r = await readiness(a);
      return r.status === 503 ? r : undefined;
    });
    assert.match(down.checks.asterisk_ari!.detail, /^Asterisk ARI not reachable \(reconnecting\)/);
    const job = await postFax(a, '+15553000004', 1);
    await expectWaitingUnsent(a, job.id);
    await s.start();
    await expectSentAfterWaiting(a, job.id, channelOf);
    assert.equal(originates(s, job.id).length, 1);
  });
});
