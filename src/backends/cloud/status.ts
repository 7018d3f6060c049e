// What a provider's fax record means for our job: still going, or finished with an Outcome.
import type { Outcome } from '../types.js';

/** A provider's view of one fax, translated. `providerStatus` keeps the provider's own word for the admin view. */
export type CloudStatus =
  | { state: 'queued' | 'in_progress'; providerStatus: string; pages: number | null }
  | { state: 'final'; providerStatus: string; outcome: Outcome };

/** The result of looking for a fax we may already have sent (a send whose answer was lost). */
export type Existing<F> =
  /** Found: this is the fax; adopt it instead of sending again. */
  | { kind: 'found'; providerSid: string; fax: F }
  /** Certainly not there: sending again cannot make a duplicate. */
  | { kind: 'none' }
  /** The provider's records cannot tell (e.g. faxes without our tag): do not send blindly. */
  | { kind: 'unknown'; reason: string };

/** Reads a page count from the many shapes providers use (number, numeric string, null). */
export function pageCount(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v.trim());
  return null;
}
