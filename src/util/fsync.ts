// Flushing a directory after a rename, so the new name survives a power cut as well as the file's bytes.
import { open } from 'node:fs/promises';

export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  }
}
