// GET /health (the process answers) and GET /health/ready (it can do its work: 200, else 503 naming each check).
import { z } from 'zod';
import type { ReadinessReport } from '../../readiness.js';
import type { Routes } from '../route.js';

const Ready = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string() })),
});

export function healthRoutes(routes: Routes, ready: () => Promise<ReadinessReport>): void {
  routes.add({
    method: 'GET',
    path: '/health',
    summary: 'Liveness: the process answers',
    tags: ['health'],
    auth: 'public',
    responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
    handler: (ctx) => {
      ctx.body = { status: 'ok' };
    },
  });
  routes.add({
    method: 'GET',
    path: '/health/ready',
    summary: 'Readiness: database, storage, backend and Ghostscript (when needed) are usable',
    tags: ['health'],
    auth: 'public',
    responses: { 200: { description: 'Ready', schema: Ready }, 503: { description: 'A check failed', schema: Ready } },
    handler: async (ctx) => {
      const rep = await ready();
      ctx.status = rep.ready ? 200 : 503;
      ctx.body = { status: rep.ready ? 'ready' : 'not_ready', checks: rep.checks };
    },
  });
}
