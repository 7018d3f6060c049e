// Artifact cleanup on SQLite and PostgreSQL (old finished documents go, rows stay, in-flight jobs are never touched) and the scheduler.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { cleanupArtifacts } from '../../src/scheduler/artifact-cleanup.js';
import { Scheduler, type TaskLock } from '../../src/scheduler/scheduler.js';
import { DIALECTS } from '../helpers/db.js';
import { faxForm, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { call, events } from './helpers.js';

const quietLog = () => createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

for (const dialect of DIALECTS) {
  describe(`artifact cleanup on ${dialect}`, () => {
    let app: TestApp;
    const ids: Record<string, string> = {};
    before(async () => {
      // A slow sandbox keeps one job in progress while the cleanup runs.
      app = await startTestApp({ dialect, env: { SANDBOX_DELAY_SECONDS: '30', ARTIFACT_TTL_DAYS: '7' } });
      for (const name of ['oldSuccess', 'oldFailed', 'recentSuccess', 'oldQueued', 'oldInProgress']) {
        const r = await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', `doc ${name}`) });
        ids[name] = String(((await r.json()) as Record<string, unknown>).id);
      }
      // Stop the dispatcher from moving them: their states are set by hand below.
      await app.services.dispatcher.stop();
      const db = app.services.db.k;
      const set = (id: string, v: Record<string, unknown>) => db.updateTable('fax_jobs').set(v).where('id', '=', id).execute();
      const old = daysAgo(30);
      await set(ids.oldSuccess!, { status: 'SUCCESS', completed_at: old, created_at: old, updated_at: old, lease_owner: null, dest_lock: null });
      await set(ids.oldFailed!, { status: 'FAILED', completed_at: old, created_at: old, updated_at: old, lease_owner: null, dest_lock: null });
      await set(ids.recentSuccess!, { status: 'SUCCESS', completed_at: daysAgo(1), lease_owner: null, dest_lock: null });
      await set(ids.oldQueued!, { status: 'queued', completed_at: null, created_at: old, updated_at: old, lease_owner: null, dest_lock: null });
      await set(ids.oldInProgress!, { status: 'in_progress', completed_at: null, created_at: old, updated_at: old, lease_owner: 'elsewhere', dest_lock: null });
    });
    after(() => app.close());

    const stored = (id: string) => existsSync(join(app.dataDir, 'outbound', `${id}.pdf`));

    test('removes only the documents of finished jobs past the TTL, keeps every row, never touches jobs in flight', async () => {
      assert.equal(await app.services.scheduler.runNow('artifact-cleanup'), 'ok');
      assert.ok(!stored(ids.oldSuccess!));
      assert.ok(!stored(ids.oldFailed!));
      assert.ok(stored(ids.recentSuccess!));
      assert.ok(stored(ids.oldQueued!), 'a queued job keeps its document whatever its age');
      assert.ok(stored(ids.oldInProgress!), 'a job in progress keeps its document whatever its age');
      const rows = await app.services.db.k.selectFrom('fax_jobs').select(['id', 'status', 'document_removed_at']).execute();
      assert.equal(rows.length, 5);
      const removed = rows.filter((r) => r.document_removed_at).map((r) => r.id).sort();
      assert.deepEqual(removed, [ids.oldSuccess, ids.oldFailed].sort());
      const ev = await events(app, 'document.removed');
      assert.deepEqual(ev.map((e) => e.subject).sort(), [ids.oldSuccess, ids.oldFailed].sort());
      assert.equal((await events(app, 'artifacts.cleanup')).at(-1)?.data?.removed, 2);
    });

    test('the PDF of a cleaned-up job answers 410 with a clear detail; the job itself is still there', async () => {
      const r = await call(app, 'GET', `/admin/fax-jobs/${ids.oldSuccess}/pdf`);
      assert.equal(r.status, 410);
      assert.equal(r.body.code, 'document_removed');
      assert.match(String(r.body.detail), /ARTIFACT_TTL_DAYS/);
      const job = await call(app, 'GET', `/admin/fax-jobs/${ids.oldSuccess}`);
      assert.equal(job.status, 200);
      assert.equal((job.body.document as Record<string, unknown>).stored, false);
    });

    test('a second pass removes nothing more; a crash between file and row is finished by the next pass', async () => {
      const log = quietLog();
      const d = { db: app.services.db, store: app.services.store, audit: app.services.audit, log };
      assert.deepEqual(await cleanupArtifacts(d, 7), { removed: 0, failed: 0 });
      // The file of an old finished job is already gone but its row was not marked (crash in between).
      await app.services.db.k.updateTable('fax_jobs').set({ status: 'SUCCESS', completed_at: daysAgo(30), lease_owner: null }).where('id', '=', ids.oldInProgress!).execute();
      await app.services.store.remove(`outbound/${ids.oldInProgress}.pdf`);
      assert.deepEqual(await cleanupArtifacts(d, 7), { removed: 1, failed: 0 });
      await app.services.db.k.updateTable('fax_jobs').set({ status: 'in_progress', completed_at: null }).where('id', '=', ids.oldInProgress!).execute();
    });

    test('ARTIFACT_TTL_DAYS=0 (live) turns the task into a no-op', async () => {
      await app.services.db.k.updateTable('fax_jobs').set({ completed_at: daysAgo(30) }).where('id', '=', ids.recentSuccess!).execute();
      const r = await call(app, 'PUT', '/admin/settings', { ARTIFACT_TTL_DAYS: 0 });
      assert.deepEqual(r.body.applied, ['ARTIFACT_TTL_DAYS']);
      assert.equal(await app.services.scheduler.runNow('artifact-cleanup'), 'ok');
      assert.ok(stored(ids.recentSuccess!));
    });
  });
}

describe('scheduler', () => {
  test('a task runs at most once at a time; runNow while running is skipped', async () => {
    const s = new Scheduler(quietLog());
    let release!: () => void;
    let runs = 0;
    s.register({ name: 'slow', everyMinutes: 60, run: () => ((runs += 1), new Promise<void>((r) => (release = r))) });
    const first = s.runNow('slow');
    assert.equal(await s.runNow('slow'), 'skipped_running');
    release();
    assert.equal(await first, 'ok');
    assert.equal(runs, 1);
    assert.equal(s.status()[0]!.lastOutcome, 'ok');
    await s.stop();
  });

  test('a failing task is recorded, not thrown; the lock hook can skip a run (another instance holds it)', async () => {
    let held = true;
    const lock: TaskLock = { tryAcquire: async () => (held ? null : async () => undefined) };
    const s = new Scheduler(quietLog(), lock);
    s.register({ name: 'boom', everyMinutes: 5, run: async () => { throw new Error('disk on fire'); } });
    s.register({ name: 'local', everyMinutes: 5, exclusive: false, run: async () => undefined });
    assert.equal(await s.runNow('boom'), 'skipped_locked');
    assert.equal(await s.runNow('local'), 'ok');
    held = false;
    assert.equal(await s.runNow('boom'), 'failed');
    assert.equal(s.status().find((t) => t.name === 'boom')!.lastError, 'disk on fire');
    await s.stop();
    assert.equal(await s.runNow('local'), 'stopped');
  });

  test('node-cron fires a registered task on its schedule; stop ends it', async () => {
    const s = new Scheduler(quietLog());
    let runs = 0;
    s.register({ name: 'tick', cron: '* * * * * *', run: async () => void (runs += 1) });
    s.start();
    await waitFor(async () => runs >= 1, 5000, 'the cron task to fire');
    await s.stop();
    const seen = runs;
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(runs, seen);
  });

  test('registration refuses duplicates and bad schedules', () => {
    const s = new Scheduler(quietLog());
    s.register({ name: 'a', everyMinutes: 1, run: async () => undefined });
    assert.throws(() => s.register({ name: 'a', everyMinutes: 1, run: async () => undefined }), /already registered/);
    assert.throws(() => s.register({ name: 'b', cron: 'every day', run: async () => undefined }), /invalid cron/);
    assert.throws(() => s.register({ name: 'c', everyMinutes: 0.5, run: async () => undefined }), /whole number/);
    assert.throws(() => s.register({ name: 'd', run: async () => undefined }), /exactly one/);
  });
});
