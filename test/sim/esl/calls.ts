// Simulated call flows: what FreeSWITCH emits, step by step, for an outbound txfax call and an inbound rxfax call.
//
// Sequences and timings follow fixtures/freeswitch (see scenarios.ts TIMING); a uuid_kill interrupts
// any wait, a restart or close aborts the flow silently (its events are never sent).
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fsStamp, type Header, type SimChannel, type SimContext } from './channel.js';
import { Q850, T30_TEXT, TIMING, type Scenario } from './scenarios.js';
import { countTiffPages, writeBlankFaxTiff } from './tiff.js';

export interface SimEvent {
  name: string;
  subclass?: string;
  headers: Header[];
  body?: string;
}

export class Aborted extends Error {}

export interface Call {
  ch: SimChannel;
  abort: AbortController;
  killCause: string | null;
  wake: (() => void) | null;
  done: Promise<void>;
}

export interface ReceiveFaxOptions {
  to: string;
  from: string;
  pages: number;
  /** Where rxfax writes the TIFF (default <spoolDir>/<uuid>.tif). */
  file?: string;
  /** False: the sender hangs up after `pages` pages (code 49); with 0 pages no file is left. */
  success?: boolean;
  remoteStationId?: string;
}

/** What the flows need from the simulator. */
export interface CallHost {
  readonly ctx: SimContext;
  /** Real milliseconds per simulated millisecond. */
  readonly timeScale: number;
  readonly timers: Set<NodeJS.Timeout>;
  readonly calls: Map<string, Call>;
  fire(ev: SimEvent): void;
  /** The next session number (variable_session_id). */
  sessionNo(): number;
  /** A hold on this number (EslSim.hold): wait for `open`, then call `left`. */
  gate(number: string): { open: Promise<void>; left: () => void } | null;
}

export interface OutboundParams {
  vars: Record<string, string>;
  gateway: string;
  number: string;
  app: string | null;
  appArg: string | null;
  scenario: Scenario;
  profile: string;
}

export class CallFlows {
  constructor(private readonly host: CallHost) {}

