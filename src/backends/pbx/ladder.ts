// The fallback ladder for PBX faxes: after each protocol failure, the next attempt asks for less of the line.
//
// Step 0 uses what the operator configured. Each protocol failure steps down once:
// T.38 → G.711 audio, then ECM off, then a lower top speed (9600, then 7200, then 4800).
// Both PBX backends read the same ladder so a fax is retried the same way whichever PBX sends it.

export interface FaxLineParams {
  /** Ask for T.38 (re-INVITE) instead of staying in G.711 audio. */
  t38: boolean;
  /** T.30 error correction mode. */
  ecm: boolean;
  /** Highest modem speed in bit/s: 14400, 9600, 7200 or 4800. */
  maxRate: number;
  /** Which rung of the ladder this is (0 = as configured). */
  step: number;
}

const RATES = [14400, 12000, 9600, 7200, 4800, 2400];

function lowerRate(rate: number): number {
  const below = RATES.filter((r) => r < rate && r !== 12000);
  return below.length > 0 ? below[0]! : rate;
}

/** The line parameters for an attempt, given the configured ones and how many protocol failures came before. */
export function ladderStep(configured: Omit<FaxLineParams, 'step'>, protocolFailures: number): FaxLineParams {
  let p: FaxLineParams = { ...configured, step: 0 };
  for (let i = 0; i < protocolFailures; i++) {
    if (p.t38) p = { ...p, t38: false };
    else if (p.ecm) p = { ...p, ecm: false };
    else if (p.maxRate > 4800) p = { ...p, maxRate: lowerRate(p.maxRate) };
    else break; // nothing left to give up; keep the last rung
    p.step = i + 1;
  }
  return p;
}
