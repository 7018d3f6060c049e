// Watches the inbound spool directories (and scans them at start-up) so a received fax is ingested even when no hook or event came.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log.js';
import type { SpoolDir } from './config.js';
import type { InboundIngest } from './ingest.js';
import { parseSidecar } from './reports.js';
import { uidFromFileName, type SpoolPaths, type PathRefusal } from './spool-paths.js';
import type { InboundStore } from './store.js';
import type { InboundDocument } from './types.js';

export interface SpoolWatcherOptions {
  /** A file counts as written once unchanged this long (chokidar awaitWriteFinish). */
  stableMs: number;
  /** A TIFF with no sidecar and no record is ingested alone once untouched this long. */
  orphanGraceMs: number;
  polling: boolean;
  /** Audit hook for a path that leads outside the spool (a symlink in the spool pointing elsewhere). */
  onRefused: (code: PathRefusal, source: string, uid: string, via: 'sidecar' | 'spool') => Promise<void>;
}

/** How often an unreadable sidecar is read again before it is left alone (it may still be being written). */
const SIDECAR_RETRIES = 5;

export class SpoolWatcher {
  private watchers: FSWatcher[] = [];
  private readonly orphanTimers = new Map<string, NodeJS.Timeout>();
  private readonly sidecarRetries = new Map<string, number>();
  /** One chain of work per file stem, so a sidecar and its TIFF are never handled at the same time. */
  private readonly chains = new Map<string, Promise<void>>();
  private stopped = true;

  constructor(
    private readonly paths: SpoolPaths,
    private readonly ingest: InboundIngest,
    private readonly store: InboundStore,
    private readonly log: Logger,
    private readonly opts: SpoolWatcherOptions,
  ) {}

