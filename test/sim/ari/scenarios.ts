// What the far end does when the ARI simulator dials a number: the scripts tests attach to numbers.

/** Timing shared by every scenario, in simulated seconds (scaled by the simulator's msPerSecond). */
export interface SimTiming {
  /** Ringing before the far end answers (or refuses). Default 0.05. */
  answerDelaySec?: number;
  /** Transfer time per page. Default 12 (≈ a 14400 bit/s page; "30 s fax" = 2 pages + setup). */
  secondsPerPage?: number;
}

export type SimScenario = SimTiming & (
  /** A fax machine takes the fax. `t38`: it re-INVITEs to T.38 (≈3 s in) when we allow it. */
  | { kind: 'success'; pages?: number; t38?: boolean; remoteHangsUpFirst?: boolean; remoteStationId?: string; bitRate?: number }
  /** SIP 486, cause 17. */
  | { kind: 'busy' }
  /** Rings until the originate timeout: ChannelDestroyed 19 / 480, no final Dial, no HangupRequest. */
  | { kind: 'no_answer' }
  /** SIP 503, cause 34. */
  | { kind: 'congestion' }
  /** SIP 403, cause 21; Dial says NOANSWER. */
  | { kind: 'rejected' }
  /** SIP 404, cause 1. */
  | { kind: 'unallocated' }
  /** Answers, sends no fax tones, hangs up after `afterSec` (default 2): "The call dropped prematurely", 0 pages. */
  | { kind: 'remote_hangup'; afterSec?: number }
  /** Takes `pagesSent` of `totalPages` pages, then is cut off like a CLI hang-up (no cause, cause 0). */
  | { kind: 'partial'; pagesSent: number; totalPages: number }
  /** The T.30 session fails with spandsp's `error` text after `pagesSent` pages; the call stays up, our dialplan hangs up. */
  | { kind: 'fax_error'; error: string; pagesSent?: number }
  /**
   * T.38 negotiation breaks (SendFAX fails with T38_NEG_ERROR) whenever the attempt asks for T.38
   * (FAXT38=yes); with forced audio (FAXT38=no) the fax goes through.
   */
  | { kind: 't38_fail'; pages?: number }
);
