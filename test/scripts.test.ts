// The operator scripts against a running service: mint a key, send a fax and follow it, smoke-test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.js';

const ROOT = resolve(import.meta.dirname, '..');
/** Runs a script without blocking this process: the service under test runs in it and must keep answering. */
function sh(script: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(ROOT, 'scripts', script), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('operator scripts', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { SANDBOX_DELAY_SECONDS: '0.2', FAX_RETRY_BUSY: '1:1' } });
  });
  after(() => app.close());

  test('mint-key.sh creates a working key in the service database and prints it once', async () => {
    const r = await sh('mint-key.sh', ['--name', 'from the shell', '--scopes', 'fax:send,fax:read'], { FAX_DATA_DIR: app.dataDir, DATABASE_URL: '' });
    assert.equal(r.status, 0, r.stderr);
    const token = r.stdout.trim();
    assert.match(token, /^fbk_[a-z0-9]{12}_/);
    assert.match(r.stderr, /created key [a-z0-9]{12} \(from the shell\)/);
    assert.ok(!r.stderr.includes(token));
    const bad = await sh('mint-key.sh', ['--name', 'x', '--scopes', 'fax:everything'], { FAX_DATA_DIR: app.dataDir });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown scopes: fax:everything/);
  });

  test('send-fax.sh follows a fax to SUCCESS (exit 0) and a busy one to FAILED (exit 1)', async () => {
    const file = join(app.dataDir, 'note.txt');
    writeFileSync(file, 'hello from send-fax.sh\n');
    const env = { FAXBOT_URL: app.url, FAXBOT_API_KEY: app.adminKey };
    const ok = await sh('send-fax.sh', ['+15551230001', file], env);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /queued/);
    assert.match(ok.stdout, /SUCCESS pages=1/);
    const busy = await sh('send-fax.sh', ['+15551230002', file], { ...env, FAXBOT_WAIT_SECONDS: '30' });
    assert.equal(busy.status, 1);
    assert.match(busy.stdout, /FAILED .*error=line busy/);
    const usage = await sh('send-fax.sh', [], env);
    assert.equal(usage.status, 2);
  });

  test('smoke-test.sh passes against a healthy service and fails on a wrong key', async () => {
    const good = await sh('smoke-test.sh', [], { FAXBOT_URL: app.url, FAXBOT_API_KEY: app.adminKey, SMOKE_FAX_TO: '+15551230001' });
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /ok {3}GET \/health\/ready is 200/);
    const bad = await sh('smoke-test.sh', [], { FAXBOT_URL: app.url, FAXBOT_API_KEY: 'wrong' });
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /FAIL the API key is accepted/);
  });
});
