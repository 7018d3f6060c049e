// Per-call state machine for one outbound fax channel: feed it that channel's ARI events in order, get one Outcome.
//
// Pure logic, no I/O. What the recordings taught it (fixtures/asterisk, Asterisk 20.20.1):
// - res_fax sets FAXSTATUS=FAILED/INIT_ERROR when SendFAX starts and clears it, then, when the far end
//   hangs up first, FAILED/HANGUP 10-15 ms before the real SUCCESS; FAXERROR stays HANGUP on success.
//   So values are "last one wins" and the hangup handler's UserEvent, when present, is the answer.
// - Busy/reject send ChannelHangupRequest (with the cause) possibly before the final Dial; no-answer has
//   no final Dial and no HangupRequest at all; Dial says NOANSWER for a 403 reject: causes beat dialstatus.
// - A CLI hang-up on the far side gives a HangupRequest without `cause` and ChannelDestroyed cause 0.
// - A stray ChannelDialplan can follow ChannelDestroyed: everything after destruction is ignored.
import { classifyCause } from '../pbx/causes.js';
import { T30_CALLDROPPED, t30Class, t30CodeFromText, t30Error, t30Text } from '../pbx/t30.js';
import type { FailureClass, Outcome } from '../types.js';
import type { AriEvent } from './ari-types.js';
import { eventChannelId } from './ari-types.js';
import { FAX_RESULT_EVENT, parseChannelId, parseFaxResultEvent, type FaxReport, type ResultRecord } from './dialplan-contract.js';

export type FaxCallPhase = 'dialing' | 'ringing' | 'answered' | 'faxing' | 'ended';

export type FaxCallSignal =
  /** The call was answered and sits in our Stasis app: the owner must /continue it into the fax context. */
  | { kind: 'stasis_start'; args: string[] }
  | { kind: 'answered' }
  /** SendFAX began (first res_fax variable seen). */
  | { kind: 'fax_started' }
  | { kind: 'ended'; outcome: Outcome };

/** The last value seen of each res_fax result variable. */
interface FaxVars {
  FAXSTATUS?: string;
  FAXERROR?: string;
  FAXSTATUSSTRING?: string;
  REMOTESTATIONID?: string;
  FAXBITRATE?: string;
  FAXRESOLUTION?: string;
  FAXMODE?: string;
  FAXPAGES?: string;
}

const FAX_VARS: ReadonlySet<string> = new Set([
  'FAXSTATUS', 'FAXERROR', 'FAXSTATUSSTRING', 'REMOTESTATIONID', 'FAXBITRATE', 'FAXRESOLUTION', 'FAXMODE', 'FAXPAGES',
]);

/** Everything the decision uses; also what a test or an admin view can inspect. */
export interface CallFacts {
  answered: boolean;
  /** Last non-empty Dial status (RINGING, ANSWER, BUSY, NOANSWER…). */
  dialStatus: string | null;
  faxStarted: boolean;
  vars: FaxVars;
  /** The hangup handler's report (UserEvent, or the GLOBAL record during reconciliation). */
  report: FaxReport | null;
  /** Cause of the first HangupRequest that was not our own soft hangup. */
  requestCause: number | null;
  requestTechCause: number | null;
  destroyedCause: number | null;
  destroyedTechCause: number | null;
  destroyed: boolean;
  /** Events of this call may have been lost (the WebSocket dropped while it was up). */
  eventGap: boolean;
}

export interface FaxCallOptions {
  /** Pages in the document, for "N of M pages" errors. */
  totalPages?: number | null;
}

export class FaxCall {
  private readonly f: CallFacts = {
    answered: false,
    dialStatus: null,
    faxStarted: false,
    vars: {},
    report: null,
    requestCause: null,
    requestTechCause: null,
    destroyedCause: null,
    destroyedTechCause: null,
    destroyed: false,
    eventGap: false,
  };
  private _phase: FaxCallPhase = 'dialing';
  private _outcome: Outcome | null = null;
  private readonly ids: { jobId: string; attemptNo: number } | null;

  constructor(readonly channelId: string, private readonly opts: FaxCallOptions = {}) {
    this.ids = parseChannelId(channelId);
  }

  get phase(): FaxCallPhase {
    return this._phase;
  }

