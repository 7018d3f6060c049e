// The one idempotent ingest: every report of a received fax (hook, sidecar, spool, ESL event, cloud callback) ends here.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Transaction } from 'kysely';
import type { Audit } from '../audit/audit.js';
import type { Database, InboundFax } from '../db/schema.js';
import { DocumentError, inspectPdf } from '../documents/pdf-inspect.js';
import { sniff } from '../documents/sniff.js';
import { TiffError } from '../documents/tiff/errors.js';
import { tiffToPdf } from '../documents/tiff-to-pdf.js';
import { maskNumber, type Logger } from '../log.js';
import type { LocalStore } from '../storage/local.js';
import { exists, freeName, moveFile } from '../storage/move.js';
import { routeMailbox, type MailboxRoute } from './mailbox.js';
import type { InboundStore } from './store.js';
import type { InboundDocument, InboundReport, IngestResult, InboundStatus } from './types.js';

export interface IngestOptions {
  instanceId: string;
  /** archive: the TIFF moves into the data dir after ingest; keep: it stays in the spool. */
  tiffAction: 'archive' | 'keep';
  quarantineDir: string;
  maxTiffBytes: number;
  routes: () => readonly MailboxRoute[];
  /** True when a webhook is configured: finished records are queued for notification. */
  webhookEnabled: () => boolean;
  /** How long one conversion may hold a record before another instance may take it over. */
  leaseMs?: number;
  /** Hears how long each TIFF → PDF conversion took (metrics). */
  onConverted?: (seconds: number) => void;
}

/** What the document work found. */
type Converted =
  | { kind: 'pdf'; pdf: Uint8Array; pages: number; archiveFrom: string | null; tiffBytes: Uint8Array | null; alreadyArchived: boolean }
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: string; quarantined: string | null };

const SOURCE_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const UID_MAX = 200;
const DEFAULT_LEASE_MS = 5 * 60_000;
/** How long a reporter that lost the claim waits for the winner's result (a 20-page fax converts in tens of ms). */
const AWAIT_DONE_MS = 5000;

export const pdfKey = (id: string) => `inbound/${id}.pdf`;
export const tiffArchiveKey = (id: string) => `inbound/tiff/${id}.tif`;
export const sidecarArchiveKey = (id: string) => `inbound/tiff/${id}.json`;

/** A failure worth retrying later (permissions, I/O), as opposed to what the file itself is. */
class Transient extends Error {
  constructor(readonly code: string) {
    super(`file system error ${code}`);
  }
}

