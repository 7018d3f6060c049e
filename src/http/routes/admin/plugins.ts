// /plugins, /plugins/{id}/config and /plugin-registry (behind FEATURE_V3_PLUGINS): installed providers and storage, their config store.
import type { Middleware } from 'koa';
import { z } from 'zod';
import { MASK } from '../../../admin/settings-manager.js';
import { resolveManifestSettings } from '../../../backends/manifest/provider.js';
import { ManifestError } from '../../../backends/manifest/load.js';
import { ConfigError, maskedSettings, parseSettings } from '../../../config/index.js';
import { ApiError } from '../../../errors.js';
import { catalog, type Plugin } from '../../../plugins/catalog.js';
import { pluginConfigEnv, pluginConfigPath, readPluginConfig, writePluginConfig, type PluginConfigFile } from '../../../plugins/config-store.js';
import { readRegistry, RegistryError, shippedRegistryPath } from '../../../plugins/registry.js';
import type { Services } from '../../../services.js';
import type { AppState } from '../../middleware/auth.js';
import type { Routes } from '../../route.js';
import { errors } from '../../schemas.js';
import { auditAccess, auditAs } from './common.js';

const PluginOut = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['outbound', 'storage']),
  source: z.enum(['built_in', 'manifest']),
  state: z.enum(['active', 'configured', 'needs_settings', 'invalid']),
  problems: z.array(z.string()),
  settings: z.array(z.object({ name: z.string(), secret: z.boolean(), required: z.boolean() })),
});

const ConfigOut = z.object({
  id: z.string(),
  enabled: z.boolean().describe('Enabled in the config store (an enabled outbound provider is FAX_BACKEND at the next start)'),
  active: z.boolean().describe('In use by the running service'),
  settings: z.record(z.string(), z.unknown()).describe('Effective values, secrets masked'),
  stored: z.array(z.string()).describe('Names held in the config store'),
  path: z.string(),
  restart_required: z.boolean().optional(),
});

const PluginIdParam = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected a plugin id') });

