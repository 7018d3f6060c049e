// Writing .env text that node's parseEnv reads back exactly, and writing files atomically with mode 0600.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

const PLAIN = /^[A-Za-z0-9_.,:/@+=%-]*$/;

/** Why `value` cannot be written to an env file, or null. */
export function unrepresentable(value: string): string | null {
  if (/[\r\n\0]/.test(value)) return 'may not contain line breaks or NUL characters';
  if (value.includes("'") && value.includes('"') && value.includes('`')) return 'may not contain all three quote characters';
  return null;
}

/** One NAME=value line; quoted so that parseEnv gives back exactly `value`. */
export function envLine(name: string, value: string): string {
  const bad = unrepresentable(value);
  if (bad) throw new Error(`${name}: ${bad}`);
  if (PLAIN.test(value)) return `${name}=${value}`;
  // Single quotes are literal; double quotes would expand "\n", so they are only used without a backslash-n.
  if (!value.includes("'")) return `${name}='${value}'`;
  if (!value.includes('"') && !value.includes('\\n')) return `${name}="${value}"`;
  return `${name}=\`${value}\``;
}

/**
 * Replaces `path` with `text`: a temporary file in the same directory (mode 0600), flushed, renamed into place,
 * so a reader (or the next start) sees the old file or the new one, never half of one.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  } finally {
    await fh.close().catch(() => undefined);
  }
  try {
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  try {
    const d = await open(dirname(path), 'r');
    await d.sync().finally(() => d.close());
  } catch {
    // not every file system can fsync a directory; the rename is atomic regardless
  }
}
