// GET /metrics: Prometheus text format, for keys with the metrics:read scope (or admin).
import type { Metrics } from '../../metrics.js';
import type { Routes } from '../route.js';
import { errors } from '../schemas.js';

export function metricsRoutes(routes: Routes, metrics: Metrics): void {
  routes.add({
    method: 'GET',
    path: '/metrics',
    summary: 'Prometheus metrics: jobs by status, queue depth, call durations, pages, conversions, inbound, webhooks, PBX connection, HTTP durations',
    tags: ['meta'],
    auth: 'metrics:read',
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain; version=0.0.4' }, ...errors(401, 403) },
    handler: async (ctx) => {
      ctx.set('Content-Type', metrics.registry.contentType);
      ctx.body = await metrics.registry.metrics();
    },
  });
}
