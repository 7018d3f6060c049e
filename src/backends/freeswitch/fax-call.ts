// One outbound fax call as a pure state machine: FreeSWITCH events in (any order), one Outcome out.
//
// What the recordings of a real FreeSWITCH 1.10.12 taught (../shared/fixtures/freeswitch):
// - BACKGROUND_JOB carries no call id (match on our Job-UUID) and arrives before the fax at answer
//   (+OK <uuid>) or, on failure, before OR after CHANNEL_HANGUP_COMPLETE (-ERR <CAUSE>).
// - An unknown gateway produces no channel event at all: -ERR INVALID_GATEWAY is the only signal.
// - Every answered call ends NORMAL_CLEARING, success or not: the fax outcome is only in the fax
//   headers (fax-success on spandsp::txfaxresult, or variable_fax_* on later channel events).
// - A missing TIFF produces no txfaxresult, only CHANNEL_EXECUTE_COMPLETE(txfax) with
//   Application-Response "Cannot send non-existant fax file" (also as
//   variable_current_application_response on CHANNEL_HANGUP_COMPLETE).
// The outcome is settled by the first event that makes it certain; later events are ignored.
import { classifyCause } from '../pbx/causes.js';
import { t30Class, t30Error } from '../pbx/t30.js';
import type { FailureClass, Outcome } from '../types.js';
import { eventKey, type EslEvent, type EslHeaders } from './esl-event.js';
import { faxResultDetails, faxResultFromEvent, faxResultFromVariables, faxResultFromVarMap, type FaxResult } from './fax-result.js';
import { parseJobCommandArg } from './originate.js';

export interface FaxCallInit {
  /** origination_uuid: the channel's Unique-ID. */
  readonly callUuid: string;
  /** The Job-UUID we sent with bgapi. */
  readonly jobUuid: string;
}

export type FaxCallPhase = 'dialing' | 'answered' | 'ended';

/** What one event changed; `outcome` is set exactly once, on the event that ended the attempt. */
export interface FaxCallUpdate {
  answered?: true;
  /** Pages sent so far (from spandsp::txfaxpageresult). */
  pages?: number;
  outcome?: Outcome;
}

const NO_SUCH_FILE = /non-?exist[ae]nt|no such file|cannot open|could not open/i;

export class FaxCall {
  readonly callUuid: string;
  readonly jobUuid: string;
  private _phase: FaxCallPhase = 'dialing';
  private _outcome: Outcome | null = null;
  private _pages = 0;
  private hangupCause: string | null = null;
  private sipStatus: string | null = null;

  constructor(init: FaxCallInit) {
    this.callUuid = init.callUuid.toLowerCase();
    this.jobUuid = init.jobUuid.toLowerCase();
  }

  get phase(): FaxCallPhase {
    return this._phase;
  }

  get outcome(): Outcome | null {
    return this._outcome;
  }

  /** Pages sent so far, as the last page event said. */
  get pagesSent(): number {
    return this._pages;
  }

  /** Is this event about this call? (Every ESL client sees every channel of the PBX.) */
  owns(ev: EslEvent): boolean {
    const h = ev.headers;
    if (ev.name === 'BACKGROUND_JOB') {
      if ((h['Job-UUID'] ?? '').toLowerCase() === this.jobUuid) return true;
      return parseJobCommandArg(h['Job-Command-Arg']).callUuid === this.callUuid;
    }
    return (h['Unique-ID'] ?? '').toLowerCase() === this.callUuid;
  }

