// Cloud settings: the HTTPS rule for PUBLIC_API_URL, the status deadline, per-provider defaults.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { statusDeadlineMs } from '../../src/backends/cloud/config.js';
import { ConfigError, maskedSettings, parseSettings } from '../../src/config/index.js';

describe('cloud settings', () => {
  test('defaults: upload documents, poll every 5 minutes, 10 faxes in flight, HTTPS not enforced', () => {
    const s = parseSettings({});
    assert.equal(s.ENFORCE_PUBLIC_HTTPS, false);
    assert.equal(s.PHAXIO_DOCUMENT_MODE, 'upload');
    assert.equal(s.SINCH_DOCUMENT_MODE, 'upload');
    assert.equal(s.PHAXIO_STATUS_POLL_SECONDS, 300);
    assert.equal(s.SINCH_STATUS_POLL_SECONDS, 300);
    assert.equal(s.SIGNALWIRE_STATUS_POLL_SECONDS, 300);
    assert.equal(s.PHAXIO_MAX_CONCURRENT, 10);
    assert.equal(s.MANIFEST_MAX_CONCURRENT, 10);
    assert.equal(s.CLOUD_HTTP_TIMEOUT_SECONDS, 30);
    // No explicit deadline: 90% of the dispatcher's attempt timeout, so the clearer message comes first.
    assert.equal(statusDeadlineMs(s, 3), Math.floor((20 + 3 * 2) * 60_000 * 0.9));
    assert.equal(statusDeadlineMs(parseSettings({ CLOUD_STATUS_DEADLINE_SECONDS: '90' }), 3), 90_000);
  });

  test('ENFORCE_PUBLIC_HTTPS=true refuses an http:// PUBLIC_API_URL, naming the variable; https passes', () => {
    assert.throws(() => parseSettings({ ENFORCE_PUBLIC_HTTPS: 'true', PUBLIC_API_URL: 'http://fax.example.org' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /PUBLIC_API_URL: must be an https:\/\/ URL when ENFORCE_PUBLIC_HTTPS=true .* got "http:\/\/fax\.example\.org"/);
      return true;
    });
    // The default (http://localhost:8080) is refused too.
    assert.throws(() => parseSettings({ ENFORCE_PUBLIC_HTTPS: 'true' }), /PUBLIC_API_URL: must be an https:\/\//);
    assert.equal(parseSettings({ ENFORCE_PUBLIC_HTTPS: 'true', PUBLIC_API_URL: 'https://fax.example.org/' }).PUBLIC_API_URL, 'https://fax.example.org');
  });

  test('a status deadline longer than the attempt timeout is refused', () => {
    assert.throws(() => parseSettings({ CLOUD_STATUS_DEADLINE_SECONDS: '3600', FAX_ATTEMPT_TIMEOUT_MINUTES: '20' }), /CLOUD_STATUS_DEADLINE_SECONDS: 3600 is longer than FAX_ATTEMPT_TIMEOUT_MINUTES \(20 min\)/);
  });

  test('bad values name their variable', () => {
    assert.throws(() => parseSettings({ PHAXIO_DOCUMENT_MODE: 'fax', SINCH_MAX_CONCURRENT: '0' }), (err: unknown) => {
      assert.match(String(err), /PHAXIO_DOCUMENT_MODE: expected one of upload, url, got "fax"/);
      assert.match(String(err), /SINCH_MAX_CONCURRENT: expected an integer between 1 and 1000/);
      return true;
    });
  });

  test('secrets are masked in the settings snapshot', () => {
    const m = maskedSettings(parseSettings({ PHAXIO_CALLBACK_TOKEN: 'tok', SINCH_INBOUND_HMAC_SECRET: 'h', SIGNALWIRE_WEBHOOK_SIGNING_KEY: 'k' }));
    assert.equal(m.PHAXIO_CALLBACK_TOKEN, '********');
    assert.equal(m.SINCH_INBOUND_HMAC_SECRET, '********');
    assert.equal(m.SIGNALWIRE_WEBHOOK_SIGNING_KEY, '********');
  });
});
