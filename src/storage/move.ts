// Moving files between directories without ever losing one: rename, or copy + flush + unlink across file systems.
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { syncDir } from '../util/fsync.js';

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves `src` to `dest`, creating the directory. Never overwrites: an existing `dest` fails with EEXIST.
 * Across file systems (EXDEV: a spool on another volume) the bytes are copied to a temporary name,
 * flushed, renamed into place, and only then is the source removed, so a crash leaves two copies, never none.
 */
export async function moveFile(src: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  try {
    // link + unlink refuses an existing destination atomically, where rename would silently replace it.
    await link(src, dest);
    await unlink(src);
    await syncDir(dirname(dest));
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOENT') throw err;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
  }
  if (await exists(dest)) throw Object.assign(new Error(`destination exists: ${basename(dest)}`), { code: 'EEXIST' });
  const tmp = `${dest}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await copyFile(src, tmp);
    // The same open-and-fsync works for a file as for a directory.
    await syncDir(tmp);
    await rename(tmp, dest);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(dest));
  await unlink(src);
}

/** `dir/name`, or `dir/<stem>-<suffix><ext>` (then -2, -3 …) when that name is taken. */
export async function freeName(dir: string, name: string, suffix: string): Promise<string> {
  const first = join(dir, name);
  if (!(await exists(first))) return first;
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 1; i < 1000; i++) {
    const candidate = join(dir, `${stem}-${suffix}${i === 1 ? '' : `-${i}`}${ext}`);
    if (!(await exists(candidate))) return candidate;
  }
  return join(dir, `${stem}-${suffix}-${randomBytes(4).toString('hex')}${ext}`);
}
