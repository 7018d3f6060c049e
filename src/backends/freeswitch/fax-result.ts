// Reads mod_spandsp's fax result from wherever it shows up: CUSTOM headers, variable_* or a channel dump.
import type { EslHeaders } from './esl-event.js';

export interface FaxResult {
  success: boolean;
  /** spandsp T30_ERR_* code (0 = OK), or null when absent. */
  code: number | null;
  text: string | null;
  pagesTransferred: number | null;
  pagesTotal: number | null;
  /** off | negotiated | requested | refused. */
  t38Status: string | null;
  ecmUsed: boolean | null;
  /** Bits per second (14400, 9600, ...). */
  transferRate: number | null;
  remoteStationId: string | null;
  localStationId: string | null;
  /** "204x196" (dpi); FreeSWITCH reports pixels per metre ("8040x7700"). Null for 0x0. */
  resolution: string | null;
}

/** The result names, underscore form, as `uuid_getvar` and `variable_*` know them. */
export const FAX_RESULT_VARS = [
  'fax_success',
  'fax_result_code',
  'fax_result_text',
  'fax_document_transferred_pages',
  'fax_document_total_pages',
  'fax_t38_status',
  'fax_ecm_used',
  'fax_transfer_rate',
  'fax_remote_station_id',
  'fax_local_station_id',
  'fax_image_resolution',
] as const;

type Getter = (underscoreName: string) => string | undefined;

function int(v: string | undefined): number | null {
  if (v === undefined || !/^-?\d+$/.test(v.trim())) return null;
  return Number(v.trim());
}

function text(v: string | undefined): string | null {
  // uuid_getvar answers "_undef_" for an unset variable.
  if (v === undefined || v === '' || v === '_undef_') return null;
  return v;
}

/** "8040x7700" pixels/metre → "204x196" dpi; null for 0x0 or garbage. */
export function resolutionDpi(ppm: string | undefined | null): string | null {
  const m = ppm ? /^(\d+)x(\d+)$/.exec(ppm.trim()) : null;
  if (!m) return null;
  const x = Math.round(Number(m[1]) * 0.0254);
  const y = Math.round(Number(m[2]) * 0.0254);
  return x > 0 && y > 0 ? `${x}x${y}` : null;
}

function read(get: Getter): FaxResult | null {
  const success = text(get('fax_success'));
  // fax_success is set at phase E only: without it there is no result (txfax never ran or is running).
  if (success === null) return null;
  const ecm = text(get('fax_ecm_used'));
  return {
    success: success === '1' || success.toLowerCase() === 'true',
    code: int(get('fax_result_code')),
    text: text(get('fax_result_text')),
    pagesTransferred: int(get('fax_document_transferred_pages')),
    pagesTotal: int(get('fax_document_total_pages')),
    t38Status: text(get('fax_t38_status')),
    ecmUsed: ecm === null ? null : ecm === 'on',
    transferRate: int(get('fax_transfer_rate')),
    remoteStationId: text(get('fax_remote_station_id'))?.trim() || null,
    localStationId: text(get('fax_local_station_id'))?.trim() || null,
    resolution: resolutionDpi(text(get('fax_image_resolution'))),
  };
}

/** From a spandsp::txfaxresult / rxfaxresult event's own headers (`fax-success`, ...). */
export function faxResultFromEvent(h: EslHeaders): FaxResult | null {
  return read((n) => h[n.replace(/_/g, '-')]);
}

/** From the channel variables on any channel event or dump (`variable_fax_success`, ...). */
export function faxResultFromVariables(h: EslHeaders): FaxResult | null {
  return read((n) => h[`variable_${n}`]);
}

/** From a plain name → value map (e.g. one `uuid_getvar` per name in FAX_RESULT_VARS). */
export function faxResultFromVarMap(vars: Readonly<Record<string, string | undefined>>): FaxResult | null {
  return read((n) => vars[n]);
}

/** The result as attempt details (only what is known), for the admin view and the fallback ladder. */
export function faxResultDetails(r: FaxResult): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  if (r.code !== null) d.resultCode = r.code;
  if (r.text !== null) d.resultText = r.text;
  if (r.pagesTotal !== null && r.pagesTotal > 0) d.pagesTotal = r.pagesTotal;
  if (r.t38Status !== null) {
    d.t38Status = r.t38Status;
    d.transport = r.t38Status === 'negotiated' ? 't38' : 'audio';
  }
  if (r.ecmUsed !== null) d.ecm = r.ecmUsed;
  if (r.transferRate !== null && r.transferRate > 0) d.rate = r.transferRate;
  if (r.remoteStationId !== null) d.remoteStationId = r.remoteStationId;
  if (r.resolution !== null) d.resolution = r.resolution;
  return d;
}