  /** Starts watching, then scans each directory for files that arrived while the service was down. */
  async start(): Promise<void> {
    this.stopped = false;
    for (const dir of this.paths.dirs) {
      const w = watch(dir.dir, {
        depth: 0,
        ignoreInitial: true,
        usePolling: this.opts.polling,
        interval: Math.max(100, Math.min(1000, this.opts.stableMs)),
        awaitWriteFinish: { stabilityThreshold: this.opts.stableMs, pollInterval: Math.max(20, Math.min(200, Math.floor(this.opts.stableMs / 4))) },
        // Our own temporary files, editors' and the FreeSWITCH hook's "<uuid>.json.tmp".
        ignored: (p: string) => p !== dir.dir && (/\.(tmp|part|swp)$|~$/.test(p) || basename(p).startsWith('.')),
      });
      w.on('add', (p) => this.onFile(dir, p));
      w.on('change', (p) => this.onFile(dir, p));
      w.on('error', (err) => this.log.error({ dir: dir.dir, err: String(err) }, 'inbound spool watcher error'));
      await new Promise<void>((resolve) => w.once('ready', () => resolve()));
      this.watchers.push(w);
    }
    await this.scan();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.orphanTimers.values()) clearTimeout(t);
    this.orphanTimers.clear();
    await Promise.all(this.watchers.map((w) => w.close()));
    this.watchers = [];
    await Promise.all([...this.chains.values()]);
  }

  /** Looks at every file in every spool directory (start-up, and on demand). */
  async scan(): Promise<void> {
    for (const dir of this.paths.dirs) {
      let names: string[];
      try {
        names = await readdir(dir.dir);
      } catch (err) {
        this.log.error({ dir: dir.dir, err: (err as NodeJS.ErrnoException).code ?? String(err) }, 'cannot read the inbound spool directory');
        continue;
      }
      // Sidecars first: they carry the numbers and result, and a TIFF with a sidecar needs no grace period.
      names.sort((a, b) => Number(b.endsWith('.json')) - Number(a.endsWith('.json')));
      await Promise.all(names.map((n) => this.onFile(dir, join(dir.dir, n))));
    }
  }

  private onFile(dir: SpoolDir, path: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const parsed = uidFromFileName(basename(path));
    if (!parsed) return Promise.resolve();
    const key = join(dirname(path), parsed.uid);
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev
      .then(() => (parsed.kind === 'sidecar' ? this.onSidecar(dir, path, parsed.uid) : this.onTiff(dir, path, parsed.uid)))
      .catch((err: unknown) => this.log.error({ file: basename(path), err: String(err) }, 'inbound spool file could not be handled; retried at the next scan'))
      .finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
    this.chains.set(key, next);
    return next;
  }

  private async onSidecar(dir: SpoolDir, path: string, fileUid: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // archived meanwhile (by us or another instance)
      throw err;
    }
    const sc = parseSidecar(text);
    if (!sc) {
      const n = (this.sidecarRetries.get(path) ?? 0) + 1;
      this.sidecarRetries.set(path, n);
      if (n <= SIDECAR_RETRIES) {
        this.later(path, this.opts.stableMs, () => this.onFile(dir, path));
      } else {
        this.sidecarRetries.delete(path);
        this.log.warn({ file: basename(path) }, 'inbound sidecar is not valid JSON of a known format; ignored (its TIFF is still ingested alone)');
        await this.onTiffStem(dir, fileUid);
      }
      return;
    }
    this.sidecarRetries.delete(path);
    const r = sc.report;
    const source = dir.source !== 'auto' ? dir.source : sc.source;
    if (r.uid !== fileUid) this.log.warn({ file: basename(path) }, 'inbound sidecar names another unique id than its file; the file name is used');
    const uid = fileUid;
    this.clearOrphan(join(dir.dir, `${uid}.tif`));
    const sibling = join(dir.dir, `${uid}.tif`);
    const document = await this.documentFor(r.tiffPath, sibling, source, uid);
    const { fax } = await this.ingest.ingest({
      source,
      sourceUid: uid,
      via: 'sidecar',
      toNumber: r.toNumber,
      fromNumber: r.fromNumber,
      success: r.success,
      pages: r.pages,
      error: r.error,
      remoteStationId: r.remoteStationId,
      document,
    });
    if (fax.ingest_state === 'done') await this.ingest.archiveSidecar(fax, path);
  }

  /** The TIFF a sidecar names (checked like the hook's), else the one beside it. */
  private async documentFor(named: string | null, sibling: string, source: string, uid: string): Promise<InboundDocument | undefined> {
    const candidates = named ? [named] : [];
    candidates.push(sibling);
    for (const c of candidates) {
      const r = await this.paths.resolve(c);
      if (r.ok) return { kind: 'tiff', path: r.path };
      if (r.code === 'tiff_path_outside_spool' && c === sibling) {
        await this.opts.onRefused(r.code, source, uid, 'sidecar');
        return undefined;
      }
    }
    // Neither exists: the ingest decides between "no page arrived" and "already archived".
    return { kind: 'tiff', path: sibling };
  }

  private async onTiffStem(dir: SpoolDir, uid: string): Promise<void> {
    const p = join(dir.dir, `${uid}.tif`);
    const alt = join(dir.dir, `${uid}.tiff`);
    for (const c of [p, alt]) {
      try {
        await stat(c);
        return this.onTiff(dir, c, uid, true);
      } catch {
        // try the next spelling
      }
    }
  }

  private async onTiff(dir: SpoolDir, path: string, uid: string, ignoreSidecar = false): Promise<void> {
    const source = this.paths.sourceFor(dir, uid);
    if (!ignoreSidecar) {
      try {
        await stat(join(dir.dir, `${uid}.json`));
        return; // the sidecar (handled on its own event) brings the metadata and the TIFF
      } catch {
        // no sidecar (yet)
      }
    }
    const existing = await this.store.bySource(source, uid);
    if (existing && existing.ingest_state === 'done') return;
    if (existing && existing.spool_path) return; // a reporter has it in hand; the sweep finishes it if that reporter died
    let st;
    try {
      st = await stat(path);
    } catch {
      return; // moved away meanwhile
    }
    const wait = st.mtimeMs + this.opts.orphanGraceMs - Date.now();
    if (!existing && wait > 0) {
      // The hook or the sidecar normally follows within seconds; a TIFF is still growing during reception.
      this.later(path, wait, () => this.onFile(dir, path));
      return;
    }
    const checked = await this.paths.resolve(path);
    if (!checked.ok) {
      if (checked.code !== 'tiff_missing') await this.opts.onRefused(checked.code, source, uid, 'spool');
      return;
    }
    this.log.info({ file: basename(path), source }, existing ? 'inbound TIFF found for a reported fax' : 'inbound TIFF found with no hook or sidecar; ingesting it alone');
    await this.ingest.ingest({ source, sourceUid: uid, via: 'spool', document: { kind: 'tiff', path: checked.path } });
  }

  private later(path: string, ms: number, fn: () => Promise<void>): void {
    if (this.stopped) return;
    this.clearOrphan(path);
    const t = setTimeout(() => {
      this.orphanTimers.delete(path);
      void fn();
    }, Math.max(1, Math.ceil(ms)));
    this.orphanTimers.set(path, t);
  }

  private clearOrphan(path: string): void {
    const t = this.orphanTimers.get(path);
    if (t) clearTimeout(t);
    this.orphanTimers.delete(path);
  }
}
