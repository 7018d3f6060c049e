// FreeSWITCH event sequences for each fax scenario, as the EslEvents the backend sees.
//
// These sequences follow the order and values of FreeSWITCH 1.10.12 (mod_spandsp) as recorded, written
// by hand with our own ids, numbers and paths. Each event states only the headers Faxbot reads; causes,
// result codes and texts, page counts and T.38 statuses are FreeSWITCH's. "fs-b/…" is the receiving side.
import { toEslEvent, type EslEvent } from '../../../src/backends/freeswitch/esl-event.js';
import { callUuidFor, jobUuidFor } from '../../../src/backends/freeswitch/originate.js';

type Headers = Record<string, string>;

/** The sending side (our fax_ident and caller id) and the far end, the same on every call here. */
const OUR_NUMBER = '15550100001';
const OUR_STATION = '+15550100001';
const FAR_NUMBER = '15550100002';
const FAR_STATION = '+15550100002';
/** When the answered calls here were answered (µs since the epoch, as FreeSWITCH reports it). */
const ANSWERED_AT_US = '1767268800000000';

/** mod_spandsp's result, as txfaxresult/rxfaxresult state it (fax-*) and as it is left in variable_fax_*. */
interface SpandspResult {
  success: '1' | '0';
  code: string;
  text: string;
  pages: string;
  totalPages: string;
  /** Pixels per metre; 0x0 when no page was negotiated. */
  resolution: string;
  rate: string;
  ecm: 'on' | 'off';
  t38: T38Status;
  localStation: string;
  /** Absent when no T.30 negotiation happened. */
  remoteStation?: string;
}

type T38Status = 'off' | 'negotiated' | 'refused';

const DROPPED = 'The call dropped prematurely';

/** 2 pages at 204x196 dpi (8040x7700 px/m), V.17 14400, ECM. */
const sent2Pages = (t38: T38Status): SpandspResult => ({
  success: '1', code: '0', text: 'OK', pages: '2', totalPages: '2', resolution: '8040x7700', rate: '14400', ecm: 'on', t38,
  localStation: OUR_STATION, remoteStation: FAR_STATION,
});
/** The far end hung up before any T.30 negotiation: nothing known but our own side. */
const DROPPED_BEFORE_NEGOTIATION: SpandspResult = {
  success: '0', code: '49', text: DROPPED, pages: '0', totalPages: '0', resolution: '0x0', rate: '14400', ecm: 'off', t38: 'off',
  localStation: OUR_STATION,
};
/** uuid_kill after negotiation, before page 1 completed: 0 of 2 pages. */
const DROPPED_AFTER_NEGOTIATION: SpandspResult = {
  success: '0', code: '49', text: DROPPED, pages: '0', totalPages: '2', resolution: '8040x7700', rate: '14400', ecm: 'on', t38: 'off',
  localStation: OUR_STATION, remoteStation: FAR_STATION,
};
/** Answered, silent: spandsp's T.30 timeout. */
const NO_FAX_TONES: SpandspResult = {
  success: '0', code: '2', text: 'Timed out waiting for initial communication', pages: '0', totalPages: '0', resolution: '0x0',
  rate: '14400', ecm: 'off', t38: 'off', localStation: OUR_STATION,
};
const RECEIVED_2_PAGES: SpandspResult = {
  success: '1', code: '0', text: 'OK', pages: '2', totalPages: '2', resolution: '8040x7700', rate: '14400', ecm: 'on', t38: 'off',
  localStation: FAR_STATION, remoteStation: OUR_STATION,
};
const RX_DROPPED_BEFORE_NEGOTIATION: SpandspResult = { ...DROPPED_BEFORE_NEGOTIATION, localStation: FAR_STATION };
const RX_DROPPED_AFTER_NEGOTIATION: SpandspResult = {
  ...DROPPED_AFTER_NEGOTIATION, totalPages: '0', localStation: FAR_STATION, remoteStation: OUR_STATION,
};

