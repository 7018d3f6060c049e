// Live settings: validates a change (or a reload) exactly like start-up, applies what can change in process, holds the rest for a restart.
import { isDeepStrictEqual } from 'node:util';
import { ConfigError, maskedSettings, parseSettings, secretSettings, settingNames, type Settings } from '../config/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { envLine, unrepresentable } from './env-file.js';
import { mergeLayers, readLayers, type EnvLayers, type EnvMap } from './settings-source.js';
import { settingPolicy } from './settings-policy.js';
import { readEnvFile } from '../config/index.js';
import { join, resolve } from 'node:path';

export const MASK = '********';

export type SettingSource = 'api' | 'environment' | 'env_file' | 'plugin_config' | 'default';

/** A refused change: one line per problem, each naming its variable. Nothing was changed. */
export class SettingsError extends Error {
  constructor(
    readonly code: 'invalid_settings' | 'unknown_setting' | 'locked_setting',
    readonly issues: string[],
  ) {
    super(issues.join('; '));
    this.name = 'SettingsError';
  }
}

export interface ChangeResult {
  /** Now in effect. */
  applied: string[];
  /** Valid and kept (visible in GET /admin/settings as pending, written by persist) but used only after a restart. */
  restartRequired: string[];
  /** Named in the change but equal to what is in effect. */
  unchanged: string[];
}

export interface SettingsManagerOptions {
  /** The variables the service started from (process.env in production); re-read, with the files, on reload. */
  environment: () => EnvMap;
  initial: Settings;
  /** Replaces the running settings object (one assignment: readers see the old or the new object, never a mix). */
  apply: (next: Settings) => void;
}

const valueOf = (s: Settings, name: string): unknown => (s as unknown as Record<string, unknown>)[name];

export class SettingsManager {
  private readonly overrides = new Map<string, string>();
  private layers: EnvLayers;
  private running: Settings;
  /** What the next start would use (environment, files and API changes), validated. */
  private desired: Settings;

  constructor(private readonly o: SettingsManagerOptions) {
    this.running = o.initial;
    this.desired = o.initial;
    try {
      this.layers = readLayers(o.environment());
      this.desired = parseSettings(mergeLayers(this.layers, this.overrides));
    } catch {
      // The files changed since the start in a way that no longer parses: keep what is running; reload reports it.
      this.layers = { pluginConfig: {}, envFile: {}, environment: o.environment() };
    }
  }

  get current(): Settings {
    return this.running;
  }

  /** Names whose desired value differs from the running one (they wait for a restart). */
  pending(): string[] {
    return settingNames.filter((n) => !isDeepStrictEqual(valueOf(this.running, n), valueOf(this.desired, n)));
  }

  /** The masked desired values of the pending settings. */
  pendingMasked(): Record<string, unknown> {
    const m = maskedSettings(this.desired);
    return Object.fromEntries(this.pending().map((n) => [n, m[n] ?? null]));
  }

  source(name: string): SettingSource {
    if (this.overrides.has(name)) return 'api';
    const present = (v: string | undefined) => v !== undefined && v.trim() !== '';
    if (present(this.layers.environment[name])) return 'environment';
    if (present(this.layers.envFile[name])) return 'env_file';
    if (present(this.layers.pluginConfig[name])) return 'plugin_config';
    return 'default';
  }

  /**
   * Applies `changes` (name → value; null drops an earlier API change, "" means unset). The whole change is
   * validated by parseSettings over the merged environment; any problem refuses all of it. A secret sent back
   * as the mask is taken as "unchanged", so a console can send the form it was shown.
   */
  update(changes: Record<string, string | null>): ChangeResult {
    const issues: string[] = [];
    const unknown = Object.keys(changes).filter((n) => !settingNames.includes(n));
    if (unknown.length > 0) throw new SettingsError('unknown_setting', unknown.map((n) => `${n}: not a setting of this service`));
    const locked = Object.keys(changes).filter((n) => settingPolicy(n) === 'locked');
    if (locked.length > 0) {
      throw new SettingsError('locked_setting', locked.map((n) => `${n}: can only be set in the environment or the env file, not through the API`));
    }
    const next = new Map(this.overrides);
    const named: string[] = [];
    for (const [name, value] of Object.entries(changes)) {
      if (value !== null && secretSettings.has(name) && value === MASK) continue;
      named.push(name);
      if (value === null) {
        next.delete(name);
        continue;
      }
      const bad = unrepresentable(value);
      if (bad) issues.push(`${name}: ${bad}`);
      next.set(name, value);
    }
    if (issues.length > 0) throw new SettingsError('invalid_settings', issues);
    return this.commit(this.layers, next, named);
  }

