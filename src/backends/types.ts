// The contract between the dispatcher and every way of sending a fax (sandbox, Asterisk, FreeSWITCH, cloud).
//
// The dispatcher owns the job: it claims it, records each attempt durably, applies the retry policy
// and writes every status change. A backend only places calls: `prepare` (no side effect on the peer),
// `send` (asks the peer to send), then reports what happened through the OutcomeSink, whenever that is,
// and on start-up `reconcile` settles the attempts a previous process left in flight.

/** Why an attempt failed; each class has its own retry rule (see jobs/retry-policy.ts). */
export type FailureClass =
  | 'busy' // the line was busy
  | 'no_answer' // rang out, or nobody picked up
  | 'congestion' // network or trunk congestion, temporary failure, unreachable gateway
  | 'protocol' // answered, but the fax session failed (training, T.38, dropped mid-page)
  | 'document' // the document cannot be sent as it is (never retried)
  | 'permanent' // unallocated number, rejected, invalid number (never retried)
  | 'transient' // provider timeout or 5xx, connection trouble after the request left (retried)
  | 'unknown'; // the outcome cannot be known; never retried, since the fax may have gone out

export const FAILURE_CLASSES: readonly FailureClass[] = [
  'busy', 'no_answer', 'congestion', 'protocol', 'document', 'permanent', 'transient', 'unknown',
];

/** A job as a backend sees it: what to send, where, and which attempt this is. */
export interface DispatchJob {
  readonly id: string;
  readonly to: string;
  /** Absolute path of the stored PDF. */
  readonly pdfPath: string;
  readonly pages: number | null;
}

export interface AttemptInfo {
  /** 1 for the first attempt. */
  readonly attemptNo: number;
  /** How many earlier attempts of this job failed with class 'protocol' (drives a fallback ladder). */
  readonly protocolFailures: number;
  /** Details recorded by the earlier attempts, oldest first. */
  readonly previous: readonly { attemptNo: number; failureClass: string | null; details: Record<string, unknown> }[];
}

export interface SendAccepted {
  /** The peer's id for this call (ARI channel id, FreeSWITCH uuid, provider fax id): becomes provider_sid. */
  providerSid: string;
  /** What this attempt uses (mode, ecm, rate, ...), kept with the attempt. */
  details?: Record<string, unknown>;
}

export type Outcome =
  | { ok: true; pages: number | null; details?: Record<string, unknown>; cause?: string }
  | {
      ok: false;
      failureClass: FailureClass;
      /** Readable, shown to API clients as the job's `error`. No phone numbers, no document content. */
      error: string;
      /** Raw cause for the admin view, e.g. "17 User busy (SIP 486)". */
      cause?: string;
      /** Pages actually transferred before the failure. */
      pages?: number | null;
      details?: Record<string, unknown>;
    };

/**
 * Thrown by `prepare` or `send` when nothing reached the peer and the attempt should simply be
 * given back (connection down, PBX restarting). The job returns to `queued` without using up an attempt.
 */
export class NotSentError extends Error {
  constructor(message: string, readonly retryAfterMs = 5000) {
    super(message);
    this.name = 'NotSentError';
  }
}

/** Thrown by `prepare` or `send` when the attempt fails before anything reached the peer, with a class. */
export class AttemptFailedError extends Error {
  constructor(readonly failureClass: FailureClass, message: string, readonly cause_?: string) {
    super(message);
    this.name = 'AttemptFailedError';
  }
}

/** How a backend reports: the dispatcher applies these durably and idempotently. */
export interface OutcomeSink {
  /** The attempt learned something (answered, provider id, pages so far). */
  progress(jobId: string, attemptNo: number, patch: { providerSid?: string; pages?: number; details?: Record<string, unknown> }): Promise<void>;
  /** The attempt is over. Stale or repeated reports (wrong attempt, job already final) are ignored. */
  settle(jobId: string, attemptNo: number, outcome: Outcome): Promise<void>;
}

/** An attempt a previous process (or a dead instance) left in flight. */
export interface InFlightAttempt {
  readonly job: DispatchJob;
  readonly attemptNo: number;
  /** 'claimed': the peer was never asked; 'dialing': it may have been; 'active': it accepted (providerSid set). */
  readonly state: 'claimed' | 'dialing' | 'active';
  readonly providerSid: string | null;
  readonly callId: string | null;
  readonly details: Record<string, unknown>;
}

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface FaxBackend {
  /** Name stored on jobs and shown to clients: sandbox, sip, freeswitch, phaxio, sinch, signalwire or a manifest id. */
  readonly name: string;
  /** Calls in flight at most, per instance. */
  readonly capacity: number;
  /** True when sending converts PDF to TIFF with Ghostscript (readiness then checks gs). */
  readonly needsGhostscript: boolean;
  /** Connects to the peer. Must not throw for a peer that is down: keep retrying and report it in readiness. */
  start(sink: OutcomeSink): Promise<void>;
  stop(): Promise<void>;
  readiness(): Promise<ReadinessCheck[]>;
  /** Work that touches nothing outside this process (e.g. PDF → TIFF). A crash here loses nothing. */
  prepare?(job: DispatchJob, attempt: AttemptInfo): Promise<void>;
  /** Asks the peer to send; resolves once it accepted. The outcome comes later through the sink. */
  send(job: DispatchJob, attempt: AttemptInfo): Promise<SendAccepted>;
  /**
   * Settles attempts left in flight by an earlier process: follow calls that are still up, settle
   * those that ended from what the peer recorded, and otherwise settle with failureClass 'unknown'.
   * Attempts in state 'claimed' never reach here (the dispatcher gives them back).
   */
  reconcile(attempts: readonly InFlightAttempt[]): Promise<void>;
  /** Optional: ask the peer now for the state of one attempt (admin refresh, polling). */
  refresh?(attempt: InFlightAttempt): Promise<void>;
  /**
   * Optional: false while the peer cannot be reached (PBX down, wrong credentials). The dispatcher then leaves
   * due jobs queued rather than claiming attempts it would only give back, one aborted attempt row each.
   */
  isAvailable?(): boolean;
  /** Optional (backends that convert documents): hear how long each conversion takes, for metrics. */
  observeConversions?(fn: (seconds: number) => void): void;
}
