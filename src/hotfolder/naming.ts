// Hot-folder file names: which files are documents, and the destination number a name (or its sidecar) gives.
import { normalizeNumber } from '../jobs/phone.js';

export type Destination = { ok: true; number: string } | { ok: false; reason: string };

/** Names we never touch: hidden files, partial downloads, our own result files and temporary files. */
export function isIgnored(name: string): boolean {
  return name.startsWith('.') || /(\.tmp|\.part|\.crdownload|\.partial|~)$/i.test(name) || /\.result\.json$/i.test(name);
}

export const isPdfName = (name: string): boolean => /\.pdf$/i.test(name);
export const isSidecarName = (name: string): boolean => /\.json$/i.test(name) && !/\.result\.json$/i.test(name);

/** `scan.pdf` → `scan`. */
export const stem = (name: string): string => name.replace(/\.[^.]*$/, '');

/**
 * `+15551234567.pdf` and `+15551234567__anything.pdf` name their number (spaces, dashes, dots and
 * parentheses allowed, as in the API); anything else needs a sidecar.
 */
export function numberFromName(name: string): Destination {
  const base = stem(name);
  const i = base.indexOf('__');
  const part = i >= 0 ? base.slice(0, i) : base;
  const n = normalizeNumber(part);
  return n.ok ? n : { ok: false, reason: `"${maskFileName(name)}" does not start with a fax number (${n.reason})` };
}

/** The `to` of a sidecar `<stem>.json`: `{"to": "+15551234567"}`. */
export function numberFromSidecar(text: string): Destination {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the .json sidecar is not valid JSON (expected {"to": "+15551234567"})' };
  }
  const to = o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>).to : undefined;
  if (typeof to !== 'string') return { ok: false, reason: 'the .json sidecar has no "to" string (expected {"to": "+15551234567"})' };
  const n = normalizeNumber(to);
  return n.ok ? n : { ok: false, reason: `the sidecar's "to" is not a fax number (${n.reason})` };
}

/** A file name fit for logs: every run of 6+ digits masked but its last 4 (names carry fax numbers). */
export function maskFileName(name: string): string {
  return name.replace(/\d{6,}/g, (d) => '*'.repeat(d.length - 4) + d.slice(-4));
}
