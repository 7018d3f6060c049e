// GET /openapi.json: the API description generated from the route declarations.
import { z } from 'zod';
import { buildOpenApi } from '../openapi.js';
import type { Routes } from '../route.js';

export function openApiRoutes(routes: Routes, version: string): void {
  let cached: unknown;
  routes.add({
    method: 'GET',
    path: '/openapi.json',
    summary: 'This API described as OpenAPI 3.1',
    tags: ['meta'],
    auth: 'public',
    responses: { 200: { description: 'The OpenAPI document', schema: z.record(z.string(), z.unknown()) } },
    handler: (ctx) => {
      // Built on first use, when every area has declared its routes.
      cached ??= buildOpenApi(routes.docs, { title: 'Faxbot', version });
      ctx.body = cached;
    },
  });
}
