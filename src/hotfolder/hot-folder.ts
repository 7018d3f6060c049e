// The outbound hot folder: a PDF a scanner drops becomes a normal fax job, once, and the file moves to sent/ or failed/ with a result file.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Audit } from '../audit/audit.js';
import type { Principal } from '../auth/principal.js';
import type { ReadinessCheck } from '../backends/types.js';
import type { Db } from '../db/connect.js';
import { FINAL_STATUSES, type FaxJob, type JobStatus } from '../db/schema.js';
import { DocumentError, inspectPdf } from '../documents/pdf-inspect.js';
import { sniff } from '../documents/sniff.js';
import { ApiError } from '../errors.js';
import type { FaxSubmitter } from '../jobs/submit.js';
import { maskNumber, type Logger } from '../log.js';
import { exists, freeName, moveFile } from '../storage/move.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { isIgnored, isPdfName, isSidecarName, maskFileName, numberFromName, numberFromSidecar, stem, type Destination } from './naming.js';

export interface HotFolderOptions {
  dir: string;
  stableMs: number;
  maxWriteMs: number;
  graceMs: number;
  rescanMs: number;
  statusPollMs: number;
  polling: boolean;
  maxBytes: () => number;
  maxPages: () => number;
}

/** Points where a test can stop the service, to prove a restart there neither loses nor repeats a fax. */
export type HotFolderStage = 'submitted' | 'result_written';

/** The internal caller behind hot-folder jobs (owner "hotfolder", source "hotfolder"). */
export const HOTFOLDER_PRINCIPAL: Principal = { keyId: 'hotfolder', name: 'hotfolder', scopes: ['fax:send'], rateLimitPerMinute: 0 };

export interface HotFolderResult {
  file: string;
  job_id: string | null;
  status: JobStatus | 'refused';
  to: string | null;
  pages: number | null;
  error: string | null;
  submitted_at: string | null;
  updated_at: string;
}

interface Seen {
  size: number;
  mtimeMs: number;
  firstSeen: number;
  /** When we last saw it change (-Infinity: unchanged since before we first looked). */
  changedAt: number;
}

/** Retry later (the file may still be in the making, or the database is briefly away). */
class NotYet extends Error {}

export class HotFolder {
  /** Test seam: called at each stage; a throw stops the handling of that file right there. */
  onStage: ((stage: HotFolderStage, file: string) => Promise<void> | void) | null = null;
  private watcher: FSWatcher | null = null;
  private readonly seen = new Map<string, Seen>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Jobs whose result file in sent/ is not final yet: job id → result file path. */
  private readonly following = new Map<string, string>();
  private rescanTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  readonly sentDir: string;
  readonly failedDir: string;

  constructor(
    private readonly submitter: FaxSubmitter,
    private readonly db: Db,
    private readonly audit: Audit,
    private readonly log: Logger,
    private readonly opts: HotFolderOptions,
  ) {
    this.sentDir = join(opts.dir, 'sent');
    this.failedDir = join(opts.dir, 'failed');
  }

  async start(): Promise<void> {
    this.stopped = false;
    await mkdir(this.sentDir, { recursive: true });
    await mkdir(this.failedDir, { recursive: true });
    await this.loadFollowing();
    const w = watch(this.opts.dir, {
      depth: 0,
      ignoreInitial: true,
      usePolling: this.opts.polling,
      interval: Math.max(100, Math.min(1000, this.opts.stableMs)),
      awaitWriteFinish: { stabilityThreshold: this.opts.stableMs, pollInterval: Math.max(20, Math.min(200, Math.floor(this.opts.stableMs / 4))) },
      ignored: (p: string) => p !== this.opts.dir && isIgnored(p.slice(p.lastIndexOf('/') + 1)),
    });
    w.on('add', (p) => void this.onName(p.slice(p.lastIndexOf('/') + 1)));
    w.on('change', (p) => void this.onName(p.slice(p.lastIndexOf('/') + 1)));
    w.on('error', (err) => this.log.error({ err: String(err) }, 'hot folder watcher error'));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    this.watcher = w;
    // Files dropped while the service was down, or half-handled when it stopped.
    await this.scan();
    this.scheduleRescan();
    this.scheduleStatus();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    await this.watcher?.close();
    this.watcher = null;
    await Promise.all([...this.chains.values()]);
  }

