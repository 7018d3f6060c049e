// Status, diagnostics and the admin job views on SQLite and PostgreSQL: aggregated health, database status, validate, job lists and PDFs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { latestMigration } from './migrations.js';
import { DIALECTS } from '../helpers/db.js';
import { faxForm, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { call, events } from './helpers.js';

for (const dialect of DIALECTS) {
  describe(`admin status and jobs on ${dialect}`, () => {
    let app: TestApp;
    const ids: Record<string, string> = {};
    before(async () => {
      app = await startTestApp({ dialect, env: { FAX_RETRY_BUSY: '1:1', PHAXIO_API_SECRET: 'status-secret-Q1' } });
      for (const [name, to] of [['ok', '+15551230001'], ['busy', '+15551230002'], ['ok2', '+15551239876']] as const) {
        const r = await app.req('/fax', { method: 'POST', body: faxForm(to, `document for ${name}`) });
        ids[name] = String(((await r.json()) as Record<string, unknown>).id);
      }
      await waitFor(async () => {
        const r = await app.services.db.k.selectFrom('fax_jobs').select('status').where('status', 'in', ['queued', 'in_progress']).execute();
        return r.length === 0;
      }, 15_000, 'jobs to finish');
    });
    after(() => app.close());

    test('health-status aggregates backend, database, storage, Ghostscript, queue and recent failures', async () => {
      const r = await call(app, 'GET', '/admin/health-status');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.status, 'ok');
      assert.equal((r.body.backend as Record<string, unknown>).name, 'sandbox');
      assert.equal((r.body.database as Record<string, unknown>).ok, true);
      assert.equal((r.body.storage as Record<string, unknown>).ok, true);
      assert.equal((r.body.ghostscript as Record<string, unknown>).required, false);
      assert.deepEqual(r.body.queue, { queued: 0, in_progress: 0, oldest_queued_seconds: null, in_flight_here: 0 });
      const recent = r.body.recent_failures as Record<string, unknown>;
      assert.equal(recent.failed, 1);
      assert.equal(recent.succeeded, 2);
      assert.deepEqual(recent.by_class, { busy: 1 });
      assert.ok((r.body.scheduler as { name: string }[]).some((t) => t.name === 'artifact-cleanup'));
    });

    test('db-status reports dialect, migration and counts, never credentials', async () => {
      const r = await call(app, 'GET', '/admin/db-status');
      assert.equal(r.status, 200);
      assert.equal(r.body.dialect, dialect);
      assert.equal(r.body.ok, true);
      const m = r.body.migration as Record<string, unknown>;
      assert.equal(m.current, latestMigration());
      assert.deepEqual(m.pending, []);
      const counts = r.body.counts as Record<string, number>;
      assert.equal(counts.fax_jobs, 3);
      assert.ok(counts.audit_events! > 0);
      assert.deepEqual(r.body.jobs_by_status, { SUCCESS: 2, FAILED: 1 });
      assert.ok(!/postgres:\/\/[^@/]*@/.test(r.text));
    });

    test('diagnostics bundle: configuration checks and masked settings, no secrets, no numbers', async () => {
      const r = await call(app, 'POST', '/admin/diagnostics/run');
      assert.equal(r.status, 200);
      const checks = r.body.config_checks as { name: string; level: string }[];
      assert.ok(checks.some((c) => c.name === 'FAX_BACKEND' && c.level === 'warn'));
      assert.ok(checks.some((c) => c.name === 'ARTIFACT_TTL_DAYS' && c.level === 'info'));
      assert.ok(!r.text.includes('status-secret-Q1') && !r.text.includes(app.adminKey));
      assert.ok(!r.text.includes('5551230001') && !r.text.includes('5551239876'));
      assert.ok((await events(app, 'diagnostics.run')).length === 1);
    });

    test('validate runs each check without side effects, and validates proposed values without applying them', async () => {
      const jobsBefore = (await call(app, 'GET', '/admin/fax-jobs')).body.total;
      const r = await call(app, 'POST', '/admin/settings/validate');
      assert.equal(r.status, 200, r.text);
      const names = (r.body.checks as { name: string }[]).map((c) => c.name).sort();
      assert.deepEqual(names, ['backend:backend', 'database', 'ghostscript', 'storage']);
      assert.equal(r.body.ok, true);
      const proposed = await call(app, 'POST', '/admin/settings/validate', { FAX_MAX_PAGES: 'many', PORT: '70000' });
      assert.equal(proposed.body.ok, false);
      const settingsCheck = (proposed.body.checks as { name: string; ok: boolean; detail: string }[]).find((c) => c.name === 'settings')!;
      assert.equal(settingsCheck.ok, false);
      assert.match(settingsCheck.detail, /FAX_MAX_PAGES/);
      assert.match(settingsCheck.detail, /PORT/);
      const fine = await call(app, 'POST', '/admin/settings/validate', { FAX_MAX_PAGES: '3' });
      assert.equal(fine.body.ok, true);
      assert.equal(app.services.settings.FAX_MAX_PAGES, 200);
      assert.equal((await call(app, 'GET', '/admin/fax-jobs')).body.total, jobsBefore);
      assert.equal((await call(app, 'POST', '/admin/settings/validate', { bad: 1 })).status, 400);
    });

    test('fax-jobs lists every job newest first with masked numbers; filters and pages', async () => {
      const r = await call(app, 'GET', '/admin/fax-jobs');
      assert.equal(r.status, 200);
      assert.equal(r.body.total, 3);
      const jobs = r.body.jobs as Record<string, unknown>[];
      assert.deepEqual(jobs.map((j) => j.id), [ids.ok2, ids.busy, ids.ok]);
      assert.equal(jobs[0]!.to, '+*******9876');
      assert.ok(!r.text.includes('5551230001') && !r.text.includes('15551239876'));
      const failed = await call(app, 'GET', '/admin/fax-jobs?status=FAILED');
      assert.deepEqual((failed.body.jobs as Record<string, unknown>[]).map((j) => j.id), [ids.busy]);
      assert.equal((failed.body.jobs as Record<string, unknown>[])[0]!.failure_class, 'busy');
      assert.equal((await call(app, 'GET', '/admin/fax-jobs?status=SUCCESS,FAILED&backend=sandbox')).body.total, 3);
      assert.equal((await call(app, 'GET', '/admin/fax-jobs?backend=phaxio')).body.total, 0);
      const page = await call(app, 'GET', '/admin/fax-jobs?limit=1&offset=1');
      assert.deepEqual((page.body.jobs as Record<string, unknown>[]).map((j) => j.id), [ids.busy]);
      assert.equal(page.body.total, 3);
      const future = new Date(Date.now() + 86_400_000).toISOString();
      assert.equal((await call(app, 'GET', `/admin/fax-jobs?from=${future}`)).body.total, 0);
      assert.equal((await call(app, 'GET', `/admin/fax-jobs?from=2020-01-01&to=${future}`)).body.total, 3);
    });

    const badQueries: [string, RegExp][] = [
      ['status=sent', /query\.status: unknown status sent/],
      ['limit=0', /query\.limit/],
      ['limit=501', /query\.limit/],
      ['offset=-1', /query\.offset/],
      ['from=yesterday', /query\.from: expected an ISO 8601/],
      ['from=2026-02-01&to=2026-01-01', /from: must be before/],
      ['backend=SAND BOX', /query\.backend/],
    ];
    for (const [q, detail] of badQueries) {
      test(`fax-jobs refuses ${q} (400)`, async () => {
        const r = await call(app, 'GET', `/admin/fax-jobs?${q}`);
        assert.equal(r.status, 400, r.text);
        assert.match(String(r.body.detail), detail);
      });
    }

    test('a job in detail: every attempt with outcome, class, raw cause and timing; numbers masked', async () => {
      const r = await call(app, 'GET', `/admin/fax-jobs/${ids.busy}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'FAILED');
      const attempts = r.body.attempts as Record<string, unknown>[];
      assert.equal(attempts.length, 1);
      assert.equal(attempts[0]!.outcome, 'failed');
      assert.equal(attempts[0]!.failure_class, 'busy');
      assert.match(String(attempts[0]!.cause), /USER_BUSY/);
      assert.equal(typeof attempts[0]!.duration_seconds, 'number');
      assert.ok(!r.text.includes('5551230002'));
      assert.equal((await call(app, 'GET', '/admin/fax-jobs/no-such-job')).status, 404);
    });

    test('the stored PDF is served to an admin and audited as document.served', async () => {
      const res = await app.req(`/admin/fax-jobs/${ids.ok}/pdf`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/pdf');
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.deepEqual(bytes, readFileSync(join(app.dataDir, 'outbound', `${ids.ok}.pdf`)));
      const served = await events(app, 'document.served');
      assert.equal(served.at(-1)?.subject, ids.ok);
      assert.equal(served.at(-1)?.data?.via, 'admin');
      assert.equal((await call(app, 'GET', '/admin/fax-jobs/no-such-job/pdf')).status, 404);
    });
  });
}

describe('admin job PDF of a job accepted while disabled', () => {
  test('404 with a clear reason: nothing was stored', async () => {
    const app = await startTestApp({ env: { FAX_DISABLED: 'true' } });
    try {
      const r = await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', 'not sent') });
      const id = String(((await r.json()) as Record<string, unknown>).id);
      const pdf = await call(app, 'GET', `/admin/fax-jobs/${id}/pdf`);
      assert.equal(pdf.status, 404);
      assert.equal(pdf.body.code, 'no_document');
    } finally {
      await app.close();
    }
  });
});
