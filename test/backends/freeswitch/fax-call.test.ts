// The per-call state machine fed with FreeSWITCH 1.10.12's event sequences (scenario-events.ts), in any order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaxCallTracker } from '../../../src/backends/freeswitch/call-tracker.js';
import { eventKey, SUBSCRIBED_EVENTS, SUBSCRIBED_SUBCLASSES, type EslEvent } from '../../../src/backends/freeswitch/esl-event.js';
import { FaxCall, settleAfterRestart } from '../../../src/backends/freeswitch/fax-call.js';
import { faxResultFromVariables } from '../../../src/backends/freeswitch/fax-result.js';
import type { Outcome } from '../../../src/backends/types.js';
import { OUTBOUND_SCENARIOS, scenarioEvents, scenarioIds, type OutboundScenario } from './scenario-events.js';

function run(scenario: OutboundScenario, events = scenarioEvents(scenario)): { outcome: Outcome | null; settledBy: string | null; updates: unknown[] } {
  const call = new FaxCall(scenarioIds(scenario));
  const updates: unknown[] = [];
  let settledBy: string | null = null;
  for (const ev of events) {
    const u = call.handle(ev);
    if (!u) continue;
    updates.push(u);
    if (u.outcome) settledBy = eventKey(ev);
  }
  return { outcome: call.outcome, settledBy, updates };
}

const subscribed = new Set<string>([...SUBSCRIBED_EVENTS, ...SUBSCRIBED_SUBCLASSES]);
const onlySubscribed = (evs: EslEvent[]) => evs.filter((e) => subscribed.has(eventKey(e)));

function fail(o: Outcome | null): Extract<Outcome, { ok: false }> {
  assert.ok(o && !o.ok, `expected a failure, got ${JSON.stringify(o)}`);
  return o;
}

test('success over audio: pages, mode and station from txfaxresult, not from NORMAL_CLEARING', () => {
  const { outcome, settledBy, updates } = run('success-audio');
  assert.equal(settledBy, 'spandsp::txfaxresult');
  assert.ok(outcome?.ok);
  assert.equal(outcome.pages, 2);
  assert.equal(outcome.cause, 'T.30 0 OK');
  assert.deepEqual(outcome.details, {
    answered: true,
    hangupCause: 'NORMAL_CLEARING',
    sipStatus: '200',
    resultCode: 0,
    resultText: 'OK',
    pagesTotal: 2,
    t38Status: 'off',
    transport: 'audio',
    ecm: true,
    rate: 14400,
    remoteStationId: '+15550100002',
    resolution: '204x196',
  });
  assert.deepEqual(updates.slice(0, 3), [{ answered: true }, { pages: 1 }, { pages: 2 }]);
});

test('success over T.38, and T.38 refused with audio fallback, both succeed and say which', () => {
  const t38 = run('success-t38').outcome;
  assert.ok(t38?.ok);
  assert.equal(t38.details?.t38Status, 'negotiated');
  assert.equal(t38.details?.transport, 't38');
  const refused = run('t38-request-rejected').outcome;
  assert.ok(refused?.ok);
  assert.equal(refused.pages, 2);
  assert.equal(refused.details?.t38Status, 'refused');
  assert.equal(refused.details?.transport, 'audio');
});

test('busy: settled by HANGUP_COMPLETE (BACKGROUND_JOB comes 20 ms later) with the SIP code', () => {
  const { outcome, settledBy } = run('busy');
  assert.equal(settledBy, 'CHANNEL_HANGUP_COMPLETE');
  const f = fail(outcome);
  assert.equal(f.failureClass, 'busy');
  assert.equal(f.error, 'line busy');
  assert.equal(f.cause, '17 USER_BUSY (SIP 486)');
  assert.equal(f.pages, 0, 'nothing was sent');
});

test('no answer: settled by BACKGROUND_JOB, which came before HANGUP_COMPLETE', () => {
  const { outcome, settledBy } = run('no-answer');
  assert.equal(settledBy, 'BACKGROUND_JOB');
  const f = fail(outcome);
  assert.equal(f.failureClass, 'no_answer');
  assert.equal(f.error, 'no answer');
});

test('unallocated number and unreachable gateway get their classes', () => {
  const un = fail(run('unallocated').outcome);
  assert.equal(un.failureClass, 'permanent');
  assert.equal(un.cause, '1 UNALLOCATED_NUMBER (SIP 404)');
  const dead = fail(run('gateway-unreachable').outcome);
  assert.equal(dead.failureClass, 'congestion');
  assert.equal(dead.cause, '41 NORMAL_TEMPORARY_FAILURE (SIP 503)');
});

test('unknown gateway: BACKGROUND_JOB -ERR INVALID_GATEWAY is the only event, and enough', () => {
  const events = scenarioEvents('unknown-gateway');
  assert.equal(events.length, 1);
  const { outcome, settledBy } = run('unknown-gateway', events);
  assert.equal(settledBy, 'BACKGROUND_JOB');
  const f = fail(outcome);
  assert.equal(f.failureClass, 'permanent');
  assert.match(f.error, /no such gateway/);
});

