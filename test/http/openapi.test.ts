// /openapi.json covers every route, and every route has a declaration with a description.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildRoutes } from '../../src/http/app.js';
import { openApiPath } from '../../src/http/openapi.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

describe('OpenAPI', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('every route registered on the router was declared with a summary, tags and responses', () => {
    const routes = buildRoutes(app.services);
    const declared = new Set(routes.docs.map((d) => `${d.method} ${d.path}`));
    const registered = routes.router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${layer.path}`));
    assert.ok(registered.length > 0);
    for (const r of registered) assert.ok(declared.has(r), `route ${r} has no declaration (use Routes.add)`);
    for (const d of routes.docs) {
      assert.ok(d.summary.trim().length > 5, `${d.method} ${d.path} needs a summary`);
      assert.ok(d.tags.length > 0, `${d.method} ${d.path} needs a tag`);
      assert.ok(Object.keys(d.responses).length > 0, `${d.method} ${d.path} needs responses`);
    }
  });

  test('/openapi.json describes every declared route with its schemas', async () => {
    const r = await fetch(`${app.url}/openapi.json`);
    assert.equal(r.status, 200);
    const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, { summary: string; responses: Record<string, unknown>; requestBody?: unknown; parameters: { name: string; in: string }[] }>> };
    assert.equal(doc.openapi, '3.1.0');
    for (const d of buildRoutes(app.services).docs) {
      const op = doc.paths[openApiPath(d.path)]?.[d.method.toLowerCase()];
      assert.ok(op, `${d.method} ${d.path} missing from /openapi.json`);
      assert.equal(op.summary, d.summary);
    }
    const post = doc.paths['/fax']!.post!;
    assert.ok(JSON.stringify(post.requestBody).includes('multipart/form-data'));
    assert.ok(JSON.stringify(post.responses['202']).includes('provider_sid'));
    const get = doc.paths['/fax/{id}']!.get!;
    assert.deepEqual(get.parameters.map((p) => [p.name, p.in]), [['id', 'path']]);
  });
});
