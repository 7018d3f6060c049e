// The outbound spool: where fax TIFFs wait for the PBX, one deterministic file per job attempt, under two names (ours and the PBX's).
//
// The service writes into `dir`; the PBX reads the same files as `pbxDir` (they differ when the PBX
// runs in another container and mounts the directory elsewhere). File names are derived from the job
// and attempt, so a restarted service knows which file belongs to which call without any state.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, posix, resolve } from 'node:path';
import type { ReadinessCheck } from '../types.js';

/**
 * Characters a spool path may contain. Both PBXs take the path through a dialplan or API parser that
 * splits on "," "&" ")" and spaces, so anything else is refused when the settings are read.
 */
const PBX_PATH_RE = /^\/[A-Za-z0-9._/-]+$/;
const JOB_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const FILE_RE = /^faxbot-([A-Za-z0-9][A-Za-z0-9_-]{0,99})-([1-9][0-9]{0,8})\.tif$/;

export class SpoolConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpoolConfigError';
  }
}

export interface FaxSpoolOptions {
  /** The directory this service writes into (relative paths resolve against the working directory). */
  dir: string;
  /** The same directory as the PBX sees it; default `dir`. Must be absolute. */
  pbxDir?: string | undefined;
  /** Setting names for error messages, e.g. ASTERISK_FAX_DIR / ASTERISK_FAX_DIR_PBX. */
  names?: { dir: string; pbxDir: string };
}

export interface SpoolEntry {
  jobId: string;
  attemptNo: number;
  path: string;
}

export class FaxSpool {
  readonly dir: string;
  readonly pbxDir: string;
  private readonly names: { dir: string; pbxDir: string };

  constructor(opts: FaxSpoolOptions) {
    this.names = opts.names ?? { dir: 'the spool directory', pbxDir: 'the PBX spool directory' };
    this.dir = resolve(opts.dir);
    const pbx = (opts.pbxDir ?? this.dir).replace(/\/+$/, '') || '/';
    if (opts.pbxDir !== undefined && !isAbsolute(opts.pbxDir)) {
      throw new SpoolConfigError(`${this.names.pbxDir} must be an absolute path (as the PBX sees the directory), got "${opts.pbxDir}"`);
    }
    if (!PBX_PATH_RE.test(pbx)) {
      const which = opts.pbxDir === undefined ? `${this.names.dir} (also the path the PBX reads, as ${this.names.pbxDir} is not set)` : this.names.pbxDir;
      throw new SpoolConfigError(
        `${which} may contain only letters, digits, ".", "_", "-" and "/" (the PBX's dialplan would split other characters), got "${pbx}"`,
      );
    }
    this.pbxDir = pbx;
  }

  /** `faxbot-<jobId>-<attemptNo>.tif`. */
  fileName(jobId: string, attemptNo: number): string {
    if (!JOB_ID_RE.test(jobId)) throw new Error('job id must be 1-100 letters, digits, "_" or "-"');
    if (!Number.isInteger(attemptNo) || attemptNo < 1) throw new Error('attempt number must be a positive integer');
    return `faxbot-${jobId}-${attemptNo}.tif`;
  }

  /** Where this service writes the attempt's TIFF. */
  localPath(jobId: string, attemptNo: number): string {
    return join(this.dir, this.fileName(jobId, attemptNo));
  }

  /** The same file as the PBX must open it. */
  pbxPath(jobId: string, attemptNo: number): string {
    return posix.join(this.pbxDir, this.fileName(jobId, attemptNo));
  }

  /** The job and attempt a spool file name stands for, or null for anything else in the directory. */
  static parseFileName(name: string): { jobId: string; attemptNo: number } | null {
    const m = FILE_RE.exec(name);
    return m ? { jobId: m[1]!, attemptNo: Number(m[2]) } : null;
  }

  async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Deletes the attempt's TIFF (and nothing else); a missing file is fine. */
  async remove(jobId: string, attemptNo: number): Promise<void> {
    await rm(this.localPath(jobId, attemptNo), { force: true });
  }

  /** Our TIFFs in the directory. */
  async list(): Promise<SpoolEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: SpoolEntry[] = [];
    for (const name of names) {
      const ids = FaxSpool.parseFileName(name);
      if (ids) out.push({ ...ids, path: join(this.dir, name) });
    }
    return out;
  }

  /**
   * Deletes TIFFs older than `olderThanMs` that `keep` does not claim (attempts still in flight),
   * plus temp files a crashed conversion left behind. Returns how many files went.
   */
  async sweep(opts: { olderThanMs: number; keep: (jobId: string, attemptNo: number) => boolean; now?: number }): Promise<number> {
    const now = opts.now ?? Date.now();
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const ids = FaxSpool.parseFileName(name);
      // pdfToFaxTiff's temp files: ".<final name>.<uuid>.tmp".
      const tmp = /^\.faxbot-.*\.tmp$/.test(name);
      if (!ids && !tmp) continue;
      if (ids && opts.keep(ids.jobId, ids.attemptNo)) continue;
      const path = join(this.dir, name);
      try {
        const st = await stat(path);
        if (now - st.mtimeMs < opts.olderThanMs) continue;
        await rm(path, { force: true });
        removed++;
      } catch {
        // gone meanwhile
      }
    }
    return removed;
  }

  /** Readiness: the directory exists (or can be made) and a file can be created in it. */
  async check(name = 'fax_spool'): Promise<ReadinessCheck> {
    const probe = join(this.dir, `.faxbot-probe-${randomUUID()}`);
    try {
      await this.ensureDir();
      await writeFile(probe, '', { flag: 'wx' });
      await rm(probe, { force: true });
      const mapped = this.pbxDir === this.dir ? '' : ` (the PBX reads it as ${this.pbxDir})`;
      return { name, ok: true, detail: `${this.dir} writable${mapped}` };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return { name, ok: false, detail: `${this.names.dir} ${this.dir} is not writable (${code})` };
    }
  }
}
