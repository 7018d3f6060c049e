// SignalWire fax status (REST resource or StatusCallback) → queued / in progress / final Outcome with a failure class.
import { clipMessage } from '../cloud/http.js';
import { classifyMessage } from '../cloud/fax-errors.js';
import { pageCount, type CloudStatus } from '../cloud/status.js';
import type { FailureClass } from '../types.js';

export interface SignalWireStatusInput {
  status: string;
  numPages?: unknown;
  errorCode?: unknown;
  errorMessage?: string | null;
}

/**
 * queued → queued; processing, sending, receiving → in progress; delivered, received → SUCCESS with NumPages;
 * no-answer → no_answer; busy → busy; canceled/cancelled → permanent (someone stopped it: never resent);
 * failed → by the error message (busy, no answer, not in service, ...), else protocol (the call was made
 * and the fax session failed). An unknown status keeps the job in progress.
 */
export function mapSignalWireStatus(s: SignalWireStatusInput): CloudStatus {
  const st = s.status.toLowerCase();
  if (st === 'queued') return { state: 'queued', providerStatus: s.status, pages: null };
  if (st === 'processing' || st === 'sending' || st === 'receiving') return { state: 'in_progress', providerStatus: s.status, pages: null };
  if (st === 'delivered' || st === 'received') {
    return { state: 'final', providerStatus: s.status, outcome: { ok: true, pages: pageCount(s.numPages), cause: st } };
  }
  const message = clipMessage(s.errorMessage ?? null);
  const code = s.errorCode === null || s.errorCode === undefined || s.errorCode === '' ? null : String(s.errorCode);
  const cause = [st, code, message].filter((x) => x).join(' ');
  const fail = (failureClass: FailureClass, text: string): CloudStatus => ({
    state: 'final',
    providerStatus: s.status,
    outcome: { ok: false, failureClass, error: message ? `SignalWire: ${text}: ${message}` : `SignalWire: ${text}`, cause, details: { provider_status: s.status } },
  });
  if (st === 'no-answer') return fail('no_answer', 'no answer');
  if (st === 'busy') return fail('busy', 'line busy');
  if (st === 'canceled' || st === 'cancelled') return fail('permanent', 'fax cancelled');
  if (st === 'failed') return fail(classifyMessage(message) ?? 'protocol', 'fax failed');
  return { state: 'in_progress', providerStatus: s.status, pages: null };
}
