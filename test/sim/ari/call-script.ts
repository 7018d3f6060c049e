// One simulated outbound call: what Asterisk does from originate to ChannelDestroyed, running OUR shipped dialplan.
//
// Event order and shapes follow the recordings in fixtures/asterisk (Asterisk 20.20.1): the 200 answer to
// the originate comes before ChannelCreated; busy/reject send ChannelHangupRequest possibly before the
// final Dial; no-answer ends with only ChannelDestroyed 19/480; SendFAX sets FAILED/INIT_ERROR and clears
// it; a far end hanging up first produces FAILED/HANGUP just before the real SUCCESS; the hangup
// handler's UserEvent comes right before ChannelDestroyed, and a stray ChannelDialplan may follow it.
import { accessSync, constants } from 'node:fs';
import { CAUSE_TXT, astTime, channelJson } from './wire.js';
import type { SimScenario } from './scenarios.js';

export interface EmitOptions {
  /** Published before the originate subscribed the app: only subscribeAll sockets see it. */
  early?: boolean;
  /** Seen only by subscribeAll sockets (as in the recording made without subscribeAll). */
  allOnly?: boolean;
}

/** What a call needs from the simulated Asterisk around it. */
export interface CallHost {
  emit(call: SimCall, event: Record<string, unknown>, opts?: EmitOptions): void;
  sleep(sec: number, signal: AbortSignal): Promise<void>;
  /** A WebSocket is open for the app (else Stasis() fails, as in Asterisk). */
  appActive(app: string): boolean;
  setGlobal(name: string, value: string): void;
  hasExtension(context: string, exten: string, priority: number): boolean;
  /** Called once the channel is gone. */
  removed(call: SimCall): void;
  /** Seconds the far end waits in Stasis for a /continue before hanging up. */
  readonly stasisTimeoutSec: number;
  /** Resolves when the test lets calls to `number` go on (at once unless the number is held). */
  gate(number: string, signal: AbortSignal): Promise<void>;
}

export type SimCallPhase = 'dialing' | 'stasis' | 'dialplan' | 'faxing' | 'ending' | 'gone';
type Interrupt = 'hangup' | 'restart';

class Interrupted extends Error {}

export class SimCall {
  readonly creationtime = astTime();
  state = 'Down';
  dialplan = { context: 'from-trunk', exten: 's', priority: 1, app_name: 'AppDial2', app_data: '(Outgoing Line)' };
  phase: SimCallPhase = 'dialing';
  /** The dialled number (as in the dial string). */
  number = '';
  inStasis = false;
  handlerPushed = false;
  faxMode = 'audio';
  pagesSent = 0;
  readonly vars = new Map<string, string>();
  private readonly ac = new AbortController();
  private interrupt: Interrupt | null = null;
  private hangupCause = 16;
  private continueResolve: ((t: { context: string; extension: string; priority: number }) => void) | null = null;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly protocolId: string,
    readonly app: string,
    readonly appArgs: string[],
    readonly dialstring: string,
    readonly caller: { name: string; number: string },
    readonly timeoutSec: number,
    variables: Record<string, string>,
  ) {
    for (const [k, v] of Object.entries(variables)) this.vars.set(k, v);
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  snapshot(): Record<string, unknown> {
    return channelJson({
      id: this.id, name: this.name, state: this.state, protocolId: this.protocolId,
      caller: this.caller, connected: this.caller, dialplan: this.dialplan, creationtime: this.creationtime,
    });
  }

  /** ARI DELETE: hang up with a cause (16 for reason=normal). */
  requestHangup(cause: number): void {
    if (this.phase === 'gone' || this.phase === 'ending' || this.interrupt) return;
    this.hangupCause = cause;
    this.interrupt = 'hangup';
    this.ac.abort();
  }

  /** Asterisk stops: the channel vanishes without a word. */
  kill(): void {
    if (this.phase === 'gone') return;
    this.interrupt = 'restart';
    this.ac.abort();
  }

  /** ARI /continue; false when the channel is not in Stasis (→ 409). */
  continueTo(t: { context: string; extension: string; priority: number }): boolean {
    if (!this.inStasis || !this.continueResolve) return false;
    this.inStasis = false;
    const r = this.continueResolve;
    this.continueResolve = null;
    r(t);
    return true;
  }

  waitContinue(): Promise<{ context: string; extension: string; priority: number }> {
    return new Promise((resolve, reject) => {
      this.continueResolve = resolve;
      this.ac.signal.addEventListener('abort', () => reject(new Interrupted()), { once: true });
    });
  }

  get interruptedBy(): Interrupt | null {
    return this.interrupt;
  }

  get localHangupCause(): number {
    return this.hangupCause;
  }
}

