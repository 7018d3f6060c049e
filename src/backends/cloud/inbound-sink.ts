// Where faxes received by a cloud provider go: the narrow interface the cloud routes call and the inbound
// ingest (src/inbound/service.ts) implements, idempotent on (source, source_uid).

export interface ReceivedFax {
  /** phaxio, sinch, signalwire. */
  source: string;
  /** The provider's id of the received fax: the key that makes delivery idempotent. */
  sourceUid: string;
  /** Our number and the sender's, E.164 as the provider gives them. Never logged unmasked. */
  to: string | null;
  from: string | null;
  pages: number | null;
  /** The document as received (normally a PDF); null when the provider had none. */
  pdf: Buffer | null;
  status: 'received' | 'failed';
  /** Why the fax could not be received, for a failed one. */
  error: string | null;
}

export interface InboundSink {
  /**
   * Stores a received fax durably, once: a second delivery with the same (source, sourceUid)
   * answers `duplicate: true` and changes nothing. Throws when it cannot store (the provider retries).
   */
  receive(fax: ReceivedFax): Promise<{ id: string; duplicate: boolean }>;
}

/** The minimal sink: the document under inbound/<id>.pdf (LocalStore, atomic), then the inbound_faxes row. */
