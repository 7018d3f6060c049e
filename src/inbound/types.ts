// The ingest contract: what any source (PBX hook, spool, ESL event, cloud callback) reports about a received fax.
import type { InboundFax } from '../db/schema.js';

/** How a report reached us; the first one to arrive is kept on the record as `via`. */
export type InboundVia = 'hook' | 'sidecar' | 'spool' | 'event' | 'callback' | 'poll';

/** The received document, if the reporter has it. */
export type InboundDocument =
  /** A TIFF on a local path (already mapped and checked to be inside a spool by the caller). */
  | { kind: 'tiff'; path: string }
  /** TIFF bytes (e.g. downloaded from a provider). */
  | { kind: 'tiff-bytes'; bytes: Uint8Array }
  /** A ready PDF (cloud providers). */
  | { kind: 'pdf'; bytes: Uint8Array }
  /** The reporter knows there is no document (no page arrived). */
  | { kind: 'none' };

export interface InboundReport {
  /** asterisk, freeswitch, phaxio, sinch, signalwire, a manifest id… */
  source: string;
  /** The source's own unique id for this fax (Asterisk UNIQUEID, FreeSWITCH uuid, provider fax id). */
  sourceUid: string;
  via: InboundVia;
  /** The number dialled (ours). Null/empty/undefined: not known by this reporter. */
  toNumber?: string | null | undefined;
  /** The sender's number. */
  fromNumber?: string | null | undefined;
  /** What the PBX or provider says: true succeeded, false failed, null/undefined unknown. */
  success?: boolean | null | undefined;
  /** Pages the PBX or provider says arrived. */
  pages?: number | null | undefined;
  /** The PBX's or provider's failure text, if any (stored and shown; must not carry numbers in full). */
  error?: string | null | undefined;
  /** The sender's station id (CSI/TSI). */
  remoteStationId?: string | null | undefined;
  /** When the fax arrived (defaults to now for a new record). */
  receivedAt?: Date | undefined;
  /**
   * The document. Undefined: this report carries metadata only (it is merged; a new record waits for
   * its document in status `processing`).
   */
  document?: InboundDocument | undefined;
}

export interface IngestResult {
  fax: InboundFax;
  /** True when this report created the record; false when it merged into an existing one. */
  created: boolean;
}

/** Status values of an inbound record. */
export const INBOUND_STATUSES = ['processing', 'received', 'FAILED'] as const;
export type InboundStatus = (typeof INBOUND_STATUSES)[number];
