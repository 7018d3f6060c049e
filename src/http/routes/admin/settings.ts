// /admin/settings: the effective settings (secrets masked), validate, apply in process, reload, export, persist; and /admin/restart.
import { z } from 'zod';
import { SettingsError } from '../../../admin/settings-manager.js';
import { settingPolicy } from '../../../admin/settings-policy.js';
import { maskedSettings, parseSettings, secretSettings, settingNames, ConfigError } from '../../../config/index.js';
import { ApiError } from '../../../errors.js';
import type { Services } from '../../../services.js';
import type { Routes } from '../../route.js';
import { errors } from '../../schemas.js';
import { auditAccess, auditAs, queryBool } from './common.js';
import { runProbes } from '../../../admin/probes.js';

const SettingsValue = z.union([z.string().max(8192), z.number(), z.boolean(), z.null()]);
const SettingsChange = z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'expected a setting name in capitals'), SettingsValue);

const ChangeOut = z.object({
  applied: z.array(z.string()).describe('In effect now'),
  restart_required: z.array(z.string()).describe('Valid, kept, used after a restart (persist to keep them across it)'),
  unchanged: z.array(z.string()),
  settings: z.record(z.string(), z.unknown()).describe('The effective settings after the change, secrets masked'),
});

const Checks = z.object({ ok: z.boolean(), checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })) });

function toStrings(change: Record<string, string | number | boolean | null>): Record<string, string | null> {
  return Object.fromEntries(Object.entries(change).map(([k, v]) => [k, v === null ? null : String(v)]));
}

function settingsError(err: unknown): never {
  if (err instanceof SettingsError) {
    throw new ApiError(400, err.code, `the change was refused, nothing was applied: ${err.issues.join('; ')}`);
  }
  throw err;
}

