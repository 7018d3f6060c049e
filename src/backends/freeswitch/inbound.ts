// Reads a received fax from FreeSWITCH events (spandsp::rxfaxresult, or the rxfax leg's hangup) for ingest.
//
// Facts from the recordings (fixtures/freeswitch/fs-b): rxfaxresult carries every channel variable,
// so the output path is `variable_fax_filename` (there is no fax-filename header); the dialled number
// is Caller-Destination-Number and the sender Caller-Caller-ID-Number. When no page arrived (code 49
// with 0 pages) spandsp deletes the file although variable_fax_filename still names it.
import { eventKey, type EslEvent, type EslHeaders } from './esl-event.js';
import { faxResultDetails, faxResultFromEvent, faxResultFromVariables, type FaxResult } from './fax-result.js';

/** Set by the shipped dialplan before rxfax, so the rx leg is recognisable on its hangup event. */
export const RX_MARKER_VAR = 'faxbot_rx';

export interface InboundFax {
  /** The receiving channel's Unique-ID: the key that makes ingest idempotent. */
  uuid: string;
  /** Where rxfax wrote the TIFF, as FreeSWITCH sees it (may not exist when no page arrived). */
  filename: string | null;
  toNumber: string | null;
  fromNumber: string | null;
  success: boolean;
  /** Pages received. */
  pages: number;
  resultCode: number | null;
  resultText: string | null;
  remoteStationId: string | null;
  /** Where it came from; several may describe the same fax (same uuid). */
  source: 'rxfaxresult' | 'hangup' | 'sidecar';
  details: Record<string, unknown>;
}

function firstOf(h: EslHeaders, ...names: string[]): string | null {
  for (const n of names) {
    const v = h[n]?.trim();
    if (v) return v;
  }
  return null;
}

function build(h: EslHeaders, r: FaxResult, source: InboundFax['source']): InboundFax | null {
  const uuid = firstOf(h, 'Unique-ID', 'variable_uuid');
  if (!uuid) return null;
  return {
    uuid,
    filename: firstOf(h, 'variable_fax_filename'),
    toNumber: firstOf(h, 'Caller-Destination-Number', 'variable_sip_to_user', 'variable_sip_req_user', 'variable_destination_number'),
    fromNumber: firstOf(h, 'Caller-Caller-ID-Number', 'variable_sip_from_user', 'Caller-ANI'),
    success: r.success,
    pages: r.pagesTransferred ?? 0,
    resultCode: r.code,
    resultText: r.text,
    remoteStationId: r.remoteStationId,
    source,
    details: faxResultDetails(r),
  };
}

/**
 * A received fax from an event, or null when the event is not the end of an rxfax. For
 * CHANNEL_HANGUP_COMPLETE it needs an inbound leg that ran rxfax (our marker variable, or an
 * inbound call carrying rx result variables); a txfax leg never qualifies.
 */
export function parseInboundFax(ev: EslEvent): InboundFax | null {
  const h = ev.headers;
  const key = eventKey(ev);
  if (key === 'spandsp::rxfaxresult') {
    const r = faxResultFromEvent(h) ?? faxResultFromVariables(h);
    return r ? build(h, r, 'rxfaxresult') : null;
  }
  if (key === 'CHANNEL_HANGUP_COMPLETE') {
    const marked = h[`variable_${RX_MARKER_VAR}`] === 'true';
    const inbound = (h['Call-Direction'] ?? h['variable_direction']) === 'inbound';
    if (!marked && !inbound) return null;
    const ranRx = marked || [h['variable_last_app'], h['variable_current_application']].includes('rxfax') || h['variable_fax_filename'] !== undefined;
    if (!ranRx) return null;
    const r = faxResultFromVariables(h);
    // No result variables: rxfax never started (hung up first); there is no fax to ingest.
    return r ? build(h, r, 'hangup') : null;
  }
  return null;
}

/**
 * The sidecar JSON the shipped hangup hook writes next to the TIFF (freeswitch-config/scripts/
 * faxbot_rx_sidecar.lua): `<spool>/<uuid>.json`, every value a string. Null when it is not one.
 */
export function parseRxSidecar(text: string): InboundFax | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return null;
  const s = (k: string): string | null => {
    const v = (o as Record<string, unknown>)[k];
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
  };
  const uuid = s('uniqueid');
  if (s('source') !== 'freeswitch' || !uuid) return null;
  const code = s('fax_result_code');
  const pages = Number(s('fax_document_transferred_pages') ?? '0');
  const resultCode = code !== null && /^\d+$/.test(code) ? Number(code) : null;
  const details: Record<string, unknown> = {};
  if (resultCode !== null) details.resultCode = resultCode;
  const resultText = s('fax_result_text');
  if (resultText) details.resultText = resultText;
  const hangup = s('hangup_cause');
  if (hangup) details.hangupCause = hangup;
  return {
    uuid,
    filename: s('tiff_path'),
    toNumber: s('to_number'),
    fromNumber: s('from_number'),
    success: s('fax_success') === '1',
    pages: Number.isInteger(pages) && pages >= 0 ? pages : 0,
    resultCode,
    resultText,
    remoteStationId: s('fax_remote_station_id'),
    source: 'sidecar',
    details,
  };
}