  get ended(): boolean {
    return this._outcome !== null;
  }

  get outcome(): Outcome | null {
    return this._outcome;
  }

  get facts(): Readonly<CallFacts> {
    return this.f;
  }

  /** Marks that events of this call may have been lost (call it when the WebSocket drops mid-call). */
  noteEventGap(): void {
    if (!this.ended) this.f.eventGap = true;
  }

  /** Feeds one event (others' events and anything after ChannelDestroyed are ignored). */
  feed(ev: AriEvent): FaxCallSignal[] {
    if (this.ended || ev.type === 'Other' || eventChannelId(ev) !== this.channelId) return [];
    const out: FaxCallSignal[] = [];
    const markAnswered = (): void => {
      if (this.f.answered) return;
      this.f.answered = true;
      if (this._phase === 'dialing' || this._phase === 'ringing') this._phase = 'answered';
      out.push({ kind: 'answered' });
    };

    switch (ev.type) {
      case 'StasisStart':
        markAnswered();
        out.push({ kind: 'stasis_start', args: [...ev.args] });
        break;
      case 'ChannelStateChange':
        if (ev.channel.state === 'Up') markAnswered();
        else if (ev.channel.state === 'Ringing' && this._phase === 'dialing') this._phase = 'ringing';
        break;
      case 'Dial':
        if (ev.dialstatus !== '') this.f.dialStatus = ev.dialstatus;
        if (ev.dialstatus === 'ANSWER') markAnswered();
        else if (ev.dialstatus === 'RINGING' && this._phase === 'dialing') this._phase = 'ringing';
        break;
      case 'ChannelVarset':
        if (FAX_VARS.has(ev.variable)) {
          this.f.vars[ev.variable as keyof FaxVars] = ev.value;
          if (!this.f.faxStarted) {
            this.f.faxStarted = true;
            this._phase = 'faxing';
            out.push({ kind: 'fax_started' });
          }
        }
        break;
      case 'ChannelUserevent': {
        if (ev.eventname !== FAX_RESULT_EVENT) break;
        const u = ev.userevent;
        // A report for another job or attempt on this channel id can only be a misconfiguration; do not trust it.
        if (this.ids && u.job !== undefined && u.job !== this.ids.jobId) break;
        if (this.ids && u.attempt !== undefined && u.attempt !== String(this.ids.attemptNo)) break;
        const report = parseFaxResultEvent(u);
        if (report) this.f.report = report;
        break;
      }
      case 'ChannelHangupRequest':
        if (!ev.soft && ev.cause !== undefined && this.f.requestCause === null) {
          this.f.requestCause = ev.cause;
          this.f.requestTechCause = ev.tech_cause ?? null;
        }
        break;
      case 'ChannelDestroyed':
        this.f.destroyed = true;
        this.f.destroyedCause = ev.cause;
        this.f.destroyedTechCause = ev.tech_cause ?? null;
        this.finish(decideOutcome(this.f, this.opts.totalPages ?? null), out);
        break;
      default:
        break;
    }
    return out;
  }

  /**
   * Settles a call whose channel is known to be gone without our having seen ChannelDestroyed
   * (the socket dropped, or the service restarted): from the UserEvent if it arrived, else from the
   * GLOBAL record the hangup handler wrote, else as honestly as the evidence allows.
   */
  concludeGone(record: ResultRecord, ctx: { asteriskRestarted: boolean }): Outcome {
    if (this._outcome) return this._outcome;
    const sink: FaxCallSignal[] = [];
    if (!this.f.report && record.kind === 'final') this.f.report = record.report;
    if (this.f.report) {
      this.f.destroyed = true;
      this.finish(decideOutcome(this.f, this.opts.totalPages ?? null), sink);
      return this._outcome!;
    }
    let outcome: Outcome;
    if (record.kind === 'started' || record.kind === 'invalid') {
      outcome = unknown('the call ended while the fax was being sent and its result was lost (the PBX did not report it)', 'no result recorded');
    } else if (ctx.asteriskRestarted) {
      outcome = unknown('Asterisk restarted while the call was up; whether the fax went through is unknown', 'Asterisk restarted');
    } else if (this.f.faxStarted) {
      outcome = unknown('the call ended while the fax was being sent and its result was lost', 'no result recorded');
    } else {
      // Our context writes a STARTED record before SendFAX; with no record and no restart, SendFAX never ran.
      outcome = {
        ok: false,
        failureClass: 'transient',
        error: this.f.answered
          ? 'the call was answered but the fax never started (the service lost its connection to Asterisk)'
          : 'the call ended while the service was disconnected from Asterisk; no fax was sent',
        cause: 'call gone, no fax record',
        pages: 0,
      };
    }
    this.finish(outcome, sink);
    return outcome;
  }

