// Errors of the ARI client, split by what the dispatcher may conclude: never reached, maybe reached, or refused.

/** Base class: every failure of an ARI request is one of the three below. */
export abstract class AriError extends Error {
  /** True when Asterisk certainly did not act on the request (safe to give the attempt back). */
  abstract readonly notSent: boolean;
}

/**
 * The request certainly did not reach Asterisk: connection refused, DNS failure, connect timeout,
 * the service is stopped, or (for originate) the event WebSocket is down so the call could not be followed.
 */
export class AriUnavailableError extends AriError {
  readonly notSent = true;
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'AriUnavailableError';
  }
}

/**
 * The request was sent (or partly sent) and no answer came: it timed out or the connection broke
 * afterwards. Asterisk may have acted on it; an originate may have placed a call.
 */
export class AriTimeoutError extends AriError {
  readonly notSent = false;
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'AriTimeoutError';
  }
}

/** Asterisk answered with an HTTP error status; `ariMessage` is Asterisk's own `message` when it sent one. */
export class AriHttpError extends AriError {
  /** Asterisk refused the request, so it did not act on it (a 5xx may still have partly acted: treat as sent). */
  readonly notSent: boolean;
  constructor(
    readonly status: number,
    readonly method: string,
    /** Path without query string, so no credential or phone number can ride along. */
    readonly path: string,
    readonly ariMessage: string | null,
  ) {
    super(`ARI ${method} ${path} answered ${status}${ariMessage ? `: ${ariMessage}` : ''}`);
    this.name = 'AriHttpError';
    this.notSent = status >= 400 && status < 500;
  }
}
