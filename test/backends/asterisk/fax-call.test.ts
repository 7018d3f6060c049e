// The per-call state machine fed hand-written event sequences shaped exactly like the Asterisk 20.20.1 recordings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAriEvent, type AriEvent } from '../../../src/backends/asterisk/ari-types.js';
import { parseFaxResultEvent, parseResultRecord } from '../../../src/backends/asterisk/dialplan-contract.js';
import { FaxCall, outcomeFromRecord } from '../../../src/backends/asterisk/fax-call.js';

const ID = 'faxbot-job42-1';
let clock = 0;

function channel(state: string, app = 'AppDial2'): Record<string, unknown> {
  return {
    id: ID, name: 'PJSIP/toB-00000010', state, protocol_id: 'e94cc913-bce2-40d1-b54c-35d53e1b0f17',
    caller: { name: 'Fax Test', number: '+15550000001' }, connected: { name: 'Fax Test', number: '+15550000001' }, accountcode: '',
    dialplan: { context: 'from-b', exten: 's', priority: 1, app_name: app, app_data: '(Outgoing Line)' },
    creationtime: '2026-11-27T11:19:26.756+0000', language: 'en',
  };
}

/** One event as the WebSocket delivers it (JSON round trip, then the client's parser). */
function e(type: string, fields: Record<string, unknown>, state = 'Up'): AriEvent {
  clock += 1;
  const raw = { type, timestamp: `2026-11-27T11:19:26.${String(clock).padStart(3, '0')}+0000`, ...fields, asterisk_id: '02:fc:00:00:00:01', application: 'faxbot' };
  if (type === 'Dial') (raw as Record<string, unknown>).peer = channel(state);
  else if (!('channel' in fields)) (raw as Record<string, unknown>).channel = channel(state);
  return parseAriEvent(JSON.parse(JSON.stringify(raw)))!;
}

const v = (variable: string, value: string, state = 'Up'): AriEvent => e('ChannelVarset', { variable, value }, state);
const dial = (dialstatus: string, state = 'Down'): AriEvent => e('Dial', { dialstatus, forward: '', dialstring: '1000@toB' }, state);
const b64 = (s: string): string => Buffer.from(`~${s}`).toString('base64');

function faxBlock(status: string, error: string | null, str: string, rest: { rsid?: string; rate?: string; res?: string; mode?: string; pages: string }): AriEvent[] {
  const out = [v('FAXSTATUS', status)];
  if (error !== null) out.push(v('FAXERROR', error));
  out.push(v('FAXSTATUSSTRING', str), v('REMOTESTATIONID', rest.rsid ?? ''), v('LOCALSTATIONID', '+15550000001'));
  if (rest.rate) out.push(v('FAXBITRATE', rest.rate));
  if (rest.res) out.push(v('FAXRESOLUTION', rest.res));
  out.push(v('FAXMODE', rest.mode ?? 'audio'), v('FAXPAGES', rest.pages));
  return out;
}

/** Everything up to SendFAX running, app mode (originate app=, StasisStart, /continue, StasisEnd). */
function answeredIntoSendFax(mode = 'audio'): AriEvent[] {
  return [
    e('ChannelCreated', {}, 'Down'),
    e('ChannelDialplan', { dialplan_app: 'AppDial2', dialplan_app_data: '(Outgoing Line)' }, 'Down'),
    v('FAXFILE', '/var/spool/asterisk/fax/out/job42.tif', 'Down'),
    dial(''),
    e('ChannelStateChange', {}),
    dial('ANSWER', 'Up'),
    v('STASISSTATUS', ''),
    e('StasisStart', { args: ['job42', '1'] }),
    e('StasisEnd', {}),
    e('ChannelDialplan', { dialplan_app: 'SendFAX', dialplan_app_data: '/var/spool/asterisk/fax/out/job42.tif,fz' }),
    v('FAXSTATUS', 'FAILED'),
    v('FAXPAGES', '0'),
    ...faxBlock('FAILED', 'INIT_ERROR', 'error starting fax session', { pages: '0' }),
    ...faxBlock('', '', '', { mode, pages: '0' }),
  ];
}

function userEvent(fields: Record<string, string>): AriEvent {
  return e('ChannelUserevent', { eventname: 'FaxResult', userevent: { eventname: 'FaxResult', v: '1', job: 'job42', attempt: '1', ...fields } });
}

