// Decides, after a failed attempt, whether and when a job is tried again: by failure class, cap and deadline.
import type { RetryRule } from '../config/retry-rule.js';
import { retryDelaySeconds } from '../config/retry-rule.js';
import type { FailureClass } from '../backends/types.js';

export type RetryRules = Partial<Record<FailureClass, RetryRule>>;

/** Classes that are never retried: the fax cannot go as it is, or it may already have gone. */
const NEVER: ReadonlySet<FailureClass> = new Set(['document', 'permanent', 'unknown']);

export interface RetryInput {
  failureClass: FailureClass;
  /** Failure classes of every counted attempt so far, this one included. */
  history: readonly (FailureClass | null)[];
  deadline: Date;
  now: Date;
}

export type RetryDecision = { retry: true; at: Date; attemptsInClass: number; maxInClass: number } | { retry: false; why: string };

export function decideRetry(rules: RetryRules, input: RetryInput): RetryDecision {
  const cls = input.failureClass;
  if (NEVER.has(cls)) return { retry: false, why: cls === 'unknown' ? 'outcome unknown' : `${cls} failure` };
  const rule = rules[cls];
  if (!rule) return { retry: false, why: `no retry rule for ${cls}` };
  const inClass = input.history.filter((c) => c === cls).length;
  if (inClass >= rule.attempts) {
    return { retry: false, why: `gave up after ${inClass} ${cls.replace('_', ' ')} attempt${inClass === 1 ? '' : 's'}` };
  }
  const at = new Date(input.now.getTime() + retryDelaySeconds(rule, inClass + 1) * 1000);
  if (at > input.deadline) return { retry: false, why: 'the job deadline passed before another attempt could start' };
  return { retry: true, at, attemptsInClass: inClass, maxInClass: rule.attempts };
}
