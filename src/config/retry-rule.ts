// Retry rules by failure class, written "attempts:delaySeconds[:multiplier]" (e.g. "4:180", "6:30:2").

export interface RetryRule {
  /** Total attempts allowed for this class, the first one included. 1 means never retry. */
  attempts: number;
  /** Delay before the first retry, in seconds. */
  delaySeconds: number;
  /** Each further retry waits delay × multiplier^(n-1). */
  multiplier: number;
}

/** Parses a rule; returns an error message string when the text is not a valid rule. */
export function parseRetryRule(text: string): RetryRule | string {
  const m = /^(\d{1,3}):(\d{1,6})(?::(\d+(?:\.\d+)?))?$/.exec(text);
  if (!m) return `expected attempts:delaySeconds[:multiplier] such as 4:180 or 6:30:2, got "${text}"`;
  const attempts = Number(m[1]);
  const delaySeconds = Number(m[2]);
  const multiplier = m[3] === undefined ? 1 : Number(m[3]);
  if (attempts < 1 || attempts > 100) return `attempts must be between 1 and 100, got ${attempts}`;
  if (multiplier < 1 || multiplier > 10) return `multiplier must be between 1 and 10, got ${multiplier}`;
  return { attempts, delaySeconds, multiplier };
}

/** Delay before attempt number `nextAttempt` (2 = first retry). */
export function retryDelaySeconds(rule: RetryRule, nextAttempt: number): number {
  return rule.delaySeconds * Math.pow(rule.multiplier, Math.max(0, nextAttempt - 2));
}
