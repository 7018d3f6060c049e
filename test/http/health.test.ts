// /health and /health/ready: 200 when database, storage and backend are fine, 503 naming the failing check.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';

import { describe, test } from 'node:test';
import { startTestApp } from '../helpers/app.js';

describe('health', () => {
  test('/health and /health/ready answer without an API key', async () => {
    const app = await startTestApp();
    try {
      const h = await fetch(`${app.url}/health`);
      assert.equal(h.status, 200);
      assert.deepEqual(await h.json(), { status: 'ok' });
      const r = await fetch(`${app.url}/health/ready`);
      assert.equal(r.status, 200);
      const body = (await r.json()) as { status: string; checks: Record<string, { ok: boolean }> };
      assert.equal(body.status, 'ready');
      assert.deepEqual(Object.keys(body.checks).sort(), ['backend', 'database', 'storage']);
    } finally {
      await app.close();
    }
  });

  test('an unwritable data directory makes readiness 503 and names storage', async () => {
    const app = await startTestApp();
    try {
      // Replace the data directory by a plain file: nothing can be written under it, even as root.
      rmSync(app.dataDir, { recursive: true, force: true });
      writeFileSync(app.dataDir, 'not a directory');
      const r = await fetch(`${app.url}/health/ready`);
      assert.equal(r.status, 503);
      const body = (await r.json()) as { status: string; checks: Record<string, { ok: boolean; detail: string }> };
      assert.equal(body.status, 'not_ready');
      assert.equal(body.checks.storage?.ok, false);
      assert.equal(body.checks.database?.ok, true);
    } finally {
      rmSync(app.dataDir, { force: true });
      await app.close();
    }
  });

  test('a database that went away makes readiness 503 and names the database', async () => {
    const app = await startTestApp({ dialect: 'postgres' });
    try {
      await app.services.db.k.destroy();
      const r = await fetch(`${app.url}/health/ready`);
      assert.equal(r.status, 503);
      const body = (await r.json()) as { checks: Record<string, { ok: boolean }> };
      assert.equal(body.checks.database?.ok, false);
    } finally {
      await app.close().catch(() => undefined);
    }
  });
});