function resultFields(r: SpandspResult): [string, string][] {
  const f: [string, string][] = [
    ['success', r.success],
    ['result-code', r.code],
    ['result-text', r.text],
    ['document-transferred-pages', r.pages],
    ['document-total-pages', r.totalPages],
    ['image-resolution', r.resolution],
    ['transfer-rate', r.rate],
    ['ecm-used', r.ecm],
    ['t38-status', r.t38],
    ['local-station-id', r.localStation],
  ];
  if (r.remoteStation) f.push(['remote-station-id', r.remoteStation]);
  return f;
}

/** `fax-success`, ... as on the result event itself. */
const resultHeaders = (r: SpandspResult): Headers => Object.fromEntries(resultFields(r).map(([k, v]) => [`fax-${k}`, v]));
/** `variable_fax_success`, ... as on every later event of the channel. */
const resultVars = (r: SpandspResult): Headers =>
  Object.fromEntries(resultFields(r).map(([k, v]) => [`variable_fax_${k.replace(/-/g, '_')}`, v]));

/**
 * One channel. As in FreeSWITCH, every event repeats the channel's headers and the variables set so
 * far, so a variable set once (the fax result, an application response) is on every later event.
 */
class Leg {
  private readonly h: Headers;

  constructor(uuid: string, direction: 'inbound' | 'outbound', extra: Headers) {
    this.h = { 'Unique-ID': uuid, 'Call-Direction': direction, 'Answer-State': 'ringing', 'Caller-Channel-Answered-Time': '0', ...extra };
  }

  private emit(name: string, extra: Headers = {}, subclass?: string): EslEvent {
    // A CUSTOM event's JSON has Event-Subclass before Event-Name.
    const ev = toEslEvent({ ...(subclass ? { 'Event-Subclass': subclass } : {}), 'Event-Name': name, ...this.h, ...extra });
    if (!ev) throw new Error('event without Event-Name');
    return ev;
  }

  create(): EslEvent {
    return this.emit('CHANNEL_CREATE');
  }

  answer(): EslEvent {
    Object.assign(this.h, { 'Answer-State': 'answered', 'Caller-Channel-Answered-Time': ANSWERED_AT_US });
    const ev = this.emit('CHANNEL_ANSWER');
    this.h['variable_endpoint_disposition'] = 'ANSWER'; // from the next event on
    return ev;
  }

  /** `setsOnStart`: variables the application sets once running, seen from the next event on. */
  execute(app: string, data?: string, setsOnStart: Headers = {}): EslEvent {
    this.h['variable_current_application'] = app;
    const ev = this.emit('CHANNEL_EXECUTE', { Application: app, ...(data !== undefined ? { 'Application-Data': data } : {}) });
    Object.assign(this.h, setsOnStart);
    return ev;
  }

  executeComplete(app: string, response = '_none_'): EslEvent {
    if (response !== '_none_') this.h['variable_current_application_response'] = response;
    return this.emit('CHANNEL_EXECUTE_COMPLETE', { Application: app, 'Application-Response': response });
  }

  /**
   * A spandsp progress event (negotiation, page). FreeSWITCH also sets partial variable_fax_* on the
   * channel from here on; they are left out, as nothing reads them before variable_fax_success exists.
   */
  progress(subclass: string, fax: Headers): EslEvent {
    return this.emit('CUSTOM', fax, subclass);
  }

  result(subclass: 'spandsp::txfaxresult' | 'spandsp::rxfaxresult', r: SpandspResult): EslEvent {
    Object.assign(this.h, resultVars(r));
    return this.emit('CUSTOM', resultHeaders(r), subclass);
  }

  /** `sipStatus`: the final SIP response FreeSWITCH received (none when it sent the BYE/CANCEL itself). */
  hangup(cause: string, sipStatus?: string): EslEvent {
    Object.assign(this.h, { 'Answer-State': 'hangup', 'Hangup-Cause': cause });
    if (sipStatus) this.h['variable_sip_term_status'] = sipStatus;
    return this.emit('CHANNEL_HANGUP');
  }

  hangupComplete(q850: string, disposition: string): EslEvent {
    const app = this.h['variable_current_application'];
    const answered = this.h['Caller-Channel-Answered-Time']!;
    Object.assign(this.h, {
      variable_hangup_cause: this.h['Hangup-Cause']!,
      variable_hangup_cause_q850: q850,
      variable_sip_hangup_disposition: disposition,
      variable_answer_epoch: answered === '0' ? '0' : answered.slice(0, -6),
      ...(app ? { variable_last_app: app } : {}),
    });
    return this.emit('CHANNEL_HANGUP_COMPLETE');
  }
}

