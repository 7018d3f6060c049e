// The Koa application: error handling, then one router per resource.
import Koa from 'koa';
import type { Services } from '../services.js';
import { errorHandler } from './middleware/errors.js';
import type { AppState, AuthDeps } from './middleware/auth.js';
import { faxRoutes } from './routes/fax.js';
import { healthRoutes } from './routes/health.js';

export function authDeps(s: Services): AuthDeps {
  return {
    apiKeys: s.apiKeys,
    limiter: s.limiter,
    audit: s.audit,
    requireKey: () => s.settings.REQUIRE_API_KEY,
    defaultRateLimit: () => s.settings.MAX_REQUESTS_PER_MINUTE,
  };
}

export function createHttpApp(s: Services): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: false });
  app.silent = true;
  app.use(errorHandler(s.log));
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  const auth = authDeps(s);
  const routers = [
    healthRoutes(() => s.readiness()),
    faxRoutes({ auth, jobs: s.jobs, submitter: s.submitter, maxUploadBytes: () => maxUploadBytes(s) }),
  ];
  for (const r of routers) {
    app.use(r.routes());
    app.use(r.allowedMethods({ throw: true }));
  }
  return app;
}

export function maxUploadBytes(s: Services): number {
  return Math.floor(s.settings.MAX_FILE_SIZE_MB * 1024 * 1024);
}
