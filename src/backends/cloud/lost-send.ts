// Before a retry: find a fax an earlier attempt may have created although its answer was lost, so it is never sent twice.
import { NotSentError, type AttemptInfo } from '../types.js';
import { ProviderError } from './http.js';
import type { CloudStatus, Existing } from './status.js';

/** Failure classes an attempt ends with when its send may have reached the provider unseen. */
const MAYBE_SENT: ReadonlySet<string> = new Set(['transient', 'unknown']);

/** Earlier attempts whose send may have reached the provider, newest first. */
export function attemptsToCheck(attempt: AttemptInfo): number[] {
  return attempt.previous
    .filter((p) => p.failureClass === null || MAYBE_SENT.has(p.failureClass))
    .map((p) => p.attemptNo)
    .sort((a, b) => b - a);
}

export type LostSendCheck<F> =
  /** An earlier attempt's fax exists and is queued, in progress or done: adopt it, do not send. */
  | { kind: 'found'; attemptNo: number; providerSid: string; fax: F; status: CloudStatus }
  /** Nothing live exists for this job: sending is safe. */
  | { kind: 'clear' }
  /** The provider's records cannot say: sending could duplicate. */
  | { kind: 'unknown'; attemptNo: number; reason: string };

/**
 * Checks every earlier attempt that may have reached the provider. A fax found but already failed
 * does not block (it was settled as a failure; a new fax is the retry). A lookup the provider cannot
 * answer (down, 5xx) throws NotSentError: nothing was sent, try again later rather than guess.
 */
export async function checkLostSends<F>(
  attempt: AttemptInfo,
  find: (attemptNo: number) => Promise<Existing<F>>,
  statusOf: (fax: F) => CloudStatus,
): Promise<LostSendCheck<F>> {
  for (const attemptNo of attemptsToCheck(attempt)) {
    let found: Existing<F>;
    try {
      found = await find(attemptNo);
    } catch (err) {
      if (err instanceof ProviderError) {
        throw new NotSentError(`cannot check for an earlier send before retrying: ${err.message}`, err.retryAfterMs ?? 30_000);
      }
      throw err;
    }
    if (found.kind === 'none') continue;
    if (found.kind === 'unknown') return { kind: 'unknown', attemptNo, reason: found.reason };
    const status = statusOf(found.fax);
    if (status.state === 'final' && !status.outcome.ok) continue;
    return { kind: 'found', attemptNo, providerSid: found.providerSid, fax: found.fax, status };
  }
  return { kind: 'clear' };
}
