// Readiness checks Ghostscript (GHOSTSCRIPT_PATH) for every backend that converts PDFs to TIFF.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FaxBackend } from '../../../src/backends/types.js';
import { startTestApp } from '../../helpers/app.js';

/** A backend that sends nothing and, like a PBX backend, needs Ghostscript. */
const gsBackend = (): FaxBackend => ({
  name: 'gs-test',
  capacity: 1,
  needsGhostscript: true,
  start: async () => undefined,
  stop: async () => undefined,
  readiness: async () => [{ name: 'backend', ok: true }],
  send: async () => ({ providerSid: 'x' }),
  reconcile: async () => undefined,
});

async function ready(env: Record<string, string>): Promise<{ status: number; checks: Record<string, { ok: boolean; detail: string }> }> {
  const app = await startTestApp({ env, backend: gsBackend });
  try {
    const r = await fetch(`${app.url}/health/ready`);
    return { status: r.status, checks: ((await r.json()) as { checks: Record<string, { ok: boolean; detail: string }> }).checks };
  } finally {
    await app.close();
  }
}

test('a backend that needs Ghostscript gets a ghostscript check with the version', async () => {
  const r = await ready({});
  assert.equal(r.status, 200);
  assert.equal(r.checks.ghostscript?.ok, true);
  assert.match(r.checks.ghostscript?.detail ?? '', /^gs \d+\.\d+/);
});

test('GHOSTSCRIPT_PATH pointing nowhere makes readiness 503 naming ghostscript', async () => {
  const r = await ready({ GHOSTSCRIPT_PATH: '/nonexistent/gs' });
  assert.equal(r.status, 503);
  assert.equal(r.checks.ghostscript?.ok, false);
  assert.match(r.checks.ghostscript?.detail ?? '', /gs not found/);
});
