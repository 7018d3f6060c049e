// Settings from the environment: defaults, validation messages naming the variable, the env file, and the process exit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadSettings, maskedSettings, parseSettings } from '../../src/config/index.js';

describe('settings', () => {
  test('defaults match the reference', () => {
    const s = parseSettings({});
    assert.equal(s.PORT, 8080);
    assert.equal(s.FAX_DATA_DIR, './faxdata');
    assert.equal(s.dataDir, resolve('./faxdata'));
    assert.equal(s.DATABASE_URL, undefined);
    assert.equal(s.REQUIRE_API_KEY, true);
    assert.equal(s.MAX_FILE_SIZE_MB, 10);
    assert.equal(s.PDF_TOKEN_TTL_MINUTES, 60);
    assert.equal(s.FAX_BACKEND, 'sandbox');
    assert.equal(s.FAX_DISABLED, false);
    assert.equal(s.MAX_REQUESTS_PER_MINUTE, 0);
    assert.deepEqual(s.FAX_RETRY_BUSY, { attempts: 4, delaySeconds: 180, multiplier: 1 });
  });

  test('FAX_BACKEND=asterisk is the alias of sip', () => {
    assert.equal(parseSettings({ FAX_BACKEND: 'Asterisk' }).FAX_BACKEND, 'sip');
  });

  test('every bad value is reported with its variable name and what was expected', () => {
    try {
      parseSettings({ PORT: 'eighty', REQUIRE_API_KEY: 'maybe', MAX_FILE_SIZE_MB: '-3', DATABASE_URL: 'mysql://x', PUBLIC_API_URL: 'not a url', FAX_RETRY_BUSY: '3' });
      assert.fail('should have thrown');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const msg = err.message;
      assert.match(msg, /PORT: expected an integer between 0 and 65535, got "eighty"/);
      assert.match(msg, /REQUIRE_API_KEY: expected true or false, got "maybe"/);
      assert.match(msg, /MAX_FILE_SIZE_MB: expected a number between/);
      assert.match(msg, /DATABASE_URL: expected postgres:\/\/.* or sqlite:/);
      assert.match(msg, /PUBLIC_API_URL: expected a URL/);
      assert.match(msg, /FAX_RETRY_BUSY: expected attempts:delaySeconds/);
    }
  });

  test('FAXBOT_ENV_FILE is read beneath the real environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faxbot-env-'));
    const file = join(dir, 'faxbot.env');
    writeFileSync(file, 'PORT=9001\nMAX_FILE_SIZE_MB=3\n# comment\nFAX_HEADER="Acme Clinic"\n');
    const s = loadSettings({ FAXBOT_ENV_FILE: file, MAX_FILE_SIZE_MB: '4' });
    assert.equal(s.PORT, 9001);
    assert.equal(s.MAX_FILE_SIZE_MB, 4);
    assert.throws(() => loadSettings({ FAXBOT_ENV_FILE: join(dir, 'missing.env') }), /FAXBOT_ENV_FILE: cannot read/);
  });

  test('secrets are masked in the display copy', () => {
    const m = maskedSettings(parseSettings({ API_KEY: 'super-secret', DATABASE_URL: 'postgres://u:pw@h/db' }));
    assert.equal(m.API_KEY, '********');
    assert.equal(m.DATABASE_URL, '********');
    assert.ok(!JSON.stringify(m).includes('super-secret'));
  });

  test('the service refuses to start on a bad value and says which variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: resolve(import.meta.dirname, '..', '..'),
      env: { ...process.env, PORT: 'abc', FAX_DATA_DIR: mkdtempSync(join(tmpdir(), 'faxbot-cfg-')) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /PORT: expected an integer/);
  });
});