/** Runs one call to its end. Never throws. */
export async function runCall(host: CallHost, call: SimCall, scenario: SimScenario): Promise<void> {
  const ev = (type: string, fields: Record<string, unknown> = {}, opts?: EmitOptions): void => {
    host.emit(call, { type, timestamp: astTime(), ...fields, channel: call.snapshot() }, opts);
  };
  const sleep = async (sec: number): Promise<void> => {
    try {
      await host.sleep(sec, call.signal);
    } catch {
      throw new Interrupted();
    }
  };
  const varset = (variable: string, value: string, opts?: EmitOptions): void => {
    call.vars.set(variable, value);
    host.emit(call, { variable, value, type: 'ChannelVarset', timestamp: astTime(), channel: call.snapshot() }, opts);
  };
  const dial = (dialstatus: string): void => {
    host.emit(call, { type: 'Dial', timestamp: astTime(), dialstatus, forward: '', dialstring: call.dialstring, peer: call.snapshot() });
  };
  const dialplanStep = (context: string, exten: string, priority: number, app: string, data: string, opts?: EmitOptions): void => {
    call.dialplan = { context, exten, priority, app_name: app, app_data: data };
    host.emit(call, { type: 'ChannelDialplan', timestamp: astTime(), dialplan_app: app, dialplan_app_data: data, channel: call.snapshot() }, opts);
  };
  const destroy = (cause: number, techCause?: number, strayDialplanFirst = false): void => {
    call.phase = 'gone';
    const stray = (): void => {
      call.dialplan = { ...call.dialplan, app_name: 'AppDial2', app_data: '(Outgoing Line)' };
      host.emit(call, { type: 'ChannelDialplan', timestamp: astTime(), dialplan_app: 'AppDial2', dialplan_app_data: '(Outgoing Line)', channel: call.snapshot() });
    };
    if (strayDialplanFirst) stray();
    ev('ChannelDestroyed', { cause, cause_txt: CAUSE_TXT[cause] ?? 'Unknown', ...(techCause !== undefined ? { tech_cause: techCause } : {}) });
    if (!strayDialplanFirst) stray();
    host.removed(call);
  };
  const hangupRequest = (fields: { cause?: number; soft?: boolean; tech_cause?: number }, opts?: EmitOptions): void => {
    ev('ChannelHangupRequest', fields, opts);
  };

  try {
    // ---- Dialling: the originate's 200 has already gone out (the server emits after responding).
    ev('ChannelCreated', {}, { early: true });
    dialplanStep('from-trunk', 's', 1, 'AppDial2', '(Outgoing Line)', { early: true });
    ev('ChannelCallerId', { caller_presentation: 0, caller_presentation_txt: 'Presentation Allowed, Not Screened' }, { early: true });
    ev('ChannelConnectedLine', {}, { early: true });
    for (const [k, v] of call.vars) host.emit(call, { variable: k, value: v, type: 'ChannelVarset', timestamp: astTime(), channel: call.snapshot() }, { early: true });

    const refuse = (cause: number, tech: number, finalDial: string, requestBeforeDial: boolean): void => {
      if (requestBeforeDial) {
        hangupRequest({ cause, tech_cause: tech });
        dial('');
      } else {
        dial('');
      }
      if (!requestBeforeDial) hangupRequest({ cause, tech_cause: tech });
      dial(finalDial);
      destroy(cause, tech);
    };
    const ring = (): void => {
      call.state = 'Ringing';
      ev('ChannelStateChange');
      dial('RINGING');
    };
    const answerDelay = scenario.answerDelaySec ?? 0.05;

    switch (scenario.kind) {
      case 'busy':
        await sleep(answerDelay);
        return refuse(17, 486, 'BUSY', false);
      case 'congestion':
        await sleep(answerDelay);
        return refuse(34, 503, 'CONGESTION', false);
      case 'rejected':
        await sleep(answerDelay);
        return refuse(21, 403, 'NOANSWER', true);
      case 'unallocated':
        await sleep(answerDelay);
        return refuse(1, 404, 'NOANSWER', false);
      case 'no_answer':
        dial('');
        ring();
        await sleep(call.timeoutSec);
        return destroy(19, 480);
      default:
        break;
    }

    dial('');
    if (answerDelay > 0.1) {
      ring();
      await sleep(answerDelay);
    }
    call.state = 'Up';
    ev('ChannelStateChange');
    dial('ANSWER');

    // ---- Stasis (design A): originate with app= puts the answered channel in our app.
    call.dialplan = { ...call.dialplan, app_name: 'Stasis', app_data: [call.app, ...call.appArgs].join(',') };
    if (!host.appActive(call.app)) {
      // Asterisk logs "Stasis app '…' not registered"; STASISSTATUS=FAILED and the channel hangs up.
      varset('STASISSTATUS', 'FAILED');
      hangupRequest({ cause: 16, soft: true });
      return destroy(16);
    }
    varset('STASISSTATUS', '');
    call.phase = 'stasis';
    call.inStasis = true;
    ev('StasisStart', { args: [...call.appArgs] });
    const timeout = new AbortController();
    const onAbort = (): void => timeout.abort();
    call.signal.addEventListener('abort', onAbort, { once: true });
    const target = await Promise.race([
      call.waitContinue(),
      host.sleep(host.stasisTimeoutSec, timeout.signal).then(() => null, () => null),
    ]);
    timeout.abort();
    call.signal.removeEventListener('abort', onAbort);
    if (call.signal.aborted) throw new Interrupted();
    if (target === null) {
      // The far end gave up waiting for the fax (nobody continued the channel).
      call.inStasis = false;
      hangupRequest({ cause: 16 });
      ev('StasisEnd');
      varset('STASISSTATUS', 'SUCCESS');
      return destroy(16);
    }
    ev('StasisEnd');

    // ---- Our dialplan.
    call.phase = 'dialplan';
    if (target.context !== 'faxbot-outbound' || target.extension !== 'send' || !host.hasExtension(target.context, target.extension, target.priority)) {
      // Asterisk: "Channel … sent to invalid extension" and hangs up; our report handler was never pushed.
      hangupRequest({ cause: 16, soft: true });
      varset('STASISSTATUS', 'SUCCESS');
      return destroy(0, undefined, true);
    }
    const v = (name: string): string => call.vars.get(name) ?? '';
    const job = v('FAXJOB');
    const attempt = v('FAXATTEMPT');
    const ctx = 'faxbot-outbound';
    dialplanStep(ctx, 'send', 1, 'NoOp', `faxbot: sending job ${job} attempt ${attempt}`);
    dialplanStep(ctx, 'send', 2, 'Set', 'CHANNEL(hangup_handler_push)=faxbot-outbound-report,s,1');
    call.handlerPushed = true;
    dialplanStep(ctx, 'send', 3, 'Set', `GLOBAL(FAXBOT_RESULT_${job}_${attempt})=v1|STARTED`);
    host.setGlobal(`FAXBOT_RESULT_${job}_${attempt}`, 'v1|STARTED');
    const ecm = v('FAXECM') === 'no' ? 'no' : 'yes';
    dialplanStep(ctx, 'send', 4, 'Set', `FAXOPT(ecm)=${ecm}`);
    dialplanStep(ctx, 'send', 7, 'Set', `FAXOPT(headerinfo)=${v('FAXHEADER')}`);
    dialplanStep(ctx, 'send', 8, 'Set', `FAXOPT(localstationid)=${v('FAXSTATIONID')}`);
    const t38Allowed = v('FAXT38') !== 'no';
    dialplanStep(ctx, 'send', t38Allowed ? 10 : 12, 'SendFAX', `${v('FAXFILE')},${t38Allowed ? 'fz' : 'F'}`);

    // ---- SendFAX (res_fax sendfax_exec).
    call.phase = 'faxing';
    const localId = v('FAXSTATIONID');
    const block = (b: { status: string; error?: string; statusString: string; rsid?: string; bitrate?: string; resolution?: string; pages: string }): void => {
      varset('FAXSTATUS', b.status);
      if (b.error !== undefined) varset('FAXERROR', b.error);
      varset('FAXSTATUSSTRING', b.statusString);
      varset('REMOTESTATIONID', b.rsid ?? '');
      varset('LOCALSTATIONID', localId);
      if (b.bitrate !== undefined) varset('FAXBITRATE', b.bitrate);
      if (b.resolution !== undefined) varset('FAXRESOLUTION', b.resolution);
      varset('FAXMODE', call.faxMode);
      varset('FAXPAGES', b.pages);
    };
    varset('FAXSTATUS', 'FAILED');
    varset('FAXPAGES', '0');
    block({ status: 'FAILED', error: 'INIT_ERROR', statusString: 'error starting fax session', pages: '0' });

    const hangupHandler = (hangupCause: number): void => {
      call.phase = 'ending';
      if (!call.handlerPushed) return;
      // After the Gosub returns, the channel shows the step it hung up in (the stray ChannelDialplan says so).
      const hungUpAt = call.dialplan;
      varset('LOCAL(ARGC)', '0');
      const rctx = 'faxbot-outbound-report';
      dialplanStep(rctx, 's', 1, 'NoOp', `faxbot: result of job ${job} attempt ${attempt}: ${v('FAXSTATUS')}`);
      const b64 = (s: string): string => Buffer.from(`~${s}`).toString('base64');
      const err64 = b64(v('FAXERROR'));
      const str64 = b64(v('FAXSTATUSSTRING'));
      const rsid64 = b64(v('REMOTESTATIONID'));
      dialplanStep(rctx, 's', 2, 'Set', `FAXBOT_ERR64=${err64}`);
      varset('FAXBOT_ERR64', err64);
      dialplanStep(rctx, 's', 3, 'Set', `FAXBOT_STR64=${str64}`);
      varset('FAXBOT_STR64', str64);
      dialplanStep(rctx, 's', 4, 'Set', `FAXBOT_RSID64=${rsid64}`);
      varset('FAXBOT_RSID64', rsid64);
      dialplanStep(rctx, 's', 5, 'Set', `FAXBOT_ECM=${ecm}`);
      varset('FAXBOT_ECM', ecm);
      const record = ['v1', v('FAXSTATUS'), v('FAXPAGES'), v('FAXBITRATE'), v('FAXRESOLUTION'), v('FAXMODE'), ecm, String(hangupCause),
        err64, str64, rsid64, String(Math.floor(Date.now() / 1000))].join('|');
      dialplanStep(rctx, 's', 6, 'Set', `GLOBAL(FAXBOT_RESULT_${job}_${attempt})=${record}`);
      host.setGlobal(`FAXBOT_RESULT_${job}_${attempt}`, record);
      const userevent: Record<string, string> = {
        eventname: 'FaxResult', v: '1', job, attempt, status: v('FAXSTATUS'), pages: v('FAXPAGES'), bitrate: v('FAXBITRATE'),
        resolution: v('FAXRESOLUTION'), mode: v('FAXMODE'), ecm, hangupcause: String(hangupCause), error64: err64, statusstr64: str64, remotestation64: rsid64,
      };
      dialplanStep(rctx, 's', 7, 'UserEvent', `FaxResult,${Object.entries(userevent).slice(1).map(([k, x]) => `${k}: ${x}`).join(',')}`);
      ev('ChannelUserevent', { eventname: 'FaxResult', userevent });
      dialplanStep(rctx, 's', 8, 'Return', '');
      call.dialplan = hungUpAt;
      varset('ARGC', '');
      varset('GOSUB_RETVAL', '');
    };
    /** SendFAX returned -1 with the channel still up: the PBX hangs it up; ChannelDestroyed says 0 "Unknown". */
    const appFailed = (): void => {
      hangupRequest({ cause: 16, soft: true });
      varset('STASISSTATUS', 'SUCCESS');
      hangupHandler(0);
      destroy(0, undefined, true);
    };
    /** SendFAX returned 0: our dialplan runs Hangup(). */
    const dialplanHangup = (): void => {
      dialplanStep(ctx, 'send', t38Allowed ? 11 : 13, 'Hangup', '');
      hangupRequest({ cause: 16, soft: true }, { allOnly: true });
      varset('STASISSTATUS', 'SUCCESS');
      hangupHandler(16);
      destroy(16, undefined, true);
    };
    const hangupBlock = (): void => block({ status: 'FAILED', error: 'HANGUP', statusString: 'remote channel hungup', pages: '0' });
    const droppedBlock = (pages: number, resolution: string): void =>
      block({ status: 'FAILED', error: 'The call dropped prematurely', statusString: 'The call dropped prematurely', bitrate: '14400', resolution, pages: String(pages) });

    const file = v('FAXFILE');
    let readable = file !== '';
    try {
      if (readable) accessSync(file, constants.R_OK);
    } catch {
      readable = false;
    }
    if (!readable) {
      block({ status: 'FAILED', error: 'FILE_ERROR', statusString: 'error reading file', pages: '0' });
      return appFailed();
    }
    if (scenario.kind === 't38_fail' && t38Allowed) {
      await sleep(15.5); // 10.5 s of CNG waiting for the receiver's re-INVITE, then 5 s for ours
      block({ status: 'FAILED', error: 'T38_NEG_ERROR', statusString: 'error negotiating T.38', pages: '0' });
      return appFailed();
    }
    if (scenario.kind === 'success' && scenario.t38 && t38Allowed) {
      await sleep(3); // the receiver's re-INVITE to m=image udptl t38
      call.faxMode = 'T38';
    }
    block({ status: '', error: '', statusString: '', pages: '0' });

    // A held number keeps the fax session open (no page goes) until the test releases it.
    try {
      await host.gate(call.number, call.signal);
    } catch {
      throw new Interrupted();
    }
    const spp = scenario.secondsPerPage ?? 12;
    const sendPages = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        await sleep(spp);
        call.pagesSent = i + 1;
      }
    };
    switch (scenario.kind) {
      case 'success':
      case 't38_fail': {
        const pages = scenario.pages ?? 1;
        await sendPages(pages);
        const rsid = scenario.kind === 'success' ? (scenario.remoteStationId ?? '+15550001000') : '+15550001000';
        const bitrate = String(scenario.kind === 'success' ? (scenario.bitRate ?? 14400) : 9600);
        const remoteFirst = scenario.kind === 'success' ? scenario.remoteHangsUpFirst !== false : true;
        if (remoteFirst) {
          hangupRequest({ cause: 16 });
          hangupBlock();
          await sleep(0.012);
          block({ status: 'SUCCESS', error: 'HANGUP', statusString: 'OK', rsid, bitrate, resolution: '8031x7700', pages: String(pages) });
          varset('STASISSTATUS', 'SUCCESS');
          hangupHandler(16);
          return destroy(16);
        }
        block({ status: 'SUCCESS', statusString: 'OK', rsid, bitrate, resolution: '8031x7700', pages: String(pages) });
        return dialplanHangup();
      }
      case 'remote_hangup':
        await sleep(scenario.afterSec ?? 2);
        hangupRequest({ cause: 16 });
        hangupBlock();
        await sleep(0.015);
        droppedBlock(0, '0x0');
        hangupRequest({ cause: 16, soft: true });
        varset('STASISSTATUS', 'SUCCESS');
        hangupHandler(16);
        return destroy(16);
      case 'partial':
        await sendPages(scenario.pagesSent);
        await sleep(spp / 2);
        hangupRequest({}); // a CLI "channel request hangup" on the far side: no cause at all
        hangupBlock();
        await sleep(0.012);
        droppedBlock(scenario.pagesSent, '8031x7700');
        hangupRequest({ cause: 16, soft: true });
        varset('STASISSTATUS', 'SUCCESS');
        hangupHandler(0);
        return destroy(0);
      case 'fax_error':
        await sendPages(scenario.pagesSent ?? 0);
        await sleep(spp / 2);
        block({ status: 'FAILED', error: scenario.error, statusString: scenario.error, bitrate: '14400', resolution: '8031x7700', pages: String(scenario.pagesSent ?? 0) });
        return dialplanHangup();
      default:
        return;
    }
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
    if (call.interruptedBy === 'restart') {
      call.phase = 'gone';
      host.removed(call);
      return;
    }
    localHangup(call, host, ev);
  }
}

