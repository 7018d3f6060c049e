// /admin/api-keys: mint (token shown once), list metadata, revoke, rotate (new token once; old one ends now or after a grace period).
import { z } from 'zod';
import { KeyError, MAX_ROTATION_GRACE_SECONDS, keyMeta, type ApiKeyMeta } from '../../../auth/api-keys.js';
import { refuseGrant, refuseManage } from '../../../auth/key-policy.js';
import { SCOPES } from '../../../auth/scopes.js';
import { ApiError } from '../../../errors.js';
import type { Services } from '../../../services.js';
import type { Routes } from '../../route.js';
import { errors } from '../../schemas.js';
import { auditAccess, auditAs, isoTime } from './common.js';

const KeyMetaOut = z.object({
  key_id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  rate_limit_per_minute: z.number().int().nullable().describe('null: MAX_REQUESTS_PER_MINUTE applies'),
  status: z.enum(['active', 'revoked', 'expired']),
  created_at: z.string(),
  last_used_at: z.string().nullable().describe('Recorded at most once a minute'),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  rotated_at: z.string().nullable(),
  previous_token_valid_until: z.string().nullable().describe('After a rotation with a grace period: until when the old token still works'),
});

const Created = KeyMetaOut.extend({ token: z.string().describe('The key: shown this once, stored only as a hash') });
const KeyIdParam = z.object({ keyId: z.string().regex(/^[a-z0-9]{12}$/, 'expected a 12-character key id') });

export function presentKey(m: ApiKeyMeta): z.output<typeof KeyMetaOut> {
  const now = new Date().toISOString();
  return {
    key_id: m.id,
    name: m.name,
    scopes: m.scopes,
    rate_limit_per_minute: m.rateLimitPerMinute,
    status: m.revokedAt ? 'revoked' : m.expiresAt && m.expiresAt <= now ? 'expired' : 'active',
    created_at: m.createdAt,
    last_used_at: m.lastUsedAt,
    expires_at: m.expiresAt,
    revoked_at: m.revokedAt,
    rotated_at: m.rotatedAt,
    previous_token_valid_until: m.previousTokenValidUntil,
  };
}

const SCOPE_RULE = 'Needs `keys:manage` (or `admin`). A key with `keys:manage` but not `admin` cannot grant `admin` or `keys:manage`, nor revoke or rotate another key holding them.';

