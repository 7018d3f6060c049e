// Where faxes received by a cloud provider go: a narrow interface for the inbound ingest, and a minimal default.
//
// The inbound ingest (issue 5) is expected to implement InboundSink itself and be handed to the
// cloud routes in place of DefaultInboundSink (see services.ts, `inboundSink`). Until then the default
// stores the PDF and writes the inbound_faxes row, once per (source, source_uid).
import { randomUUID } from 'node:crypto';
import type { Audit } from '../../audit/audit.js';
import type { Db } from '../../db/connect.js';
import { isUniqueViolation } from '../../jobs/job-store.js';
import type { Logger } from '../../log.js';
import type { LocalStore } from '../../storage/local.js';

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
export class DefaultInboundSink implements InboundSink {
  constructor(
    private readonly db: Db,
    private readonly files: LocalStore,
    private readonly audit: Audit,
    private readonly log: Logger,
  ) {}

  async receive(fax: ReceivedFax): Promise<{ id: string; duplicate: boolean }> {
    const existing = await this.find(fax.source, fax.sourceUid);
    if (existing) return { id: existing, duplicate: true };
    const id = randomUUID();
    const isPdf = fax.pdf !== null && fax.pdf.subarray(0, 5).toString('latin1') === '%PDF-';
    // Whatever arrived is kept (a fax must not be lost); something that is not a PDF is kept apart and flagged.
    const key = fax.pdf === null ? null : `inbound/${id}.${isPdf ? 'pdf' : 'bin'}`;
    if (key !== null && fax.pdf !== null) await this.files.put(key, fax.pdf);
    const failed = fax.status === 'failed' || (fax.pdf !== null && !isPdf);
    const error = fax.error ?? (fax.pdf !== null && !isPdf ? 'the provider sent a document that is not a PDF' : null);
    const ts = new Date().toISOString();
    try {
      await this.db.k
        .insertInto('inbound_faxes')
        .values({
          id, source: fax.source, source_uid: fax.sourceUid, to_number: fax.to, from_number: fax.from,
          status: failed ? 'failed' : 'received', pages: fax.pages, error, tiff_path: null, pdf_path: key,
          mailbox: null, received_at: ts, created_at: ts, updated_at: ts,
        })
        .execute();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Another delivery of the same fax won the race: keep its row, drop our copy.
      if (key !== null) await this.files.remove(key).catch(() => undefined);
      const winner = await this.find(fax.source, fax.sourceUid);
      return { id: winner ?? id, duplicate: true };
    }
    this.log.info({ inboundId: id, source: fax.source, pages: fax.pages, status: failed ? 'failed' : 'received' }, 'inbound fax stored');
    await this.audit.record({ type: 'inbound.received', actor: fax.source, subject: id, data: { pages: fax.pages, status: failed ? 'failed' : 'received' } });
    return { id, duplicate: false };
  }

  private async find(source: string, uid: string): Promise<string | null> {
    const r = await this.db.k.selectFrom('inbound_faxes').select('id').where('source', '=', source).where('source_uid', '=', uid).executeTakeFirst();
    return r?.id ?? null;
  }
}
