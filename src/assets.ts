// Finds files shipped in the repository's assets/ folder, from sources (tsx) and from the built dist/ alike.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function assetPath(relative: string): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'assets', relative);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`asset not found: assets/${relative}`);
}