function clip(s: string | null | undefined, max: number): string | null {
  if (s === null || s === undefined) return null;
  const t = s.replace(/\p{Cc}/gu, ' ').trim();
  return t === '' ? null : t.slice(0, max);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The status and error of a record from what the PBX said and what the document turned out to be. */
export function decideOutcome(
  result: string | null,
  pbxError: string | null,
  reportedPages: number | null,
  doc: { kind: 'pdf'; pages: number } | { kind: 'missing' } | { kind: 'invalid'; reason: string },
): { status: InboundStatus; error: string | null; pages: number; note: string | null } {
  const said = pbxError ?? 'the reception failed';
  if (doc.kind === 'invalid') {
    return { status: 'FAILED', error: `the received TIFF could not be read (${doc.reason}); it was moved to quarantine`, pages: reportedPages ?? 0, note: null };
  }
  if (doc.kind === 'missing') {
    if (result === 'success') return { status: 'FAILED', error: 'the PBX reported success but the received TIFF is missing', pages: reportedPages ?? 0, note: null };
    if (result === 'failed') {
      const n = reportedPages ?? 0;
      return { status: 'FAILED', error: n > 0 ? `${said} after ${plural(n, 'page')}; the TIFF is missing` : `${said} before any page arrived`, pages: n, note: null };
    }
    return { status: 'FAILED', error: 'the reception did not start or no page arrived (no TIFF was written)', pages: reportedPages ?? 0, note: null };
  }
  if (result === 'failed') {
    return { status: 'FAILED', error: `${said} after ${plural(doc.pages, 'page')}; the pages that arrived are kept`, pages: doc.pages, note: null };
  }
  const note = result === null ? 'reception result unknown (neither the PBX hook nor a sidecar reported it); pages counted from the TIFF' : null;
  return { status: 'received', error: null, pages: doc.pages, note };
}

export class InboundIngest {
  private readonly leaseMs: number;

  constructor(
    private readonly store: InboundStore,
    private readonly files: LocalStore,
    private readonly audit: Audit,
    private readonly log: Logger,
    private readonly opts: IngestOptions,
    /** Called after a record is finished (the webhook worker wakes up). */
    private readonly onFinished: (fax: InboundFax) => void = () => undefined,
  ) {
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  }

  private async tiffToPdf(bytes: Uint8Array): ReturnType<typeof tiffToPdf> {
    const t0 = performance.now();
    const r = await tiffToPdf(bytes);
    this.opts.onConverted?.((performance.now() - t0) / 1000);
    return r;
  }

  /**
   * Creates the record for (source, sourceUid) or merges this report into it, then, if the record has
   * no document yet and this report brings one, converts and stores it. Safe to call any number of
   * times, from any reporter, on any instance: one record, one conversion.
   * Throws only for an invalid report, or when a document given as bytes could not be stored (the
   * caller should answer with an error so the sender retries).
   */
  async ingest(r: InboundReport): Promise<IngestResult> {
    if (!SOURCE_RE.test(r.source)) throw new Error(`invalid inbound source "${r.source}"`);
    const uid = r.sourceUid.trim();
    if (uid === '' || uid.length > UID_MAX || /\p{Cc}/u.test(uid)) throw new Error('invalid inbound source uid');
    const now = new Date();
    const ts = now.toISOString();
    const spoolPath = r.document?.kind === 'tiff' ? r.document.path : null;
    const created = await this.store.insertIfAbsent({
      id: randomUUID(),
      source: r.source,
      source_uid: uid,
      to_number: clip(r.toNumber, 64),
      from_number: clip(r.fromNumber, 64),
      status: 'processing',
      pages: null,
      error: r.success === false ? clip(r.error, 500) : null,
      tiff_path: null,
      pdf_path: null,
      mailbox: null,
      received_at: (r.receivedAt ?? now).toISOString(),
      created_at: ts,
      updated_at: ts,
      result: r.success === true ? 'success' : r.success === false ? 'failed' : null,
      reported_pages: r.pages ?? null,
      remote_station_id: clip(r.remoteStationId, 100),
      size_bytes: null,
      pdf_sha256: null,
      spool_path: spoolPath,
      quarantine_path: null,
      ingest_state: 'pending',
      lease_owner: null,
      lease_expires_at: null,
      via: r.via,
      note: null,
      documents_removed_at: null,
      notify_state: null,
      notify_attempts: 0,
      notify_next_at: null,
      notify_lease_until: null,
      notify_last_error: null,
      notified_at: null,
    });
    let row = created ? await this.store.bySource(r.source, uid) : await this.merge(r.source, uid, r, spoolPath);
    if (!row) throw new Error('inbound record vanished while being ingested');
    if (created) {
      this.log.info(
        { inbound: row.id, source: r.source, via: r.via, to: maskNumber(row.to_number), from: maskNumber(row.from_number) },
        'inbound fax reported',
      );
    }
    if (row.ingest_state !== 'done' && r.document !== undefined) row = await this.process(row, r.document);
    return { fax: row, created };
  }

  /** Finishes a record whose document work was interrupted (crash, I/O error, another instance died). */
  async resume(row: InboundFax, takeOver: boolean): Promise<InboundFax> {
    if (row.ingest_state === 'done') return row;
    const doc: InboundDocument | null = row.spool_path ? { kind: 'tiff', path: row.spool_path } : null;
    if (!doc) return row;
    return this.process(row, doc, takeOver);
  }

  /** Moves a sidecar of a finished record out of the spool (archive mode); idempotent. */
  async archiveSidecar(fax: InboundFax, sidecarPath: string): Promise<void> {
    if (this.opts.tiffAction !== 'archive') return;
    try {
      await moveFile(sidecarPath, this.files.path(sidecarArchiveKey(fax.id)));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code === 'EEXIST') {
        // Already archived once (a PBX rewrote it, or a crash between copy and unlink): keep the archived copy.
        await unlink(sidecarPath).catch(() => undefined);
        return;
      }
      this.log.warn({ inbound: fax.id, err: (err as Error).message }, 'could not archive the inbound sidecar; it stays in the spool');
    }
  }

  private async tx<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.store.db.k.transaction().execute(fn);
  }

  private async lockRow(trx: Transaction<Database>, where: { id: string } | { source: string; uid: string }): Promise<InboundFax | undefined> {
    let q = trx.selectFrom('inbound_faxes').selectAll();
    q = 'id' in where ? q.where('id', '=', where.id) : q.where('source', '=', where.source).where('source_uid', '=', where.uid);
    // Row lock on PostgreSQL; SQLite runs one write transaction at a time anyway.
    if (this.store.db.dialect === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  /** Fills what the record does not know yet from this report; a late "failed" turns a finished "received" into FAILED. */
  private async merge(source: string, uid: string, r: InboundReport, spoolPath: string | null): Promise<InboundFax | undefined> {
    const { row, event } = await this.tx(async (trx) => {
      const cur = await this.lockRow(trx, { source, uid });
      if (!cur) return { row: undefined, event: null };
      const set: Partial<InboundFax> = {};
      const to = clip(r.toNumber, 64);
      const from = clip(r.fromNumber, 64);
      if (!cur.to_number && to) set.to_number = to;
      if (!cur.from_number && from) set.from_number = from;
      if (!cur.remote_station_id && r.remoteStationId) set.remote_station_id = clip(r.remoteStationId, 100);
      if (cur.reported_pages === null && r.pages !== null && r.pages !== undefined) set.reported_pages = r.pages;
      if (!cur.spool_path && spoolPath) set.spool_path = spoolPath;
      if (cur.result === null && r.success !== null && r.success !== undefined) {
        set.result = r.success ? 'success' : 'failed';
        if (!r.success && cur.ingest_state !== 'done') set.error = clip(r.error, 500);
      }
      let event: Awaited<ReturnType<Audit['insert']>> | null = null;
      if (cur.ingest_state === 'done') {
        if (set.to_number && !cur.mailbox) set.mailbox = routeMailbox(this.opts.routes(), set.to_number);
        if (set.result === 'failed' && cur.status === 'received') {
          const o = decideOutcome('failed', clip(r.error, 500), cur.reported_pages, { kind: 'pdf', pages: cur.pages ?? 0 });
          set.status = o.status;
          set.error = o.error;
          set.note = null;
          if (this.opts.webhookEnabled()) Object.assign(set, { notify_state: 'pending', notify_next_at: new Date().toISOString(), notify_attempts: 0 });
          event = await this.audit.insert(trx, { type: 'inbound.failed', actor: `inbound:${r.via}`, subject: cur.id, data: { reason: 'late_report', pages: cur.pages } });
        }
      }
      if (Object.keys(set).length === 0) return { row: cur, event: null };
      set.updated_at = new Date().toISOString();
      await trx.updateTable('inbound_faxes').set(set).where('id', '=', cur.id).execute();
      return { row: { ...cur, ...set } as InboundFax, event };
    });
    if (event) this.audit.publish(event);
    if (row && event) this.onFinished(row);
    return row;
  }

  private async process(row: InboundFax, doc: InboundDocument, takeOver = false): Promise<InboundFax> {
    const owner = this.opts.instanceId;
    if (!(await this.store.claim(row.id, owner, this.leaseMs, new Date(), takeOver))) {
      // Another reporter is converting it: answer with its result rather than "processing".
      return this.awaitDone(row.id, row);
    }
    let converted: Converted;
    try {
      converted = await this.convert(row, doc);
      if (converted.kind === 'pdf') await this.storeDocuments(row, converted);
    } catch (err) {
      const reason = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message).slice(0, 200) : String(err);
      await this.store.patch(row.id, {
        ingest_state: 'pending',
        lease_owner: null,
        lease_expires_at: null,
        note: `document not processed yet (${reason}); it is retried`,
        updated_at: new Date().toISOString(),
      });
      this.log.warn({ inbound: row.id, reason }, 'inbound document could not be processed now; retried later');
      // Bytes exist only in this call: the sender must retry. A spool file is retried by the sweep.
      if (doc.kind === 'pdf' || doc.kind === 'tiff-bytes') throw err;
      return (await this.store.get(row.id)) ?? row;
    }
    return this.finish(row.id, converted);
  }

  /** The record once its conversion (by another reporter or instance) is done, or as it is after a few seconds. */
  private async awaitDone(id: string, fallback: InboundFax): Promise<InboundFax> {
    const end = Date.now() + AWAIT_DONE_MS;
    let cur = (await this.store.get(id)) ?? fallback;
    while (cur.ingest_state === 'processing' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 25));
      cur = (await this.store.get(id)) ?? cur;
    }
    return cur;
  }

  private async convert(row: InboundFax, doc: InboundDocument): Promise<Converted> {
    switch (doc.kind) {
      case 'none':
        return { kind: 'missing' };
      case 'pdf': {
        if (sniff(doc.bytes).kind !== 'pdf') return this.invalidBytes(row, doc.bytes, '.pdf', 'the document is not a PDF');
        try {
          const { pages } = await inspectPdf(doc.bytes, 100_000);
          return { kind: 'pdf', pdf: doc.bytes, pages, archiveFrom: null, tiffBytes: null, alreadyArchived: false };
        } catch (err) {
          if (err instanceof DocumentError) return this.invalidBytes(row, doc.bytes, '.pdf', err.message);
          throw err;
        }
      }
      case 'tiff-bytes':
        try {
          const r = await this.tiffToPdf(doc.bytes);
          return { kind: 'pdf', pdf: r.pdf, pages: r.pages, archiveFrom: null, tiffBytes: doc.bytes, alreadyArchived: false };
        } catch (err) {
          if (err instanceof TiffError) return this.invalidBytes(row, doc.bytes, '.tif', err.message);
          throw err;
        }
      case 'tiff':
        return this.convertTiffFile(row, doc.path);
    }
  }

  private async convertTiffFile(row: InboundFax, path: string): Promise<Converted> {
    let from = path;
    let alreadyArchived = false;
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Transient((err as NodeJS.ErrnoException).code ?? String(err));
      // A previous run may have archived it and died before recording so.
      const archived = this.files.path(tiffArchiveKey(row.id));
      if (this.opts.tiffAction === 'archive' && (await exists(archived))) {
        from = archived;
        alreadyArchived = true;
        size = (await stat(archived)).size;
      } else {
        return { kind: 'missing' };
      }
    }
    if (size > this.opts.maxTiffBytes) {
      const quarantined = alreadyArchived ? null : await this.quarantine(row, from);
      return { kind: 'invalid', reason: `the file is ${size} bytes, over the INBOUND_MAX_TIFF_MB limit`, quarantined };
    }
    const bytes = await readFile(from).catch((err: NodeJS.ErrnoException) => {
      throw new Transient(err.code ?? String(err));
    });
    try {
      const r = await this.tiffToPdf(bytes);
      return { kind: 'pdf', pdf: r.pdf, pages: r.pages, archiveFrom: alreadyArchived ? null : from, tiffBytes: null, alreadyArchived };
    } catch (err) {
      if (!(err instanceof TiffError)) throw err;
      const quarantined = await this.quarantine(row, from);
      return { kind: 'invalid', reason: err.message, quarantined };
    }
  }

  /** Writes the PDF (atomically), then archives the TIFF; both idempotent, so an interrupted run can simply run again. */
  private async storeDocuments(row: InboundFax, c: Extract<Converted, { kind: 'pdf' }>): Promise<void> {
    await this.files.put(pdfKey(row.id), c.pdf);
    if (c.tiffBytes) {
      await this.files.put(tiffArchiveKey(row.id), c.tiffBytes);
      return;
    }
    if (this.opts.tiffAction !== 'archive' || c.archiveFrom === null) return;
    const dest = this.files.path(tiffArchiveKey(row.id));
    try {
      await moveFile(c.archiveFrom, dest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && (await stat(dest)).size === (await stat(c.archiveFrom)).size) {
        // An earlier run linked it into the archive and stopped before removing the spool name.
        await unlink(c.archiveFrom);
        return;
      }
      throw new Transient(code ?? String(err));
    }
  }

  /** Moves an unreadable file to the quarantine directory (never deletes it) and returns where it went. */
  private async quarantine(row: InboundFax, path: string): Promise<string | null> {
    await mkdir(this.opts.quarantineDir, { recursive: true });
    const ext = extname(path) || '.tif';
    const dest = await freeName(this.opts.quarantineDir, `${row.source}-${row.source_uid}${ext}`, row.id.slice(0, 8));
    try {
      await moveFile(path, dest);
      return dest;
    } catch (err) {
      // Left in place rather than lost; the record says why.
      this.log.error({ inbound: row.id, err: (err as NodeJS.ErrnoException).code ?? String(err) }, 'could not move an unreadable TIFF to quarantine');
      return null;
    }
  }

  private async invalidBytes(row: InboundFax, bytes: Uint8Array, ext: string, reason: string): Promise<Converted> {
    await mkdir(this.opts.quarantineDir, { recursive: true });
    const dest = await freeName(this.opts.quarantineDir, `${row.source}-${row.source_uid}${ext}`, row.id.slice(0, 8));
    await writeFile(dest, bytes, { mode: 0o600, flag: 'wx' });
    return { kind: 'invalid', reason, quarantined: dest };
  }

  private async finish(id: string, c: Converted): Promise<InboundFax> {
    const owner = this.opts.instanceId;
    const out = await this.tx(async (trx) => {
      // Decided on the row as it is now: a hook may have added the PBX's result while we converted.
      const cur = await this.lockRow(trx, { id });
      if (!cur || cur.ingest_state !== 'processing' || cur.lease_owner !== owner) return { row: cur, event: null };
      const doc = c.kind === 'pdf' ? { kind: 'pdf' as const, pages: c.pages } : c;
      const o = decideOutcome(cur.result, cur.error, cur.reported_pages, doc);
      const ts = new Date().toISOString();
      // A storage key when the TIFF is in the archive, the spool path when it was kept there, null without a TIFF.
      let tiffPath: string | null = null;
      if (c.kind === 'pdf') {
        if (c.tiffBytes) tiffPath = tiffArchiveKey(id);
        else if (this.opts.tiffAction === 'archive') tiffPath = c.archiveFrom !== null || c.alreadyArchived ? tiffArchiveKey(id) : null;
        else tiffPath = c.archiveFrom;
      }
      const set: Partial<InboundFax> = {
        status: o.status,
        error: o.error,
        pages: o.pages,
        note: o.note,
        pdf_path: c.kind === 'pdf' ? pdfKey(id) : null,
        size_bytes: c.kind === 'pdf' ? c.pdf.length : null,
        pdf_sha256: c.kind === 'pdf' ? createHash('sha256').update(c.pdf).digest('hex') : null,
        tiff_path: tiffPath,
        quarantine_path: c.kind === 'invalid' ? c.quarantined : null,
        mailbox: routeMailbox(this.opts.routes(), cur.to_number),
        ingest_state: 'done',
        lease_owner: null,
        lease_expires_at: null,
        updated_at: ts,
        ...(this.opts.webhookEnabled() ? { notify_state: 'pending', notify_next_at: ts, notify_attempts: 0 } : {}),
      };
      await trx.updateTable('inbound_faxes').set(set).where('id', '=', id).execute();
      const event = await this.audit.insert(trx, {
        type: o.status === 'received' ? 'inbound.received' : 'inbound.failed',
        actor: `inbound:${cur.via ?? 'unknown'}`,
        subject: id,
        data: {
          source: cur.source,
          pages: o.pages,
          mailbox: set.mailbox,
          to: maskNumber(cur.to_number),
          from: maskNumber(cur.from_number),
          ...(c.kind === 'invalid' ? { quarantined: c.quarantined !== null, reason: c.reason.slice(0, 200) } : {}),
          ...(c.kind === 'missing' ? { document: 'none' } : {}),
        },
      });
      return { row: { ...cur, ...set } as InboundFax, event };
    });
    const row = out.row ?? (await this.store.get(id));
    if (!row) throw new Error('inbound record vanished while being finished');
    if (!out.event) return row;
    this.audit.publish(out.event);
    this.log.info(
      {
        inbound: row.id,
        source: row.source,
        status: row.status,
        pages: row.pages,
        mailbox: row.mailbox,
        to: maskNumber(row.to_number),
        from: maskNumber(row.from_number),
        ...(row.status === 'FAILED' ? { error: row.error } : {}),
      },
      row.status === 'received' ? 'inbound fax stored' : 'inbound fax failed',
    );
    if (row.spool_path) {
      const sidecar = join(dirname(row.spool_path), `${basename(row.spool_path, extname(row.spool_path))}.json`);
      await this.archiveSidecar(row, sidecar);
    }
    this.onFinished(row);
    return row;
  }
}
