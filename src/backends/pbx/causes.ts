// Hangup causes (Q.850 numbers from Asterisk, names from FreeSWITCH) → one readable error and a failure class.
import type { FailureClass } from '../types.js';

interface CauseInfo {
  code: number;
  /** FreeSWITCH's name for it (Hangup-Cause, BACKGROUND_JOB "-ERR NAME"). */
  name: string;
  /** What the API client reads as `error`. */
  text: string;
  failureClass: FailureClass;
}

const table: CauseInfo[] = [
  { code: 0, name: 'NONE', text: 'call ended without a cause', failureClass: 'unknown' },
  { code: 1, name: 'UNALLOCATED_NUMBER', text: 'number not in service (unallocated)', failureClass: 'permanent' },
  { code: 2, name: 'NO_ROUTE_TRANSIT_NET', text: 'no route to the transit network', failureClass: 'permanent' },
  { code: 3, name: 'NO_ROUTE_DESTINATION', text: 'no route to the destination', failureClass: 'permanent' },
  { code: 6, name: 'CHANNEL_UNACCEPTABLE', text: 'channel unacceptable', failureClass: 'congestion' },
  { code: 16, name: 'NORMAL_CLEARING', text: 'call ended normally', failureClass: 'unknown' },
  { code: 17, name: 'USER_BUSY', text: 'line busy', failureClass: 'busy' },
  { code: 18, name: 'NO_USER_RESPONSE', text: 'no answer (no response from the far end)', failureClass: 'no_answer' },
  { code: 19, name: 'NO_ANSWER', text: 'no answer', failureClass: 'no_answer' },
  { code: 20, name: 'SUBSCRIBER_ABSENT', text: 'no answer (subscriber absent)', failureClass: 'no_answer' },
  { code: 21, name: 'CALL_REJECTED', text: 'call rejected by the far end or the carrier', failureClass: 'permanent' },
  { code: 22, name: 'NUMBER_CHANGED', text: 'number changed', failureClass: 'permanent' },
  { code: 27, name: 'DESTINATION_OUT_OF_ORDER', text: 'destination out of order', failureClass: 'congestion' },
  { code: 28, name: 'INVALID_NUMBER_FORMAT', text: 'invalid number format', failureClass: 'permanent' },
  { code: 29, name: 'FACILITY_REJECTED', text: 'facility rejected', failureClass: 'permanent' },
  { code: 31, name: 'NORMAL_UNSPECIFIED', text: 'call failed (unspecified)', failureClass: 'congestion' },
  { code: 34, name: 'NORMAL_CIRCUIT_CONGESTION', text: 'network congestion (no circuit available)', failureClass: 'congestion' },
  { code: 38, name: 'NETWORK_OUT_OF_ORDER', text: 'network out of order', failureClass: 'congestion' },
  { code: 41, name: 'NORMAL_TEMPORARY_FAILURE', text: 'temporary failure on the trunk or carrier', failureClass: 'congestion' },
  { code: 42, name: 'SWITCH_CONGESTION', text: 'switching equipment congestion', failureClass: 'congestion' },
  { code: 44, name: 'REQUESTED_CHAN_UNAVAIL', text: 'requested channel not available', failureClass: 'congestion' },
  { code: 50, name: 'FACILITY_NOT_SUBSCRIBED', text: 'facility not subscribed', failureClass: 'permanent' },
  { code: 52, name: 'OUTGOING_CALL_BARRED', text: 'outgoing calls barred', failureClass: 'permanent' },
  { code: 57, name: 'BEARERCAPABILITY_NOTAUTH', text: 'bearer capability not authorized', failureClass: 'permanent' },
  { code: 58, name: 'BEARERCAPABILITY_NOTAVAIL', text: 'media refused by the far end (codec or T.38 not available)', failureClass: 'protocol' },
  { code: 63, name: 'SERVICE_UNAVAILABLE', text: 'service unavailable', failureClass: 'congestion' },
  { code: 65, name: 'BEARERCAPABILITY_NOTIMPL', text: 'bearer capability not implemented', failureClass: 'protocol' },
  { code: 69, name: 'FACILITY_NOT_IMPLEMENTED', text: 'facility not implemented', failureClass: 'permanent' },
  { code: 79, name: 'SERVICE_NOT_IMPLEMENTED', text: 'service not implemented', failureClass: 'permanent' },
  { code: 88, name: 'INCOMPATIBLE_DESTINATION', text: 'incompatible destination (media refused)', failureClass: 'protocol' },
  { code: 95, name: 'INVALID_MSG_UNSPECIFIED', text: 'invalid signalling message', failureClass: 'congestion' },
  { code: 102, name: 'RECOVERY_ON_TIMER_EXPIRE', text: 'no response from the network (timer expired)', failureClass: 'congestion' },
  { code: 111, name: 'PROTOCOL_ERROR', text: 'signalling protocol error', failureClass: 'congestion' },
  { code: 127, name: 'INTERWORKING', text: 'call failed in the network (interworking)', failureClass: 'congestion' },
  // FreeSWITCH-only causes (not Q.850).
  { code: 487, name: 'ORIGINATOR_CANCEL', text: 'call cancelled by the gateway', failureClass: 'unknown' },
  { code: 501, name: 'SYSTEM_SHUTDOWN', text: 'PBX shutting down', failureClass: 'congestion' },
  { code: 503, name: 'MANAGER_REQUEST', text: 'call hung up by an operator', failureClass: 'unknown' },
  { code: 602, name: 'ALLOTTED_TIMEOUT', text: 'call time limit reached', failureClass: 'protocol' },
  { code: 604, name: 'MEDIA_TIMEOUT', text: 'media timeout (no audio or T.38 packets)', failureClass: 'protocol' },
  { code: 606, name: 'USER_NOT_REGISTERED', text: 'gateway not registered', failureClass: 'congestion' },
  { code: 607, name: 'PROGRESS_TIMEOUT', text: 'no answer (progress timeout)', failureClass: 'no_answer' },
  { code: 608, name: 'INVALID_GATEWAY', text: 'the PBX has no such gateway (check the gateway name setting)', failureClass: 'permanent' },
  { code: 609, name: 'GATEWAY_DOWN', text: 'the PBX gateway is down', failureClass: 'congestion' },
];