  /** Re-reads the environment and the files (FAXBOT_ENV_FILE, FAXBOT_CONFIG_PATH); API changes stay on top. */
  reload(): ChangeResult {
    let layers: EnvLayers;
    try {
      layers = readLayers(this.o.environment());
    } catch (err) {
      if (err instanceof ConfigError) throw new SettingsError('invalid_settings', err.issues);
      throw err;
    }
    return this.commit(layers, this.overrides, null);
  }

  private commit(layers: EnvLayers, overrides: Map<string, string>, named: string[] | null): ChangeResult {
    let candidate: Settings;
    try {
      candidate = parseSettings(mergeLayers(layers, overrides));
    } catch (err) {
      if (err instanceof ConfigError) throw new SettingsError('invalid_settings', err.issues);
      throw err;
    }
    const considered = named ?? settingNames;
    const result: ChangeResult = { applied: [], restartRequired: [], unchanged: [] };
    const patch: Record<string, unknown> = {};
    for (const name of considered) {
      const now = valueOf(this.running, name);
      const want = valueOf(candidate, name);
      if (isDeepStrictEqual(now, want)) {
        if (named) result.unchanged.push(name);
        continue;
      }
      if (settingPolicy(name) === 'live') {
        patch[name] = want;
        result.applied.push(name);
      } else result.restartRequired.push(name);
    }
    // Everything below is synchronous: no request sees the layers of one change and the settings of another.
    if (overrides !== this.overrides) {
      this.overrides.clear();
      for (const [k, v] of overrides) this.overrides.set(k, v);
    }
    this.layers = layers;
    this.desired = candidate;
    if (result.applied.length > 0) {
      this.running = { ...this.running, ...patch } as Settings;
      this.o.apply(this.running);
    }
    return result;
  }

  /** The merged variables (files, environment, API changes) the desired settings are parsed from. */
  desiredEnv(): EnvMap {
    return mergeLayers(this.layers, this.overrides);
  }

  /** The merged variables with another plugin config store layer (to validate a store change before writing it). */
  envWithPluginConfig(pluginConfig: Record<string, string>): EnvMap {
    return mergeLayers({ ...this.layers, pluginConfig }, this.overrides);
  }

  /** The desired configuration as raw NAME=value pairs (only variables that are set, in settings order). */
  private rawDesired(): [string, string][] {
    const env = mergeLayers(this.layers, this.overrides);
    const out: [string, string][] = [];
    for (const n of settingNames) {
      const v = env[n];
      if (v !== undefined && v.trim() !== '') out.push([n, v]);
    }
    return out;
  }

  /** An .env snippet of what is set; secrets commented out and masked unless `includeSecrets`. */
  exportEnv(includeSecrets: boolean): string {
    const lines = [`# faxbot settings exported ${new Date().toISOString()} (variables that are set; unset ones take their defaults)`];
    for (const [n, v] of this.rawDesired()) {
      if (secretSettings.has(n) && !includeSecrets) lines.push(`# ${n}=${MASK} (secret: export with include_secrets=true)`);
      else lines.push(envLine(n, v));
    }
    return lines.join('\n') + '\n';
  }

  /** FAXBOT_ENV_FILE, else FAX_DATA_DIR/faxbot.env; and whether the next start will read it. */
  persistTarget(): { path: string; readAtStart: boolean } {
    const explicit = this.layers.environment.FAXBOT_ENV_FILE?.trim();
    if (explicit) return { path: resolve(explicit), readAtStart: true };
    return { path: join(this.running.dataDir, 'faxbot.env'), readAtStart: false };
  }

  /**
   * Writes the env file: what it held, with every API change laid over it. Returns the names written and those
   * the real environment sets to something else (the environment wins at start, so those would not take).
   */
  async persist(): Promise<{ path: string; readAtStart: boolean; written: string[]; shadowed: string[] }> {
    const target = this.persistTarget();
    let existing: Record<string, string> = {};
    try {
      existing = readEnvFile({ FAXBOT_ENV_FILE: target.path });
    } catch {
      existing = {};
    }
    const merged = new Map(Object.entries(existing));
    for (const [k, v] of this.overrides) merged.set(k, v);
    const text = [`# faxbot settings written by POST /admin/settings/persist at ${new Date().toISOString()}`, ...[...merged].map(([k, v]) => envLine(k, v))].join('\n') + '\n';
    await writeFileAtomic(target.path, text);
    const shadowed = [...this.overrides].filter(([k, v]) => {
      const e = this.layers.environment[k];
      return e !== undefined && e.trim() !== '' && e !== v;
    }).map(([k]) => k);
    return { ...target, written: [...merged.keys()], shadowed };
  }
}
