// Writing a file so that a reader (or the next start, or a power cut) sees the old version or the new one, never
// half of one: a temporary file in the same directory, flushed, renamed into place, then the directory flushed.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDir } from './fsync.js';

export interface AtomicWriteOptions {
  /** File mode; documents and settings files are 0600. */
  mode?: number;
  /** Directories known to exist (a busy writer skips the mkdir; a vanished one is made again). */
  madeDirs?: Set<string>;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const mode = opts.mode ?? 0o600;
  if (!opts.madeDirs?.has(dir)) {
    await mkdir(dir, { recursive: true });
    opts.madeDirs?.add(dir);
  }
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  let fh;
  try {
    fh = await open(tmp, 'wx', mode);
  } catch (err) {
    // The directory may have been removed behind our back (cleanup, an operator): make it again once.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    fh = await open(tmp, 'wx', mode);
  }
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    // open() applies the umask; the mode asked for is the mode kept.
    await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}
