// Accepting an outbound fax: validate, render text, store the PDF durably, then write the queued job (once).
import { createHash, randomUUID } from 'node:crypto';
import type { Audit } from '../audit/audit.js';
import { ownerId, type Principal } from '../auth/principal.js';
import type { Db } from '../db/connect.js';
import type { FaxJob, NewFaxJob } from '../db/schema.js';
import { DocumentError, inspectPdf } from '../documents/pdf-inspect.js';
import { sniff } from '../documents/sniff.js';
import { TooManyPagesError, textToPdf, type PageSize } from '../documents/text-to-pdf.js';
import { ApiError } from '../errors.js';
import type { LocalStore } from '../storage/local.js';
import { isUniqueViolation, type StatusHook } from './job-store.js';
import { normalizeNumber } from './phone.js';

export interface SubmitOptions {
  backend: string;
  disabled: boolean;
  maxPages: number;
  pageSize: PageSize;
  deadlineMinutes: number;
}

export interface SubmitRequest {
  principal: Principal;
  to: string;
  file: Uint8Array;
  idempotencyKey?: string | undefined;
  source?: string;
  callbackUrl?: string | null;
}

export interface SubmitResult {
  job: FaxJob;
  /** True when an earlier request with the same Idempotency-Key is being answered again. */
  replayed: boolean;
}

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export class FaxSubmitter {
  constructor(
    private readonly db: Db,
    private readonly store: LocalStore,
    private readonly audit: Audit,
    private readonly opts: () => SubmitOptions,
    private readonly onQueued: () => void,
    private readonly onStatus: StatusHook = async () => undefined,
    /** Hears how long each text → PDF rendering took (metrics). */
    private readonly onRendered: (seconds: number) => void = () => undefined,
  ) {}

  async submit(req: SubmitRequest): Promise<SubmitResult> {
    const num = normalizeNumber(req.to);
    if (!num.ok) throw new ApiError(400, 'invalid_number', num.reason);
    const owner = ownerId(req.principal);
    const fingerprint = createHash('sha256').update(num.number).update('\n').update(req.file).digest('hex');

    if (req.idempotencyKey !== undefined) {
      const replay = await this.findReplay(owner, req.idempotencyKey, fingerprint);
      if (replay) return { job: replay, replayed: true };
    }

    const opts = this.opts();
    const { pdf, pages } = await this.toPdf(req.file, opts);
    const id = randomUUID();
    const now = new Date();
    const ts = now.toISOString();
    // A disabled gateway stores no document: nothing will be sent, so no patient data is kept.
    const docKey = opts.disabled ? '' : `outbound/${id}.pdf`;
    if (!opts.disabled) await this.store.put(docKey, pdf);

    const row: NewFaxJob = {
      id,
      owner_key_id: req.principal.keyId,
      to_number: num.number,
      status: opts.disabled ? 'disabled' : 'queued',
      error: opts.disabled ? 'fax sending is disabled on this gateway (FAX_DISABLED=true)' : null,
      pages,
      backend: opts.backend,
      provider_sid: null,
      source: req.source ?? 'api',
      document_path: docKey,
      document_sha256: createHash('sha256').update(pdf).digest('hex'),
      document_bytes: pdf.length,
      attempt_count: 0,
      next_attempt_at: ts,
      deadline_at: new Date(now.getTime() + opts.deadlineMinutes * 60_000).toISOString(),
      lease_owner: null,
      lease_expires_at: null,
      dest_lock: null,
      failure_class: null,
      pdf_token_hash: null,
      pdf_token_expires_at: null,
      callback_url: req.callbackUrl ?? null,
      created_at: ts,
      updated_at: ts,
      completed_at: opts.disabled ? ts : null,
    };
    try {
      const event = await this.db.k.transaction().execute(async (trx) => {
        if (req.idempotencyKey !== undefined) {
          // An expired key may be reused; the unique key makes two racing requests insert only one job.
          await trx
            .deleteFrom('idempotency_keys')
            .where('owner_key_id', '=', owner)
            .where('idem_key', '=', req.idempotencyKey)
            .where('created_at', '<', new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS).toISOString())
            .execute();
          await trx
            .insertInto('idempotency_keys')
            .values({ owner_key_id: owner, idem_key: req.idempotencyKey, request_hash: fingerprint, job_id: id, created_at: ts })
            .execute();
        }
        await trx.insertInto('fax_jobs').values(row).execute();
        await this.onStatus(trx, row as FaxJob);
        return this.audit.insert(trx, {
          type: opts.disabled ? 'job.disabled' : 'job.queued',
          actor: req.principal.keyId,
          subject: id,
          data: { pages, backend: opts.backend, source: row.source },
        });
      });
      this.audit.publish(event);
    } catch (err) {
      if (docKey) await this.store.remove(docKey).catch(() => undefined);
      if (req.idempotencyKey !== undefined && isUniqueViolation(err)) {
        const replay = await this.findReplay(owner, req.idempotencyKey, fingerprint);
        if (replay) return { job: replay, replayed: true };
      }
      throw err;
    }
    if (!opts.disabled) this.onQueued();
    return { job: row as FaxJob, replayed: false };
  }

  private async toPdf(file: Uint8Array, opts: SubmitOptions): Promise<{ pdf: Uint8Array; pages: number }> {
    const kind = sniff(file);
    switch (kind.kind) {
      case 'empty':
        throw new ApiError(400, 'empty_file', 'the uploaded file is empty');
      case 'unsupported':
        throw new ApiError(415, 'unsupported_media_type', kind.reason);
      case 'text':
        try {
          const t0 = performance.now();
          const rendered = await textToPdf(kind.text, opts.pageSize, opts.maxPages);
          this.onRendered((performance.now() - t0) / 1000);
          return rendered;
        } catch (err) {
          if (err instanceof TooManyPagesError) {
            throw new ApiError(400, 'too_many_pages', `the text renders to more than ${opts.maxPages} pages; at most ${opts.maxPages} can be faxed (FAX_MAX_PAGES)`);
          }
          throw err;
        }
      case 'pdf':
        try {
          const { pages } = await inspectPdf(file, opts.maxPages);
          return { pdf: file, pages };
        } catch (err) {
          if (err instanceof DocumentError) throw new ApiError(400, err.code, err.message);
          throw err;
        }
    }
  }

  /** The job an earlier request with this key created, or a 409 when the key was used for another request. */
  private async findReplay(owner: string, key: string, fingerprint: string): Promise<FaxJob | null> {
    const cutoff = new Date(Date.now() - IDEMPOTENCY_WINDOW_MS).toISOString();
    const hit = await this.db.k
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('owner_key_id', '=', owner)
      .where('idem_key', '=', key)
      .where('created_at', '>=', cutoff)
      .executeTakeFirst();
    if (!hit) return null;
    if (hit.request_hash !== fingerprint) {
      throw new ApiError(409, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different fax (another number or file)');
    }
    const job = await this.db.k.selectFrom('fax_jobs').selectAll().where('id', '=', hit.job_id).executeTakeFirst();
    return job ?? null;
  }
}