/** The hangup handler's tail: Gosub noise, the UserEvent, Return, ChannelDestroyed and the stray ChannelDialplan. */
function handlerAndDestroy(ue: AriEvent | null, cause: number, causeTxt: string, tech?: number): AriEvent[] {
  return [
    v('LOCAL(ARGC)', '0'),
    ...(ue ? [ue] : []),
    v('ARGC', ''),
    v('GOSUB_RETVAL', ''),
    e('ChannelDestroyed', { cause, cause_txt: causeTxt, ...(tech ? { tech_cause: tech } : {}) }),
    e('ChannelDialplan', { dialplan_app: 'AppDial2', dialplan_app_data: '(Outgoing Line)' }),
  ];
}

function run(events: AriEvent[], totalPages: number | null = 2): FaxCall {
  const call = new FaxCall(ID, { totalPages });
  for (const ev of events) call.feed(ev);
  return call;
}

test('T.38 success with the far end hanging up first: the FAILED/HANGUP flip is not the answer', () => {
  const signals: string[] = [];
  const call = new FaxCall(ID, { totalPages: 2 });
  const seq = [
    ...answeredIntoSendFax('audio'),
    ...faxBlock('', '', '', { mode: 'T38', pages: '0' }),
    v('RTPAUDIOQOS', 'ssrc=171012213;themssrc=0'),
    e('ChannelHangupRequest', { cause: 16 }),
    ...faxBlock('FAILED', 'HANGUP', 'remote channel hungup', { mode: 'T38', pages: '0' }),
    ...faxBlock('SUCCESS', 'HANGUP', 'OK', { rsid: '+15550001000', rate: '14400', res: '8031x7700', mode: 'T38', pages: '2' }),
    v('STASISSTATUS', 'SUCCESS'),
    ...handlerAndDestroy(userEvent({ status: 'SUCCESS', pages: '2', bitrate: '14400', resolution: '8031x7700', mode: 'T38', ecm: 'yes',
      hangupcause: '16', error64: b64('HANGUP'), statusstr64: b64('OK'), remotestation64: b64('+15550001000') }), 16, 'Normal Clearing'),
  ];
  for (const ev of seq) for (const s of call.feed(ev)) signals.push(s.kind);
  assert.deepEqual(signals, ['answered', 'stasis_start', 'fax_started', 'ended']);
  assert.deepEqual(call.outcome, {
    ok: true, pages: 2, cause: '16 NORMAL_CLEARING',
    details: { mode: 'T38', bitRate: 14400, resolution: '8031x7700', remoteStationId: '+15550001000', ecm: true },
  });
});

test('success without the UserEvent still comes from the LAST varsets (sender hangs up, no soft request seen)', () => {
  const call = run([
    ...answeredIntoSendFax(),
    ...faxBlock('SUCCESS', null, 'OK', { rsid: '+15550001000', rate: '14400', res: '8031x7700', pages: '2' }),
    e('ChannelDialplan', { dialplan_app: 'Hangup', dialplan_app_data: '' }),
    v('STASISSTATUS', 'SUCCESS'),
    ...handlerAndDestroy(null, 16, 'Normal Clearing'),
  ]);
  assert.equal(call.outcome?.ok, true);
  assert.equal(call.outcome?.ok && call.outcome.pages, 2);
  assert.deepEqual(call.outcome?.ok && call.outcome.details, { mode: 'audio', bitRate: 14400, resolution: '8031x7700', remoteStationId: '+15550001000' });
});

test('busy: HangupRequest 17/486 before the final Dial BUSY', () => {
  const call = run([
    e('ChannelCreated', {}, 'Down'), v('FAXFILE', '/x.tif', 'Down'), dial(''),
    e('ChannelHangupRequest', { cause: 17, tech_cause: 486 }, 'Down'), dial('BUSY'),
    e('ChannelDestroyed', { cause: 17, cause_txt: 'User busy', tech_cause: 486 }, 'Down'),
  ]);
  assert.deepEqual(call.outcome, { ok: false, failureClass: 'busy', error: 'line busy', cause: '17 USER_BUSY (SIP 486)', pages: 0 });
});