  /** Waits simulated ms; true if uuid_kill interrupted; throws Aborted on restart/close. */
  private sleep(call: Call, ms: number): Promise<boolean> {
    if (call.abort.signal.aborted) return Promise.reject(new Aborted());
    if (call.killCause) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(t);
        this.host.timers.delete(t);
        reject(new Aborted());
      };
      const t = setTimeout(() => {
        this.host.timers.delete(t);
        call.wake = null;
        call.abort.signal.removeEventListener('abort', onAbort);
        resolve(false);
      }, Math.max(0, ms * this.host.timeScale));
      this.host.timers.add(t);
      call.abort.signal.addEventListener('abort', onAbort, { once: true });
      call.wake = () => {
        clearTimeout(t);
        this.host.timers.delete(t);
        call.wake = null;
        call.abort.signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
    });
  }

  /** Lets queued work (a BACKGROUND_JOB being fired) go out before the next event; ignores uuid_kill. */
  private tick(call: Call): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.host.timers.delete(t);
        if (call.abort.signal.aborted) reject(new Aborted());
        else resolve();
      }, 1);
      this.host.timers.add(t);
    });
  }

  private emit(call: Call, name: string, extra: Header[] = [], subclass?: string): void {
    if (call.abort.signal.aborted) throw new Aborted();
    this.host.fire({ name: subclass ? 'CUSTOM' : name, ...(subclass ? { subclass } : {}), headers: call.ch.event(this.host.ctx, name, extra, subclass) });
  }

  private createVars(ch: SimChannel, gateway: string, number: string, vars: Record<string, string>, profile: string): void {
    ch.set('direction', 'outbound');
    ch.set('is_outbound', 'true');
    ch.set('uuid', ch.uuid);
    ch.set('call_uuid', ch.uuid);
    ch.set('session_id', String(this.host.sessionNo()));
    ch.set('sip_gateway_name', gateway);
    ch.set('sip_local_network_addr', '127.0.0.1');
    ch.set('sip_profile_name', 'gateway');
    ch.set('video_media_flow', 'disabled');
    ch.set('text_media_flow', 'disabled');
    ch.set('channel_name', ch.channelName);
    ch.set('sip_destination_url', `sip:${number}@${gateway}.invalid:5060`);
    for (const [k, v] of Object.entries(vars)) ch.set(k, v);
    ch.set('originate_early_media', 'false');
    ch.set('originate_endpoint', 'sofia');
    ch.set('rtp_use_codec_string', 'PCMU,PCMA');
    ch.set('local_media_ip', '127.0.0.1');
    ch.set('local_media_port', '16056');
    ch.set('advertised_media_ip', '127.0.0.1');
    ch.set('audio_media_flow', 'sendrecv');
    ch.set('rtp_local_sdp_str', 'v=0\r\no=FreeSWITCH 1795764142 1795764143 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 16056 RTP/AVP 0 8 101 13\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=rtpmap:13 CN/8000\r\na=ptime:20\r\na=sendrecv\r\n');
    ch.set('sip_outgoing_contact_uri', `<sip:gw+${gateway}@127.0.0.1:5080;transport=udp;gw=${gateway}>`);
    ch.set('sip_req_uri', `${number}@${gateway}.invalid:5060`);
    ch.set('sip_to_host', `${gateway}.invalid:5060`);
    ch.set('sip_from_host', '127.0.0.1');
    ch.set('sofia_profile_name', profile);
    ch.set('recovery_profile_name', profile);
    ch.set('sofia_profile_url', 'sip:mod_sofia@127.0.0.1:5080');
  }

  private sipDialogVars(ch: SimChannel, number: string): void {
    ch.set('sip_local_network_addr', '127.0.0.1');
    ch.set('sip_reply_host', '127.0.0.1');
    ch.set('sip_reply_port', '5060');
    ch.set('sip_network_ip', '127.0.0.1');
    ch.set('sip_network_port', '5060');
    ch.set('sip_user_agent', 'FreeSWITCH-mod_sofia/1.10.12-release~64bit');
    ch.set('sip_from_user', ch.callerIdNumber);
    ch.set('sip_to_user', number);
    ch.set('sip_call_id', randomUUID());
  }

  private endStamps(ch: SimChannel): void {
    const end = this.host.ctx.nowUs();
    const dur = Math.max(0, Math.round((end - ch.createdUs) / 1e6));
    const bill = ch.answeredUs ? Math.max(0, Math.round((end - ch.answeredUs) / 1e6)) : 0;
    ch.set('digits_dialed', 'none');
    ch.set('start_stamp', fsStamp(ch.createdUs));
    ch.set('profile_start_stamp', fsStamp(ch.createdUs));
    if (ch.answeredUs) ch.set('answer_stamp', fsStamp(ch.answeredUs));
    ch.set('end_stamp', fsStamp(end));
    ch.set('start_epoch', String(Math.floor(ch.createdUs / 1e6)));
    ch.set('start_uepoch', String(ch.createdUs));
    ch.set('answer_epoch', String(Math.floor(ch.answeredUs / 1e6)));
    ch.set('answer_uepoch', String(ch.answeredUs));
    ch.set('end_epoch', String(Math.floor(end / 1e6)));
    ch.set('end_uepoch', String(end));
    if (ch.get('current_application')) {
      ch.set('last_app', ch.get('current_application')!);
      ch.set('last_arg', ch.get('current_application_data') ?? '');
    }
    ch.set('caller_id', `"${ch.callerIdName}" <${ch.callerIdNumber}>`);
    ch.set('duration', String(dur));
    ch.set('billsec', String(bill));
    ch.set('mduration', String(dur * 1000));
    ch.set('billmsec', String(bill * 1000));
    ch.set('uduration', String(dur * 1e6));
    ch.set('billusec', String(bill * 1e6));
  }

  private hangup(call: Call, cause: string, disposition: string, sip?: { status: number; phrase?: string }): void {
    const ch = call.ch;
    ch.hangupCause = cause;
    ch.answerState = 'hangup';
    ch.hangupUs = this.host.ctx.nowUs();
    ch.stateNumber = 10;
    if (sip) {
      ch.set('sip_hangup_disposition', disposition);
      if (!ch.answeredUs) {
        ch.set('sip_invite_failure_status', String(sip.status));
        if (sip.phrase) ch.set('sip_invite_failure_phrase', sip.phrase);
      }
      ch.set('sip_term_status', String(sip.status));
      ch.set('proto_specific_hangup_cause', `sip:${sip.status}`);
      ch.set('sip_term_cause', String(Q850[cause] ?? 16));
    }
    this.emit(call, 'CHANNEL_HANGUP');
    if (!sip) ch.set('sip_hangup_disposition', disposition);
  }

  private hangupComplete(call: Call): void {
    const ch = call.ch;
    ch.set('hangup_cause', ch.hangupCause ?? 'NORMAL_CLEARING');
    ch.set('hangup_cause_q850', String(Q850[ch.hangupCause ?? 'NORMAL_CLEARING'] ?? 16));
    this.endStamps(ch);
    ch.setState('CS_REPORTING', 11, 'HANGUP');
    this.emit(call, 'CHANNEL_HANGUP_COMPLETE');
    this.host.calls.delete(ch.uuid);
  }

  async runOutbound(call: Call, p: OutboundParams, originateDone: (body: string) => void): Promise<void> {
    const { ch } = call;
    const s = p.scenario;
    const timeoutMs = Number(p.vars['originate_timeout'] ?? 60) * 1000;
    if (await this.sleep(call, TIMING.createAfterReply)) return this.cancelBeforeCreate(call, originateDone);
    this.createVars(ch, p.gateway, p.number, p.vars, p.profile);
    this.emit(call, 'CHANNEL_CREATE');
    ch.setState('CS_CONSUME_MEDIA', 7, 'DOWN');

    // Before answer.
    if (s.reject) {
      const killed = await this.sleep(call, TIMING.rejectAfter);
      this.sipDialogVars(ch, p.number);
      const cause = killed ? call.killCause! : s.reject.cause;
      this.hangup(call, cause, killed ? 'send_cancel' : 'recv_refuse', killed ? undefined : { status: s.reject.sip ?? 500, phrase: s.reject.phrase });
      this.hangupComplete(call);
      await this.sleep(call, TIMING.jobAfterHangupComplete);
      originateDone(`-ERR ${cause}\n`);
      return;
    }
    const ring = s.noAnswer ? Infinity : (s.ringMs ?? TIMING.ring);
    if (ring >= timeoutMs || (await this.sleep(call, ring))) {
      const killed = ring < timeoutMs || (await this.sleep(call, timeoutMs));
      ch.setState('CS_CONSUME_MEDIA', 10, 'RINGING');
      this.sipDialogVars(ch, p.number);
      const cause = killed ? call.killCause! : 'NO_ANSWER';
      ch.set('sip_invite_failure_status', '487');
      this.hangup(call, cause, 'send_cancel');
      originateDone(`-ERR ${cause}\n`);
      await this.tick(call); // recorded: HANGUP, BACKGROUND_JOB, then HANGUP_COMPLETE
      this.hangupComplete(call);
      return;
    }

    // Answered.
    this.sipDialogVars(ch, p.number);
    ch.codecsKnown = true;
    ch.answeredUs = this.host.ctx.nowUs();
    ch.answerState = 'answered';
    ch.set('endpoint_disposition', 'ANSWER');
    ch.set('remote_media_ip', '127.0.0.1');
    ch.set('remote_media_port', '17040');
    ch.set('read_codec', 'PCMU');
    ch.set('write_codec', 'PCMU');
    this.emit(call, 'CHANNEL_ANSWER');
    await this.sleep(call, TIMING.jobAfterAnswer);
    originateDone(`+OK ${ch.uuid}\n`);
    await this.tick(call); // recorded: BACKGROUND_JOB before CHANNEL_EXECUTE
    ch.flipped = true;
    ch.hitDialplan = true;
    ch.set('pre_transfer_caller_id_number', ch.callerIdNumber);
    ch.set('channel_cid_flipped', 'yes');
    ch.set('call_uuid', ch.uuid);
    ch.setState('CS_EXECUTE', 4, 'ACTIVE');
    if (p.app !== 'txfax') {
      // Only &txfax() is simulated; anything else just hangs up.
      this.hangup(call, 'NORMAL_CLEARING', 'send_bye');
      this.hangupComplete(call);
      return;
    }
    await this.runTxfax(call, p.appArg ?? '', p.vars, s, p.number);
  }

  private cancelBeforeCreate(call: Call, originateDone: (body: string) => void): void {
    this.host.calls.delete(call.ch.uuid);
    originateDone(`-ERR ${call.killCause ?? 'ORIGINATOR_CANCEL'}\n`);
  }

  /** Waits at a hold on this number until it is released; a restart or close ends the flow. */
  private async held(call: Call, number: string): Promise<void> {
    const g = this.host.gate(number);
    if (!g) return;
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(new Aborted());
        if (call.abort.signal.aborted) return onAbort();
        call.abort.signal.addEventListener('abort', onAbort, { once: true });
        void g.open.then(() => {
          call.abort.signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    } finally {
      g.left();
    }
  }

  private async runTxfax(call: Call, path: string, vars: Record<string, string>, s: Scenario, number: string): Promise<void> {
    const { ch } = call;
    const appUuid = randomUUID();
    ch.set('current_application_data', path);
    ch.set('current_application', 'txfax');
    const appHeaders = (response?: string): Header[] => [
      ['Application', 'txfax'],
      ['Application-Data', path],
      ...(response !== undefined ? ([['Application-Response', response]] as Header[]) : []),
      ['Application-UUID', appUuid],
    ];
    this.emit(call, 'CHANNEL_EXECUTE', appHeaders());

    // Like mod_spandsp: a missing file ends txfax at once, without a fax session or result event.
    if (!existsSync(path)) {
      const resp = 'Cannot send non-existant fax file';
      ch.set('current_application_response', resp);
      this.emit(call, 'CHANNEL_EXECUTE_COMPLETE', appHeaders(resp));
      this.hangup(call, 'NORMAL_CLEARING', 'send_bye');
      this.hangupComplete(call);
      return;
    }
    let total: number | null = null;
    try {
      total = countTiffPages(readFileSync(path));
    } catch {
      total = null;
    }
    const ecm = vars['fax_use_ecm'] !== 'false';
    const v17 = vars['fax_disable_v17'] !== 'true';
    const rate = v17 ? 14400 : 9600;
    const ident = vars['fax_ident'] ?? 'SpanDSP Fax Ident';
    const remoteId = s.remoteStationId ?? '+15550000002';
    ch.set('fax_v17_disabled', v17 ? '0' : '1');
    ch.set('fax_ecm_requested', ecm ? '1' : '0');
    ch.set('fax_filename', path);
    ch.set('read_codec', 'L16');
    ch.readCodec = 'L16';
    let sent = 0;
    let negotiated = false;
    let t38 = 'off';

    const phaseE = (code: number) => {
      const success = code === 0;
      const known = negotiated;
      ch.set('fax_success', success ? '1' : '0');
      ch.set('fax_result_code', String(code));
      ch.set('fax_result_text', T30_TEXT[code] ?? `T.30 error ${code}`);
      ch.set('fax_ecm_used', known && ecm ? 'on' : 'off');
      ch.set('fax_t38_status', t38);
      ch.set('fax_local_station_id', ident);
      if (known) ch.set('fax_remote_station_id', remoteId);
      ch.set('fax_document_transferred_pages', String(sent));
      ch.set('fax_document_total_pages', String(known ? (total ?? 0) : 0));
      ch.set('fax_image_resolution', sent > 0 ? '8040x7700' : '0x0');
      ch.set('fax_image_size', String(sent * 855));
      ch.set('fax_bad_rows', '0');
      ch.set('fax_transfer_rate', String(rate));
      const h: Header[] = [
        ['fax-success', success ? '1' : '0'],
        ['fax-result-code', String(code)],
        ['fax-result-text', T30_TEXT[code] ?? `T.30 error ${code}`],
        ['fax-document-transferred-pages', String(sent)],
        ['fax-document-total-pages', String(known ? (total ?? 0) : 0)],
        ['fax-image-resolution', sent > 0 ? '8040x7700' : '0x0'],
        ['fax-image-size', String(sent * 855)],
        ['fax-bad-rows', '0'],
        ['fax-transfer-rate', String(rate)],
        ['fax-ecm-used', known && ecm ? 'on' : 'off'],
        ['fax-t38-status', t38],
        ['fax-local-station-id', ident],
      ];
      if (known) h.push(['fax-remote-station-id', remoteId]);
      this.emit(call, 'spandsp::txfaxresult', h, 'spandsp::txfaxresult');
    };
    const finish = () => {
      ch.set('read_codec', 'PCMU');
      ch.readCodec = 'PCMU';
      this.emit(call, 'CHANNEL_EXECUTE_COMPLETE', appHeaders('_none_'));
    };
    // Someone hangs up while the fax runs: HANGUP, then phase E with code 49, then the app ends.
    const dropped = async (cause: string, disposition: string, code = 49) => {
      this.hangup(call, cause, disposition, disposition === 'recv_bye' ? { status: 200 } : undefined);
      phaseE(code);
      finish();
      await this.sleep(call, TIMING.hangupCompleteAfterDrop).catch(() => undefined);
      this.hangupComplete(call);
    };
    const killedNow = () => dropped(call.killCause ?? 'NORMAL_CLEARING', 'send_bye');

    if (total === null) {
      // Assumption (not recorded): spandsp cannot open a non-TIFF file and reports T.30 code 41.
      phaseE(41);
      finish();
      this.hangup(call, 'NORMAL_CLEARING', 'send_bye');
      this.hangupComplete(call);
      return;
    }
    if (s.remoteHangupAfterMs !== undefined) {
      if (await this.sleep(call, s.remoteHangupAfterMs)) return killedNow();
      return dropped('NORMAL_CLEARING', 'recv_bye');
    }
    if (s.silent) {
      if (await this.sleep(call, TIMING.silentGiveUp)) return killedNow();
      // spandsp gives up by itself: result first (still answered, no Hangup-Cause), then FS hangs up.
      phaseE(2);
      finish();
      this.hangup(call, 'NORMAL_CLEARING', 'send_bye');
      this.hangupComplete(call);
      return;
    }
    const ourEnable = vars['fax_enable_t38'] !== 'false';
    const ourRequest = vars['fax_enable_t38_request'] === 'true';
    if (s.t38 === 'request') {
      if (!ourEnable) {
        // Our leg refuses the far end's T.38 re-INVITE (488): the far end gives up on the call.
        if (await this.sleep(call, TIMING.negotiateAudio)) return killedNow();
        return dropped('INCOMPATIBLE_DESTINATION', 'recv_bye');
      }
      t38 = 'negotiated';
    } else if (ourRequest) {
      t38 = s.t38 === 'accept' ? 'negotiated' : 'refused';
    }
    if (await this.sleep(call, t38 === 'negotiated' ? TIMING.negotiateT38 : TIMING.negotiateAudio)) return killedNow();
    negotiated = true;
    ch.set('fax_transfer_rate', String(rate));
    ch.set('fax_document_total_pages', '0');
    ch.set('fax_ecm_used', ecm ? 'on' : 'off');
    ch.set('fax_t38_status', t38);
    ch.set('fax_local_station_id', ident);
    ch.set('fax_remote_station_id', remoteId);
    this.emit(
      call,
      'spandsp::txfaxnegociateresult',
      [
        ['uuid', ch.uuid],
        ['fax-transfer-rate', String(rate)],
        ['fax-ecm-used', ecm ? 'on' : 'off'],
        ['fax-t38-status', t38],
        ['fax-local-station-id', ident],
        ['fax-remote-station-id', remoteId],
        ['fax-document-total-pages', '0'],
      ],
      'spandsp::txfaxnegociateresult',
    );
    await this.held(call, number);
    if (s.failCode !== undefined) {
      phaseE(s.failCode);
      finish();
      this.hangup(call, 'NORMAL_CLEARING', 'send_bye');
      this.hangupComplete(call);
      return;
    }
    for (let page = 1; page <= total; page++) {
      if (s.dropAfterPages !== undefined && sent >= s.dropAfterPages) {
        if (await this.sleep(call, TIMING.dropAfterLastPage)) return killedNow();
        return dropped('NORMAL_CLEARING', 'recv_bye', s.dropCode ?? 49);
      }
      if (await this.sleep(call, page === 1 ? TIMING.firstPage : TIMING.nextPage)) return killedNow();
      sent = page;
      const pageVars: Header[] = [
        ['fax-image-resolution', '8040x7700'],
        ['fax-file-image-resolution', '8031x7716'],
        ['fax-image-size', '2349'],
        ['fax-image-pixel-size', '1728x2200'],
        ['fax-file-image-pixel-size', '1728x2200'],
        ['fax-bad-rows', '0'],
        ['fax-longest-bad-row-run', '0'],
        ['fax-encoding', '32'],
        ['fax-encoding-name', 'T.85(L0)'],
      ];
      for (const [k, v] of pageVars) ch.set(k.replace(/-/g, '_'), v);
      ch.set('fax_document_transferred_pages', String(sent));
      ch.set('fax_document_total_pages', String(total));
      this.emit(
        call,
        'spandsp::txfaxpageresult',
        [['uuid', ch.uuid], ['fax-document-transferred-pages', String(sent)], ['fax-document-total-pages', String(total)], ...pageVars],
        'spandsp::txfaxpageresult',
      );
    }
    if (await this.sleep(call, TIMING.byeAfterLastPage)) return killedNow();
    // The receiver hangs up after the last page: HANGUP, then the result, then the app ends.
    ch.set('sip_reason', 'Q.850;cause=16;text="NORMAL_CLEARING"');
    this.hangup(call, 'NORMAL_CLEARING', 'recv_bye', { status: 200 });
    phaseE(0);
    finish();
    this.hangupComplete(call);
  }


  /** An inbound leg: answer, rxfax (rx* events, the TIFF written when a page arrived), hangup. */
  async runInbound(call: Call, o: ReceiveFaxOptions, file: string): Promise<boolean> {
    const { ch } = call;
    const uuid = ch.uuid;
    const success = o.success ?? true;
    let written = false;
    ch.hitDialplan = true;
    ch.codecsKnown = true; // an inbound leg has its codecs from the INVITE's SDP already
    ch.set('direction', 'inbound');
    ch.set('uuid', uuid);
    ch.set('session_id', String(this.host.sessionNo()));
    ch.set('sip_from_user', o.from);
    ch.set('sip_to_user', o.to);
    ch.set('sip_req_user', o.to);
    ch.set('channel_name', ch.channelName);
    this.emit(call, 'CHANNEL_CREATE');
    ch.setState('CS_EXECUTE', 4, 'RINGING');
    ch.set('faxbot_rx', 'true');
    ch.set('fax_enable_t38', 'true');
    ch.set('fax_ident', '+15550009999');
    const app = (name: string, data: string, fn: () => Promise<void> | void) => async () => {
      const id = randomUUID();
      ch.set('current_application_data', data);
      ch.set('current_application', name);
      this.emit(call, 'CHANNEL_EXECUTE', [['Application', name], ['Application-Data', data], ['Application-UUID', id]]);
      await fn();
      this.emit(call, 'CHANNEL_EXECUTE_COMPLETE', [
        ['Application', name],
        ['Application-Data', data],
        ['Application-Response', '_none_'],
        ['Application-UUID', id],
      ]);
    };
    await app('answer', '', () => {
      ch.codecsKnown = true;
      ch.answeredUs = this.host.ctx.nowUs();
      ch.answerState = 'answered';
      ch.setState('CS_EXECUTE', 4, 'ACTIVE');
      ch.set('endpoint_disposition', 'ANSWER');
      this.emit(call, 'CHANNEL_ANSWER');
    })();
    let got = 0;
    await app('rxfax', file, async () => {
      ch.set('fax_filename', file);
      await this.sleep(call, TIMING.negotiateAudio);
      const remoteId = o.remoteStationId ?? '+15550001111';
      this.emit(
        call,
        'spandsp::rxfaxnegociateresult',
        [['uuid', uuid], ['fax-transfer-rate', '14400'], ['fax-ecm-used', 'on'], ['fax-t38-status', 'off'], ['fax-local-station-id', '+15550009999'], ['fax-remote-station-id', remoteId]],
        'spandsp::rxfaxnegociateresult',
      );
      for (let p = 1; p <= o.pages; p++) {
        await this.sleep(call, p === 1 ? TIMING.firstPage : TIMING.nextPage);
        got = p;
        this.emit(call, 'spandsp::rxfaxpageresult', [['uuid', uuid], ['fax-document-transferred-pages', String(p)], ['fax-image-resolution', '8040x7700']], 'spandsp::rxfaxpageresult');
      }
      if (got > 0) {
        writeBlankFaxTiff(file, got);
        written = true;
      }
      const code = success ? 0 : 49;
      if (!success) this.hangup(call, 'NORMAL_CLEARING', 'recv_bye', { status: 200 });
      const res: [string, string][] = [
        ['fax_success', success ? '1' : '0'],
        ['fax_result_code', String(code)],
        ['fax_result_text', T30_TEXT[code]!],
        ['fax_document_transferred_pages', String(got)],
        ['fax_document_total_pages', String(got)],
        ['fax_image_resolution', got > 0 ? '8040x7700' : '0x0'],
        ['fax_image_size', '0'],
        ['fax_bad_rows', '0'],
        ['fax_transfer_rate', '14400'],
        ['fax_ecm_used', 'on'],
        ['fax_t38_status', 'off'],
        ['fax_local_station_id', '+15550009999'],
        ['fax_remote_station_id', remoteId],
      ];
      for (const [k, v] of res) ch.set(k, v);
      this.emit(call, 'spandsp::rxfaxresult', res.map(([k, v]) => [k.replace(/_/g, '-'), v] as Header), 'spandsp::rxfaxresult');
    })();
    if (success) {
      await app('hangup', '', () => this.hangup(call, 'NORMAL_CLEARING', 'send_bye'))();
    }
    this.hangupComplete(call);
    return written;
  }
}
