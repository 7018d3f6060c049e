// A simulated FreeSWITCH channel and the event headers it produces, in the order a real 1.10.12 sends them.
//
// Header order, state names and numbers, calling file/function/line and the variables each step adds
// follow fixtures/freeswitch (outbound A leg and fs-b inbound leg). Channel variables behave like
// FreeSWITCH's: setting one again moves it to the end of the list.

export type Header = [string, string];

export interface SimContext {
  coreUuid: string;
  hostname: string;
  ipv4: string;
  nextSeq(): number;
  /** Microseconds since the epoch (FreeSWITCH timestamps). */
  nowUs(): number;
}

const CALLING: Record<string, [string, string, string]> = {
  CHANNEL_CREATE: ['switch_core_state_machine.c', 'switch_core_session_run', '626'],
  CHANNEL_ANSWER: ['switch_channel.c', 'switch_channel_perform_mark_answered', '3846'],
  CHANNEL_EXECUTE: ['switch_core_session.c', 'switch_core_session_exec', '2944'],
  CHANNEL_EXECUTE_COMPLETE: ['switch_core_session.c', 'switch_core_session_exec', '2967'],
  CHANNEL_HANGUP: ['switch_channel.c', 'switch_channel_perform_hangup', '3445'],
  CHANNEL_HANGUP_COMPLETE: ['switch_core_state_machine.c', 'switch_core_session_reporting_state', '943'],
  'spandsp::txfaxnegociateresult': ['mod_spandsp_fax.c', 'phase_b_handler', '386'],
  'spandsp::rxfaxnegociateresult': ['mod_spandsp_fax.c', 'phase_b_handler', '386'],
  'spandsp::txfaxpageresult': ['mod_spandsp_fax.c', 'phase_d_handler', '521'],
  'spandsp::rxfaxpageresult': ['mod_spandsp_fax.c', 'phase_d_handler', '521'],
  'spandsp::txfaxresult': ['mod_spandsp_fax.c', 'phase_e_handler', '676'],
  'spandsp::rxfaxresult': ['mod_spandsp_fax.c', 'phase_e_handler', '676'],
  BACKGROUND_JOB: ['mod_event_socket.c', 'api_exec', '1572'],
};

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "2026-11-27 11:49:58" (FreeSWITCH prints local time; the simulator uses UTC). */
export function fsStamp(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** The headers every event starts with (Event-Subclass first for CUSTOM, as recorded). */
export function baseHeaders(ctx: SimContext, name: string, subclass?: string): Header[] {
  const us = ctx.nowUs();
  const [file, fn, line] = CALLING[subclass ?? name] ?? ['switch_event.c', 'switch_event_fire_detailed', '0'];
  const h: Header[] = [];
  if (subclass) h.push(['Event-Subclass', subclass]);
  h.push(
    ['Event-Name', name],
    ['Core-UUID', ctx.coreUuid],
    ['FreeSWITCH-Hostname', ctx.hostname],
    ['FreeSWITCH-Switchname', ctx.hostname],
    ['FreeSWITCH-IPv4', ctx.ipv4],
    ['FreeSWITCH-IPv6', '::1'],
    ['Event-Date-Local', fsStamp(us)],
    ['Event-Date-GMT', new Date(Math.floor(us / 1000)).toUTCString()],
    ['Event-Date-Timestamp', String(us)],
    ['Event-Calling-File', file],
    ['Event-Calling-Function', fn],
    ['Event-Calling-Line-Number', line],
    ['Event-Sequence', String(ctx.nextSeq())],
  );
  return h;
}

export type AnswerState = 'ringing' | 'early' | 'answered' | 'hangup';

export class SimChannel {
  readonly vars = new Map<string, string>();
  state = 'CS_INIT';
  stateNumber = 2;
  callState = 'DOWN';
  answerState: AnswerState = 'ringing';
  hitDialplan = false;
  hangupCause: string | null = null;
  createdUs: number;
  answeredUs = 0;
  hangupUs = 0;
  readCodec = 'PCMU';
  writeCodec = 'PCMU';
  codecsKnown = false;
  /** Set when the far end answered and the caller id got flipped (outbound legs). */
  flipped = false;
  /** CHANNEL_CREATE went out: from then on the API (uuid_exists, show channels, ...) knows the channel. */
  created = false;

  constructor(
    readonly uuid: string,
    readonly direction: 'outbound' | 'inbound',
    readonly channelName: string,
    readonly callerIdNumber: string,
    readonly callerIdName: string,
    readonly destination: string,
    readonly context: string,
    nowUs: number,
  ) {
    this.createdUs = nowUs;
  }

  set(name: string, value: string): void {
    this.vars.delete(name);
    this.vars.set(name, value);
  }

  get(name: string): string | undefined {
    return this.vars.get(name);
  }

  setState(state: string, num: number, callState: string): void {
    this.state = state;
    this.stateNumber = num;
    this.callState = callState;
  }

  /** Channel data (switch_channel_event_set_data) as it appears in every channel event. */
  channelHeaders(opts: { hangupCauseFirst?: boolean } = {}): Header[] {
    const h: Header[] = [
      ['Channel-State', this.state],
      ['Channel-Call-State', this.callState],
      ['Channel-State-Number', String(this.stateNumber)],
      ['Channel-Name', this.channelName],
      ['Unique-ID', this.uuid],
      ['Call-Direction', this.direction],
      ['Presence-Call-Direction', this.direction],
      ['Channel-HIT-Dialplan', String(this.hitDialplan)],
      ['Channel-Call-UUID', this.uuid],
      ['Answer-State', this.answerState],
    ];
    if (this.hangupCause && !opts.hangupCauseFirst) h.push(['Hangup-Cause', this.hangupCause]);
    if (this.codecsKnown) {
      h.push(
        ['Channel-Read-Codec-Name', this.readCodec],
        ['Channel-Read-Codec-Rate', '8000'],
        ['Channel-Read-Codec-Bit-Rate', this.readCodec === 'L16' ? '128000' : '64000'],
        ['Channel-Write-Codec-Name', this.writeCodec],
        ['Channel-Write-Codec-Rate', '8000'],
        ['Channel-Write-Codec-Bit-Rate', '64000'],
      );
    }
    h.push(['Caller-Direction', this.direction], ['Caller-Logical-Direction', this.direction]);
    if (this.direction === 'outbound') {
      if (this.flipped) {
        h.push(
          ['Caller-Caller-ID-Name', this.destination],
          ['Caller-Caller-ID-Number', this.destination],
          ['Caller-Orig-Caller-ID-Number', this.callerIdNumber],
          ['Caller-Callee-ID-Number', this.callerIdNumber],
          ['Caller-Network-Addr', '127.0.0.1'],
        );
      } else {
        h.push(
          ['Caller-Caller-ID-Number', this.callerIdNumber],
          ['Caller-Orig-Caller-ID-Number', this.callerIdNumber],
          ['Caller-Callee-ID-Name', 'Outbound Call'],
          ['Caller-Callee-ID-Number', this.destination],
        );
        if (this.codecsKnown || this.hangupCause) h.push(['Caller-Network-Addr', '127.0.0.1']);
      }
    } else {
      h.push(
        ['Caller-Username', this.callerIdNumber],
        ['Caller-Dialplan', 'XML'],
        ['Caller-Caller-ID-Name', this.callerIdName],
        ['Caller-Caller-ID-Number', this.callerIdNumber],
        ['Caller-Orig-Caller-ID-Name', this.callerIdName],
        ['Caller-Orig-Caller-ID-Number', this.callerIdNumber],
        ['Caller-Network-Addr', '127.0.0.1'],
      );
    }
    h.push(
      ['Caller-ANI', this.callerIdNumber],
      ['Caller-Destination-Number', this.destination],
      ['Caller-Unique-ID', this.uuid],
      ['Caller-Source', this.direction === 'outbound' ? 'src/switch_ivr_originate.c' : 'mod_sofia'],
      ['Caller-Context', this.context],
      ['Caller-Channel-Name', this.channelName],
      ['Caller-Profile-Index', '1'],
      ['Caller-Profile-Created-Time', String(this.createdUs)],
      ['Caller-Channel-Created-Time', String(this.createdUs)],
      ['Caller-Channel-Answered-Time', String(this.answeredUs)],
      ['Caller-Channel-Progress-Time', '0'],
      ['Caller-Channel-Progress-Media-Time', '0'],
      ['Caller-Channel-Hangup-Time', String(this.hangupUs)],
      ['Caller-Channel-Transfer-Time', '0'],
      ['Caller-Channel-Resurrect-Time', '0'],
      ['Caller-Channel-Bridged-Time', '0'],
      ['Caller-Channel-Last-Hold', '0'],
      ['Caller-Channel-Hold-Accum', '0'],
      ['Caller-Screen-Bit', 'true'],
      ['Caller-Privacy-Hide-Name', 'false'],
      ['Caller-Privacy-Hide-Number', 'false'],
    );
    for (const [k, v] of this.vars) h.push([`variable_${k}`, v]);
    return h;
  }

  /** A full channel event: base headers, channel data, then the event's own headers. */
  event(ctx: SimContext, name: string, extra: Header[] = [], subclass?: string): Header[] {
    if (name === 'CHANNEL_CREATE') this.created = true;
    const base = baseHeaders(ctx, subclass ? 'CUSTOM' : name, subclass);
    // CHANNEL_HANGUP_COMPLETE puts Hangup-Cause right after Event-Sequence (recorded).
    if (name === 'CHANNEL_HANGUP_COMPLETE' && this.hangupCause) {
      return [...base, ['Hangup-Cause', this.hangupCause], ...this.channelHeaders({ hangupCauseFirst: true }), ...extra];
    }
    return [...base, ...this.channelHeaders(), ...extra];
  }

  /** `show channels as json` row. */
  row(): Record<string, string> {
    const created = Math.floor(this.createdUs / 1e6);
    return {
      uuid: this.uuid,
      direction: this.direction,
      created: fsStamp(this.createdUs),
      created_epoch: String(created),
      name: this.channelName,
      state: this.state,
      cid_name: this.flipped ? this.destination : this.callerIdName,
      cid_num: this.flipped ? this.destination : this.callerIdNumber,
      ip_addr: '',
      dest: this.destination,
      application: this.get('current_application') ?? '',
      application_data: this.get('current_application_data') ?? '',
      dialplan: '',
      context: this.context,
      read_codec: this.readCodec,
      read_rate: '8000',
      read_bit_rate: this.readCodec === 'L16' ? '128000' : '64000',
      write_codec: this.writeCodec,
      write_rate: '8000',
      write_bit_rate: '64000',
      secure: '',
      hostname: 'vm',
      presence_id: '',
      presence_data: '',
      accountcode: '',
      callstate: this.callState,
      callee_name: '',
      callee_num: this.flipped ? this.callerIdNumber : '',
      callee_direction: this.flipped ? 'RECV' : '',
      call_uuid: this.uuid,
      sent_callee_name: '',
      sent_callee_num: '',
      initial_cid_name: '',
      initial_cid_num: this.callerIdNumber,
      initial_ip_addr: '',
      initial_dest: this.destination,
      initial_dialplan: '',
      initial_context: this.context,
    };
  }
}