test('missing TIFF: no txfaxresult; CHANNEL_EXECUTE_COMPLETE says so, class document', () => {
  const { outcome, settledBy } = run('missing-file');
  assert.equal(settledBy, 'CHANNEL_EXECUTE_COMPLETE');
  const f = fail(outcome);
  assert.equal(f.failureClass, 'document');
  assert.match(f.error, /could not read the fax file/);
  assert.match(f.cause ?? '', /Cannot send non-existant fax file/);
  // Without the EXECUTE_COMPLETE, HANGUP_COMPLETE's variable_current_application_response says the same.
  const noExec = scenarioEvents('missing-file').filter((e) => e.name !== 'CHANNEL_EXECUTE_COMPLETE');
  assert.equal(fail(run('missing-file', noExec).outcome).failureClass, 'document');
});

test('remote hang-up before the fax and local cancel: code 49, answered, protocol, 0 pages', () => {
  for (const s of ['remote-hangup-after-2s', 'local-cancel'] as const) {
    const f = fail(run(s).outcome);
    assert.equal(f.failureClass, 'protocol', s);
    assert.equal(f.error, 'fax failed: The call dropped prematurely', s);
    assert.equal(f.pages, 0, s);
    assert.equal(f.cause, 'T.30 49 The call dropped prematurely');
  }
  // After uuid_kill past negotiation FreeSWITCH reports 0 of 2 pages.
  assert.equal(fail(run('local-cancel').outcome).details?.pagesTotal, 2);
});

test('answered without fax tones: T.30 code 2 reads as no fax machine', () => {
  const { outcome, settledBy } = run('answered-no-fax-tones');
  assert.equal(settledBy, 'spandsp::txfaxresult');
  const f = fail(outcome);
  assert.equal(f.failureClass, 'no_answer');
  assert.equal(f.error, 'answered, but no fax machine responded');
  assert.equal(f.details?.hangupCause, undefined, 'spandsp gave up before the hangup: no Hangup-Cause yet');
});

test('every scenario gives the same outcome from the subscribed events only, and in reverse order', () => {
  for (const s of OUTBOUND_SCENARIOS) {
    const full = run(s).outcome;
    const sub = run(s, onlySubscribed(scenarioEvents(s))).outcome;
    const rev = run(s, [...scenarioEvents(s)].reverse()).outcome;
    assert.ok(full && sub && rev, s);
    for (const o of [sub, rev]) {
      assert.equal(o.ok, full.ok, s);
      assert.equal(o.ok ? 'ok' : o.failureClass, full.ok ? 'ok' : full.failureClass, s);
      assert.equal(o.pages ?? null, full.pages ?? null, s);
    }
  }
});

test('a missed txfaxresult is recovered from variable_fax_* on HANGUP_COMPLETE', () => {
  const evs = scenarioEvents('success-audio').filter((e) => e.subclass !== 'spandsp::txfaxresult' && e.name !== 'CHANNEL_EXECUTE_COMPLETE');
  const { outcome, settledBy } = run('success-audio', evs);
  assert.equal(settledBy, 'CHANNEL_HANGUP_COMPLETE');
  assert.ok(outcome?.ok);
  assert.equal(outcome.pages, 2);
  assert.equal(outcome.details?.remoteStationId, '+15550100002');
  const cancel = scenarioEvents('local-cancel').filter((e) => e.name === 'CHANNEL_HANGUP_COMPLETE');
  assert.equal(fail(run('local-cancel', cancel).outcome).failureClass, 'protocol');
});

test('a lost BACKGROUND_JOB does not matter: channel events carry our uuid', () => {
  const evs = scenarioEvents('success-t38').filter((e) => e.name !== 'BACKGROUND_JOB');
  assert.ok(run('success-t38', evs).outcome?.ok);
  const busy = scenarioEvents('busy').filter((e) => e.name !== 'BACKGROUND_JOB');
  assert.equal(fail(run('busy', busy).outcome).failureClass, 'busy');
});

test('a partial transfer reports the pages actually sent', () => {
  const evs = scenarioEvents('local-cancel').map((e) =>
    e.subclass === 'spandsp::txfaxresult' ? { ...e, headers: { ...e.headers, 'fax-document-transferred-pages': '1' } } : e,
  );
  const f = fail(run('local-cancel', evs).outcome);
  assert.equal(f.pages, 1);
  assert.equal(f.error, 'fax failed: The call dropped prematurely (1 of 2 pages sent)');
});

