// Flushing a directory after a rename, so the new name survives a power cut as well as the file's bytes.
import { open } from 'node:fs/promises';

async function fsyncDir(dir: string): Promise<void> {
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

interface DirState {
  running: Promise<void> | null;
  next: Promise<void> | null;
}
const dirs = new Map<string, DirState>();

/**
 * Group commit for directory flushes: a caller needs a flush that starts after its rename. If one is already
 * running, it may have started before the rename, so the caller shares the next one; every caller waiting
 * meanwhile shares that same next flush. Under concurrent uploads this turns N directory flushes into about two.
 */
export function syncDir(dir: string): Promise<void> {
  let st = dirs.get(dir);
  if (!st) {
    st = { running: null, next: null };
    dirs.set(dir, st);
  }
  const state = st;
  const start = (): Promise<void> => {
    const p = fsyncDir(dir).finally(() => {
      if (state.running === p) state.running = null;
    });
    state.running = p;
    return p;
  };
  if (!state.running) return start();
  state.next ??= state.running.then(() => {
    state.next = null;
    return start();
  });
  return state.next;
}
