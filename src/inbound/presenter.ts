// The API's view of an inbound fax (InboundFaxOut, the reference's field names), with numbers masked when asked.
import type { InboundFax } from '../db/schema.js';
import { maskNumber } from '../log.js';

export interface InboundFaxOut {
  id: string;
  /** Sender's number ("fr", as in the reference). */
  fr: string | null;
  to: string | null;
  status: string;
  /** Where it came in: asterisk, freeswitch, phaxio, sinch… */
  backend: string;
  pages: number | null;
  size_bytes: number | null;
  error: string | null;
  mailbox: string | null;
  remote_station_id: string | null;
  note: string | null;
  /** False once retention removed the documents (the record stays). */
  has_pdf: boolean;
  documents_removed_at: string | null;
  created_at: string;
  received_at: string;
  updated_at: string;
  /** Tokenized download link (GET /inbound/{id} and the webhook only). */
  pdf_url?: string | null;
  pdf_url_expires_at?: string | null;
}

export interface PresentOptions {
  /** Mask phone numbers and the station id (keys without inbound:read). */
  mask: boolean;
  pdf?: { url: string; expiresAt: string } | null;
}

export function presentInbound(f: InboundFax, o: PresentOptions): InboundFaxOut {
  const num = (n: string | null) => (o.mask && n ? maskNumber(n) : n);
  const out: InboundFaxOut = {
    id: f.id,
    fr: num(f.from_number),
    to: num(f.to_number),
    status: f.status,
    backend: f.source,
    pages: f.pages,
    size_bytes: f.size_bytes,
    error: f.error,
    mailbox: f.mailbox,
    remote_station_id: o.mask && f.remote_station_id ? maskNumber(f.remote_station_id) : f.remote_station_id,
    note: f.note,
    has_pdf: f.pdf_path !== null,
    documents_removed_at: f.documents_removed_at,
    created_at: f.created_at,
    received_at: f.received_at,
    updated_at: f.updated_at,
  };
  if (o.pdf !== undefined) {
    out.pdf_url = o.pdf?.url ?? null;
    out.pdf_url_expires_at = o.pdf?.expiresAt ?? null;
  }
  return out;
}
