// /admin/health-status, /admin/db-status and /admin/diagnostics/run: the console's view of the service, no secrets, no patient data.
import { z } from 'zod';
import { configChecks } from '../../../admin/config-checks.js';
import { dbStatus, healthStatus, type StatusDeps } from '../../../admin/status.js';
import { maskedSettings } from '../../../config/index.js';
import { ghostscriptVersion } from '../../../documents/ghostscript.js';
import type { Services } from '../../../services.js';
import type { Routes } from '../../route.js';
import { errors } from '../../schemas.js';
import { auditAccess, auditAs } from './common.js';

const Loose = z.record(z.string(), z.unknown());

export function statusRoutes(routes: Routes, s: Services): void {
  const before = [auditAccess(s.audit)];
  const deps = (): StatusDeps => ({
    db: s.db,
    store: s.store,
    backend: s.backend,
    ghostscriptVersion: () => ghostscriptVersion(s.settings.GHOSTSCRIPT_PATH),
    dispatcher: s.dispatcher,
    scheduler: s.scheduler,
    startedAt: s.admin.startedAt,
  });

  routes.add({
    method: 'GET',
    path: '/admin/health-status',
    summary: 'One aggregated state: backend, database, storage, Ghostscript, queue depth, recent failures, scheduled tasks',
    description: 'status is "down" when the database or storage fails, "degraded" when the backend, Ghostscript (if needed), the dispatcher or a task does.',
    tags: ['admin', 'status'],
    auth: 'admin',
    before,
    responses: { 200: { description: 'State', schema: Loose }, ...errors(401, 403, 429) },
    handler: async (ctx) => {
      ctx.body = await healthStatus(deps());
    },
  });

  routes.add({
    method: 'GET',
    path: '/admin/db-status',
    summary: 'Database: connectivity, dialect, where (no credentials), migration version, row counts',
    tags: ['admin', 'status'],
    auth: 'admin',
    before,
    responses: { 200: { description: 'Status', schema: Loose }, ...errors(401, 403, 429) },
    handler: async (ctx) => {
      ctx.body = await dbStatus(s.db);
    },
  });

  routes.add({
    method: 'POST',
    path: '/admin/diagnostics/run',
    summary: 'A one-shot bundle: health, database, configuration checks, masked settings, audit sinks, versions',
    tags: ['admin', 'status'],
    auth: 'admin',
    before,
    responses: { 200: { description: 'Bundle', schema: Loose }, ...errors(401, 403, 429) },
    handler: async (ctx) => {
      const [health, db] = await Promise.all([healthStatus(deps()), dbStatus(s.db)]);
      const checks = configChecks(s.settings, s.admin.settings.pending());
      await auditAs(ctx, s.audit, { type: 'diagnostics.run', data: { status: health.status, errors: checks.filter((c) => c.level === 'error').length } });
      ctx.body = {
        generated_at: new Date().toISOString(),
        versions: { node: process.versions.node, platform: `${process.platform}-${process.arch}`, ghostscript: health.ghostscript.version },
        health,
        database: db,
        config_checks: checks,
        settings: maskedSettings(s.settings),
        pending_restart: s.admin.settings.pendingMasked(),
        audit_sinks: s.admin.sinks.describe(),
        live_tails: s.admin.tail.size,
      };
    },
  });
}