const negotiation = (t38: T38Status): Headers => ({ 'fax-t38-status': t38, 'fax-remote-station-id': FAR_STATION, 'fax-document-total-pages': '0' });
const txPage = (n: number, of: number): Headers => ({ 'fax-document-transferred-pages': String(n), 'fax-document-total-pages': String(of) });
/** rxfaxpageresult has no fax-document-total-pages. */
const rxPage = (n: number): Headers => ({ 'fax-document-transferred-pages': String(n) });

/** One originate of ours: ids as the backend derives them, and its BACKGROUND_JOB. */
class Originate {
  readonly jobId: string;
  readonly callUuid: string;
  readonly jobUuid: string;
  readonly tiff: string;
  readonly leg: Leg;
  private readonly arg: string;

  constructor(scenario: string, opts: { t38Request?: boolean; gateway?: string } = {}) {
    this.jobId = `fixture-${scenario}`;
    this.callUuid = callUuidFor(this.jobId, 1);
    this.jobUuid = jobUuidFor(this.jobId, 1);
    this.tiff = `/var/lib/faxbot/spool/freeswitch/faxbot-${this.jobId}-1.tif`;
    // FreeSWITCH echoes the originate arguments as sent in Job-Command-Arg.
    this.arg =
      `{origination_uuid=${this.callUuid},faxbot_job_id=${this.jobId},faxbot_attempt=1,ignore_early_media=true,originate_timeout=60,` +
      `fax_enable_t38=true,fax_enable_t38_request=${opts.t38Request ? 'true' : 'false'},fax_use_ecm=true,fax_ident=${OUR_STATION}}` +
      `sofia/gateway/${opts.gateway ?? 'faxbot'}/${FAR_NUMBER} &txfax(${this.tiff})`;
    this.leg = new Leg(this.callUuid, 'outbound', { variable_faxbot_job_id: this.jobId });
  }

