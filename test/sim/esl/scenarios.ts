// What the far end does with a simulated fax call, per dialled number, and the timings taken from the recordings.

export interface Scenario {
  /** Refused before answer with this cause and SIP status (busy, unallocated, unreachable, rejected). */
  reject?: { cause: string; sip?: number; phrase?: string };
  /** Rings until originate_timeout, never answered. */
  noAnswer?: boolean;
  /** Ring time before answer, simulated ms (default 22). Longer than originate_timeout → NO_ANSWER. */
  ringMs?: number;
  /** Answers, then hangs up after this many ms, before any fax tone (recorded: 2000). */
  remoteHangupAfterMs?: number;
  /** Answers and stays silent: spandsp gives up after 60 s with T.30 code 2. */
  silent?: boolean;
  /**
   * The far end's T.38 behaviour. 'accept': accepts our re-INVITE; 'refuse': refuses it (fax goes on
   * in audio); 'request': sends its own T.38 re-INVITE (refused, and the fax dropped, unless our leg
   * has fax_enable_t38=true). Default: audio only, refuses a re-INVITE.
   */
  t38?: 'accept' | 'refuse' | 'request';
  /** The far end hangs up after this many pages were sent (partial transfer). */
  dropAfterPages?: number;
  /** The T.30 code reported for that drop (default 49, call dropped). */
  dropCode?: number;
  /** Training fails: phase E with this T.30 code right after negotiation, no page sent. */
  failCode?: number;
  /** The receiver's CSI (fax-remote-station-id). */
  remoteStationId?: string;
}

export type ScenarioName =
  | 'success'
  | 't38'
  | 't38-refused'
  | 'remote-requests-t38'
  | 'busy'
  | 'no-answer'
  | 'unallocated'
  | 'rejected'
  | 'unreachable'
  | 'remote-hangup'
  | 'partial'
  | 'no-fax-tones'
  | 'slow-answer'
  | 'train-fail';

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  success: {},
  t38: { t38: 'accept' },
  't38-refused': { t38: 'refuse' },
  'remote-requests-t38': { t38: 'request' },
  busy: { reject: { cause: 'USER_BUSY', sip: 486, phrase: 'Busy Here' } },
  'no-answer': { noAnswer: true },
  unallocated: { reject: { cause: 'UNALLOCATED_NUMBER', sip: 404, phrase: 'Not Found' } },
  rejected: { reject: { cause: 'CALL_REJECTED', sip: 403, phrase: 'Forbidden' } },
  unreachable: { reject: { cause: 'NORMAL_TEMPORARY_FAILURE', sip: 503, phrase: 'Service Unavailable' } },
  'remote-hangup': { remoteHangupAfterMs: 2000 },
  partial: { dropAfterPages: 1 },
  'no-fax-tones': { silent: true },
  'slow-answer': { ringMs: 8000 },
  'train-fail': { failCode: 6 },
};

/** Simulated milliseconds between steps, shaped after the recorded calls. */
export const TIMING = {
  createAfterReply: 2,
  rejectAfter: 20,
  jobAfterHangupComplete: 20,
  ring: 22,
  jobAfterAnswer: 17,
  negotiateAudio: 5000,
  negotiateT38: 7700,
  firstPage: 9500,
  nextPage: 4000,
  byeAfterLastPage: 1200,
  dropAfterLastPage: 1000,
  silentGiveUp: 60_000,
  hangupCompleteAfterDrop: 17,
} as const;

export const Q850: Readonly<Record<string, number>> = {
  UNALLOCATED_NUMBER: 1,
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  CALL_REJECTED: 21,
  NORMAL_TEMPORARY_FAILURE: 41,
  INCOMPATIBLE_DESTINATION: 88,
  ORIGINATOR_CANCEL: 487,
  MANAGER_REQUEST: 503,
};

/** spandsp's texts for the codes the simulator produces. */
export const T30_TEXT: Readonly<Record<number, string>> = {
  0: 'OK',
  2: 'Timed out waiting for initial communication',
  3: 'Timed out waiting for the first message',
  6: 'Failed to train with any of the compatible modems',
  21: 'No response after sending a page',
  41: 'TIFF/F file cannot be opened',
  49: 'The call dropped prematurely',
};
