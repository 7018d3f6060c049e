// Reads FreeSWITCH's `api status` reply: how long it has been up (so a restart since a call began can be told) and its version.

export interface FreeswitchStatus {
  /** Milliseconds since FreeSWITCH started, or null when the reply does not say. */
  uptimeMs: number | null;
  /** e.g. "1.10.12-release". */
  version: string | null;
}

const UNITS: readonly [string, number][] = [
  ['year', 365 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
  ['millisecond', 1],
  ['microsecond', 0.001],
];

/** `UP 0 years, 0 days, 0 hours, 2 minutes, 27 seconds, 282 milliseconds, 452 microseconds\nFreeSWITCH (Version 1.10.12-release  64bit) is ready\n…`. */
export function parseStatus(body: string): FreeswitchStatus {
  const up = /^UP (.*)$/m.exec(body)?.[1];
  let uptimeMs: number | null = null;
  if (up) {
    let total = 0;
    let seen = false;
    for (const part of up.split(',')) {
      const m = /^\s*(\d+)\s+([a-z]+?)s?\s*$/.exec(part);
      const unit = m ? UNITS.find(([u]) => u === m[2]) : undefined;
      if (!m || !unit) continue;
      total += Number(m[1]) * unit[1];
      seen = true;
    }
    if (seen) uptimeMs = Math.round(total);
  }
  const version = /\(Version ([^\s)]+)/.exec(body)?.[1] ?? null;
  return { uptimeMs, version };
}
