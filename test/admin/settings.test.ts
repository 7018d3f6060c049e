// Live settings through the admin API: masked view, all-or-nothing changes, restart-required and locked settings, reload, export, persist, restart.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseEnv } from 'node:util';
import { loadLayeredSettings } from '../../src/admin/settings-source.js';
import { faxForm, startTestApp } from '../helpers/app.js';
import { call, events } from './helpers.js';

const SECRET = 'phx-secret-Zq81VbN3';

describe('admin settings', () => {
  test('GET masks every secret and says where each value comes from', async () => {
    const app = await startTestApp({ env: { PHAXIO_API_SECRET: SECRET, MAX_FILE_SIZE_MB: '2' } });
    try {
      const r = await call(app, 'GET', '/admin/settings');
      assert.equal(r.status, 200);
      const settings = r.body.settings as Record<string, unknown>;
      assert.equal(settings.PHAXIO_API_SECRET, '********');
      assert.equal(settings.API_KEY, '********');
      assert.equal(settings.MAX_FILE_SIZE_MB, 2);
      assert.equal(settings.PHAXIO_API_KEY, null);
      assert.ok(!r.text.includes(SECRET) && !r.text.includes(app.adminKey));
      assert.equal((r.body.sources as Record<string, string>).MAX_FILE_SIZE_MB, 'environment');
      assert.equal((r.body.sources as Record<string, string>).FAX_PAGE_SIZE, 'default');
      const policy = r.body.policy as Record<string, string[]>;
      assert.ok(policy.live!.includes('FAX_DISABLED'));
      assert.ok(policy.restart_required!.includes('PORT'));
      assert.ok(policy.environment_only!.includes('ADMIN_ALLOW_RESTART'));
      assert.ok((r.body.secrets as string[]).includes('PHAXIO_API_SECRET'));
      assert.equal((await events(app, 'admin.access')).at(-1)?.data?.route, 'GET /admin/settings');
    } finally {
      await app.close();
    }
  });

  test('PUT applies live settings at once: the upload limit and FAX_DISABLED change without a restart', async () => {
    const app = await startTestApp();
    try {
      // Neither PDF nor UTF-8 text: refused by type (415) under the default limit, by size (413) once it is 1 MB.
      const big = new Uint8Array(1_200_000).fill(0xff);
      assert.equal((await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', big, 'a.bin') })).status, 415);
      const r = await call(app, 'PUT', '/admin/settings', { MAX_FILE_SIZE_MB: 1, FAX_DISABLED: true });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual((r.body.applied as string[]).sort(), ['FAX_DISABLED', 'MAX_FILE_SIZE_MB']);
      assert.deepEqual(r.body.restart_required, []);
      assert.equal(app.services.settings.MAX_FILE_SIZE_MB, 1);
      assert.equal((await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', big, 'a.bin') })).status, 413);
      const sent = await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', 'hello') });
      assert.equal(((await sent.json()) as Record<string, unknown>).status, 'disabled');
      const ev = (await events(app, 'settings.changed')).at(-1)!;
      assert.deepEqual((ev.data?.applied as string[]).sort(), ['FAX_DISABLED', 'MAX_FILE_SIZE_MB']);
      // The same values again are "unchanged".
      const again = await call(app, 'PUT', '/admin/settings', { MAX_FILE_SIZE_MB: '1' });
      assert.deepEqual(again.body.unchanged, ['MAX_FILE_SIZE_MB']);
    } finally {
      await app.close();
    }
  });

  test('a change with any invalid value is refused whole, naming each variable, and changes nothing', async () => {
    const app = await startTestApp({ env: { PHAXIO_API_SECRET: SECRET } });
    try {
      const before = await call(app, 'GET', '/admin/settings');
      const r = await call(app, 'PUT', '/admin/settings', { FAX_MAX_PAGES: '50', MAX_FILE_SIZE_MB: 'huge', FAX_RETRY_BUSY: '3', PHAXIO_API_SECRET: 'new-secret-value-1' });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.code, 'invalid_settings');
      assert.match(String(r.body.detail), /MAX_FILE_SIZE_MB: expected a number/);
      assert.match(String(r.body.detail), /FAX_RETRY_BUSY: expected attempts:delaySeconds/);
      assert.match(String(r.body.detail), /nothing was applied/);
      assert.ok(!r.text.includes('new-secret-value-1'));
      const afterView = await call(app, 'GET', '/admin/settings');
      assert.deepEqual(afterView.body, before.body);
      assert.equal(app.services.settings.FAX_MAX_PAGES, 200);
      assert.equal(app.services.settings.PHAXIO_API_SECRET, SECRET);
      const refused = (await events(app, 'settings.change_refused')).at(-1)!;
      assert.deepEqual((refused.data?.names as string[]).sort(), ['FAX_MAX_PAGES', 'FAX_RETRY_BUSY', 'MAX_FILE_SIZE_MB', 'PHAXIO_API_SECRET']);
      assert.ok(!JSON.stringify(await events(app)).includes('new-secret-value-1'));
    } finally {
      await app.close();
    }
  });

  test('PUT refuses unknown names, environment-only settings, bad names and empty bodies', async () => {
    const app = await startTestApp();
    try {
      const cases: [unknown, number, string, RegExp][] = [
        [{ NOT_A_SETTING: '1', FAX_MAX_PAGES: '3' }, 400, 'unknown_setting', /NOT_A_SETTING: not a setting/],
        [{ ADMIN_ALLOW_RESTART: 'true' }, 400, 'locked_setting', /ADMIN_ALLOW_RESTART: can only be set in the environment/],
        [{ AUDIT_LOG_FILE: '/etc/passwd' }, 400, 'locked_setting', /AUDIT_LOG_FILE/],
        [{ FAX_DATA_DIR: '/tmp' }, 400, 'locked_setting', /FAX_DATA_DIR/],
        [{ lower_case: '1' }, 400, 'validation_error', /lower_case/],
        [{}, 400, 'validation_error', /at least one setting/],
        [{ FAX_MAX_PAGES: { nested: 1 } }, 400, 'validation_error', /FAX_MAX_PAGES/],
        [{ FAX_MAX_PAGES: '5\n6' }, 400, 'invalid_settings', /line breaks/],
      ];
      for (const [body, status, code, detail] of cases) {
        const r = await call(app, 'PUT', '/admin/settings', body);
        assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
        assert.equal(r.body.code, code, JSON.stringify(body));
        assert.match(String(r.body.detail), detail);
      }
      assert.equal(app.services.settings.FAX_MAX_PAGES, 200);
      assert.equal((await call(app, 'PUT', '/admin/settings', '[1]')).status, 400);
    } finally {
      await app.close();
    }
  });

  test('restart-required settings are kept as pending, not half-applied; a secret sent back masked is unchanged', async () => {
    const app = await startTestApp({ env: { PHAXIO_API_SECRET: SECRET } });
    try {
      const r = await call(app, 'PUT', '/admin/settings', { PORT: '9191', FAX_RETRY_BUSY: '2:60', FAX_PAGE_SIZE: 'a4', PHAXIO_API_SECRET: '********' });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.applied, ['FAX_PAGE_SIZE']);
      assert.deepEqual((r.body.restart_required as string[]).sort(), ['FAX_RETRY_BUSY', 'PORT']);
      assert.equal(app.services.settings.PORT, 0);
      assert.deepEqual(app.services.settings.FAX_RETRY_BUSY, { attempts: 4, delaySeconds: 180, multiplier: 1 });
      assert.equal(app.services.settings.PHAXIO_API_SECRET, SECRET);
      const view = await call(app, 'GET', '/admin/settings');
      assert.deepEqual(Object.keys(view.body.pending_restart as object).sort(), ['FAX_RETRY_BUSY', 'PORT']);
      assert.equal((view.body.sources as Record<string, string>).PORT, 'api');
      // null drops the API change again.
      const undo = await call(app, 'PUT', '/admin/settings', { PORT: null });
      assert.equal(undo.status, 200);
      assert.deepEqual(Object.keys((await call(app, 'GET', '/admin/settings')).body.pending_restart as object), ['FAX_RETRY_BUSY']);
    } finally {
      await app.close();
    }
  });

  test('API_KEY changes live: the old bootstrap key stops working at once', async () => {
    const app = await startTestApp();
    try {
      const next = 'rotated-bootstrap-key-' + 'k'.repeat(20);
      const r = await call(app, 'PUT', '/admin/settings', { API_KEY: next });
      assert.deepEqual(r.body.applied, ['API_KEY']);
      assert.equal((await call(app, 'GET', '/admin/settings')).status, 401);
      assert.equal((await call(app, 'GET', '/admin/settings', undefined, next)).status, 200);
      const changed = (await events(app, 'settings.changed')).at(-1)!;
      assert.ok(!JSON.stringify(changed).includes(next));
    } finally {
      await app.close();
    }
  });

  test('reload re-reads the env file; an invalid file is refused whole', async () => {
    const app = await startTestApp();
    const file = join(app.dataDir, 'reload.env');
    writeFileSync(file, 'FAX_MAX_PAGES=12\n');
    app.env.FAXBOT_ENV_FILE = file;
    try {
      const r = await call(app, 'POST', '/admin/settings/reload');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.applied, ['FAX_MAX_PAGES']);
      assert.equal(app.services.settings.FAX_MAX_PAGES, 12);
      writeFileSync(file, 'FAX_MAX_PAGES=7\nDB_POOL_MAX=lots\n');
      const bad = await call(app, 'POST', '/admin/settings/reload');
      assert.equal(bad.status, 400);
      assert.match(String(bad.body.detail), /DB_POOL_MAX: expected an integer/);
      assert.equal(app.services.settings.FAX_MAX_PAGES, 12);
      writeFileSync(file, 'FAX_MAX_PAGES=7\nDB_POOL_MAX=20\n');
      const mixed = await call(app, 'POST', '/admin/settings/reload');
      assert.deepEqual(mixed.body.applied, ['FAX_MAX_PAGES']);
      assert.deepEqual(mixed.body.restart_required, ['DB_POOL_MAX']);
      assert.equal((await call(app, 'GET', '/admin/settings')).body.sources && ((await call(app, 'GET', '/admin/settings')).body.sources as Record<string, string>).FAX_MAX_PAGES, 'env_file');
    } finally {
      await app.close();
    }
  });

  test('export: secrets masked by default, real (and audited) only when asked for; it reads back as the same values', async () => {
    const tricky = `it's "quoted" # and spaced`;
    const app = await startTestApp({ env: { PHAXIO_API_SECRET: SECRET, PHAXIO_API_KEY: 'phx-key-Ab3', SIGNALWIRE_SPACE_URL: tricky } });
    try {
      const masked = await app.req('/admin/settings/export');
      assert.equal(masked.status, 200);
      assert.match(masked.headers.get('content-type') ?? '', /text\/plain/);
      const text = await masked.text();
      assert.ok(!text.includes(SECRET) && !text.includes(app.adminKey));
      assert.match(text, /^# PHAXIO_API_SECRET=\*{8} \(secret/m);
      assert.match(text, /^FAX_DATA_DIR=/m);
      const full = await (await app.req('/admin/settings/export?include_secrets=true')).text();
      const parsed = parseEnv(full);
      assert.equal(parsed.PHAXIO_API_SECRET, SECRET);
      assert.equal(parsed.SIGNALWIRE_SPACE_URL, tricky);
      assert.equal(parsed.API_KEY, app.adminKey);
      const ev = await events(app, 'settings.exported');
      assert.deepEqual(ev.map((e) => e.data?.include_secrets), [false, true]);
      assert.equal((await app.req('/admin/settings/export?include_secrets=perhaps')).status, 400);
    } finally {
      await app.close();
    }
  });

  test('persist is refused unless ENABLE_PERSISTED_SETTINGS=true', async () => {
    const app = await startTestApp();
    try {
      const r = await call(app, 'POST', '/admin/settings/persist');
      assert.equal(r.status, 403);
      assert.equal(r.body.code, 'persist_disabled');
      assert.ok(!existsSync(join(app.dataDir, 'faxbot.env')));
    } finally {
      await app.close();
    }
  });

  test('persist writes the env file atomically with mode 0600, keeps its other lines, and the next start reads it', async () => {
    const app = await startTestApp({ env: { ENABLE_PERSISTED_SETTINGS: 'true', FAX_PAGE_SIZE: 'letter' } });
    const file = join(app.dataDir, 'faxbot.env');
    try {
      const first = await call(app, 'POST', '/admin/settings/persist');
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.path, file);
      assert.equal(first.body.read_at_start, false);
      assert.match(String(first.body.note), /FAXBOT_ENV_FILE/);
      writeFileSync(file, readFileSync(file, 'utf8') + 'CUSTOM_THING=kept\n');
      await call(app, 'PUT', '/admin/settings', { FAX_MAX_PAGES: '9', DB_POOL_MAX: '20', FAX_PAGE_SIZE: 'a4', SINCH_API_SECRET: 'sinch-Sec-77' });
      const r = await call(app, 'POST', '/admin/settings/persist');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.shadowed_by_environment, ['FAX_PAGE_SIZE']);
      assert.ok(!r.text.includes('sinch-Sec-77'));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const parsed = parseEnv(readFileSync(file, 'utf8'));
      assert.deepEqual(parsed, { CUSTOM_THING: 'kept', FAX_MAX_PAGES: '9', DB_POOL_MAX: '20', FAX_PAGE_SIZE: 'a4', SINCH_API_SECRET: 'sinch-Sec-77' });
      const next = loadLayeredSettings({ FAXBOT_ENV_FILE: file, FAX_DATA_DIR: app.dataDir });
      assert.equal(next.FAX_MAX_PAGES, 9);
      assert.equal(next.DB_POOL_MAX, 20);
      assert.equal(next.SINCH_API_SECRET, 'sinch-Sec-77');
      assert.deepEqual(readdirSync(app.dataDir).filter((n) => n.endsWith('.tmp')), []);
      const ev = (await events(app, 'settings.persisted')).at(-1)!;
      assert.ok(!JSON.stringify(ev).includes('sinch-Sec-77'));
    } finally {
      await app.close();
    }
  });

  test('restart is refused unless ADMIN_ALLOW_RESTART=true, and then exits (75) after stopping gracefully', async () => {
    const off = await startTestApp();
    try {
      const r = await call(off, 'POST', '/admin/restart');
      assert.equal(r.status, 403);
      assert.equal(r.body.code, 'restart_disabled');
    } finally {
      await off.close();
    }
    let exitCode: number | null = null;
    let exited!: () => void;
    const done = new Promise<void>((resolve) => (exited = resolve));
    const app = await startTestApp({
      env: { ADMIN_ALLOW_RESTART: 'true' },
      exit: (code) => {
        exitCode = code;
        exited();
      },
    });
    try {
      const r = await call(app, 'POST', '/admin/restart');
      assert.equal(r.status, 202, r.text);
      assert.deepEqual(r.body, { status: 'restarting', exit_code: 75 });
      await done;
      assert.equal(exitCode, 75);
      assert.equal(app.server.listening, false, 'the HTTP server was closed before the exit');
    } finally {
      await app.close();
    }
  });
});