test('events of other calls are not ours; late events after the outcome change nothing', () => {
  const call = new FaxCall(scenarioIds('success-audio'));
  for (const ev of scenarioEvents('busy')) assert.equal(call.handle(ev), null);
  assert.equal(call.phase, 'dialing');
  for (const ev of scenarioEvents('success-audio')) call.handle(ev);
  const first = call.outcome;
  assert.ok(first?.ok);
  for (const ev of scenarioEvents('success-audio')) assert.equal(call.handle(ev), null);
  assert.equal(call.outcome, first);
  assert.equal(call.giveUp('late'), first);
});

test('BACKGROUND_JOB is matched by Job-UUID, or by origination_uuid in Job-Command-Arg', () => {
  const ids = scenarioIds('no-answer');
  const bg = scenarioEvents('no-answer').find((e) => e.name === 'BACKGROUND_JOB')!;
  const byArg = new FaxCall({ callUuid: ids.callUuid, jobUuid: '00000000-0000-4000-8000-000000000000' });
  assert.ok(byArg.handle(bg)?.outcome);
  const other = new FaxCall({ callUuid: '00000000-0000-4000-8000-000000000001', jobUuid: '00000000-0000-4000-8000-000000000002' });
  assert.equal(other.handle(bg), null);
});

test('odd originate replies: -USAGE is permanent, an unclassified cause before answer is retryable', () => {
  const ids = { callUuid: '00000000-0000-4000-8000-00000000000a', jobUuid: '00000000-0000-4000-8000-00000000000b' };
  const bg = (body: string): EslEvent => ({ name: 'BACKGROUND_JOB', headers: { 'Job-UUID': ids.jobUuid, _body: body } });
  assert.equal(fail(new FaxCall(ids).handle(bg('-USAGE: <call url> <exten>\n'))?.outcome ?? null).failureClass, 'permanent');
  const odd = fail(new FaxCall(ids).handle(bg('-ERR CHAN_NOT_IMPLEMENTED\n'))?.outcome ?? null);
  assert.equal(odd.failureClass, 'transient');
  assert.match(odd.error, /CHAN_NOT_IMPLEMENTED/);
  assert.equal(fail(new FaxCall(ids).handle(bg('-ERR GATEWAY_DOWN\n'))?.outcome ?? null).failureClass, 'congestion');
});

test('giveUp: nothing heard or answered without a result → unknown (never retried)', () => {
  const ids = scenarioIds('success-audio');
  const idle = new FaxCall(ids);
  assert.equal(fail(idle.giveUp('no events')).failureClass, 'unknown');
  const answered = new FaxCall(ids);
  for (const ev of scenarioEvents('success-audio').slice(0, 6)) answered.handle(ev);
  assert.equal(answered.phase, 'answered');
  assert.equal(answered.pagesSent, 1);
  const f = fail(answered.giveUp('socket lost'));
  assert.equal(f.failureClass, 'unknown');
  assert.equal(f.pages, 1);
});

test('the tracker routes by Job-UUID and Unique-ID and forgets settled calls', () => {
  const tracker = new FaxCallTracker();
  const a = new FaxCall(scenarioIds('success-audio'));
  const b = new FaxCall(scenarioIds('busy'));
  tracker.track(a);
  tracker.track(b);
  const outcomes: string[] = [];
  const mixed = [...scenarioEvents('busy'), ...scenarioEvents('success-audio'), ...scenarioEvents('no-answer')];
  for (const ev of mixed) {
    const r = tracker.route(ev);
    if (r?.update.outcome) outcomes.push(r.call.callUuid);
  }
  assert.deepEqual(outcomes, [b.callUuid, a.callUuid]);
  assert.equal(tracker.size, 0);
});

test('after a restart: still up → follow; result already set → settle; gone → recorded result or unknown', () => {
  assert.deepEqual(settleAfterRestart({ exists: true, channel: { fax_success: null as unknown as undefined } }), { action: 'follow' });
  assert.deepEqual(settleAfterRestart({ exists: true }), { action: 'follow' });
  const hc = scenarioEvents('success-audio').find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!;
  const fromDump = settleAfterRestart({ exists: true, channel: hc.headers });
  assert.equal(fromDump.action, 'settle');
  assert.ok(fromDump.action === 'settle' && fromDump.outcome.ok && fromDump.outcome.pages === 2);
  const fromGetvar = settleAfterRestart({
    exists: true,
    channel: { fax_success: '0', fax_result_code: '49', fax_document_transferred_pages: '1', fax_document_total_pages: '3' },
  });
  assert.ok(fromGetvar.action === 'settle' && !fromGetvar.outcome.ok && fromGetvar.outcome.pages === 1);
  const unset = settleAfterRestart({ exists: true, channel: { fax_success: '_undef_' } });
  assert.deepEqual(unset, { action: 'follow' });
  const recordedResult = faxResultFromVariables(hc.headers);
  const gone = settleAfterRestart({ exists: false, recorded: recordedResult });
  assert.ok(gone.action === 'settle' && gone.outcome.ok);
  const lost = settleAfterRestart({ exists: false });
  assert.ok(lost.action === 'settle' && !lost.outcome.ok && lost.outcome.failureClass === 'unknown');
});