test('rejected: cause 21/403 wins over Dial NOANSWER; HangupRequest even before Dial ""', () => {
  const call = run([
    e('ChannelCreated', {}, 'Down'),
    e('ChannelHangupRequest', { cause: 21, tech_cause: 403 }, 'Down'), dial(''), dial('NOANSWER'),
    e('ChannelDestroyed', { cause: 21, cause_txt: 'Call Rejected', tech_cause: 403 }, 'Down'),
  ]);
  assert.equal(call.outcome?.ok, false);
  assert.equal(!call.outcome!.ok && call.outcome!.failureClass, 'permanent');
  assert.equal(!call.outcome!.ok && call.outcome!.error, 'call rejected by the far end or the carrier');
  assert.equal(!call.outcome!.ok && call.outcome!.cause, '21 CALL_REJECTED (SIP 403)');
});

test('no answer: only Ringing, Dial RINGING, then ChannelDestroyed 19/480 (no HangupRequest, no final Dial)', () => {
  const call = new FaxCall(ID);
  for (const ev of [e('ChannelCreated', {}, 'Down'), dial(''), e('ChannelStateChange', {}, 'Ringing'), dial('RINGING', 'Ringing')]) call.feed(ev);
  assert.equal(call.phase, 'ringing');
  call.feed(e('ChannelDestroyed', { cause: 19, cause_txt: 'User alerting, no answer', tech_cause: 480 }, 'Ringing'));
  assert.deepEqual(call.outcome, { ok: false, failureClass: 'no_answer', error: 'no answer', cause: '19 NO_ANSWER (SIP 480)', pages: 0 });
});

test('congestion and unallocated number', () => {
  const congested = run([dial(''), e('ChannelHangupRequest', { cause: 34, tech_cause: 503 }, 'Down'), dial('CONGESTION'),
    e('ChannelDestroyed', { cause: 34, cause_txt: 'Circuit/channel congestion', tech_cause: 503 }, 'Down')]);
  assert.equal(!congested.outcome!.ok && congested.outcome!.failureClass, 'congestion');
  const unalloc = run([dial(''), e('ChannelHangupRequest', { cause: 1, tech_cause: 404 }, 'Down'), dial('NOANSWER'),
    e('ChannelDestroyed', { cause: 1, cause_txt: 'Unallocated (unassigned) number', tech_cause: 404 }, 'Down')]);
  assert.equal(!unalloc.outcome!.ok && unalloc.outcome!.failureClass, 'permanent');
  assert.equal(!unalloc.outcome!.ok && unalloc.outcome!.error, 'number not in service (unallocated)');
});

test('remote hang-up mid-fax with 0 pages: "The call dropped prematurely"', () => {
  const call = run([
    ...answeredIntoSendFax(),
    e('ChannelHangupRequest', { cause: 16 }),
    ...faxBlock('FAILED', 'HANGUP', 'remote channel hungup', { pages: '0' }),
    ...faxBlock('FAILED', 'The call dropped prematurely', 'The call dropped prematurely', { rate: '14400', res: '0x0', pages: '0' }),
    e('ChannelHangupRequest', { cause: 16, soft: true }),
    ...handlerAndDestroy(userEvent({ status: 'FAILED', pages: '0', bitrate: '14400', resolution: '0x0', mode: 'audio', ecm: 'yes', hangupcause: '16',
      error64: b64('The call dropped prematurely'), statusstr64: b64('The call dropped prematurely'), remotestation64: b64('') }), 16, 'Normal Clearing'),
  ]);
  assert.equal(call.outcome?.ok, false);
  const o = call.outcome as Extract<typeof call.outcome, { ok: false }>;
  assert.equal(o.failureClass, 'protocol');
  assert.equal(o.error, 'the far end hung up during the fax, before any page was sent');
  assert.equal(o.pages, 0);
  assert.equal(o.cause, 'T.30 49: The call dropped prematurely; hangup 16 NORMAL_CLEARING');
});

test('partial transfer after a CLI hang-up: HangupRequest without cause, ChannelDestroyed 0, pages = 1 of 2', () => {
  const call = run([
    ...answeredIntoSendFax(),
    e('ChannelHangupRequest', {}),
    ...faxBlock('FAILED', 'HANGUP', 'remote channel hungup', { pages: '0' }),
    ...faxBlock('FAILED', 'The call dropped prematurely', 'The call dropped prematurely', { rate: '14400', res: '8031x7700', pages: '1' }),
    e('ChannelHangupRequest', { cause: 16, soft: true }),
    ...handlerAndDestroy(userEvent({ status: 'FAILED', pages: '1', bitrate: '14400', resolution: '8031x7700', mode: 'audio', ecm: 'yes', hangupcause: '0',
      error64: b64('The call dropped prematurely'), statusstr64: b64('The call dropped prematurely'), remotestation64: b64('') }), 0, 'Unknown'),
  ]);
  const o = call.outcome as Extract<typeof call.outcome, { ok: false }>;
  assert.equal(o.failureClass, 'protocol');
  assert.equal(o.error, 'the far end hung up after 1 of 2 pages');
  assert.equal(o.pages, 1);
  assert.equal(o.cause, 'T.30 49: The call dropped prematurely; hangup 0 NONE');
});