  /** Feeds one event; returns what changed, or null when the event is not ours or changes nothing. */
  handle(ev: EslEvent): FaxCallUpdate | null {
    if (this._outcome !== null || !this.owns(ev)) return null;
    const h = ev.headers;
    switch (eventKey(ev)) {
      case 'BACKGROUND_JOB':
        return this.onJob(h['_body'] ?? '');
      case 'CHANNEL_ANSWER':
        return this.markAnswered();
      case 'CHANNEL_HANGUP':
        this.noteHangup(h);
        return null;
      case 'spandsp::txfaxpageresult': {
        const n = Number(h['fax-document-transferred-pages']);
        if (Number.isInteger(n) && n > this._pages) {
          this._pages = n;
          return { pages: n };
        }
        return null;
      }
      case 'spandsp::txfaxresult': {
        this.noteHangup(h);
        const r = faxResultFromEvent(h) ?? faxResultFromVariables(h);
        return r ? this.settle(this.fromFaxResult(r)) : null;
      }
      case 'CHANNEL_EXECUTE_COMPLETE': {
        if (h['Application'] !== 'txfax') return null;
        const r = faxResultFromVariables(h);
        if (r) return this.settle(this.fromFaxResult(r));
        const resp = h['Application-Response'];
        if (resp && resp !== '_none_') return this.settle(appFailure(resp));
        return null; // txfax ended without a result: HANGUP_COMPLETE will say how the call ended
      }
      case 'CHANNEL_HANGUP_COMPLETE':
        this.noteHangup(h);
        return this.settle(this.fromHangup(h));
      default:
        return null;
    }
  }

  /**
   * Settles with what is known when the backend stops waiting (no final event in time, events lost
   * while disconnected and the PBX could not be asked). Answered or not heard of: the fax may have
   * gone out, so 'unknown' (never retried).
   */
  giveUp(reason: string): Outcome {
    if (this._outcome) return this._outcome;
    this.settle({
      ok: false,
      failureClass: 'unknown',
      error: `lost track of the call (${reason}); the fax may or may not have been sent`,
      pages: this._pages > 0 ? this._pages : null,
      details: this.baseDetails(),
    });
    return this._outcome!;
  }

  private onJob(body: string): FaxCallUpdate | null {
    const text = body.trim();
    if (text.startsWith('+OK')) return this.markAnswered();
    return this.settle(originateFailure(text, this.sipStatus));
  }

  private markAnswered(): FaxCallUpdate | null {
    if (this._phase !== 'dialing') return null;
    this._phase = 'answered';
    return { answered: true };
  }

  private noteHangup(h: EslHeaders): void {
    this.hangupCause = h['Hangup-Cause'] ?? h['variable_hangup_cause'] ?? this.hangupCause;
    this.sipStatus = h['variable_sip_term_status'] ?? this.sipStatus;
  }

  private settle(outcome: Outcome): FaxCallUpdate {
    this._outcome = outcome;
    this._phase = 'ended';
    const update: FaxCallUpdate = { outcome };
    if (outcome.ok && typeof outcome.pages === 'number' && outcome.pages > this._pages) this._pages = outcome.pages;
    return update;
  }

  private baseDetails(): Record<string, unknown> {
    const d: Record<string, unknown> = { answered: this._phase !== 'dialing' };
    if (this.hangupCause) d.hangupCause = this.hangupCause;
    if (this.sipStatus) d.sipStatus = this.sipStatus;
    return d;
  }

  private fromFaxResult(r: FaxResult): Outcome {
    this._phase = 'answered';
    return outcomeFromFaxResult(r, { ...this.baseDetails(), answered: true });
  }

  private fromHangup(h: EslHeaders): Outcome {
    const r = faxResultFromVariables(h);
    if (r) return this.fromFaxResult(r);
    if (h['variable_current_application'] === 'txfax' || h['variable_last_app'] === 'txfax') {
      const resp = h['variable_current_application_response'];
      if (resp && resp !== '_none_') return appFailure(resp);
    }
    const answered =
      this._phase !== 'dialing' ||
      h['variable_endpoint_disposition'] === 'ANSWER' ||
      (h['Caller-Channel-Answered-Time'] ?? '0') !== '0' ||
      (h['variable_answer_epoch'] ?? '0') !== '0';
    if (answered) {
      const c = classifyCause(this.hangupCause, this.sipStatus);
      return {
        ok: false,
        failureClass: 'protocol',
        error: 'answered, but the fax session never started',
        cause: c.cause,
        pages: 0,
        details: { ...this.baseDetails(), answered: true },
      };
    }
    return preAnswerFailure(this.hangupCause, this.sipStatus, this.baseDetails());
  }
}

/** A call that failed before answer: nothing was sent (0 pages), so a cause we cannot classify is still retryable. */
function preAnswerFailure(cause: string | null, sip: string | null, details: Record<string, unknown>): Outcome {
  const c = classifyCause(cause, sip);
  const failureClass: FailureClass = c.failureClass === 'unknown' ? 'transient' : c.failureClass;
  return { ok: false, failureClass, error: c.error, cause: c.cause, pages: 0, details };
}

