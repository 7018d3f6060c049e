// What the PBXs write and post about a received fax (Asterisk hook body and sidecar, FreeSWITCH sidecar), parsed.
import { z } from 'zod';
import { UID_RE } from './spool-paths.js';

const printable = (max: number, what: string) =>
  z
    .string()
    .max(max, `${what} is longer than ${max} characters`)
    .regex(/^[\x20-\x7e]*$/, `${what} must be printable ASCII`);

/**
 * The body Asterisk's CURL() posts (and the sidecar it writes): every value a string, possibly empty,
 * exactly as the shipped dialplan builds it. `faxpages` may also be a JSON number for hand-written callers.
 */
export const AsteriskInboundBody = z.object({
  tiff_path: printable(4096, 'tiff_path').min(1, 'tiff_path is required'),
  to_number: printable(64, 'to_number').optional(),
  from_number: printable(64, 'from_number').optional(),
  faxstatus: printable(64, 'faxstatus').optional(),
  faxpages: z
    .union([
      z.string().regex(/^\s*\d{0,6}\s*$/, 'faxpages must be a page count such as "2", or ""'),
      z.number().int('faxpages must be a whole number').min(0).max(999_999),
    ])
    .optional(),
  uniqueid: z.string().regex(UID_RE, 'uniqueid must be 1-128 letters, digits, ".", "_", ":", "@" or "-"'),
});

export type AsteriskInboundBody = z.output<typeof AsteriskInboundBody>;

/** One received fax as a PBX described it, before the path is checked. */
export interface PbxFaxReport {
  uid: string;
  /** The TIFF path as the PBX names it. */
  tiffPath: string | null;
  toNumber: string | null;
  fromNumber: string | null;
  /** true SUCCESS, false failed, null unknown (empty status: the reception never started, or nobody said). */
  success: boolean | null;
  pages: number | null;
  /** Why it failed, in the PBX's words (only when it failed). */
  error: string | null;
  remoteStationId: string | null;
}

const blankToNull = (s: string | undefined | null): string | null => {
  const t = (s ?? '').trim();
  return t === '' ? null : t;
};

/** "2" → 2, "" → null, 2 → 2. */
export function parsePages(v: string | number | undefined | null): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return v;
  const t = v.trim();
  return t === '' ? null : Number(t);
}

/** res_fax's FAXSTATUS: SUCCESS, FAILED, or "" when ReceiveFAX never ran. Anything else is not a success. */
export function asteriskSuccess(status: string | undefined): boolean | null {
  const s = (status ?? '').trim().toUpperCase();
  if (s === '') return null;
  return s === 'SUCCESS';
}

export function fromAsteriskBody(b: AsteriskInboundBody): PbxFaxReport {
  const success = asteriskSuccess(b.faxstatus);
  const status = (b.faxstatus ?? '').trim();
  return {
    uid: b.uniqueid,
    tiffPath: b.tiff_path,
    toNumber: blankToNull(b.to_number),
    fromNumber: blankToNull(b.from_number),
    success,
    pages: parsePages(b.faxpages),
    error: success === false ? (status.toUpperCase() === 'FAILED' ? 'the PBX reported a failed reception' : `the PBX reported status "${status}"`) : null,
    remoteStationId: null,
  };
}

const FsSidecar = z.object({
  source: z.literal('freeswitch'),
  uniqueid: z.string().regex(UID_RE),
  tiff_path: z.string().max(4096).optional(),
  to_number: z.string().max(64).optional(),
  from_number: z.string().max(64).optional(),
  fax_success: z.string().max(8).optional(),
  fax_result_code: z.string().max(16).optional(),
  fax_result_text: z.string().max(500).optional(),
  fax_document_transferred_pages: z.string().max(8).optional(),
  fax_remote_station_id: z.string().max(100).optional(),
});

/** Printable only: these texts come from the far fax machine and end up in the API. */
const clean = (s: string | undefined): string | null => blankToNull((s ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 200));

/**
 * A sidecar found in a spool: the Asterisk one (the hook body) or the FreeSWITCH one
 * (freeswitch-config/scripts/faxbot_rx_sidecar.lua: `"source":"freeswitch"`, fax_* fields).
 * Null when the text is not a complete sidecar (a reader may meet a half-written file: try again later).
 */
export function parseSidecar(text: string): { source: 'asterisk' | 'freeswitch'; report: PbxFaxReport } | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return null;
  if ((o as Record<string, unknown>).source === 'freeswitch') {
    const r = FsSidecar.safeParse(o);
    if (!r.success) return null;
    const f = r.data;
    const pages = /^\d+$/.test((f.fax_document_transferred_pages ?? '').trim()) ? Number(f.fax_document_transferred_pages!.trim()) : null;
    const success = f.fax_success === '1' ? true : f.fax_success === '0' ? false : null;
    const text = clean(f.fax_result_text);
    return {
      source: 'freeswitch',
      report: {
        uid: f.uniqueid,
        tiffPath: blankToNull(f.tiff_path),
        toNumber: clean(f.to_number),
        fromNumber: clean(f.from_number),
        success,
        pages,
        error: success === false ? (text ?? `fax result code ${f.fax_result_code ?? 'unknown'}`) : null,
        remoteStationId: clean(f.fax_remote_station_id),
      },
    };
  }
  const r = AsteriskInboundBody.safeParse(o);
  if (!r.success) return null;
  return { source: 'asterisk', report: fromAsteriskBody(r.data) };
}