/** ARI DELETE arrived mid-call: what Asterisk shows, by phase. */
function localHangup(
  call: SimCall,
  host: CallHost,
  ev: (type: string, fields?: Record<string, unknown>, opts?: EmitOptions) => void,
): void {
  const cause = call.localHangupCause;
  ev('ChannelHangupRequest', { cause, soft: true });
  if (call.phase === 'dialing') {
    host.emit(call, { type: 'Dial', timestamp: astTime(), dialstatus: 'CANCEL', forward: '', dialstring: call.dialstring, peer: call.snapshot() });
  } else if (call.phase === 'stasis') {
    call.inStasis = false;
    ev('StasisEnd');
  } else if (call.phase === 'faxing') {
    const localId = call.vars.get('FAXSTATIONID') ?? '';
    const set = (variable: string, value: string): void => {
      call.vars.set(variable, value);
      host.emit(call, { variable, value, type: 'ChannelVarset', timestamp: astTime(), channel: call.snapshot() });
    };
    for (const [k, x] of [['FAXSTATUS', 'FAILED'], ['FAXERROR', 'HANGUP'], ['FAXSTATUSSTRING', 'remote channel hungup'], ['REMOTESTATIONID', ''],
      ['LOCALSTATIONID', localId], ['FAXMODE', call.faxMode], ['FAXPAGES', '0']] as const) set(k, x);
    for (const [k, x] of [['FAXSTATUS', 'FAILED'], ['FAXERROR', 'The call dropped prematurely'], ['FAXSTATUSSTRING', 'The call dropped prematurely'],
      ['REMOTESTATIONID', ''], ['LOCALSTATIONID', localId], ['FAXBITRATE', '14400'], ['FAXRESOLUTION', '8031x7700'], ['FAXMODE', call.faxMode],
      ['FAXPAGES', String(call.pagesSent)]] as const) set(k, x);
    if (call.handlerPushed) {
      const job = call.vars.get('FAXJOB') ?? '';
      const attempt = call.vars.get('FAXATTEMPT') ?? '';
      const b64 = (s: string): string => Buffer.from(`~${s}`).toString('base64');
      const ecm = call.vars.get('FAXECM') === 'no' ? 'no' : 'yes';
      const err64 = b64('The call dropped prematurely');
      const rsid64 = b64('');
      const record = ['v1', 'FAILED', String(call.pagesSent), '14400', '8031x7700', call.faxMode, ecm, String(cause), err64, err64, rsid64,
        String(Math.floor(Date.now() / 1000))].join('|');
      host.setGlobal(`FAXBOT_RESULT_${job}_${attempt}`, record);
      ev('ChannelUserevent', {
        eventname: 'FaxResult',
        userevent: {
          eventname: 'FaxResult', v: '1', job, attempt, status: 'FAILED', pages: String(call.pagesSent), bitrate: '14400', resolution: '8031x7700',
          mode: call.faxMode, ecm, hangupcause: String(cause), error64: err64, statusstr64: err64, remotestation64: rsid64,
        },
      });
    }
  }
  call.phase = 'gone';
  ev('ChannelDestroyed', { cause, cause_txt: CAUSE_TXT[cause] ?? 'Unknown' });
  host.removed(call);
}
