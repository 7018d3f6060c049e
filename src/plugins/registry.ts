// The curated plugin registry served by GET /plugin-registry: a JSON file (PLUGIN_REGISTRY_PATH or the shipped one).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';

export const registryEntry = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/),
  name: z.string().min(1),
  kind: z.enum(['outbound', 'inbound', 'storage']),
  built_in: z.boolean(),
  description: z.string(),
  /** Setting names of a built-in plugin start with one of these (PHAXIO_, SINCH_...). */
  settings_prefixes: z.array(z.string()),
});
export const registrySchema = z.object({ version: z.literal(1), plugins: z.array(registryEntry) });
export type Registry = z.output<typeof registrySchema>;
export type RegistryEntry = z.output<typeof registryEntry>;

/** config/plugin-registry.json of this installation, from sources (tsx) and from dist/ alike. */
export function shippedRegistryPath(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'config', 'plugin-registry.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join(import.meta.dirname, 'config', 'plugin-registry.json');
}

export class RegistryError extends Error {}

export async function readRegistry(path: string): Promise<Registry> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RegistryError(`cannot read the plugin registry ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new RegistryError(`the plugin registry ${path} is not valid JSON`);
  }
  const r = registrySchema.safeParse(data);
  if (!r.success) throw new RegistryError(`the plugin registry ${path} is invalid: ${r.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