const byCode = new Map(table.map((c) => [c.code, c]));
const byName = new Map(table.map((c) => [c.name, c]));

export interface ClassifiedCause {
  failureClass: FailureClass;
  error: string;
  /** For the admin view, e.g. "17 USER_BUSY (SIP 486)". */
  cause: string;
}

/** Classifies a hangup cause given as a Q.850 number or a FreeSWITCH name, with the SIP code when known. */
export function classifyCause(cause: number | string | null | undefined, sipCode?: number | string | null): ClassifiedCause {
  let info: CauseInfo | undefined;
  if (typeof cause === 'number') info = byCode.get(cause);
  else if (typeof cause === 'string' && cause !== '') {
    info = /^\d+$/.test(cause) ? byCode.get(Number(cause)) : byName.get(cause.toUpperCase());
  }
  const sip = sipCode === undefined || sipCode === null || sipCode === '' ? '' : ` (SIP ${sipCode})`;
  if (!info) {
    const label = cause === undefined || cause === null || cause === '' ? 'no cause' : String(cause);
    return { failureClass: 'unknown', error: `call failed (${label})`, cause: `${label}${sip}` };
  }
  return { failureClass: info.failureClass, error: info.text, cause: `${info.code} ${info.name}${sip}` };
}

/** The Q.850 number for a FreeSWITCH cause name, if known. */
export function causeCode(name: string): number | undefined {
  return byName.get(name.toUpperCase())?.code;
}
