// Settings: the environment (plus an optional env file) parsed and validated once, into one typed object.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { adminEnvSchema } from '../admin/config.js';
import { asteriskEnvSchema, asteriskSecrets } from '../backends/asterisk/config.js';
import { freeswitchEnvSchema, freeswitchSecrets } from '../backends/freeswitch/config.js';
import { cloudEnvSchema, cloudSettingsIssues } from '../backends/cloud/config.js';
import { manifestEnvSchema } from '../backends/manifest/config.js';
import { inboundEnvSchema, inboundSecrets } from '../inbound/config.js';
import { hotfolderEnvSchema } from '../hotfolder/config.js';
import { pbxFaxEnvSchema } from '../backends/pbx/config.js';
import { phaxioEnvSchema, phaxioSecrets } from '../backends/phaxio/config.js';
import { signalWireEnvSchema, signalWireSecrets } from '../backends/signalwire/config.js';
import { sinchEnvSchema, sinchSecrets } from '../backends/sinch/config.js';
import { webhookEnvSchema, webhookSecrets } from '../webhooks/config.js';
import { coreSchema, coreSecrets, defaultInstanceId } from './core.js';

/**
 * Every setting, keyed by its environment variable name, so that errors, the admin view and the
 * exported .env snippet all speak the names an operator actually sets.
 * Each area keeps its section (a record of zod fields) beside its code and is spread in here.
 */
const shape = {
  ...coreSchema,
  ...webhookEnvSchema,
  ...phaxioEnvSchema,
  ...sinchEnvSchema,
  ...signalWireEnvSchema,
  ...manifestEnvSchema,
  ...inboundEnvSchema,
  ...hotfolderEnvSchema,
  ...pbxFaxEnvSchema,
  ...asteriskEnvSchema,
  ...freeswitchEnvSchema,
  ...cloudEnvSchema,
  ...adminEnvSchema,
};
export const settingsSchema = z.object(shape);

export type Settings = z.output<typeof settingsSchema> & {
  /** Resolved absolute data directory. */
  readonly dataDir: string;
  /** Resolved instance id (INSTANCE_ID or host:port). */
  readonly instanceId: string;
};

export const secretSettings: ReadonlySet<string> = new Set<string>([
  ...coreSecrets,
  ...webhookSecrets,
  ...phaxioSecrets,
  ...sinchSecrets,
  ...signalWireSecrets,
  ...asteriskSecrets,
  ...freeswitchSecrets,
  ...inboundSecrets,
]);
export const settingNames: readonly string[] = Object.keys(shape);

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads FAXBOT_ENV_FILE (if set) beneath the real environment: real variables win. */
export function readEnvFile(env: NodeJS.ProcessEnv): Record<string, string> {
  const path = env.FAXBOT_ENV_FILE?.trim();
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`FAXBOT_ENV_FILE: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseEnv(text) as Record<string, string>;
}

/** Validates a flat name → string map into Settings; throws ConfigError naming every bad variable. */
export function parseSettings(env: Record<string, string | undefined>): Settings {
  const result = settingsSchema.safeParse(env);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(issues);
  }
  const s = result.data;
  const crossIssues = cloudSettingsIssues(s);
  if (crossIssues.length > 0) throw new ConfigError(crossIssues);
  return {
    ...s,
    dataDir: resolve(s.FAX_DATA_DIR ?? './faxdata'),
    instanceId: s.INSTANCE_ID ?? defaultInstanceId(s.PORT),
  };
}

/** Loads settings from process.env and the optional env file. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return parseSettings({ ...readEnvFile(env), ...env });
}

/** A copy of the settings fit for display: every secret replaced by a mask, unset values as null. */
export function maskedSettings(s: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of settingNames) {
    const v = (s as unknown as Record<string, unknown>)[name];
    if (secretSettings.has(name)) out[name] = v === undefined || v === '' ? null : '********';
    else out[name] = v ?? null;
  }
  return out;
}
