// Shared by the admin routes: the access audit every admin route writes, and small schema helpers.
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { Audit, AuditEvent } from '../../../audit/audit.js';
import { ApiError } from '../../../errors.js';
import { routeLabel, type AppContext, type AppState } from '../../middleware/auth.js';

const recorded = new WeakSet<object>();

/** Records the route's own event (key.created, settings.changed...) and marks the request so no admin.access is added. */
export async function auditAs(ctx: AppContext, audit: Audit, e: Omit<AuditEvent, 'actor'>): Promise<void> {
  recorded.add(ctx);
  await audit.record({ ...e, actor: ctx.state.principal?.keyId ?? null });
}

/**
 * Every admin route is audited: a route that records its own event says so with auditAs; any other request
 * (reads, and refusals such as a 400) leaves an admin.access event with the route pattern and the status.
 * 401 and 403 are recorded by the auth middleware (auth.failed, auth.forbidden) before this runs.
 */
export function auditAccess(audit: Audit): Middleware<AppState> {
  return async (ctx, next) => {
    let status = 500;
    try {
      await next();
      status = ctx.status;
    } catch (err) {
      status = err instanceof ApiError ? err.status : typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
      throw err;
    } finally {
      if (!recorded.has(ctx)) await audit.record({ type: 'admin.access', actor: ctx.state.principal?.keyId ?? null, data: { route: routeLabel(ctx), status } });
    }
  };
}

/** ISO 8601 date or date-time → normalised ISO string (UTC). */
export const isoTime = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    const ok = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)?)?$/.test(v.trim());
    const t = ok ? Date.parse(v.trim()) : NaN;
    if (!Number.isFinite(t)) {
      ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 date or date-time, got "${v.slice(0, 40)}"` });
      return z.NEVER;
    }
    return new Date(t).toISOString();
  });

/** "true"/"false"/"1"/"0" in a query string. */
export const queryBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const queryInt = (min: number, max: number, dflt: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return dflt;
      const n = Number(v);
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });
