// GET /health (the process answers) and GET /health/ready (it can do its work: 200, else 503 naming each check).
import Router from '@koa/router';
import type { ReadinessReport } from '../../readiness.js';
import type { AppState } from '../middleware/auth.js';

export function healthRoutes(ready: () => Promise<ReadinessReport>): Router<AppState> {
  const r = new Router<AppState>();
  r.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  r.get('/health/ready', async (ctx) => {
    const rep = await ready();
    ctx.status = rep.ready ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: rep.ready ? 'ready' : 'not_ready', checks: rep.checks };
  });
  return r;
}