export function apiKeyRoutes(routes: Routes, s: Services): void {
  const before = [auditAccess(s.audit)];

  routes.add({
    method: 'POST',
    path: '/admin/api-keys',
    summary: 'Mint an API key (the token is returned once)',
    description: SCOPE_RULE,
    tags: ['admin', 'keys'],
    auth: 'keys:manage',
    before,
    body: {
      kind: 'json',
      maxBytes: 16 * 1024,
      schema: z.strictObject({
        name: z.string().trim().min(1).max(100),
        scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
        rate_limit_per_minute: z.number().int().min(0).max(1_000_000).nullable().optional(),
        expires_at: isoTime.nullable().optional(),
      }),
    },
    responses: { 201: { description: 'Created', schema: Created }, ...errors(400, 401, 403, 415, 429) },
    handler: async (ctx, { body }) => {
      const b = body as { name: string; scopes: string[]; rate_limit_per_minute?: number | null; expires_at?: string | null };
      const p = ctx.state.principal!;
      const refused = refuseGrant(p, b.scopes);
      if (refused) throw new ApiError(403, 'insufficient_scope', refused);
      if (b.expires_at && b.expires_at <= new Date().toISOString()) throw new ApiError(400, 'validation_error', 'body.expires_at: must be in the future');
      let created;
      try {
        created = await s.apiKeys.create({ name: b.name, scopes: b.scopes, rateLimitPerMinute: b.rate_limit_per_minute ?? null, expiresAt: b.expires_at ?? null });
      } catch (err) {
        if (err instanceof KeyError) throw new ApiError(400, err.code, err.message);
        throw err;
      }
      await auditAs(ctx, s.audit, {
        type: 'key.created',
        subject: created.id,
        data: { scopes: b.scopes, expires_at: b.expires_at ?? null, rate_limit_per_minute: b.rate_limit_per_minute ?? null },
      });
      ctx.status = 201;
      ctx.body = { ...presentKey(keyMeta(created.row)), token: created.token };
    },
  });

  routes.add({
    method: 'GET',
    path: '/admin/api-keys',
    summary: 'List API keys (metadata only: never tokens or hashes)',
    description: SCOPE_RULE,
    tags: ['admin', 'keys'],
    auth: 'keys:manage',
    before,
    responses: {
      200: { description: 'Every key, newest first', schema: z.object({ keys: z.array(KeyMetaOut), bootstrap_key_configured: z.boolean() }) },
      ...errors(401, 403, 429),
    },
    handler: async (ctx) => {
      ctx.body = { keys: (await s.apiKeys.list()).map(presentKey), bootstrap_key_configured: !!s.settings.API_KEY };
    },
  });

  routes.add({
    method: 'DELETE',
    path: '/admin/api-keys/:keyId',
    summary: 'Revoke an API key (it gets 401 from the next request on)',
    description: SCOPE_RULE + ' Revoking a revoked key changes nothing and answers the same.',
    tags: ['admin', 'keys'],
    auth: 'keys:manage',
    before,
    params: KeyIdParam,
    responses: { 200: { description: 'Revoked', schema: KeyMetaOut }, ...errors(400, 401, 403, 404, 429) },
    handler: async (ctx, { params }) => {
      const row = await s.apiKeys.get(params.keyId);
      if (!row) throw new ApiError(404, 'not_found', 'API key not found');
      const refused = refuseManage(ctx.state.principal!, row.id, keyMeta(row).scopes);
      if (refused) throw new ApiError(403, 'insufficient_scope', refused);
      const r = await s.apiKeys.revoke(params.keyId);
      if (!r) throw new ApiError(404, 'not_found', 'API key not found');
      if (r.changed) await auditAs(ctx, s.audit, { type: 'key.revoked', subject: r.row.id, data: { name: r.row.name } });
      ctx.body = presentKey(keyMeta(r.row));
    },
  });

  routes.add({
    method: 'POST',
    path: '/admin/api-keys/:keyId/rotate',
    summary: 'Rotate an API key: a new token (shown once) for the same key id, scopes and jobs',
    description:
      SCOPE_RULE +
      ` Without grace_seconds the old token stops at once; with it, the old token keeps working that long (at most ${MAX_ROTATION_GRACE_SECONDS} s). ` +
      'Only the token before the latest rotation is kept.',
    tags: ['admin', 'keys'],
    auth: 'keys:manage',
    before,
    params: KeyIdParam,
    body: {
      kind: 'json',
      maxBytes: 4096,
      schema: z.strictObject({ grace_seconds: z.number().int().min(0).max(MAX_ROTATION_GRACE_SECONDS).optional() }).optional(),
    },
    responses: { 200: { description: 'Rotated', schema: Created }, ...errors(400, 401, 403, 404, 409, 415, 429) },
    handler: async (ctx, { params, body }) => {
      const grace = (body as { grace_seconds?: number } | undefined)?.grace_seconds ?? 0;
      const row = await s.apiKeys.get(params.keyId);
      if (!row) throw new ApiError(404, 'not_found', 'API key not found');
      const refused = refuseManage(ctx.state.principal!, row.id, keyMeta(row).scopes);
      if (refused) throw new ApiError(403, 'insufficient_scope', refused);
      let r;
      try {
        r = await s.apiKeys.rotate(params.keyId, grace);
      } catch (err) {
        if (err instanceof KeyError) throw new ApiError(err.code === 'not_found' ? 404 : err.code === 'invalid' ? 409 : 409, err.code === 'invalid' ? 'conflict' : `key_${err.code}`, err.message);
        throw err;
      }
      await auditAs(ctx, s.audit, { type: 'key.rotated', subject: r.row.id, data: { grace_seconds: grace, previous_valid_until: r.row.prev_expires_at ?? null } });
      ctx.body = { ...presentKey(keyMeta(r.row)), token: r.token };
    },
  });
}