export function settingsRoutes(routes: Routes, s: Services): void {
  const before = [auditAccess(s.audit)];
  const view = () => {
    const m = s.admin.settings;
    const names = settingNames;
    return {
      settings: maskedSettings(s.settings),
      derived: { data_dir: s.settings.dataDir, instance_id: s.settings.instanceId },
      pending_restart: m.pendingMasked(),
      sources: Object.fromEntries(names.map((n) => [n, m.source(n)])),
      policy: {
        live: names.filter((n) => settingPolicy(n) === 'live'),
        restart_required: names.filter((n) => settingPolicy(n) === 'restart'),
        environment_only: names.filter((n) => settingPolicy(n) === 'locked'),
      },
      secrets: names.filter((n) => secretSettings.has(n)),
    };
  };

  routes.add({
    method: 'GET',
    path: '/admin/settings',
    summary: 'Effective settings (every secret masked), where each comes from, and what waits for a restart',
    tags: ['admin', 'settings'],
    auth: 'admin',
    before,
    responses: {
      200: {
        description: 'Snapshot',
        schema: z.object({
          settings: z.record(z.string(), z.unknown()),
          derived: z.object({ data_dir: z.string(), instance_id: z.string() }),
          pending_restart: z.record(z.string(), z.unknown()),
          sources: z.record(z.string(), z.enum(['api', 'environment', 'env_file', 'plugin_config', 'default'])),
          policy: z.object({ live: z.array(z.string()), restart_required: z.array(z.string()), environment_only: z.array(z.string()) }),
          secrets: z.array(z.string()),
        }),
      },
      ...errors(401, 403, 429),
    },
    handler: (ctx) => {
      ctx.body = view();
    },
  });

  routes.add({
    method: 'PUT',
    path: '/admin/settings',
    summary: 'Apply settings in process: validated like start-up, all or nothing',
    description:
      'A JSON object of NAME → value (string, number, boolean; null drops an earlier API change; "" unsets). The merged configuration is ' +
      'validated exactly like at start-up; any invalid value refuses the whole change (400 naming each variable) and nothing changes. ' +
      'Live settings apply at once; the others are kept as pending and reported in restart_required. A secret sent back as "********" is left as it is. ' +
      'Settings naming files and the admin gates (ADMIN_ALLOW_RESTART, ENABLE_PERSISTED_SETTINGS) can only be set in the environment.',
    tags: ['admin', 'settings'],
    auth: 'admin',
    before,
    body: { kind: 'json', maxBytes: 64 * 1024, schema: SettingsChange.refine((r) => Object.keys(r).length > 0, 'name at least one setting') },
    responses: { 200: { description: 'Applied (or pending restart)', schema: ChangeOut }, ...errors(400, 401, 403, 413, 415, 429) },
    handler: async (ctx, { body }) => {
      const change = toStrings(body as Record<string, string | number | boolean | null>);
      let r;
      try {
        r = s.admin.settings.update(change);
      } catch (err) {
        // A refused change is audited too: which names, never the values.
        await auditAs(ctx, s.audit, { type: 'settings.change_refused', data: { names: Object.keys(change) } });
        settingsError(err);
      }
      await auditAs(ctx, s.audit, { type: 'settings.changed', data: { applied: r.applied, restart_required: r.restartRequired, via: 'api' } });
      ctx.body = { applied: r.applied, restart_required: r.restartRequired, unchanged: r.unchanged, settings: maskedSettings(s.settings) };
    },
  });

  routes.add({
    method: 'POST',
    path: '/admin/settings/validate',
    summary: 'Check the configuration without side effects: database, storage, Ghostscript, the backend, and area probes',
    description: 'With a body (NAME → value, as for PUT), those values are also validated against the current configuration, without applying them.',
    tags: ['admin', 'settings'],
    auth: 'admin',
    before,
    body: { kind: 'json', maxBytes: 64 * 1024, schema: SettingsChange.optional() },
    responses: { 200: { description: 'One result per check', schema: Checks }, ...errors(400, 401, 403, 415, 429) },
    handler: async (ctx, { body }) => {
      const checks: { name: string; ok: boolean; detail: string }[] = [];
      const proposed = body === undefined ? null : toStrings(body as Record<string, string | number | boolean | null>);
      let candidate = s.settings;
      if (proposed) {
        const unknown = Object.keys(proposed).filter((n) => !settingNames.includes(n));
        if (unknown.length > 0) checks.push({ name: 'settings', ok: false, detail: `not settings of this service: ${unknown.join(', ')}` });
        else {
          try {
            candidate = parseSettings({ ...s.admin.settings.desiredEnv(), ...Object.fromEntries(Object.entries(proposed).map(([k, v]) => [k, v ?? undefined])) });
            checks.push({ name: 'settings', ok: true, detail: `valid: ${Object.keys(proposed).join(', ')}` });
          } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            checks.push({ name: 'settings', ok: false, detail: err.issues.join('; ') });
          }
        }
      }
      checks.push(...(await runProbes(s, candidate)));
      ctx.body = { ok: checks.every((c) => c.ok), checks };
    },
  });

  routes.add({
    method: 'POST',
    path: '/admin/settings/reload',
    summary: 'Re-read the environment, FAXBOT_ENV_FILE and FAXBOT_CONFIG_PATH; validated like start-up, all or nothing',
    tags: ['admin', 'settings'],
    auth: 'admin',
    before,
    responses: { 200: { description: 'Reloaded', schema: ChangeOut }, ...errors(400, 401, 403, 429) },
    handler: async (ctx) => {
      let r;
      try {
        r = s.admin.settings.reload();
      } catch (err) {
        await auditAs(ctx, s.audit, { type: 'settings.reload_refused', data: {} });
        settingsError(err);
      }
      await auditAs(ctx, s.audit, { type: 'settings.changed', data: { applied: r.applied, restart_required: r.restartRequired, via: 'reload' } });
      ctx.body = { applied: r.applied, restart_required: r.restartRequired, unchanged: r.unchanged, settings: maskedSettings(s.settings) };
    },
  });

  routes.add({
    method: 'GET',
    path: '/admin/settings/export',
    summary: 'The configuration as an .env snippet (secrets commented out and masked unless include_secrets=true, which is audited)',
    tags: ['admin', 'settings'],
    auth: 'admin',
    before,
    query: z.object({ include_secrets: queryBool }),
    responses: { 200: { description: '.env text', contentType: 'text/plain' }, ...errors(400, 401, 403, 429) },
    handler: async (ctx, { query }) => {
      const text = s.admin.settings.exportEnv(query.include_secrets);
      await auditAs(ctx, s.audit, { type: 'settings.exported', data: { include_secrets: query.include_secrets } });
      ctx.type = 'text/plain; charset=utf-8';
      ctx.set('Content-Disposition', 'attachment; filename="faxbot.env"');
      ctx.body = text;
    },
  });

  routes.add({
    method: 'POST',
    path: '/admin/settings/persist',
    summary: 'Write the settings changed through the API into the env file (FAXBOT_ENV_FILE, else FAX_DATA_DIR/faxbot.env), atomically, mode 0600',
    description: 'Only with ENABLE_PERSISTED_SETTINGS=true (403 otherwise). Reports settings the real environment overrides at start.',
    tags: ['admin', 'settings'],
    auth: 'admin',
    before,
    responses: {
      200: {
        description: 'Written',
        schema: z.object({ path: z.string(), read_at_start: z.boolean(), written: z.array(z.string()), shadowed_by_environment: z.array(z.string()), note: z.string().nullable() }),
      },
      ...errors(401, 403, 429),
    },
    handler: async (ctx) => {
      if (!s.settings.ENABLE_PERSISTED_SETTINGS) throw new ApiError(403, 'persist_disabled', 'persisting settings is disabled (set ENABLE_PERSISTED_SETTINGS=true in the environment)');
      const r = await s.admin.settings.persist();
      await auditAs(ctx, s.audit, { type: 'settings.persisted', data: { path: r.path, names: r.written } });
      ctx.body = {
        path: r.path,
        read_at_start: r.readAtStart,
        written: r.written,
        shadowed_by_environment: r.shadowed,
        note: r.readAtStart ? null : `FAXBOT_ENV_FILE is not set: set FAXBOT_ENV_FILE=${r.path} so the next start reads this file`,
      };
    },
  });

  routes.add({
    method: 'POST',
    path: '/admin/restart',
    summary: 'Controlled exit (exit code 75) once requests in flight finish, for the supervisor to restart the service',
    description: 'Only with ADMIN_ALLOW_RESTART=true (403 otherwise). Calls in flight are reconciled at the next start.',
    tags: ['admin'],
    auth: 'admin',
    before,
    responses: { 202: { description: 'Restarting', schema: z.object({ status: z.literal('restarting'), exit_code: z.number() }) }, ...errors(401, 403, 409, 429) },
    handler: async (ctx) => {
      if (!s.admin.restart.allowed) throw new ApiError(403, 'restart_disabled', 'restart through the API is disabled (set ADMIN_ALLOW_RESTART=true in the environment)');
      if (s.admin.restart.pending) throw new ApiError(409, 'restart_pending', 'a restart is already under way');
      await auditAs(ctx, s.audit, { type: 'admin.restart_requested', data: {} });
      ctx.status = 202;
      ctx.body = { status: 'restarting', exit_code: 75 };
      // After the answer is out: the stop then waits for the other requests in flight.
      ctx.res.once('finish', () => s.admin.restart.run());
    },
  });
}
