// Phaxio/Sinch fax error types, codes and messages → our failure classes (Sinch Fax v3 reuses Phaxio's error table).
import type { FailureClass } from '../types.js';

/**
 * Line-level error ids from Phaxio's error table (phaxio.com/docs/errorMessages; Sinch's "Error Messages"
 * page lists the same ids). Ids not listed fall back to the message, then to the error type.
 */
const LINE_ERROR_IDS: ReadonlyMap<number, FailureClass> = new Map([
  [11, 'protocol'], // The call dropped prematurely
  [15, 'congestion'], // Congestion
  [16, 'no_answer'], // Ring Timeout
  [17, 'busy'], // Busy
  [19, 'protocol'], // Immediate Hangup (answered, no fax session)
  [30, 'no_answer'], // No answer from the fax machine
  [32, 'protocol'], // Incompatible destination
  [34, 'permanent'], // Phone number not operational
  [43, 'congestion'], // Problem establishing connection
  [49, 'permanent'], // The Receiving Phone Number Is Not Operational
  [50, 'permanent'], // Call rejected
  [52, 'permanent'], // No route available
  [73, 'permanent'], // Number changed
  [87, 'no_answer'], // No answer from the fax machine
  [88, 'congestion'], // Network Error
  [100, 'congestion'], // Problem with remote carrier
  [110, 'congestion'], // Network error
  [112, 'no_answer'], // No answer
  [115, 'permanent'], // The phone number has been changed
]);

/** Classifies a readable failure message; null when it says nothing we recognise. */
export function classifyMessage(message: string | null | undefined): FailureClass | null {
  if (!message) return null;
  const m = message.toLowerCase();
  if (/\bbusy\b/.test(m)) return 'busy';
  if (/no[ -]answer|ring ?timeout|did not answer|not answer/.test(m)) return 'no_answer';
  if (/not operational|not in service|number (has been )?changed|unallocated|invalid (phone |fax )?number|rejected|no route/.test(m)) {
    return 'permanent';
  }
  if (/congestion|network error|remote carrier|temporar|establishing connection|telephony error/.test(m)) return 'congestion';
  if (/convert|conversion|mime ?type|document|could not access the url|file you provided|normalize pdf|(unable to|could not|cannot|failed to) (fetch|download|retrieve)/.test(m)) {
    return 'document';
  }
  if (/incompatible|dropped|hang ?up|training|dcs|tcf|hdlc|far (end|side)|ecm|t\.?38|page/.test(m)) return 'protocol';
  return null;
}

/**
 * Phaxio error_type (camelCase) or Sinch errorType (UPPER_SNAKE) with its numeric id and message → class.
 *
 * - documentConversionError / DOCUMENT_CONVERSION_ERROR: the document cannot be sent → 'document'.
 * - lineError / LINE_ERROR / CALL_ERROR: by id, else by message (busy, no answer, ...), else 'congestion'.
 * - faxError / FAX_ERROR: the fax session itself failed → 'protocol'.
 * - fatalError / FATAL_ERROR: the provider will not send it (account, number, policy) → 'permanent'.
 * - generalError / GENERAL_ERROR: the provider's own trouble; another try usually works → 'transient'.
 *   Nothing was transmitted when it failed, so a retry cannot duplicate pages.
 */
export function classifyFaxError(
  errorType: string | null | undefined,
  errorId: number | string | null | undefined,
  message: string | null | undefined,
): FailureClass {
  const type = (errorType ?? '').replace(/[_\s]/g, '').toLowerCase();
  const id = typeof errorId === 'number' ? errorId : typeof errorId === 'string' && /^\d+$/.test(errorId) ? Number(errorId) : null;
  switch (type) {
    case 'documentconversionerror':
      return 'document';
    case 'lineerror':
    case 'callerror': {
      const byId = id === null ? undefined : LINE_ERROR_IDS.get(id);
      return byId ?? classifyMessage(message) ?? 'congestion';
    }
    case 'faxerror':
      return 'protocol';
    case 'fatalerror':
      return 'permanent';
    case 'generalerror':
      return 'transient';
    default:
      return classifyMessage(message) ?? 'unknown';
  }
}
