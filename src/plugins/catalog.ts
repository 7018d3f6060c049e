// Installed plugins: the built-in outbound backends, manifest providers from MANIFEST_DIR, and storage, each with its state.
import { asteriskMissing } from '../backends/asterisk/config.js';
import { loadManifestDir, type Manifest } from '../backends/manifest/load.js';
import { phaxioMissing } from '../backends/phaxio/config.js';
import { signalWireMissing } from '../backends/signalwire/config.js';
import { sinchMissing } from '../backends/sinch/config.js';
import { secretSettings, settingNames, type Settings } from '../config/index.js';
import type { EnvMap } from '../admin/settings-source.js';

export type PluginKind = 'outbound' | 'storage';
export type PluginState = 'active' | 'configured' | 'needs_settings' | 'invalid';

export interface PluginSetting {
  name: string;
  secret: boolean;
  required: boolean;
}

export interface Plugin {
  id: string;
  name: string;
  kind: PluginKind;
  source: 'built_in' | 'manifest';
  state: PluginState;
  /** Missing required settings (needs_settings) or manifest errors (invalid). */
  problems: string[];
  settings: PluginSetting[];
}

interface BuiltIn {
  id: string;
  name: string;
  prefixes: string[];
  missing: (s: Settings) => string[];
}

const BUILT_IN: BuiltIn[] = [
  { id: 'sandbox', name: 'Sandbox (simulated calls)', prefixes: ['SANDBOX_'], missing: () => [] },
  { id: 'sip', name: 'Asterisk (ARI)', prefixes: ['ASTERISK_', 'ARI_'], missing: asteriskMissing },
  { id: 'freeswitch', name: 'FreeSWITCH (ESL)', prefixes: ['FREESWITCH_', 'ESL_'], missing: () => [] },
  { id: 'phaxio', name: 'Phaxio', prefixes: ['PHAXIO_'], missing: phaxioMissing },
  { id: 'sinch', name: 'Sinch', prefixes: ['SINCH_'], missing: sinchMissing },
  { id: 'signalwire', name: 'SignalWire', prefixes: ['SIGNALWIRE_'], missing: signalWireMissing },
];

export const isBuiltInBackend = (id: string) => BUILT_IN.some((b) => b.id === id);

function builtInSettings(b: BuiltIn): PluginSetting[] {
  return settingNames.filter((n) => b.prefixes.some((p) => n.startsWith(p))).map((n) => ({ name: n, secret: secretSettings.has(n), required: false }));
}

export function manifestSettings(m: Manifest): PluginSetting[] {
  return Object.values(m.json.settings ?? {}).map((s) => ({ name: s.env, secret: s.secret === true, required: s.required !== false && s.default === undefined }));
}

export interface Catalog {
  plugins: Plugin[];
  manifests: Map<string, Manifest>;
}

/** Reads MANIFEST_DIR now (a manifest added since the start shows up, as configured but not active). */
export async function catalog(s: Settings, env: EnvMap): Promise<Catalog> {
  const plugins: Plugin[] = [];
  for (const b of BUILT_IN) {
    const missing = b.missing(s);
    const settings = builtInSettings(b);
    for (const m of missing) {
      const hit = settings.find((x) => x.name === m);
      if (hit) hit.required = true;
    }
    plugins.push({
      id: b.id,
      name: b.name,
      kind: 'outbound',
      source: 'built_in',
      state: s.FAX_BACKEND === b.id ? 'active' : missing.length > 0 ? 'needs_settings' : 'configured',
      problems: missing.map((m) => `${m} is not set`),
      settings,
    });
  }
  let manifests = new Map<string, Manifest>();
  if (s.MANIFEST_DIR) {
    const loaded = await loadManifestDir(s.MANIFEST_DIR);
    manifests = loaded.manifests;
    for (const m of loaded.manifests.values()) {
      const settings = manifestSettings(m);
      const missing = settings.filter((x) => x.required && !(env[x.name] ?? '').trim()).map((x) => `${x.name} is not set`);
      plugins.push({
        id: m.json.id,
        name: m.json.name,
        kind: 'outbound',
        source: 'manifest',
        state: s.FAX_BACKEND === m.json.id ? 'active' : missing.length > 0 ? 'needs_settings' : 'configured',
        problems: missing,
        settings,
      });
    }
    if (loaded.errors.length > 0) {
      plugins.push({ id: 'manifest-errors', name: 'Manifests that failed to load', kind: 'outbound', source: 'manifest', state: 'invalid', problems: loaded.errors, settings: [] });
    }
  }
  plugins.push({ id: 'local', name: 'Local file storage', kind: 'storage', source: 'built_in', state: 'active', problems: [], settings: [] });
  return { plugins, manifests };
}
