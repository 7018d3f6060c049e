// The Koa application: error handling, then every area's routes declared on one Routes table.
import Koa from 'koa';
import type { Services } from '../services.js';
import { errorHandler } from './middleware/errors.js';
import type { AppState, AuthDeps } from './middleware/auth.js';
import { Routes } from './route.js';
import { publicBase } from '../backends/cloud/config.js';
import { adminRefreshRoutes } from './routes/admin-refresh.js';
import { adminRoutes } from './routes/admin/index.js';
import { cloudCallbackRoutes } from './routes/cloud-callbacks.js';
import { cloudInboundRoutes } from './routes/cloud-inbound.js';
import { faxDocumentRoutes } from './routes/fax-document.js';
import { faxRoutes } from './routes/fax.js';
import { healthRoutes } from './routes/health.js';
import { inboundRoutes } from './routes/inbound.js';
import { metricsRoutes } from './routes/metrics.js';
import { openApiRoutes } from './routes/openapi.js';

export const APP_VERSION = '0.1.0';

export function authDeps(s: Services): AuthDeps {
  return {
    apiKeys: s.apiKeys,
    limiter: s.limiter,
    audit: s.audit,
    requireKey: () => s.settings.REQUIRE_API_KEY,
    defaultRateLimit: () => s.settings.MAX_REQUESTS_PER_MINUTE,
  };
}

/** Declares every route; also used to build the OpenAPI document. */
export function buildRoutes(s: Services): Routes {
  const routes = new Routes(authDeps(s));
  healthRoutes(routes, () => s.readiness());
  faxRoutes(routes, {
    jobs: s.jobs,
    submitter: s.submitter,
    maxUploadBytes: () => maxUploadBytes(s),
    callbacks: () => ({ allowedHosts: s.settings.FAX_CALLBACK_ALLOWED_HOSTS, secretConfigured: Boolean(s.settings.FAX_CALLBACK_SECRET) }),
  });
  inboundRoutes(routes, {
    inbound: s.inbound,
    audit: s.audit,
    auth: authDeps(s),
    enabled: () => s.settings.INBOUND_ENABLED,
    secret: () => s.settings.ASTERISK_INBOUND_SECRET,
  });
  faxDocumentRoutes(routes, { tokens: s.documentTokens, files: s.store, audit: s.audit });
  const cloud = { settings: () => s.settings, publicBase: () => publicBase(s.settings), cloud: s.cloud, audit: s.audit };
  cloudCallbackRoutes(routes, { ...cloud, applier: s.callbacks });
  cloudInboundRoutes(routes, { ...cloud, inbound: s.inboundSink, log: s.log });
  adminRefreshRoutes(routes, { db: s.db, jobs: s.jobs, files: s.store, backend: () => s.backend });
  metricsRoutes(routes, s.metrics);
  openApiRoutes(routes, APP_VERSION);
  adminRoutes(routes, s);
  return routes;
}

export function createHttpApp(s: Services): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: false });
  app.silent = true;
  // Outermost, so the status recorded is the one the client got, errors included.
  app.use(async (ctx, next) => {
    const end = s.metrics.httpDuration.startTimer();
    try {
      await next();
    } finally {
      // The route pattern, never the concrete path: ids must not become label values.
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      end({ method: ctx.method, route, status: String(ctx.status) });
    }
  });
  app.use(errorHandler(s.log));
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  const routes = buildRoutes(s);
  app.use(routes.router.routes());
  app.use(routes.router.allowedMethods({ throw: true }));
  return app;
}

export function maxUploadBytes(s: Services): number {
  return Math.floor(s.settings.MAX_FILE_SIZE_MB * 1024 * 1024);
}