test('missing TIFF: FILE_ERROR is a document failure (never retried)', () => {
  const call = run([
    ...answeredIntoSendFax().slice(0, -7), // SendFAX fails before the session clears its variables
    ...faxBlock('FAILED', 'FILE_ERROR', 'error reading file', { pages: '0' }),
    e('ChannelHangupRequest', { cause: 16, soft: true }),
    ...handlerAndDestroy(userEvent({ status: 'FAILED', pages: '0', bitrate: '', resolution: '', mode: 'audio', ecm: 'yes', hangupcause: '0',
      error64: b64('FILE_ERROR'), statusstr64: b64('error reading file'), remotestation64: b64('') }), 0, 'Unknown'),
  ]);
  const o = call.outcome as Extract<typeof call.outcome, { ok: false }>;
  assert.equal(o.failureClass, 'document');
  assert.equal(o.error, 'the PBX could not read the fax file (missing or unreadable TIFF)');
});

test('T.38 negotiation failure is a protocol failure (the ladder then forces audio)', () => {
  const call = run([
    ...answeredIntoSendFax().slice(0, -7),
    ...faxBlock('FAILED', 'T38_NEG_ERROR', 'error negotiating T.38', { pages: '0' }),
    e('ChannelHangupRequest', { cause: 16, soft: true }),
    ...handlerAndDestroy(null, 0, 'Unknown'),
  ]);
  const o = call.outcome as Extract<typeof call.outcome, { ok: false }>;
  assert.equal(o.failureClass, 'protocol');
  assert.equal(o.error, 'fax failed: T.38 negotiation with the far end failed');
});

test('T.30 failures map through spandsp texts, commas included (base64 in the UserEvent)', () => {
  const text = 'Timer T2 expired while waiting for NSS, DCS or MCF';
  const call = run([
    ...answeredIntoSendFax(),
    ...faxBlock('FAILED', text, text, { rate: '9600', res: '8031x7700', pages: '1' }),
    ...handlerAndDestroy(userEvent({ status: 'FAILED', pages: '1', bitrate: '9600', resolution: '8031x7700', mode: 'audio', ecm: 'no', hangupcause: '16',
      error64: b64(text), statusstr64: b64(text), remotestation64: b64('FAX, "Inc"') }), 16, 'Normal Clearing'),
  ]);
  const o = call.outcome as Extract<typeof call.outcome, { ok: false }>;
  assert.equal(o.failureClass, 'protocol');
  assert.equal(o.error, `fax failed: ${text} (1 of 2 pages sent)`);
  assert.equal(o.details?.remoteStationId, 'FAX, "Inc"');
  assert.equal(o.details?.ecm, false);

  const train = run([...answeredIntoSendFax(), ...faxBlock('FAILED', 'Failed to train with any of the compatible modems', 'x', { pages: '0' }),
    e('ChannelDestroyed', { cause: 16, cause_txt: 'Normal Clearing' })]);
  assert.equal((train.outcome as { error: string }).error, 'fax failed: Failed to train with any of the compatible modems');
  const voice = run([...answeredIntoSendFax(), ...faxBlock('FAILED', 'Timed out waiting for initial communication', 'x', { pages: '0' }),
    e('ChannelDestroyed', { cause: 16, cause_txt: 'Normal Clearing' })]);
  assert.equal((voice.outcome as { failureClass: string }).failureClass, 'no_answer');
});

test('events of other channels and events after ChannelDestroyed are ignored', () => {
  const call = new FaxCall(ID);
  const other = parseAriEvent({ type: 'ChannelDestroyed', cause: 17, cause_txt: 'User busy', timestamp: 't', application: 'faxbot', channel: { ...channel('Down'), id: 'someone-else' } })!;
  assert.deepEqual(call.feed(other), []);
  call.feed(e('ChannelDestroyed', { cause: 19, cause_txt: 'User alerting, no answer', tech_cause: 480 }, 'Ringing'));
  const first = call.outcome;
  assert.deepEqual(call.feed(e('ChannelDialplan', { dialplan_app: 'AppDial2', dialplan_app_data: '(Outgoing Line)' })), []);
  assert.equal(call.outcome, first);
  // A FaxResult for another job on this channel id is not trusted.
  const c2 = new FaxCall(ID);
  c2.feed(e('ChannelUserevent', { eventname: 'FaxResult', userevent: { eventname: 'FaxResult', v: '1', job: 'other', attempt: '1', status: 'SUCCESS', pages: '9' } }));
  assert.equal(c2.facts.report, null);
});

test('answered, but the fax never started and the far end hung up', () => {
  const call = run([dial(''), e('ChannelStateChange', {}), dial('ANSWER', 'Up'), e('StasisStart', { args: ['job42', '1'] }),
    e('ChannelHangupRequest', { cause: 16 }), e('StasisEnd', {}), e('ChannelDestroyed', { cause: 16, cause_txt: 'Normal Clearing' })]);
  assert.equal((call.outcome as { failureClass: string }).failureClass, 'protocol');
  assert.equal((call.outcome as { pages: number }).pages, 0);
});

test('a gap in events during the fax makes a missing result "unknown", never success or retriable', () => {
  const call = new FaxCall(ID, { totalPages: 2 });
  for (const ev of answeredIntoSendFax()) call.feed(ev);
  call.noteEventGap();
  call.feed(e('ChannelDestroyed', { cause: 16, cause_txt: 'Normal Clearing' }));
  assert.equal((call.outcome as { failureClass: string }).failureClass, 'unknown');
});

test('recorder-style UserEvent keys (faxstatus/faxerror/faxpages) are understood too', () => {
  const r = parseFaxResultEvent({ eventname: 'FaxResult', job: 'j', faxstatus: 'SUCCESS', faxerror: 'HANGUP', faxstatusstring: 'OK', faxpages: '2', hangupcause: '16', stage: 'hangup-handler' });
  assert.equal(r?.status, 'SUCCESS');
  assert.equal(r?.pages, 2);
});

test('the GLOBAL record → Outcome, for reconciliation', () => {
  const rec = (fields: string[]): string => ['v1', ...fields].join('|');
  const ok = parseResultRecord(rec(['SUCCESS', '3', '14400', '8031x7700', 'T38', 'yes', '16', b64('HANGUP'), b64('OK'), b64('+4930123'), '1795778396']));
  assert.equal(ok.kind, 'final');
  assert.deepEqual(outcomeFromRecord(ID, ok, { asteriskRestarted: false, totalPages: 3 }), {
    ok: true, pages: 3, cause: '16 NORMAL_CLEARING', details: { mode: 'T38', bitRate: 14400, resolution: '8031x7700', remoteStationId: '+4930123', ecm: true },
  });
  const partial = parseResultRecord(rec(['FAILED', '1', '14400', '8031x7700', 'audio', 'yes', '0', b64('The call dropped prematurely'), b64('x'), b64(''), '1']));
  const p = outcomeFromRecord(ID, partial, { asteriskRestarted: false, totalPages: 2 }) as { failureClass: string; pages: number; error: string };
  assert.deepEqual([p.failureClass, p.pages, p.error], ['protocol', 1, 'the far end hung up after 1 of 2 pages']);

  assert.deepEqual(parseResultRecord('v1|STARTED'), { kind: 'started' });
  assert.equal((outcomeFromRecord(ID, { kind: 'started' }, { asteriskRestarted: false }) as { failureClass: string }).failureClass, 'unknown');
  assert.equal((outcomeFromRecord(ID, { kind: 'none' }, { asteriskRestarted: true }) as { failureClass: string }).failureClass, 'unknown');
  // No record and no restart: our dialplan never ran SendFAX, so nothing was sent; retriable.
  const none = outcomeFromRecord(ID, parseResultRecord(''), { asteriskRestarted: false }) as { failureClass: string; pages: number };
  assert.deepEqual([none.failureClass, none.pages], ['transient', 0]);
  assert.deepEqual(parseResultRecord('v1|SUCCESS|2'), { kind: 'invalid' });
  assert.deepEqual(parseResultRecord('garbage'), { kind: 'invalid' });
  assert.equal((outcomeFromRecord(ID, { kind: 'invalid' }, { asteriskRestarted: false }) as { failureClass: string }).failureClass, 'unknown');
});
