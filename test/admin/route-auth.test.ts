// Every admin and plugin route: no key → 401, a key without the scope → 403 (and recorded), with the route table as the list.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildRoutes } from '../../src/http/app.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { call, events, mintKey } from './helpers.js';

const EXPECTED = [
  'DELETE /admin/api-keys/:keyId',
  'GET /admin/api-keys',
  'GET /admin/db-status',
  'GET /admin/fax-jobs',
  'GET /admin/fax-jobs/:id',
  'GET /admin/fax-jobs/:id/pdf',
  'GET /admin/health-status',
  'GET /admin/logs',
  'GET /admin/logs/tail',
  'GET /admin/settings',
  'GET /admin/settings/export',
  'GET /plugin-registry',
  'GET /plugins',
  'GET /plugins/:id/config',
  'POST /admin/api-keys',
  'POST /admin/api-keys/:keyId/rotate',
  'POST /admin/diagnostics/run',
  'POST /admin/fax-jobs/:id/refresh',
  'POST /admin/restart',
  'POST /admin/settings/persist',
  'POST /admin/settings/reload',
  'POST /admin/settings/validate',
  'PUT /admin/settings',
  'PUT /plugins/:id/config',
];

const concrete = (path: string) => path.replace(':keyId', 'abcdefghijkm').replace(':id', 'some-id');

describe('admin route authorization', () => {
  let app: TestApp;
  let faxKey: string;
  let keysManager: string;
  before(async () => {
    app = await startTestApp({ env: { FEATURE_V3_PLUGINS: 'true' } });
    faxKey = (await mintKey(app, ['fax:send', 'fax:read', 'inbound:list', 'inbound:read'])).token;
    keysManager = (await mintKey(app, ['keys:manage'])).token;
  });
  after(() => app.close());

  test('the route table holds exactly the admin routes this suite covers', () => {
    const docs = buildRoutes(app.services).docs.filter((d) => d.path.startsWith('/admin') || d.path.startsWith('/plugin'));
    assert.deepEqual(docs.map((d) => `${d.method} ${d.path}`).sort(), EXPECTED);
    for (const d of docs) assert.ok(d.auth === 'admin' || d.auth === 'keys:manage', `${d.method} ${d.path} needs admin or keys:manage, has ${d.auth}`);
  });

  for (const route of EXPECTED) {
    const [method, path] = route.split(' ') as [string, string];
    test(`${route}: 401 without a key, 401 with a wrong key, 403 without the scope`, async () => {
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      const none = await call(app, method, concrete(path), body, null);
      assert.equal(none.status, 401, none.text);
      assert.equal(none.body.code, 'missing_api_key');
      const wrong = await call(app, method, concrete(path), body, 'fbk_abcdefghijkm_' + 'A'.repeat(43));
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.code, 'invalid_api_key');
      const weak = await call(app, method, concrete(path), body, faxKey);
      assert.equal(weak.status, 403, weak.text);
      assert.equal(weak.body.code, 'insufficient_scope');
      const manager = await call(app, method, concrete(path), body, keysManager);
      if (path.startsWith('/admin/api-keys')) assert.notEqual(manager.status, 403, `${route} accepts keys:manage`);
      else assert.equal(manager.status, 403, `${route} is admin-only`);
    });
  }

  test('refusals are audited with the route pattern, never the presented token', async () => {
    const forbidden = await events(app, 'auth.forbidden');
    assert.ok(forbidden.some((e) => e.data?.path === 'GET /admin/settings'));
    const failed = await events(app, 'auth.failed');
    assert.ok(failed.length > 0);
    assert.ok(!JSON.stringify(failed).includes('A'.repeat(43)));
  });
});
