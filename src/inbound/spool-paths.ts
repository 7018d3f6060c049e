// Where received TIFFs may be read from: PBX paths mapped to local ones, and every path checked to stay inside a spool.
import { realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import type { PathMapping, SpoolDir, SpoolSource } from './config.js';

export type PathRefusal = 'no_spool_configured' | 'tiff_path_invalid' | 'tiff_path_outside_spool' | 'tiff_missing';

export type PathCheck =
  | { ok: true; path: string; dir: SpoolDir }
  | { ok: false; code: PathRefusal; reason: string };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A PBX unique id as it may appear in a file name: Asterisk `[system-]epoch.seq`, FreeSWITCH a UUID. */
export const UID_RE = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const TIFF_EXT_RE = /\.tiff?$/i;

function inside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** The unique id in a spool file name (`<uid>.tif`, `<uid>.json`), or null when the name is not one of ours. */
export function uidFromFileName(name: string): { uid: string; kind: 'tiff' | 'sidecar' } | null {
  const m = /^(.+?)\.(tiff?|json)$/i.exec(name);
  if (!m || !UID_RE.test(m[1]!)) return null;
  return { uid: m[1]!, kind: m[2]!.toLowerCase() === 'json' ? 'sidecar' : 'tiff' };
}

export class SpoolPaths {
  constructor(
    readonly dirs: readonly SpoolDir[],
    private readonly map: readonly PathMapping[],
  ) {}

  /** The path as this service sees it: the longest INBOUND_SPOOL_MAP prefix replaced, else unchanged. */
  toLocal(pbxPath: string): string {
    for (const m of this.map) {
      if (pbxPath === m.pbx) return m.local;
      if (pbxPath.startsWith(m.pbx + '/')) return m.local + pbxPath.slice(m.pbx.length);
    }
    return pbxPath;
  }

  /** The configured spool directory a local path lies in (lexically), or null. */
  dirOf(localPath: string): SpoolDir | null {
    return this.dirs.find((d) => inside(d.dir, localPath)) ?? null;
  }

  /** Which PBX a file in `dir` came from: the directory's tag, else a UUID name is FreeSWITCH's and any other Asterisk's. */
  sourceFor(dir: SpoolDir, uid: string): SpoolSource {
    if (dir.source !== 'auto') return dir.source;
    return UUID_RE.test(uid) ? 'freeswitch' : 'asterisk';
  }

  /** Checks that need no file system: absolute, no "..", a .tif/.tiff name, inside a spool once mapped. */
  lexical(pbxPath: string): PathCheck {
    if (this.dirs.length === 0) return { ok: false, code: 'no_spool_configured', reason: 'no inbound spool directory is configured (INBOUND_SPOOL_DIRS)' };
    if (pbxPath.includes('\0') || !isAbsolute(pbxPath)) return { ok: false, code: 'tiff_path_invalid', reason: 'tiff_path must be an absolute path' };
    if (pbxPath.split('/').includes('..')) return { ok: false, code: 'tiff_path_invalid', reason: 'tiff_path must not contain ".."' };
    if (!TIFF_EXT_RE.test(pbxPath)) return { ok: false, code: 'tiff_path_invalid', reason: 'tiff_path must name a .tif or .tiff file' };
    const local = resolve(this.toLocal(pbxPath));
    const dir = this.dirOf(local);
    if (!dir) {
      return {
        ok: false,
        code: 'tiff_path_outside_spool',
        reason: 'tiff_path is not inside an inbound spool directory (INBOUND_SPOOL_DIRS; map PBX paths with INBOUND_SPOOL_MAP)',
      };
    }
    return { ok: true, path: local, dir };
  }

  /**
   * Lexical checks, then the real file: it must exist, be a regular file, and its real path (every
   * symlink followed) must still lie inside the real path of its spool directory.
   */
  async resolve(pbxPath: string): Promise<PathCheck> {
    const lex = this.lexical(pbxPath);
    if (!lex.ok) return lex;
    let real: string;
    let realDir: string;
    try {
      real = await realpath(lex.path);
      realDir = await realpath(lex.dir.dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, code: 'tiff_missing', reason: `the TIFF ${basename(lex.path)} does not exist` };
      throw err;
    }
    if (!inside(realDir, real)) {
      return { ok: false, code: 'tiff_path_outside_spool', reason: 'tiff_path leads (through a symbolic link) outside the inbound spool directory' };
    }
    const st = await stat(real);
    if (!st.isFile()) return { ok: false, code: 'tiff_path_invalid', reason: 'tiff_path is not a regular file' };
    return { ok: true, path: real, dir: lex.dir };
  }
}
