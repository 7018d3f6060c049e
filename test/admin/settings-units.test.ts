// Units behind the settings API: every secret-looking setting is declared secret, the live/restart/locked policy, .env quoting.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEnv } from 'node:util';
import { envLine, unrepresentable } from '../../src/admin/env-file.js';
import { LIVE_SETTINGS, settingPolicy } from '../../src/admin/settings-policy.js';
import { scrubData } from '../../src/audit/format.js';
import { secretSettings, settingNames } from '../../src/config/index.js';
import { maskNumbersIn } from '../../src/jobs/admin-view.js';

/** Names that look like secrets but are not (with the reason). */
const NOT_SECRET: Record<string, string> = {
  REQUIRE_API_KEY: 'a switch',
  SINCH_API_KEY: 'the access key id (the secret is SINCH_API_SECRET)',
  PDF_TOKEN_TTL_MINUTES: 'a duration',
  INBOUND_TOKEN_TTL_MINUTES: 'a duration',
};

describe('settings policy', () => {
  test('every setting whose name looks like a credential is in secretSettings (so it is masked everywhere)', () => {
    const looksSecret = (n: string) => /(SECRET|TOKEN|PASS|PASSWORD|PRIVATE|CREDENTIAL|SIGNING_KEY)/.test(n) || /_KEY$/.test(n) || n === 'API_KEY' || n === 'DATABASE_URL';
    const missing = settingNames.filter((n) => looksSecret(n) && !(n in NOT_SECRET) && !secretSettings.has(n));
    assert.deepEqual(missing, [], 'declare these in the area\'s xSecrets list');
    for (const s of secretSettings) assert.ok(settingNames.includes(s), `${s} is declared secret but is not a setting`);
  });

  test('live settings are known settings; the admin gates and every path are environment-only', () => {
    for (const n of LIVE_SETTINGS) assert.ok(settingNames.includes(n), n);
    for (const n of ['ADMIN_ALLOW_RESTART', 'ENABLE_PERSISTED_SETTINGS', 'FAX_DATA_DIR', 'AUDIT_LOG_FILE', 'FAXBOT_CONFIG_PATH', 'PLUGIN_REGISTRY_PATH', 'MANIFEST_DIR', 'AUDIT_LOG_SYSLOG_ADDRESS']) {
      assert.equal(settingPolicy(n), 'locked', n);
    }
    for (const n of ['PORT', 'HOST', 'DATABASE_URL', 'FAX_BACKEND', 'LOG_LEVEL', 'CLEANUP_INTERVAL_MINUTES', 'AUDIT_LOG_ENABLED', 'JOB_LEASE_SECONDS']) {
      assert.equal(settingPolicy(n), 'restart', n);
    }
    assert.equal(settingPolicy('FAX_DISABLED'), 'live');
    assert.equal(settingPolicy('SOME_FUTURE_SETTING'), 'restart', 'unknown names default to restart-required');
  });
});

describe('.env lines', () => {
  const values = ['plain', '', 'with space', '#hash', "it's", 'say "hi"', 'back\\slash', 'both \' and "', 'a\\nb with \'', '$HOME', 'tab\there', 'ünïcødé'];
  for (const v of values) {
    test(`round-trips ${JSON.stringify(v)}`, () => {
      assert.equal(parseEnv(envLine('X', v)).X ?? '', v);
    });
  }
  test('refuses what cannot be written', () => {
    assert.match(String(unrepresentable('a\nb')), /line breaks/);
    assert.match(String(unrepresentable(`'"\``)), /quote/);
    assert.throws(() => envLine('X', 'a\rb'));
  });
});

describe('masking helpers', () => {
  test('audit data: whole numbers masked, credential-named fields redacted, ids and addresses kept', () => {
    const out = scrubData({ to: '+15557654321', ip: '127.0.0.1', date: '2026-11-27', token: 'abc', nested: { api_key: 'k', n: '(555) 765-4321' }, job: '550e8400-e29b-41d4-a716-446655440000', count: 12 });
    assert.deepEqual(out, { to: '+*******4321', ip: '127.0.0.1', date: '2026-11-27', token: '[redacted]', nested: { api_key: '[redacted]', n: '******4321' }, job: '550e8400-e29b-41d4-a716-446655440000', count: 12 });
  });
  test('free text: phone-like runs masked, dates and short numbers kept', () => {
    assert.equal(maskNumbersIn('remote station +1 555 765 4321 busy at 2026-11-27T10:00:00Z (SIP 486)'), 'remote station +*******4321 busy at 2026-11-27T10:00:00Z (SIP 486)');
    assert.equal(maskNumbersIn('17 USER_BUSY'), '17 USER_BUSY');
  });
});