export function pluginRoutes(routes: Routes, s: Services): void {
  const gate: Middleware<AppState> = async (_ctx, next) => {
    if (!s.settings.FEATURE_V3_PLUGINS) throw new ApiError(404, 'not_found', 'Not Found');
    await next();
  };
  const before = [gate, auditAccess(s.audit)];
  const storePath = () => pluginConfigPath(s.admin.settings.desiredEnv());

  const find = async (id: string): Promise<{ plugin: Plugin; env: Record<string, string | undefined>; manifests: Awaited<ReturnType<typeof catalog>>['manifests'] }> => {
    const env = s.admin.settings.desiredEnv();
    const c = await catalog(s.settings, env);
    const plugin = c.plugins.find((p) => p.id === id && p.state !== 'invalid');
    if (!plugin) throw new ApiError(404, 'not_found', `no installed plugin "${id}"`);
    return { plugin, env, manifests: c.manifests };
  };

  const readStore = (): PluginConfigFile => {
    try {
      return readPluginConfig(storePath());
    } catch (err) {
      if (err instanceof ConfigError) throw new ApiError(409, 'config_store_invalid', err.issues.join('; '));
      throw err;
    }
  };

  const configView = (plugin: Plugin, env: Record<string, string | undefined>, store: PluginConfigFile) => {
    const masked = maskedSettings(s.settings);
    const values: Record<string, unknown> = {};
    for (const st of plugin.settings) {
      if (plugin.source === 'built_in') values[st.name] = masked[st.name] ?? null;
      else {
        const v = env[st.name];
        values[st.name] = v === undefined || v === '' ? null : st.secret ? MASK : v;
      }
    }
    const entry = store.plugins[plugin.id];
    return {
      id: plugin.id,
      enabled: entry?.enabled ?? false,
      active: plugin.state === 'active',
      settings: values,
      stored: Object.keys(entry?.settings ?? {}),
      path: storePath(),
    };
  };

  routes.add({
    method: 'GET',
    path: '/plugins',
    summary: 'Installed plugins: built-in backends, manifest providers (MANIFEST_DIR) and storage, with their state',
    description: 'Only with FEATURE_V3_PLUGINS=true (404 otherwise).',
    tags: ['plugins'],
    auth: 'admin',
    before,
    responses: { 200: { description: 'Plugins', schema: z.object({ plugins: z.array(PluginOut) }) }, ...errors(401, 403, 404, 429) },
    handler: async (ctx) => {
      ctx.body = { plugins: (await catalog(s.settings, s.admin.settings.desiredEnv())).plugins };
    },
  });

  routes.add({
    method: 'GET',
    path: '/plugins/:id/config',
    summary: 'A plugin\'s current state in the config store and its effective settings (secrets masked)',
    tags: ['plugins'],
    auth: 'admin',
    before,
    params: PluginIdParam,
    responses: { 200: { description: 'Config', schema: ConfigOut }, ...errors(400, 401, 403, 404, 409, 429) },
    handler: async (ctx, { params }) => {
      const { plugin, env } = await find(params.id);
      ctx.body = configView(plugin, env, readStore());
    },
  });

  routes.add({
    method: 'PUT',
    path: '/plugins/:id/config',
    summary: 'Validate and save a plugin\'s settings (and whether it is enabled) to the config store FAXBOT_CONFIG_PATH, atomically',
    description:
      'Only the plugin\'s own settings are accepted. The result is validated like start-up configuration (400 naming each variable, nothing written). ' +
      'Enabling an outbound provider disables the others in the store. The store is read at start beneath FAXBOT_ENV_FILE and the environment: changes apply after a restart. ' +
      'A secret sent as "********" keeps the stored value.',
    tags: ['plugins'],
    auth: 'admin',
    before,
    params: PluginIdParam,
    body: {
      kind: 'json',
      maxBytes: 64 * 1024,
      schema: z.strictObject({
        enabled: z.boolean().optional(),
        settings: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'expected a setting name in capitals'), z.union([z.string().max(8192), z.number(), z.boolean()])).optional(),
      }),
    },
    responses: { 200: { description: 'Saved', schema: ConfigOut }, ...errors(400, 401, 403, 404, 409, 415, 429) },
    handler: async (ctx, { params, body }) => {
      const b = body as { enabled?: boolean; settings?: Record<string, string | number | boolean> };
      const { plugin, env, manifests } = await find(params.id);
      if (plugin.kind === 'storage') throw new ApiError(400, 'not_configurable', `"${plugin.id}" has no settings to store`);
      const own = new Map(plugin.settings.map((x) => [x.name, x]));
      const given = Object.entries(b.settings ?? {}).map(([k, v]) => [k, String(v)] as const);
      const foreign = given.filter(([k]) => !own.has(k)).map(([k]) => k);
      if (foreign.length > 0) throw new ApiError(400, 'validation_error', `not settings of ${plugin.id}: ${foreign.join(', ')}`);
      const store = readStore();
      const prev = store.plugins[plugin.id] ?? { enabled: false, settings: {} };
      const settings = { ...prev.settings };
      for (const [k, v] of given) {
        if (own.get(k)!.secret && v === MASK) continue;
        if (v === '') delete settings[k];
        else settings[k] = v;
      }
      const enabled = b.enabled ?? prev.enabled;
      const updated: PluginConfigFile = { version: 1, plugins: { ...store.plugins, [plugin.id]: { enabled, settings } } };
      if (enabled && plugin.kind === 'outbound') {
        for (const [id, e] of Object.entries(updated.plugins)) if (id !== plugin.id && e.enabled) updated.plugins[id] = { ...e, enabled: false };
      }
      // Validate what the next start would see: the new store beneath the env file, the environment and API changes.
      const next = s.admin.settings.envWithPluginConfig(pluginConfigEnv(updated));
      try {
        // The stored values themselves (even for a disabled plugin, even where the environment overrides them)...
        if (plugin.source === 'built_in') parseSettings(settings);
        // ...and what the next start would see.
        parseSettings(next);
        const m = manifests.get(plugin.id);
        if (m && enabled) resolveManifestSettings(m, next);
      } catch (err) {
        if (err instanceof ConfigError || err instanceof ManifestError) {
          throw new ApiError(400, 'invalid_settings', `nothing was saved: ${err.issues.join('; ')}`);
        }
        throw err;
      }
      await writePluginConfig(storePath(), updated);
      await auditAs(ctx, s.audit, { type: 'plugin.config_changed', subject: plugin.id, data: { enabled, names: given.map(([k]) => k) } });
      ctx.body = { ...configView(plugin, env, updated), restart_required: true };
    },
  });

  routes.add({
    method: 'GET',
    path: '/plugin-registry',
    summary: 'The curated plugin registry (PLUGIN_REGISTRY_PATH, else the list shipped in config/plugin-registry.json)',
    tags: ['plugins'],
    auth: 'admin',
    before,
    responses: { 200: { description: 'Registry', schema: z.record(z.string(), z.unknown()) }, ...errors(401, 403, 404, 429, 503) },
    handler: async (ctx) => {
      const path = s.settings.PLUGIN_REGISTRY_PATH ?? shippedRegistryPath();
      try {
        const reg = await readRegistry(path);
        ctx.body = { ...reg, source: path };
      } catch (err) {
        if (err instanceof RegistryError) throw new ApiError(503, 'registry_unavailable', err.message);
        throw err;
      }
    },
  });
}
