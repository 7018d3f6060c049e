// The artifact store on the local (or shared) file system: documents live under FAX_DATA_DIR, written atomically.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, rm, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

export class LocalStore {
  /** Directories known to exist, so a write does not pay for a mkdir each time. */
  private readonly madeDirs = new Set<string>();

  constructor(readonly root: string) {}

  /** Absolute path for a stored key; refuses keys that would leave the store. */
  path(key: string): string {
    const p = resolve(this.root, key);
    const rel = relative(this.root, p);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error('storage key outside the store');
    return p;
  }

  /**
   * Writes bytes durably: to a temporary file, flushed to disk, then renamed into place, so a reader
   * (or a restart) never sees half a document, and a job row never points at a file that is not there.
   */
  async put(key: string, bytes: Uint8Array): Promise<string> {
    const dest = this.path(key);
    await writeFileAtomic(dest, bytes, { mode: 0o600, madeDirs: this.madeDirs });
    return dest;
  }

  async read(key: string): Promise<Buffer> {
    return readFile(this.path(key));
  }

  async remove(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.path(key));
      return true;
    } catch {
      return false;
    }
  }

  /** Readiness: the directory exists (or can be made) and a file can be written and removed. */
  async checkWritable(): Promise<{ ok: boolean; detail: string }> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root, constants.W_OK);
      const probe = join(this.root, `.probe-${randomBytes(4).toString('hex')}`);
      const fh = await open(probe, 'w', 0o600);
      await fh.close();
      await unlink(probe);
      return { ok: true, detail: 'writable' };
    } catch (err) {
      return { ok: false, detail: `not writable: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
    }
  }
}