  /** BACKGROUND_JOB has no channel headers: only the job's ids, the command and its output in `_body`. */
  job(body: string): EslEvent {
    const ev = toEslEvent({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': this.jobUuid, 'Job-Command': 'originate', 'Job-Command-Arg': this.arg, _body: body });
    if (!ev) throw new Error('unreachable');
    return ev;
  }

  answeredJob(): EslEvent {
    return this.job(`+OK ${this.callUuid}\n`);
  }
}

/** Answered; the receiver hangs up after the last page; txfaxresult comes after CHANNEL_HANGUP. */
function faxSent(scenario: string, t38: T38Status): EslEvent[] {
  const o = new Originate(scenario, { t38Request: t38 !== 'off' });
  const a = o.leg;
  return [
    a.create(),
    a.answer(),
    o.answeredJob(),
    a.execute('txfax', o.tiff),
    a.progress('spandsp::txfaxnegociateresult', negotiation(t38)),
    a.progress('spandsp::txfaxpageresult', txPage(1, 2)),
    a.progress('spandsp::txfaxpageresult', txPage(2, 2)),
    a.hangup('NORMAL_CLEARING', '200'),
    a.result('spandsp::txfaxresult', sent2Pages(t38)),
    a.executeComplete('txfax'),
    a.hangupComplete('16', 'recv_bye'),
  ];
}

/** Refused before answer (486, 404, 503): BACKGROUND_JOB -ERR comes after CHANNEL_HANGUP_COMPLETE. */
function refused(scenario: string, cause: string, q850: string, sipStatus: string, gateway?: string): EslEvent[] {
  const o = new Originate(scenario, { gateway });
  const a = o.leg;
  return [a.create(), a.hangup(cause, sipStatus), a.hangupComplete(q850, 'recv_refuse'), o.job(`-ERR ${cause}\n`)];
}

const OUTBOUND = {
  'success-audio': () => faxSent('success-audio', 'off'),
  'success-t38': () => faxSent('success-t38', 'negotiated'),
  // The far end refuses the T.38 re-INVITE; spandsp carries on over G.711 and succeeds.
  't38-request-rejected': () => faxSent('t38-request-rejected', 'refused'),
  busy: () => refused('busy', 'USER_BUSY', '17', '486'),
  // We CANCEL at originate_timeout; here BACKGROUND_JOB comes between HANGUP and HANGUP_COMPLETE.
  'no-answer': () => {
    const o = new Originate('no-answer');
    const a = o.leg;
    return [a.create(), a.hangup('NO_ANSWER'), o.job('-ERR NO_ANSWER\n'), a.hangupComplete('19', 'send_cancel')];
  },
  unallocated: () => refused('unallocated', 'UNALLOCATED_NUMBER', '1', '404'),
  // No such gateway: no channel is ever created, BACKGROUND_JOB is the only event.
  'unknown-gateway': () => [new Originate('unknown-gateway', { gateway: 'no-such-gateway' }).job('-ERR INVALID_GATEWAY\n')],
  // Nothing listens at the gateway's address: the SIP stack makes up the 503 itself.
  'gateway-unreachable': () => refused('gateway-unreachable', 'NORMAL_TEMPORARY_FAILURE', '41', '503', 'faxbot-unreachable'),
  // The far end answers and hangs up 2 s later, before any fax tone.
  'remote-hangup-after-2s': () => {
    const o = new Originate('remote-hangup-after-2s');
    const a = o.leg;
    return [
      a.create(),
      a.answer(),
      o.answeredJob(),
      a.execute('txfax', o.tiff),
      a.hangup('NORMAL_CLEARING', '200'),
      a.result('spandsp::txfaxresult', DROPPED_BEFORE_NEGOTIATION),
      a.executeComplete('txfax'),
      a.hangupComplete('16', 'recv_bye'),
    ];
  },
  // txfax of a file that does not exist: no txfaxresult, only the application's response (sic "existant").
  'missing-file': () => {
    const o = new Originate('missing-file');
    const a = o.leg;
    return [
      a.create(),
      a.answer(),
      o.answeredJob(),
      a.execute('txfax', o.tiff),
      a.executeComplete('txfax', 'Cannot send non-existant fax file'),
      a.hangup('NORMAL_CLEARING'),
      a.hangupComplete('16', 'send_bye'),
    ];
  },
  // spandsp gives up first: txfaxresult while still answered (no Hangup-Cause), then we send BYE.
  'answered-no-fax-tones': () => {
    const o = new Originate('answered-no-fax-tones');
    const a = o.leg;
    return [
      a.create(),
      a.answer(),
      o.answeredJob(),
      a.execute('txfax', o.tiff),
      a.result('spandsp::txfaxresult', NO_FAX_TONES),
      a.executeComplete('txfax'),
      a.hangup('NORMAL_CLEARING'),
      a.hangupComplete('16', 'send_bye'),
    ];
  },
  // uuid_kill after negotiation, before page 1 completed.
  'local-cancel': () => {
    const o = new Originate('local-cancel');
    const a = o.leg;
    return [
      a.create(),
      a.answer(),
      o.answeredJob(),
      a.execute('txfax', o.tiff),
      a.progress('spandsp::txfaxnegociateresult', negotiation('off')),
      a.hangup('NORMAL_CLEARING'),
      a.result('spandsp::txfaxresult', DROPPED_AFTER_NEGOTIATION),
      a.executeComplete('txfax'),
      a.hangupComplete('16', 'send_bye'),
    ];
  },
} satisfies Record<string, () => EslEvent[]>;

/** The receiving leg: a dialplan that answers, runs rxfax to <spool>/<uuid>.tif, then hangs up (no marker variable). */
function rxLeg(uuid: string): Leg {
  return new Leg(uuid, 'inbound', { 'Caller-Caller-ID-Number': OUR_NUMBER, 'Caller-Destination-Number': FAR_NUMBER, variable_direction: 'inbound' });
}
const rxFile = (uuid: string) => `/var/spool/freeswitch/fax/in/${uuid}.tif`;

/** The receiver's uuids (FreeSWITCH's own on that side, so not derived from our job). */
export const RX_UUIDS = {
  'fs-b/success-audio': '7443fa79-45ce-486a-a0aa-d8ad4271cd09',
  'fs-b/missing-file': 'f0a66b16-4747-40aa-bf44-6356a82c1478',
  'fs-b/local-cancel': 'b4b0a706-5c0a-4538-a0bb-d8f82a8e2c5d',
  'fs-b/busy': '9e874a0f-2659-4847-b601-d9ce9375a8e2',
} as const;

/** Every receiving leg that takes the call: created, answered, rxfax started on its file. */
function rxAnswered(b: ReturnType<typeof rxLeg>, uuid: string): EslEvent[] {
  return [
    b.create(),
    b.execute('answer'),
    b.answer(),
    b.executeComplete('answer'),
    b.execute('rxfax', rxFile(uuid), { variable_fax_filename: rxFile(uuid) }),
  ];
}

const RX = {
  // After a success the receiver's dialplan hangs up: rxfaxresult comes before CHANNEL_HANGUP.
  'fs-b/success-audio': () => {
    const uuid = RX_UUIDS['fs-b/success-audio'];
    const b = rxLeg(uuid);
    return [
      ...rxAnswered(b, uuid),
      b.progress('spandsp::rxfaxnegociateresult', { 'fax-t38-status': 'off', 'fax-remote-station-id': OUR_STATION }),
      b.progress('spandsp::rxfaxpageresult', rxPage(1)),
      b.progress('spandsp::rxfaxpageresult', rxPage(2)),
      b.result('spandsp::rxfaxresult', RECEIVED_2_PAGES),
      b.executeComplete('rxfax'),
      b.execute('hangup'),
      b.hangup('NORMAL_CLEARING'),
      b.executeComplete('hangup'),
      b.hangupComplete('16', 'send_bye'),
    ];
  },
  // The sender found no file and hung up: rxfaxresult 49 after CHANNEL_HANGUP, and no file is left.
  'fs-b/missing-file': () => {
    const uuid = RX_UUIDS['fs-b/missing-file'];
    const b = rxLeg(uuid);
    return [
      ...rxAnswered(b, uuid),
      b.hangup('NORMAL_CLEARING', '200'),
      b.result('spandsp::rxfaxresult', RX_DROPPED_BEFORE_NEGOTIATION),
      b.executeComplete('rxfax'),
      b.hangupComplete('16', 'recv_bye'),
    ];
  },
  'fs-b/local-cancel': () => {
    const uuid = RX_UUIDS['fs-b/local-cancel'];
    const b = rxLeg(uuid);
    return [
      ...rxAnswered(b, uuid),
      b.progress('spandsp::rxfaxnegociateresult', { 'fax-t38-status': 'off', 'fax-remote-station-id': OUR_STATION }),
      b.hangup('NORMAL_CLEARING', '200'),
      b.result('spandsp::rxfaxresult', RX_DROPPED_AFTER_NEGOTIATION),
      b.executeComplete('rxfax'),
      b.hangupComplete('16', 'recv_bye'),
    ];
  },
  // The receiver answers 486 itself: rxfax never runs.
  'fs-b/busy': () => {
    const b = rxLeg(RX_UUIDS['fs-b/busy']);
    return [b.create(), b.execute('respond', '486'), b.hangup('USER_BUSY'), b.executeComplete('respond'), b.hangupComplete('17', 'send_refuse')];
  },
} satisfies Record<keyof typeof RX_UUIDS, () => EslEvent[]>;

export type OutboundScenario = keyof typeof OUTBOUND;
export type RxScenario = keyof typeof RX;
export type Scenario = OutboundScenario | RxScenario;

/** Every sending-side scenario, in a fixed order. */
export const OUTBOUND_SCENARIOS = Object.keys(OUTBOUND) as OutboundScenario[];

/** A fresh copy of one scenario's events, in the order FreeSWITCH sends them. */
export function scenarioEvents(scenario: Scenario): EslEvent[] {
  return scenario in OUTBOUND ? OUTBOUND[scenario as OutboundScenario]() : RX[scenario as RxScenario]();
}

/** The call uuid (origination_uuid) and bgapi Job-UUID of a sending-side scenario. */
export function scenarioIds(scenario: OutboundScenario): { callUuid: string; jobUuid: string } {
  const o = new Originate(scenario);
  return { callUuid: o.callUuid, jobUuid: o.jobUuid };
}
