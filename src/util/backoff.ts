// Capped exponential backoff with jitter: reconnecting to a PBX that may be down long, retrying webhook deliveries.

export interface BackoffOptions {
  /** First delay in ms. */
  initialMs: number;
  /** Largest delay in ms, however many attempts failed. */
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (0 for the first retry). "Equal jitter": between half and all of
 * the capped exponential value, so many clients restarted together do not reconnect in lock-step,
 * yet a retry never comes sooner than half the intended delay.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const initial = Math.max(1, opts.initialMs);
  const max = Math.max(initial, opts.maxMs);
  // 2^31 already exceeds any sane cap; bounding the exponent keeps the arithmetic finite.
  const exp = Math.min(max, initial * 2 ** Math.min(attempt, 31));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
