// Plugins behind FEATURE_V3_PLUGINS: the installed list, a plugin's config (masked), saving it to FAXBOT_CONFIG_PATH, the registry.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadLayeredSettings } from '../../src/admin/settings-source.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { call, events } from './helpers.js';

const exampleManifest = join(import.meta.dirname, '..', '..', 'manifests', 'example-http-fax.json');

describe('plugins are off by default', () => {
  test('every plugin route is 404 while FEATURE_V3_PLUGINS is off (and turns on live)', async () => {
    const app = await startTestApp();
    try {
      for (const [m, p] of [['GET', '/plugins'], ['GET', '/plugins/phaxio/config'], ['PUT', '/plugins/phaxio/config'], ['GET', '/plugin-registry']] as const) {
        const r = await call(app, m, p, m === 'PUT' ? { enabled: false } : undefined);
        assert.equal(r.status, 404, `${m} ${p}`);
      }
      await call(app, 'PUT', '/admin/settings', { FEATURE_V3_PLUGINS: true });
      assert.equal((await call(app, 'GET', '/plugins')).status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('plugins', () => {
  let app: TestApp;
  let store: string;
  before(async () => {
    const manifestDir = join(await import('node:os').then((os) => os.tmpdir()), `faxbot-manifests-${process.pid}-${Date.now()}`);
    mkdirSync(manifestDir, { recursive: true });
    copyFileSync(exampleManifest, join(manifestDir, 'example-http-fax.json'));
    writeFileSync(join(manifestDir, 'broken.json'), '{"id": "broken"');
    app = await startTestApp({ env: { FEATURE_V3_PLUGINS: 'true', MANIFEST_DIR: manifestDir, PHAXIO_API_SECRET: 'plug-secret-1' } });
    store = join(app.dataDir, 'faxbot.config.json');
  });
  after(() => app.close());

  test('the list has the built-in backends, loaded manifests, manifest errors and storage, each with its state', async () => {
    const r = await call(app, 'GET', '/plugins');
    assert.equal(r.status, 200);
    const plugins = r.body.plugins as { id: string; state: string; kind: string; source: string; problems: string[]; settings: { name: string; secret: boolean }[] }[];
    const byId = new Map(plugins.map((p) => [p.id, p]));
    assert.equal(byId.get('sandbox')?.state, 'active');
    assert.equal(byId.get('phaxio')?.state, 'needs_settings');
    assert.ok(byId.get('phaxio')!.problems.some((p) => p.includes('PHAXIO_API_KEY')));
    assert.ok(byId.get('phaxio')!.settings.some((st) => st.name === 'PHAXIO_API_SECRET' && st.secret));
    const manifest = byId.get('example-http-fax');
    assert.equal(manifest?.source, 'manifest');
    assert.equal(manifest?.kind, 'outbound');
    assert.equal(byId.get('manifest-errors')?.state, 'invalid');
    assert.equal(byId.get('local')?.kind, 'storage');
    assert.ok(!r.text.includes('plug-secret-1'));
  });

  test('a plugin\'s config shows effective values with secrets masked; unknown plugins are 404, bad ids 400', async () => {
    const r = await call(app, 'GET', '/plugins/phaxio/config');
    assert.equal(r.status, 200);
    const settings = r.body.settings as Record<string, unknown>;
    assert.equal(settings.PHAXIO_API_SECRET, '********');
    assert.equal(settings.PHAXIO_API_KEY, null);
    assert.equal(r.body.enabled, false);
    assert.equal(r.body.active, false);
    assert.equal((await call(app, 'GET', '/plugins/nope/config')).status, 404);
    assert.equal((await call(app, 'GET', '/plugins/Bad%20Id/config')).status, 400);
  });

  test('PUT validates like start-up and writes the store atomically (0600); enabling one provider disables the others', async () => {
    const r = await call(app, 'PUT', '/plugins/phaxio/config', { enabled: true, settings: { PHAXIO_API_KEY: 'plug-key-2', PHAXIO_API_SECRET: '********', PHAXIO_VERIFY_SIGNATURE: false } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.restart_required, true);
    assert.equal(r.body.enabled, true);
    assert.deepEqual((r.body.stored as string[]).sort(), ['PHAXIO_API_KEY', 'PHAXIO_VERIFY_SIGNATURE']);
    assert.equal(statSync(store).mode & 0o777, 0o600);
    const file = JSON.parse(readFileSync(store, 'utf8')) as { plugins: Record<string, { enabled: boolean; settings: Record<string, string> }> };
    assert.deepEqual(file.plugins.phaxio, { enabled: true, settings: { PHAXIO_API_KEY: 'plug-key-2', PHAXIO_VERIFY_SIGNATURE: 'false' } });
    assert.equal(app.services.settings.FAX_BACKEND, 'sandbox', 'nothing changes in process');
    const s2 = await call(app, 'PUT', '/plugins/sinch/config', { enabled: true, settings: { SINCH_PROJECT_ID: 'p', SINCH_API_KEY: 'k', SINCH_API_SECRET: 'sinch-plug-secret' } });
    assert.equal(s2.status, 200, s2.text);
    const file2 = JSON.parse(readFileSync(store, 'utf8')) as { plugins: Record<string, { enabled: boolean }> };
    assert.equal(file2.plugins.phaxio!.enabled, false);
    assert.equal(file2.plugins.sinch!.enabled, true);
    assert.ok(!s2.text.includes('sinch-plug-secret'));
    assert.deepEqual(readdirSync(app.dataDir).filter((n) => n.endsWith('.tmp')), []);
    // The next start reads the store beneath the env file and the environment.
    const next = loadLayeredSettings({ FAX_DATA_DIR: app.dataDir });
    assert.equal(next.FAX_BACKEND, 'sinch');
    assert.equal(next.SINCH_API_SECRET, 'sinch-plug-secret');
    assert.equal(loadLayeredSettings({ FAX_DATA_DIR: app.dataDir, FAX_BACKEND: 'sandbox' }).FAX_BACKEND, 'sandbox', 'the environment wins');
    const ev = (await events(app, 'plugin.config_changed')).at(-1)!;
    assert.equal(ev.subject, 'sinch');
    assert.ok(!JSON.stringify(ev).includes('sinch-plug-secret'));
  });

  test('PUT refuses foreign settings, invalid values and unknown fields, and writes nothing', async () => {
    const before = readFileSync(store, 'utf8');
    const cases: [string, unknown, RegExp][] = [
      ['/plugins/phaxio/config', { settings: { SINCH_API_KEY: 'x' } }, /not settings of phaxio: SINCH_API_KEY/],
      ['/plugins/phaxio/config', { settings: { PHAXIO_VERIFY_SIGNATURE: 'maybe' } }, /PHAXIO_VERIFY_SIGNATURE: expected true or false/],
      ['/plugins/phaxio/config', { settings: { PHAXIO_BASE_URL: 'ftp://x' } }, /PHAXIO_BASE_URL/],
      ['/plugins/phaxio/config', { color: 'red' }, /color/],
      ['/plugins/phaxio/config', { settings: { lower: 'x' } }, /lower/],
      ['/plugins/local/config', { settings: {} }, /no settings/],
      ['/plugins/example-http-fax/config', { enabled: true }, /EXAMPLE_FAX_API_KEY|environment variable/],
    ];
    for (const [path, body, detail] of cases) {
      const r = await call(app, 'PUT', path, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.match(String(r.body.detail), detail);
    }
    assert.equal(readFileSync(store, 'utf8'), before);
    assert.equal((await call(app, 'PUT', '/plugins/nope/config', { enabled: true })).status, 404);
  });

  test('the registry is served from the shipped file, or PLUGIN_REGISTRY_PATH (503 when unreadable)', async () => {
    const r = await call(app, 'GET', '/plugin-registry');
    assert.equal(r.status, 200);
    assert.equal(r.body.version, 1);
    assert.ok((r.body.plugins as { id: string }[]).some((p) => p.id === 'phaxio'));
    const other = await startTestApp({ env: { FEATURE_V3_PLUGINS: 'true', PLUGIN_REGISTRY_PATH: '/nonexistent/registry.json' } });
    try {
      const bad = await call(other, 'GET', '/plugin-registry');
      assert.equal(bad.status, 503);
      assert.equal(bad.body.code, 'registry_unavailable');
    } finally {
      await other.close();
    }
    assert.ok(existsSync(join(import.meta.dirname, '..', '..', 'config', 'plugin-registry.json')));
  });
});