  private finish(outcome: Outcome, out: FaxCallSignal[]): void {
    this._outcome = outcome;
    this._phase = 'ended';
    out.push({ kind: 'ended', outcome });
  }
}

/** The Outcome of a call with no FaxCall of our own (reconciliation after a restart): channel gone, record read. */
export function outcomeFromRecord(
  channelId: string,
  record: ResultRecord,
  ctx: { asteriskRestarted: boolean; totalPages?: number | null },
): Outcome {
  return new FaxCall(channelId, { totalPages: ctx.totalPages ?? null }).concludeGone(record, ctx);
}

function unknown(error: string, cause: string): Outcome {
  return { ok: false, failureClass: 'unknown', error, cause };
}

function intOrNull(s: string | undefined): number | null {
  return s !== undefined && /^[0-9]+$/.test(s) ? Number(s) : null;
}

/** The report the res_fax variables amount to, when no UserEvent came (last value of each wins). */
function reportFromVars(v: FaxVars): FaxReport {
  return {
    status: v.FAXSTATUS ?? '',
    pages: intOrNull(v.FAXPAGES),
    bitRate: intOrNull(v.FAXBITRATE),
    resolution: v.FAXRESOLUTION ?? '',
    mode: v.FAXMODE ?? '',
    ecm: null,
    hangupCause: null,
    error: v.FAXERROR ?? '',
    statusString: v.FAXSTATUSSTRING ?? '',
    remoteStationId: v.REMOTESTATIONID ?? '',
  };
}

/** Which hangup cause to report: ChannelDestroyed's, unless it is 0 and the far end's request named one. */
function bestCause(f: CallFacts): { cause: number | null; tech: number | null } {
  if (f.destroyedCause !== null && (f.destroyedCause !== 0 || f.requestCause === null)) {
    return { cause: f.destroyedCause, tech: f.destroyedTechCause ?? f.requestTechCause };
  }
  if (f.requestCause !== null) return { cause: f.requestCause, tech: f.requestTechCause };
  if (f.report?.hangupCause !== null && f.report?.hangupCause !== undefined) return { cause: f.report.hangupCause, tech: null };
  return { cause: null, tech: null };
}

function faxDetails(r: FaxReport): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  if (r.mode === 'T38' || r.mode === 'audio') d.mode = r.mode;
  if (r.bitRate !== null) d.bitRate = r.bitRate;
  if (r.resolution && r.resolution !== '0x0') d.resolution = r.resolution;
  if (r.remoteStationId) d.remoteStationId = r.remoteStationId;
  if (r.ecm !== null) d.ecm = r.ecm;
  return d;
}

function fail(failureClass: FailureClass, error: string, cause: string | undefined, pages: number | null, details?: Record<string, unknown>): Outcome {
  const o: Outcome = { ok: false, failureClass, error, pages };
  if (cause !== undefined) o.cause = cause;
  if (details && Object.keys(details).length > 0) o.details = details;
  return o;
}

