// API key authentication, scope checks and the per-key rate limit, as route middleware.
import type { Middleware, ParameterizedContext } from 'koa';
import type { ApiKeys } from '../../auth/api-keys.js';
import type { Principal } from '../../auth/principal.js';
import type { RateLimiter } from '../../auth/rate-limit.js';
import { hasScope, type Scope } from '../../auth/scopes.js';
import type { Audit } from '../../audit/audit.js';
import { ApiError } from '../../errors.js';

export interface AppState {
  principal?: Principal;
}

export type AppContext = ParameterizedContext<AppState>;

export interface AuthDeps {
  apiKeys: ApiKeys;
  limiter: RateLimiter;
  audit: Audit;
  requireKey: () => boolean;
  defaultRateLimit: () => number;
}

const ANONYMOUS_SCOPES: readonly Scope[] = ['fax:send', 'fax:read', 'inbound:list', 'inbound:read'];

/** Resolves the caller (401 when a key is needed and missing or wrong), then checks the scope (403). */
export function requireScope(deps: AuthDeps, scope: Scope): Middleware<AppState> {
  return async (ctx, next) => {
    const principal = ctx.state.principal ?? (await authenticate(deps, ctx));
    ctx.state.principal = principal;
    if (!hasScope(principal.scopes, scope)) {
      await deps.audit.record({ type: 'auth.forbidden', actor: principal.keyId, data: { scope, path: routeLabel(ctx) } });
      throw new ApiError(403, 'insufficient_scope', `this API key lacks the "${scope}" scope`);
    }
    const limit = deps.limiter.take(principal.keyId ?? `anon:${ctx.ip}`, principal.rateLimitPerMinute);
    if (!limit.allowed) {
      throw new ApiError(429, 'rate_limited', `rate limit of ${principal.rateLimitPerMinute} requests per minute exceeded`, {
        'Retry-After': String(limit.retryAfterSeconds),
      });
    }
    await next();
  };
}

async function authenticate(deps: AuthDeps, ctx: AppContext): Promise<Principal> {
  // X-API-Key as in the reference; `Authorization: Bearer <key>` too, for clients that can only send that
  // (Prometheus' scrape configuration, for one).
  const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('Authorization').trim());
  const header = ctx.get('X-API-Key').trim() || (bearer ? bearer[1]! : '');
  if (header === '') {
    if (!deps.requireKey()) {
      return { keyId: null, name: 'anonymous', scopes: ANONYMOUS_SCOPES, rateLimitPerMinute: deps.defaultRateLimit() };
    }
    throw new ApiError(401, 'missing_api_key', 'an API key is required (X-API-Key header)');
  }
  const r = await deps.apiKeys.authenticate(header);
  if (typeof r === 'string') {
    // The audit keeps why and which key id (if the token had one), never the token itself.
    const m = /^fbk_([a-z0-9]{12})_/.exec(header);
    await deps.audit.record({ type: 'auth.failed', actor: m ? m[1]! : null, data: { reason: r, path: routeLabel(ctx), ip: ctx.ip } });
    throw new ApiError(401, 'invalid_api_key', r === 'revoked' || r === 'expired' ? `this API key is ${r}` : 'invalid API key');
  }
  return r;
}

/** The matched route pattern (no ids in it), for audit and metrics. */
export function routeLabel(ctx: AppContext): string {
  const matched = (ctx as unknown as { _matchedRoute?: string })._matchedRoute;
  return `${ctx.method} ${matched ?? ctx.path}`;
}