/** BACKGROUND_JOB said the originate failed: "-ERR USER_BUSY", "-USAGE: ...", ... */
function originateFailure(body: string, sip: string | null): Outcome {
  if (body.startsWith('-USAGE')) {
    return {
      ok: false,
      failureClass: 'permanent',
      error: 'FreeSWITCH rejected the originate command (usage error)',
      cause: body.slice(0, 120),
      pages: 0,
      details: { answered: false },
    };
  }
  const m = /^-ERR\s+([A-Z0-9_]+)/.exec(body);
  return preAnswerFailure(m?.[1] ?? (body.slice(0, 60) || 'NONE'), sip, { answered: false, originate: body.slice(0, 120) });
}

/** txfax refused to run (file missing or unreadable): the document, not the line. */
function appFailure(response: string): Outcome {
  const missing = NO_SUCH_FILE.test(response);
  return {
    ok: false,
    failureClass: missing ? 'document' : 'protocol',
    error: missing
      ? 'FreeSWITCH could not read the fax file (check that FREESWITCH_FAX_DIR_PBX names the spool directory as FreeSWITCH sees it)'
      : `the fax application failed: ${response.slice(0, 120)}`,
    cause: `txfax: ${response.slice(0, 120)}`,
    pages: 0,
    details: { answered: true, appResponse: response.slice(0, 120) },
  };
}

/** mod_spandsp's result → Outcome. Partial transfers report the pages actually sent. */
export function outcomeFromFaxResult(r: FaxResult, extra: Record<string, unknown> = {}): Outcome {
  const details = { ...extra, ...faxResultDetails(r) };
  const sent = r.pagesTransferred;
  const cause = r.code !== null ? `T.30 ${r.code} ${r.text ?? ''}`.trim() : undefined;
  if (r.success) {
    const out: Outcome = { ok: true, pages: sent ?? r.pagesTotal, details };
    if (cause) out.cause = cause;
    return out;
  }
  const code = r.code ?? -1;
  const out: Outcome = {
    ok: false,
    failureClass: code >= 0 ? t30Class(code) : 'protocol',
    error: code >= 0 ? t30Error(code, sent, r.pagesTotal) : `fax failed: ${r.text ?? 'no result code'}`,
    pages: sent,
    details,
  };
  if (cause) out.cause = cause;
  return out;
}

/** What a restarted service learned about one call it had started. */
export interface RestartProbe {
  /** `uuid_exists <uuid>`. */
  exists: boolean;
  /**
   * The channel's variables when it still exists: a `uuid_dump <uuid> json` (variable_* keys), or
   * `uuid_getvar` answers keyed by plain name (fax_success, ... see FAX_RESULT_VARS).
   */
  channel?: EslHeaders | Readonly<Record<string, string | undefined>> | null;
  /** A fax result a previous process recorded for the attempt before it died, if any. */
  recorded?: FaxResult | null;
}

export type RestartDecision = { action: 'follow' } | { action: 'settle'; outcome: Outcome };

/**
 * Settles an attempt a previous process left in flight. Still up → keep following it (a FaxCall with
 * the same uuids will get its remaining events), unless phase E already set the result. Gone →
 * the recorded result, or 'unknown' since the fax may have gone out.
 */
export function settleAfterRestart(p: RestartProbe): RestartDecision {
  const ch = p.channel ?? null;
  const fromChannel = ch
    ? (faxResultFromVariables(ch as EslHeaders) ?? faxResultFromVarMap(ch as Readonly<Record<string, string | undefined>>))
    : null;
  if (fromChannel) return { action: 'settle', outcome: outcomeFromFaxResult(fromChannel, { answered: true, recoveredAfterRestart: true }) };
  if (p.exists) return { action: 'follow' };
  if (p.recorded) return { action: 'settle', outcome: outcomeFromFaxResult(p.recorded, { answered: true, recoveredAfterRestart: true }) };
  return {
    action: 'settle',
    outcome: {
      ok: false,
      failureClass: 'unknown',
      error: 'FreeSWITCH no longer has the call and no result was recorded; the fax may or may not have been sent',
      pages: null,
      details: { recoveredAfterRestart: true },
    },
  };
}
