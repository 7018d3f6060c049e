// API key administration on SQLite and PostgreSQL: mint (token once), list (metadata only), revoke, rotate with and without grace, scope rules.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashToken } from '../../src/auth/tokens.js';
import { DIALECTS } from '../helpers/db.js';
import { faxForm, startTestApp, type TestApp } from '../helpers/app.js';
import { call, events, mintKey } from './helpers.js';

for (const dialect of DIALECTS) {
  describe(`admin API keys on ${dialect}`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({ dialect });
    });
    after(() => app.close());

    const works = async (token: string) => (await call(app, 'GET', '/fax/none', undefined, token)).status !== 401;

    test('mint: 201 with the token once; the list shows metadata only', async () => {
      const r = await call(app, 'POST', '/admin/api-keys', { name: 'billing system', scopes: ['fax:send', 'fax:read'], rate_limit_per_minute: 30, expires_at: '2099-01-01T00:00:00Z' });
      assert.equal(r.status, 201, r.text);
      assert.match(String(r.body.token), /^fbk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      assert.equal(r.body.name, 'billing system');
      assert.deepEqual(r.body.scopes, ['fax:send', 'fax:read']);
      assert.equal(r.body.rate_limit_per_minute, 30);
      assert.equal(r.body.expires_at, '2099-01-01T00:00:00.000Z');
      assert.equal(r.body.status, 'active');
      assert.ok(await works(String(r.body.token)));
      const list = await call(app, 'GET', '/admin/api-keys');
      assert.equal(list.status, 200);
      const keys = list.body.keys as Record<string, unknown>[];
      const mine = keys.find((k) => k.key_id === r.body.key_id)!;
      assert.deepEqual(Object.keys(mine).sort(), ['created_at', 'expires_at', 'key_id', 'last_used_at', 'name', 'previous_token_valid_until', 'rate_limit_per_minute', 'revoked_at', 'rotated_at', 'scopes', 'status']);
      assert.ok(!list.text.includes(String(r.body.token)));
      assert.ok(!list.text.includes(hashToken(String(r.body.token))));
      assert.equal(list.body.bootstrap_key_configured, true);
      const created = await events(app, 'key.created');
      assert.ok(created.some((e) => e.subject === r.body.key_id && !JSON.stringify(e).includes(String(r.body.token))));
    });

    const bad: [string, unknown, RegExp][] = [
      ['no name', { scopes: ['fax:send'] }, /body\.name/],
      ['an empty name', { name: '  ', scopes: ['fax:send'] }, /body\.name/],
      ['no scopes', { name: 'x', scopes: [] }, /body\.scopes/],
      ['an unknown scope', { name: 'x', scopes: ['fax:send', 'root'] }, /body\.scopes\.1/],
      ['a negative rate limit', { name: 'x', scopes: ['fax:send'], rate_limit_per_minute: -1 }, /body\.rate_limit_per_minute/],
      ['a malformed expiry', { name: 'x', scopes: ['fax:send'], expires_at: 'next tuesday' }, /body\.expires_at/],
      ['an expiry in the past', { name: 'x', scopes: ['fax:send'], expires_at: '2001-01-01T00:00:00Z' }, /expires_at: must be in the future/],
      ['an unknown field', { name: 'x', scopes: ['fax:send'], owner: 'me' }, /owner/],
    ];
    for (const [what, body, detail] of bad) {
      test(`mint refuses ${what} (400) and stores nothing`, async () => {
        const before = (await call(app, 'GET', '/admin/api-keys')).body.keys as unknown[];
        const r = await call(app, 'POST', '/admin/api-keys', body);
        assert.equal(r.status, 400, r.text);
        assert.match(String(r.body.detail), detail);
        const afterList = (await call(app, 'GET', '/admin/api-keys')).body.keys as unknown[];
        assert.equal(afterList.length, before.length);
      });
    }

    test('mint refuses a body that is not JSON (400) or not declared JSON (415)', async () => {
      assert.equal((await call(app, 'POST', '/admin/api-keys', '{"name":')).status, 400);
      const r = await app.req('/admin/api-keys', { method: 'POST', body: 'name=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      assert.equal(r.status, 415);
    });

    test('revoke: the key gets 401 at once; a second revoke changes nothing; unknown ids are 404', async () => {
      const k = await mintKey(app, ['fax:read']);
      assert.ok(await works(k.token));
      const r = await call(app, 'DELETE', `/admin/api-keys/${k.id}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.status, 'revoked');
      const res = await call(app, 'GET', '/fax/none', undefined, k.token);
      assert.equal(res.status, 401);
      assert.match(String(res.body.detail), /revoked/);
      const again = await call(app, 'DELETE', `/admin/api-keys/${k.id}`);
      assert.equal(again.status, 200);
      assert.equal(again.body.revoked_at, r.body.revoked_at);
      assert.equal((await events(app, 'key.revoked')).filter((e) => e.subject === k.id).length, 1);
      assert.equal((await call(app, 'DELETE', '/admin/api-keys/abcdefghijkm')).status, 404);
      assert.equal((await call(app, 'DELETE', '/admin/api-keys/not-a-key-id')).status, 400);
    });

    test('an expired key gets 401 at once', async () => {
      const k = await mintKey(app, ['fax:read']);
      await app.services.db.k.updateTable('api_keys').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', k.id).execute();
      const r = await call(app, 'GET', '/fax/none', undefined, k.token);
      assert.equal(r.status, 401);
      assert.match(String(r.body.detail), /expired/);
      assert.equal((await call(app, 'POST', `/admin/api-keys/${k.id}/rotate`)).status, 409);
    });

    test('rotate without grace: a new token for the same key; the old one stops at once; its jobs stay readable', async () => {
      const k = await mintKey(app, ['fax:send', 'fax:read']);
      const sent = await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', 'rotation test'), key: k.token });
      assert.equal(sent.status, 202);
      const jobId = String(((await sent.json()) as Record<string, unknown>).id);
      const r = await call(app, 'POST', `/admin/api-keys/${k.id}/rotate`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.key_id, k.id);
      assert.notEqual(r.body.token, k.token);
      assert.match(String(r.body.token), new RegExp(`^fbk_${k.id}_`));
      assert.equal(r.body.previous_token_valid_until, null);
      assert.equal((await call(app, 'GET', `/fax/${jobId}`, undefined, k.token)).status, 401);
      assert.equal((await call(app, 'GET', `/fax/${jobId}`, undefined, String(r.body.token))).status, 200);
      const failed = (await events(app, 'auth.failed')).filter((e) => e.actor === k.id);
      assert.equal(failed.at(-1)?.data?.reason, 'rotated');
      assert.ok((await events(app, 'key.rotated')).some((e) => e.subject === k.id && e.data?.grace_seconds === 0));
    });

    test('rotate with grace: both tokens work until the grace ends, then only the new one; revoking ends both', async () => {
      const k = await mintKey(app, ['fax:read']);
      const r = await call(app, 'POST', `/admin/api-keys/${k.id}/rotate`, { grace_seconds: 3600 });
      assert.equal(r.status, 200, r.text);
      const fresh = String(r.body.token);
      assert.ok(Date.parse(String(r.body.previous_token_valid_until)) > Date.now() + 3500_000);
      assert.ok(await works(k.token));
      assert.ok(await works(fresh));
      // The grace period ends (moved into the past rather than waited for).
      await app.services.db.k.updateTable('api_keys').set({ prev_expires_at: new Date(Date.now() - 1).toISOString() }).where('id', '=', k.id).execute();
      assert.ok(!(await works(k.token)));
      assert.ok(await works(fresh));
      // A second rotation during a grace keeps only the token just replaced.
      const r2 = await call(app, 'POST', `/admin/api-keys/${k.id}/rotate`, { grace_seconds: 60 });
      const third = String(r2.body.token);
      assert.ok(await works(fresh));
      assert.ok(await works(third));
      assert.ok(!(await works(k.token)));
      await call(app, 'DELETE', `/admin/api-keys/${k.id}`);
      assert.ok(!(await works(fresh)));
      assert.ok(!(await works(third)));
      assert.equal((await call(app, 'POST', `/admin/api-keys/${k.id}/rotate`)).status, 409);
    });

    test('rotate refuses a bad grace period and unknown keys', async () => {
      const k = await mintKey(app, ['fax:read']);
      for (const grace of [-1, 1.5, 8 * 24 * 3600, 'soon']) {
        const r = await call(app, 'POST', `/admin/api-keys/${k.id}/rotate`, { grace_seconds: grace });
        assert.equal(r.status, 400, `grace ${String(grace)}: ${r.text}`);
        assert.match(String(r.body.detail), /grace_seconds/);
      }
      assert.ok(await works(k.token), 'a refused rotation changes nothing');
      assert.equal((await call(app, 'POST', '/admin/api-keys/abcdefghijkm/rotate')).status, 404);
    });

    test('keys:manage manages keys below itself, never admin or keys:manage ones', async () => {
      const manager = await mintKey(app, ['keys:manage']);
      const admin = await mintKey(app, ['admin']);
      const peer = await mintKey(app, ['keys:manage']);
      const asManager = (method: string, path: string, body?: unknown) => call(app, method, path, body, manager.token);
      const plain = await asManager('POST', '/admin/api-keys', { name: 'scanner', scopes: ['fax:send'] });
      assert.equal(plain.status, 201);
      for (const scopes of [['admin'], ['keys:manage'], ['fax:send', 'admin']]) {
        const r = await asManager('POST', '/admin/api-keys', { name: 'escalate', scopes });
        assert.equal(r.status, 403, JSON.stringify(scopes));
        assert.match(String(r.body.detail), /only an admin key may grant/);
      }
      assert.equal((await asManager('GET', '/admin/api-keys')).status, 200);
      assert.equal((await asManager('POST', `/admin/api-keys/${admin.id}/rotate`)).status, 403);
      assert.equal((await asManager('DELETE', `/admin/api-keys/${admin.id}`)).status, 403);
      assert.equal((await asManager('DELETE', `/admin/api-keys/${peer.id}`)).status, 403);
      assert.ok(await works(admin.token));
      assert.equal((await asManager('POST', `/admin/api-keys/${String(plain.body.key_id)}/rotate`)).status, 200);
      assert.equal((await asManager('DELETE', `/admin/api-keys/${String(plain.body.key_id)}`)).status, 200);
      // Its own key: rotating it escalates nothing.
      const self = await asManager('POST', `/admin/api-keys/${manager.id}/rotate`);
      assert.equal(self.status, 200);
      assert.equal((await call(app, 'GET', '/admin/settings', undefined, String(self.body.token))).status, 403);
    });
  });
}
