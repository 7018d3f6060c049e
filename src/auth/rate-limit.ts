// Per-key request limit: a token bucket per key (capacity = requests per minute), kept in this process.

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Seconds until one request will be allowed again (when not allowed). */
  retryAfterSeconds: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes one request from `key`'s budget of `perMinute` (0 or less = unlimited). */
  take(key: string, perMinute: number): RateDecision {
    if (perMinute <= 0) return { allowed: true, retryAfterSeconds: 0 };
    const now = this.now();
    const ratePerMs = perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: perMinute, updatedMs: now };
    b.tokens = Math.min(perMinute, b.tokens + (now - b.updatedMs) * ratePerMs);
    b.updatedMs = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1000)) };
  }

  /** Drops buckets that are full again, so the map does not grow with every key ever seen. */
  sweep(): void {
    const now = this.now();
    for (const [k, b] of this.buckets) if (now - b.updatedMs > 120_000) this.buckets.delete(k);
  }
}
