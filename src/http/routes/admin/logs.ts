// /admin/logs (stored audit events: filters, pages) and /admin/logs/tail (the same events live, as Server-Sent Events).
import { z } from 'zod';
import { listEvents, type EventFilter } from '../../../audit/query.js';
import { ApiError } from '../../../errors.js';
import type { Services } from '../../../services.js';
import type { Routes } from '../../route.js';
import { errors } from '../../schemas.js';
import { auditAccess, isoTime, queryInt } from './common.js';

const filterQuery = {
  type: z
    .string()
    .max(500)
    .regex(/^[a-z0-9_.*,-]+$/, 'expected event types (a.b), comma-separated; end one with * for a prefix')
    .optional()
    .describe('e.g. "key.*,auth.failed"'),
  actor: z.string().max(200).optional().describe('Key id, or a component (dispatcher, artifact-cleanup...)'),
  subject: z.string().max(200).optional().describe('Job id, key id...'),
};

const Event = z.object({
  seq: z.number().optional(),
  ts: z.string(),
  type: z.string(),
  actor: z.string().nullable(),
  subject: z.string().nullable(),
  instance_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
});

function filterOf(q: { type?: string | undefined; actor?: string | undefined; subject?: string | undefined }): EventFilter {
  return {
    ...(q.type ? { types: q.type.split(',').filter((t) => t !== '') } : {}),
    ...(q.actor !== undefined ? { actor: q.actor } : {}),
    ...(q.subject !== undefined ? { subject: q.subject } : {}),
  };
}

export function logRoutes(routes: Routes, s: Services): void {
  const before = [auditAccess(s.audit)];

  routes.add({
    method: 'GET',
    path: '/admin/logs',
    summary: 'Stored audit events, newest first; filter by type, actor, subject and time; page with before=<seq>',
    tags: ['admin', 'audit'],
    auth: 'admin',
    before,
    query: z.object({
      ...filterQuery,
      since: isoTime.optional(),
      until: isoTime.optional(),
      limit: queryInt(1, 1000, 100),
      before: z.string().regex(/^\d{1,15}$/, 'expected the seq of an event').optional().transform((v) => (v === undefined ? undefined : Number(v))),
    }),
    responses: { 200: { description: 'A page', schema: z.object({ events: z.array(Event), next_before: z.number().nullable() }) }, ...errors(400, 401, 403, 429) },
    handler: async (ctx, { query }) => {
      if (query.since && query.until && query.since >= query.until) throw new ApiError(400, 'validation_error', 'query.since: must be before query.until');
      const f: EventFilter = { ...filterOf(query), ...(query.since ? { since: query.since } : {}), ...(query.until ? { until: query.until } : {}) };
      const r = await listEvents(s.db, f, query.limit, query.before);
      ctx.body = { events: r.events, next_before: r.nextBeforeSeq };
    },
  });

  routes.add({
    method: 'GET',
    path: '/admin/logs/tail',
    summary: 'Audit events as they happen (text/event-stream): "event: audit" frames, a heartbeat comment when idle',
    description: 'backlog=N first sends the N newest stored events that match (oldest first). The stream ends when the client or the service goes away.',
    tags: ['admin', 'audit'],
    auth: 'admin',
    before,
    query: z.object({ ...filterQuery, backlog: queryInt(0, 500, 0) }),
    responses: { 200: { description: 'Server-Sent Events', contentType: 'text/event-stream' }, ...errors(400, 401, 403, 429) },
    handler: async (ctx, { query }) => {
      const f = filterOf(query);
      const backlog = query.backlog > 0 ? (await listEvents(s.db, f, query.backlog)).events.reverse().map((e) => `id: ${e.seq}\nevent: audit\ndata: ${JSON.stringify(e)}\n\n`) : [];
      const stream = s.admin.tail.open(f, backlog);
      ctx.req.socket.setTimeout(0);
      ctx.req.socket.setNoDelay(true);
      ctx.status = 200;
      ctx.type = 'text/event-stream; charset=utf-8';
      ctx.set('X-Accel-Buffering', 'no');
      // The connection ends with the stream: a shutdown that ends the stream is not held up by an idle keep-alive.
      ctx.set('Connection', 'close');
      ctx.body = stream;
    },
  });
}
