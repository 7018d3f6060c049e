// API keys over HTTP: 401 for missing/unknown/revoked/expired keys, 403 for a missing scope, 429 with Retry-After.
import assert from 'node:assert/strict';
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { faxForm, startTestApp, type TestApp } from '../helpers/app.js';

describe('API keys and scopes', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  const body = async (r: Response) => (await r.json()) as { detail: string; code: string };

  test('no key: 401 missing_api_key', async () => {
    const r = await app.req('/fax/x', { key: null });
    assert.equal(r.status, 401);
    assert.deepEqual(await body(r), { detail: 'an API key is required (X-API-Key header)', code: 'missing_api_key' });
  });

  test('an unknown, a malformed and a tampered key: 401 invalid_api_key, audited without the token', async () => {
    const real = await app.services.apiKeys.create({ name: 'k', scopes: ['fax:read'] });
    const tampered = real.token.slice(0, -1) + (real.token.endsWith('A') ? 'B' : 'A');
    for (const key of ['nonsense', 'fbk_aaaaaaaaaaaa_' + 'x'.repeat(43), tampered]) {
      const r = await app.req('/fax/x', { key });
      assert.equal(r.status, 401);
      assert.equal((await body(r)).code, 'invalid_api_key');
    }
    const events = await app.services.db.k.selectFrom('audit_events').selectAll().where('type', '=', 'auth.failed').execute();
    assert.ok(events.length >= 3);
    const dump = JSON.stringify(events);
    assert.ok(!dump.includes(tampered) && !dump.includes('nonsense'));
    assert.ok(events.some((e) => e.actor === real.id && e.data?.includes('mismatch')));
  });

  test('keys are stored only as hashes', async () => {
    const k = await app.services.apiKeys.create({ name: 'hash-check', scopes: ['fax:read'] });
    const row = await app.services.db.k.selectFrom('api_keys').selectAll().where('id', '=', k.id).executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(row).includes(k.token.slice('fbk_'.length + k.id.length + 1)));
    assert.match(row.token_hash, /^[0-9a-f]{64}$/);
  });

  test('a key without the scope gets 403 insufficient_scope', async () => {
    const reader = await app.services.apiKeys.create({ name: 'reader', scopes: ['fax:read'] });
    const r = await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', 'x'), key: reader.token });
    assert.equal(r.status, 403);
    assert.deepEqual(await body(r), { detail: 'this API key lacks the "fax:send" scope', code: 'insufficient_scope' });
  });

  test('revoked and expired keys get 401 at once', async () => {
    const k = await app.services.apiKeys.create({ name: 'soon revoked', scopes: ['fax:read'] });
    assert.equal((await app.req('/fax/none', { key: k.token })).status, 404);
    await app.services.db.k.updateTable('api_keys').set({ revoked_at: new Date().toISOString() }).where('id', '=', k.id).execute();
    const r = await app.req('/fax/none', { key: k.token });
    assert.equal(r.status, 401);
    assert.match((await body(r)).detail, /revoked/);
    const e = await app.services.apiKeys.create({ name: 'expired', scopes: ['fax:read'], expiresAt: new Date(Date.now() - 1000).toISOString() });
    const r2 = await app.req('/fax/none', { key: e.token });
    assert.equal(r2.status, 401);
    assert.match((await body(r2)).detail, /expired/);
  });

  test('the per-key rate limit answers 429 with Retry-After', async () => {
    const k = await app.services.apiKeys.create({ name: 'limited', scopes: ['fax:read'], rateLimitPerMinute: 3 });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const r = await app.req('/fax/none', { key: k.token });
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after');
        assert.equal((await body(r)).code, 'rate_limited');
      } else await r.arrayBuffer();
    }
    assert.deepEqual(statuses, [404, 404, 404, 429, 429]);
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 20, `Retry-After ${retryAfter}`);
    // Another key is not affected.
    const other = await app.services.apiKeys.create({ name: 'other', scopes: ['fax:read'], rateLimitPerMinute: 3 });
    assert.equal((await app.req('/fax/none', { key: other.token })).status, 404);
  });
});

describe('first start with keys required', () => {
  test('creates an admin key in FAX_DATA_DIR/initial-admin-key (0600) and logs only where it is', async () => {
    const app = await startTestApp({ env: { API_KEY: '' } });
    try {
      const path = join(app.dataDir, 'initial-admin-key');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const token = readFileSync(path, 'utf8').trim();
      assert.match(token, /^fbk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      assert.ok(app.logs.some((l) => l.includes('initial-admin-key')));
      assert.ok(!app.logs.some((l) => l.includes(token)), 'the key itself must never be logged');
      const r = await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', 'x'), key: token });
      assert.equal(r.status, 202);
    } finally {
      await app.close();
    }
  });
});

describe('REQUIRE_API_KEY=false', () => {
  test('requests without a key are served (no admin), a wrong key is still refused', async () => {
    const app = await startTestApp({ env: { API_KEY: '', REQUIRE_API_KEY: 'false' } });
    try {
      const r = await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', 'x'), key: null });
      assert.equal(r.status, 202);
      const id = ((await r.json()) as { id: string }).id;
      assert.equal((await app.req(`/fax/${id}`, { key: null })).status, 200);
      assert.equal((await app.req(`/fax/${id}`, { key: 'wrong' })).status, 401);
      assert.ok(app.logs.some((l) => l.includes('REQUIRE_API_KEY=false')));
    } finally {
      await app.close();
    }
  });
});