  /** Looks at every file once. */
  async scan(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.opts.dir);
    } catch (err) {
      this.log.error({ err: (err as NodeJS.ErrnoException).code ?? String(err) }, 'cannot read the hot folder');
      return;
    }
    await Promise.all(names.map((n) => this.onName(n)));
  }

  async readiness(): Promise<ReadinessCheck[]> {
    const out: ReadinessCheck[] = [];
    for (const [name, dir] of [['hotfolder', this.opts.dir], ['hotfolder_sent', this.sentDir], ['hotfolder_failed', this.failedDir]] as const) {
      try {
        await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
        out.push({ name, ok: true, detail: `${dir}: readable and writable` });
      } catch (err) {
        out.push({ name, ok: false, detail: `${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (the service must read, write and move files here)` });
      }
    }
    return out;
  }

  private onName(name: string): Promise<void> {
    if (this.stopped || isIgnored(name)) return Promise.resolve();
    // A sidecar's arrival is news for its PDF.
    if (isSidecarName(name)) {
      return readdir(this.opts.dir)
        .then((all) => all.filter((n) => isPdfName(n) && stem(n) === stem(name)))
        .then((pdfs) => Promise.all(pdfs.map((p) => this.onName(p))))
        .then(() => undefined)
        .catch(() => undefined);
    }
    const prev = this.chains.get(name) ?? Promise.resolve();
    const next = prev
      .then(() => this.handle(name))
      .catch((err: unknown) => {
        if (err instanceof NotYet) return this.later(name, this.opts.stableMs);
        this.log.error({ file: maskFileName(name), err: String(err) }, 'hot folder file could not be handled; retried at the next scan');
      })
      .finally(() => {
        if (this.chains.get(name) === next) this.chains.delete(name);
      });
    this.chains.set(name, next);
    return next;
  }

  private later(name: string, ms: number): void {
    if (this.stopped || this.timers.has(name)) return;
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        void this.onName(name);
      }, Math.max(1, Math.ceil(ms))),
    );
  }

  private async handle(name: string): Promise<void> {
    if (this.stopped) return;
    const path = join(this.opts.dir, name);
    let st;
    try {
      st = await stat(path);
    } catch {
      this.seen.delete(name);
      return; // gone: moved by us (or another instance), or deleted by its owner
    }
    if (!st.isFile()) return;
    const now = Date.now();
    const s = this.observe(name, st.size, st.mtimeMs, now);
    if (st.size > this.opts.maxBytes()) {
      return this.refuse(name, `the file is larger than the ${Math.round(this.opts.maxBytes() / 1048576)} MB limit (MAX_FILE_SIZE_MB)`);
    }
    if (now - s.changedAt < this.opts.stableMs) {
      if (now - s.firstSeen > this.opts.maxWriteMs) {
        return this.refuse(name, `the file kept changing for more than ${Math.round(this.opts.maxWriteMs / 1000)} s (HOTFOLDER_MAX_WRITE_SECONDS)`);
      }
      return this.later(name, this.opts.stableMs - (now - s.changedAt));
    }
    // Young enough to still be in the making: a scanner may pause mid-file, or write the sidecar last.
    const lastChange = Math.max(st.mtimeMs, s.changedAt);
    const young = now - lastChange < this.opts.graceMs && now - s.firstSeen < this.opts.maxWriteMs;
    if (!isPdfName(name)) {
      return this.refuse(name, 'only PDF files (named .pdf) are faxed from the hot folder');
    }

    const dest = await this.destination(name);
    if (!dest.ok) {
      if (young) return this.later(name, this.opts.graceMs);
      return this.refuse(name, dest.reason);
    }
    const bytes = await readFile(path);
    if (bytes.length !== st.size) throw new NotYet('changed while read');
    const bad = await this.checkPdf(bytes);
    if (bad) {
      if (bad.wait && young) return this.later(name, this.opts.graceMs);
      return this.refuse(name, bad.reason);
    }

    // Content and name decide the key: a restart or a second instance finds the same job, never a new one.
    const key = `hotfolder:${createHash('sha256').update(bytes).digest('hex')}:${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
    let job = await this.priorJob(key);
    if (!job) {
      try {
        job = (await this.submitter.submit({ principal: HOTFOLDER_PRINCIPAL, to: dest.number, file: bytes, idempotencyKey: key, source: 'hotfolder' })).job;
      } catch (err) {
        if (err instanceof ApiError && err.status >= 400 && err.status < 500) return this.refuse(name, err.detail);
        throw err;
      }
      this.log.info({ file: maskFileName(name), job: job.id, to: maskNumber(job.to_number) }, 'hot folder file queued as a fax');
    }
    await this.onStage?.('submitted', name);
    await this.moveToSent(name, job);
    this.seen.delete(name);
  }

  private observe(name: string, size: number, mtimeMs: number, now: number): Seen {
    const prev = this.seen.get(name);
    if (!prev) {
      // Untouched for a while before we first looked (dropped while the service was down): already stable.
      const s: Seen = { size, mtimeMs, firstSeen: now, changedAt: now - mtimeMs >= this.opts.stableMs && mtimeMs <= now ? -Infinity : now };
      this.seen.set(name, s);
      return s;
    }
    if (prev.size !== size || prev.mtimeMs !== mtimeMs) {
      prev.size = size;
      prev.mtimeMs = mtimeMs;
      prev.changedAt = now;
    }
    return prev;
  }

  /** The sidecar's `to` when there is a sidecar, else the number at the start of the name. */
  private async destination(name: string): Promise<Destination> {
    const sidecar = join(this.opts.dir, `${stem(name)}.json`);
    let text: string | null = null;
    try {
      text = await readFile(sidecar, 'utf8');
    } catch {
      text = null;
    }
    if (text !== null) return numberFromSidecar(text);
    const n = numberFromName(name);
    if (n.ok) return n;
    return { ok: false, reason: `no destination number: name the file <number>.pdf or <number>__anything.pdf, or add ${stem(name)}.json with {"to": "<number>"} (${n.reason})` };
  }

  /** Why the bytes cannot be faxed (and whether a still-writing scanner could explain it), or null. */
  private async checkPdf(bytes: Uint8Array): Promise<{ reason: string; wait: boolean } | null> {
    if (bytes.length === 0) return { reason: 'the file is empty', wait: true };
    if (sniff(bytes).kind !== 'pdf') return { reason: 'the file is not a PDF (its content, not its name, decides)', wait: true };
    try {
      await inspectPdf(bytes, this.opts.maxPages());
      return null;
    } catch (err) {
      if (!(err instanceof DocumentError)) throw err;
      return { reason: err.message, wait: err.code === 'pdf_malformed' };
    }
  }

  /** The job an earlier run created for this key (any age: the idempotency window must not let a file be sent twice). */
  private async priorJob(key: string): Promise<FaxJob | undefined> {
    const hit = await this.db.k
      .selectFrom('idempotency_keys')
      .select('job_id')
      .where('owner_key_id', '=', HOTFOLDER_PRINCIPAL.keyId!)
      .where('idem_key', '=', key)
      .executeTakeFirst();
    if (!hit) return undefined;
    return this.db.k.selectFrom('fax_jobs').selectAll().where('id', '=', hit.job_id).executeTakeFirst();
  }

  /** Result file first (atomic), then the PDF, then its sidecar: a crash in between is finished by the next run. */
  private async moveToSent(name: string, job: FaxJob): Promise<void> {
    const src = join(this.opts.dir, name);
    const target = await freeName(this.sentDir, name, job.id.slice(0, 8));
    const resultPath = `${target}.result.json`;
    const ts = new Date().toISOString();
    await writeFileAtomic(resultPath, resultJson({ file: name, job_id: job.id, status: job.status, to: maskNumber(job.to_number), pages: job.pages, error: job.error, submitted_at: job.created_at, updated_at: ts }));
    await this.onStage?.('result_written', name);
    try {
      await moveFile(src, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // Another instance moved it first; our result file names a PDF that is not there.
        if (!(await exists(target))) await unlink(resultPath).catch(() => undefined);
        return;
      }
      throw err;
    }
    await this.moveSidecar(name, target);
    if (!FINAL_STATUSES.includes(job.status)) this.following.set(job.id, resultPath);
  }

  private async moveSidecar(name: string, movedPdf: string): Promise<void> {
    const sidecar = join(this.opts.dir, `${stem(name)}.json`);
    if (!(await exists(sidecar))) return;
    const dir = movedPdf.slice(0, movedPdf.lastIndexOf('/'));
    const base = movedPdf.slice(movedPdf.lastIndexOf('/') + 1);
    await moveFile(sidecar, await freeName(dir, `${stem(base)}.json`, Date.now().toString(36))).catch(() => undefined);
  }

  private async refuse(name: string, reason: string): Promise<void> {
    const src = join(this.opts.dir, name);
    const target = await freeName(this.failedDir, name, Date.now().toString(36));
    const ts = new Date().toISOString();
    await writeFileAtomic(`${target}.result.json`, resultJson({ file: name, job_id: null, status: 'refused', to: null, pages: null, error: reason, submitted_at: null, updated_at: ts }));
    try {
      await moveFile(src, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        await unlink(`${target}.result.json`).catch(() => undefined);
        return;
      }
      throw err;
    }
    await this.moveSidecar(name, target);
    this.seen.delete(name);
    await this.audit.record({ type: 'hotfolder.refused', actor: 'hotfolder', data: { reason: reason.replace(/\d{6,}/g, (d) => '*'.repeat(d.length - 4) + d.slice(-4)) } });
    this.log.warn({ file: maskFileName(name), reason: maskFileName(reason) }, 'hot folder file refused into failed/');
  }

  /** After a restart: the sent/ results still waiting for their job's end. */
  private async loadFollowing(): Promise<void> {
    for (const n of await readdir(this.sentDir).catch(() => [] as string[])) {
      if (!n.endsWith('.result.json')) continue;
      try {
        const r = JSON.parse(await readFile(join(this.sentDir, n), 'utf8')) as HotFolderResult;
        if (r.job_id && !FINAL_STATUSES.includes(r.status as JobStatus)) this.following.set(r.job_id, join(this.sentDir, n));
      } catch {
        // not ours, or damaged: leave it
      }
    }
  }

  /** Brings result files up to date; a fax that finally failed moves (with its result) to failed/. */
  async refreshResults(): Promise<void> {
    if (this.following.size === 0) return;
    const ids = [...this.following.keys()];
    const jobs = await this.db.k.selectFrom('fax_jobs').selectAll().where('id', 'in', ids).execute();
    for (const job of jobs) {
      if (!FINAL_STATUSES.includes(job.status)) continue;
      const resultPath = this.following.get(job.id)!;
      let prev: HotFolderResult;
      try {
        prev = JSON.parse(await readFile(resultPath, 'utf8')) as HotFolderResult;
      } catch {
        this.following.delete(job.id);
        continue;
      }
      const next: HotFolderResult = { ...prev, status: job.status, pages: job.pages, error: job.error, updated_at: new Date().toISOString() };
      const pdf = resultPath.slice(0, -'.result.json'.length);
      if (job.status === 'FAILED' && (await exists(pdf))) {
        const target = await freeName(this.failedDir, pdf.slice(pdf.lastIndexOf('/') + 1), job.id.slice(0, 8));
        await writeFileAtomic(`${target}.result.json`, resultJson(next));
        await moveFile(pdf, target);
        await unlink(resultPath).catch(() => undefined);
        const side = `${stem(pdf)}.json`;
        if (await exists(side)) await moveFile(side, `${stem(target)}.json`).catch(() => undefined);
      } else {
        await writeFileAtomic(resultPath, resultJson(next));
      }
      this.following.delete(job.id);
    }
  }

  private scheduleRescan(): void {
    if (this.stopped) return;
    this.rescanTimer = setTimeout(() => {
      void this.scan().finally(() => this.scheduleRescan());
    }, this.opts.rescanMs);
  }

  private scheduleStatus(): void {
    if (this.stopped) return;
    this.statusTimer = setTimeout(() => {
      this.refreshResults()
        .catch((err: unknown) => this.log.error({ err: String(err) }, 'hot folder result update failed'))
        .finally(() => this.scheduleStatus());
    }, this.opts.statusPollMs);
  }
}

function resultJson(r: HotFolderResult): string {
  return JSON.stringify(r, null, 2) + '\n';
}
