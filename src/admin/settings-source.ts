// Where settings come from, lowest first: plugin config store, FAXBOT_ENV_FILE, the real environment (then admin API changes).
import { readEnvFile, parseSettings, type Settings } from '../config/index.js';
import { pluginConfigEnv, pluginConfigPath, readPluginConfig } from '../plugins/config-store.js';

export type EnvMap = Record<string, string | undefined>;

export interface EnvLayers {
  pluginConfig: Record<string, string>;
  envFile: Record<string, string>;
  environment: EnvMap;
}

/** Reads every layer now (files included), so a reload sees edits made since the start. */
export function readLayers(environment: EnvMap): EnvLayers {
  const envFile = readEnvFile(environment as NodeJS.ProcessEnv);
  const pluginConfig = pluginConfigEnv(readPluginConfig(pluginConfigPath({ ...envFile, ...environment })));
  return { pluginConfig, envFile, environment };
}

export function mergeLayers(l: EnvLayers, overrides: ReadonlyMap<string, string> = new Map()): EnvMap {
  return { ...l.pluginConfig, ...l.envFile, ...l.environment, ...Object.fromEntries(overrides) };
}

/** loadSettings with the plugin config store beneath the env file: what main.ts starts with. */
export function loadLayeredSettings(environment: EnvMap = process.env): Settings {
  return parseSettings(mergeLayers(readLayers(environment)));
}
