// Routes are declared once, with their zod schemas: the same declaration validates requests and documents the API.
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { z} from 'zod';
import { type ZodType } from 'zod';
import type { Scope } from '../auth/scopes.js';
import { ApiError } from '../errors.js';
import { readRawBody } from './body.js';
import { requireScope, type AppContext, type AppState, type AuthDeps } from './middleware/auth.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export type BodySpec =
  | { kind: 'json'; schema: ZodType; maxBytes?: number }
  /** Raw bytes (signed callbacks): the handler parses them itself, after verifying. */
  | { kind: 'raw'; contentTypes: string[]; maxBytes: number; description: string }
  /** multipart/form-data, parsed by the route's own middleware; documented by its fields. */
  | { kind: 'multipart'; fields: ZodType; description: string };

export interface ResponseSpec {
  description: string;
  schema?: ZodType;
  /** Defaults to application/json when a schema is given. */
  contentType?: string;
}

export interface RouteSpec<P extends ZodType, Q extends ZodType> {
  method: Method;
  /** Koa path, e.g. /fax/:id */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  /**
   * 'public': no API key (health, tokenized documents); 'custom': the route authenticates callers its own
   * way (internal secret, provider signature); otherwise the scope an API key needs.
   */
  auth: Scope | 'public' | 'custom';
  params?: P;
  query?: Q;
  body?: BodySpec;
  headers?: Record<string, string>;
  responses: Record<number, ResponseSpec>;
  /** Runs after authentication and before body parsing/validation (e.g. size pre-checks, multipart). */
  before?: Middleware<AppState>[];
  handler: (ctx: AppContext, input: { params: z.output<P>; query: z.output<Q>; body: unknown; raw: Buffer | null }) => Promise<void> | void;
}

export interface RouteDoc {
  method: Method;
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  auth: string;
  params?: ZodType;
  query?: ZodType;
  body?: BodySpec;
  headers?: Record<string, string>;
  responses: Record<number, ResponseSpec>;
}

/** "query.limit: expected int, got ..." for the first few issues. */
function describeIssues(where: string, err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
}

function validate<T extends ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> {
  if (!schema) return value as z.output<T>;
  const r = schema.safeParse(value);
  if (!r.success) throw new ApiError(400, 'validation_error', describeIssues(where, r.error));
  return r.data;
}

const DEFAULT_JSON_LIMIT = 1024 * 1024;

/** True when the request carries a body (a length above 0, or chunked). */
function hasBody(ctx: AppContext): boolean {
  const len = ctx.get('Content-Length');
  return ctx.get('Transfer-Encoding') !== '' || (len !== '' && Number(len) > 0);
}

/** A router that remembers every route's declaration, for validation and for /openapi.json. */
export class Routes {
  readonly router = new Router<AppState>();
  readonly docs: RouteDoc[] = [];

  constructor(private readonly auth: AuthDeps) {}

  add<P extends ZodType = ZodType<Record<string, string>>, Q extends ZodType = ZodType<Record<string, unknown>>>(spec: RouteSpec<P, Q>): this {
    const { handler, before = [], ...doc } = spec;
    this.docs.push(doc);
    const chain: Middleware<AppState>[] = [];
    if (spec.auth !== 'public' && spec.auth !== 'custom') chain.push(requireScope(this.auth, spec.auth));
    chain.push(...before);
    chain.push(async (ctx) => {
      const params = validate(spec.params, ctx.params, 'path');
      const query = validate(spec.query, ctx.query, 'query');
      let body: unknown;
      let raw: Buffer | null = null;
      if (spec.body?.kind === 'json' && !hasBody(ctx)) {
        // No body at all: the schema decides whether that is fine (an optional body), not the media type.
        body = validate(spec.body.schema, undefined, 'body');
      } else if (spec.body?.kind === 'json') {
        if (!ctx.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'send a JSON body (Content-Type: application/json)');
        raw = await readRawBody(ctx.req, spec.body.maxBytes ?? DEFAULT_JSON_LIMIT);
        let parsed: unknown;
        try {
          parsed = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
        } catch {
          throw new ApiError(400, 'invalid_json', 'the request body is not valid JSON');
        }
        body = validate(spec.body.schema, parsed, 'body');
      } else if (spec.body?.kind === 'raw') {
        raw = await readRawBody(ctx.req, spec.body.maxBytes);
      } else if (spec.body?.kind === 'multipart') {
        body = ctx.request.body;
      }
      await handler(ctx, { params, query, body, raw });
    });
    const m = spec.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'patch';
    this.router[m](spec.path, ...chain);
    return this;
  }
}
