// The plugin config store (FAXBOT_CONFIG_PATH): per-plugin settings in one JSON file, read at start beneath the env file.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ConfigError } from '../config/index.js';

const pluginEntry = z.strictObject({
  enabled: z.boolean(),
  settings: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'expected an environment variable name in capitals'), z.string()),
});

export const pluginConfigSchema = z.strictObject({
  version: z.literal(1),
  plugins: z.record(z.string(), pluginEntry),
});

export type PluginConfigFile = z.output<typeof pluginConfigSchema>;
export type PluginConfigEntry = z.output<typeof pluginEntry>;

export const emptyPluginConfig = (): PluginConfigFile => ({ version: 1, plugins: {} });

/** FAXBOT_CONFIG_PATH, else FAX_DATA_DIR/faxbot.config.json. */
export function pluginConfigPath(env: Record<string, string | undefined>): string {
  const explicit = env.FAXBOT_CONFIG_PATH?.trim();
  if (explicit) return resolve(explicit);
  return resolve(env.FAX_DATA_DIR?.trim() || './faxdata', 'faxbot.config.json');
}

/** Reads the store; a missing file is an empty store, a malformed one a ConfigError naming the field. */
export function readPluginConfig(path: string): PluginConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyPluginConfig();
    throw new ConfigError([`FAXBOT_CONFIG_PATH: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`FAXBOT_CONFIG_PATH: "${path}" is not valid JSON (${(err as Error).message})`]);
  }
  const r = pluginConfigSchema.safeParse(data);
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => `FAXBOT_CONFIG_PATH: ${path}: ${i.path.join('.') || '(root)'}: ${i.message}`));
  return r.data;
}

/**
 * The store as environment variables: every plugin's settings, and FAX_BACKEND for the enabled outbound
 * plugin (`outboundIds` says which plugin ids are outbound providers).
 */
export function pluginConfigEnv(file: PluginConfigFile, isOutbound: (id: string) => boolean = () => true): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [id, entry] of Object.entries(file.plugins)) {
    if (!entry.enabled) continue;
    Object.assign(env, entry.settings);
    if (isOutbound(id)) env.FAX_BACKEND = id;
  }
  return env;
}

export async function writePluginConfig(path: string, file: PluginConfigFile): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n');
}

export const defaultPluginConfigPath = (dataDir: string) => join(dataDir, 'faxbot.config.json');