/** A failed fax session: res_fax's own codes first, then spandsp's T.30 texts. */
function faxFailure(r: FaxReport, total: number | null, hangup: string | undefined): Outcome {
  const pages = r.pages ?? 0;
  const err = r.error.trim() || r.statusString.trim();
  const details: Record<string, unknown> = { ...faxDetails(r) };
  if (err) details.faxError = err;
  const cause = (label: string): string => (hangup ? `${label}; hangup ${hangup}` : label);
  const hungUp = (label: string): Outcome =>
    pages > 0
      ? fail('protocol', `the far end hung up after ${total ? `${pages} of ${total} pages` : `${pages} page${pages === 1 ? '' : 's'}`}`, cause(label), pages, details)
      : fail('protocol', 'the far end hung up during the fax, before any page was sent', cause(label), 0, details);

  switch (err) {
    case 'FILE_ERROR':
      return fail('document', 'the PBX could not read the fax file (missing or unreadable TIFF)', cause(`FILE_ERROR: ${r.statusString || 'error reading file'}`), 0, details);
    case 'T38_NEG_ERROR':
      return fail('protocol', 'fax failed: T.38 negotiation with the far end failed', cause('T38_NEG_ERROR'), pages, details);
    case 'HANGUP':
      return hungUp('HANGUP');
    case 'INVALID_ARGUMENTS':
      return fail('permanent', `the PBX refused the fax options (${r.statusString || 'invalid arguments'})`, cause('INVALID_ARGUMENTS'), 0, details);
    case 'INIT_ERROR':
    case 'MEMORY_ERROR':
    case 'UNKNOWN':
    case 'Channel Problems':
      return fail('protocol', `the PBX could not run the fax session (${err}${r.statusString ? `: ${r.statusString}` : ''})`, cause(err), pages, details);
    case 'TIMEOUT':
      return fail('protocol', 'fax failed: the fax session timed out', cause('TIMEOUT'), pages, details);
    default:
      break;
  }
  const code = t30CodeFromText(err) ?? t30CodeFromText(r.statusString);
  if (code === T30_CALLDROPPED) return hungUp(`T.30 ${code}: ${t30Text(code)}`);
  if (code !== undefined) {
    return fail(t30Class(code), t30Error(code, pages, total), cause(`T.30 ${code}: ${t30Text(code)}`), pages, details);
  }
  const text = err ? err.replace(/[^\x20-\x7e]/g, '').slice(0, 120) : 'no error text';
  return fail('protocol', `fax failed: ${text}`, cause(err || 'FAILED'), pages, details);
}

/** The one decision, shared by the live path (events) and reconciliation (GLOBAL record). */
export function decideOutcome(f: CallFacts, totalPages: number | null): Outcome {
  const { cause, tech } = bestCause(f);
  const classified = cause === null ? null : classifyCause(cause, tech);
  const causeStr = classified?.cause;
  const report = f.report ?? (f.faxStarted ? reportFromVars(f.vars) : null);

  if (report?.status === 'SUCCESS') {
    const details = faxDetails(report);
    return { ok: true, pages: report.pages, ...(causeStr ? { cause: causeStr } : {}), ...(Object.keys(details).length ? { details } : {}) };
  }
  if (report?.status === 'FAILED') return faxFailure(report, totalPages, causeStr);

  if (report && report.status === '' && f.faxStarted && !f.report) {
    // SendFAX cleared its variables and never set a final value that we saw: events were lost.
    return unknown('the call ended during the fax and its result was not received', causeStr ?? 'no result');
  }

  if (f.answered || f.report) {
    // Answered, but SendFAX never ran (the report, if any, has an empty status).
    if (classified && classified.failureClass !== 'unknown') {
      return fail(classified.failureClass, classified.error, causeStr, 0);
    }
    if (f.eventGap) return unknown('the call was answered but its events were lost; whether the fax went through is unknown', causeStr ?? 'events lost');
    return fail('protocol', 'the call was answered but the fax never started (the far end hung up)', causeStr, 0);
  }

  // Never answered: nothing was sent.
  if (classified && classified.failureClass !== 'unknown') return fail(classified.failureClass, classified.error, causeStr, 0);
  switch (f.dialStatus) {
    case 'BUSY':
      return fail('busy', 'line busy', causeStr ?? 'Dial BUSY', 0);
    case 'NOANSWER':
      return fail('no_answer', 'no answer', causeStr ?? 'Dial NOANSWER', 0);
    case 'CONGESTION':
    case 'CHANUNAVAIL':
      return fail('congestion', 'the call could not be connected (network congestion or trunk unavailable)', causeStr ?? `Dial ${f.dialStatus}`, 0);
    default:
      break;
  }
  if (f.eventGap) return unknown('the call ended while events were lost; whether it was answered is unknown', causeStr ?? 'events lost');
  return fail('congestion', 'the call did not connect (the PBX gave no reason)', causeStr, 0);
}
