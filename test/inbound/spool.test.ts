// Spool watchers: faxes that arrive only as files (sidecar or TIFF alone), start-up scans, restarts, and two instances on one database.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../helpers/app.js';
import { createPgDatabase, DIALECTS } from '../helpers/db.js';
import { pdfInfo } from '../documents/helpers.js';
import { TIFF_FIXTURES, asteriskBody, auditTypes, inboundCount, listDir, newUid, postHook, putFixture, startInboundApp, type InboundTestApp } from './helpers.js';

interface Listed {
  id: string;
  fr: string | null;
  to: string | null;
  status: string;
  pages: number | null;
  backend: string;
  note: string | null;
  error: string | null;
}

async function listed(app: InboundTestApp, pred: (f: Listed) => boolean, what: string): Promise<Listed> {
  return waitFor(async () => {
    const list = (await (await app.req('/inbound?limit=200')).json()) as Listed[];
    return list.find((f) => pred(f) && f.status !== 'processing');
  }, 15_000, what);
}

/** What the FreeSWITCH hangup hook (freeswitch-config/scripts/faxbot_rx_sidecar.lua) writes. */
function fsSidecar(uuid: string, tiff: string, o: { success?: boolean; pages?: string } = {}): string {
  return JSON.stringify({
    version: '1',
    source: 'freeswitch',
    uniqueid: uuid,
    tiff_path: tiff,
    to_number: '+15551230000',
    from_number: '+15550000001',
    fax_success: o.success === false ? '0' : '1',
    fax_result_code: o.success === false ? '49' : '0',
    fax_result_text: o.success === false ? 'The call dropped prematurely' : 'OK',
    fax_document_transferred_pages: o.pages ?? '2',
    fax_remote_station_id: '+15550000001',
    hangup_cause: 'NORMAL_CLEARING',
    end_epoch: '1795780219',
  });
}

for (const dialect of DIALECTS) {
  describe(`inbound spool watcher on ${dialect}`, () => {
    let app: InboundTestApp;
    before(async () => {
      app = await startInboundApp({ dialect });
    });
    after(() => app.close());

    test('a fax that arrives only through the spool (hook never called) is listed with its numbers', async () => {
      const uid = newUid();
      const tif = await putFixture('received.tif', app.spool, `${uid}.tif`);
      // The dialplan writes the sidecar after the TIFF is closed, exactly the hook's body.
      await writeFile(join(app.spool, `${uid}.json`), asteriskBody({ tiff_path: tif, uniqueid: uid, to_number: '1000' }));
      const f = await listed(app, (x) => x.backend === 'asterisk' && x.to === '1000' && x.pages === 2 && x.fr === '+15550000001', 'the spooled fax');
      assert.equal(f.status, 'received');
      const row = await app.services.inbound.store.get(f.id);
      assert.equal(row!.via, 'sidecar');
      // Both files left the spool for the archive; nothing is left to ingest twice.
      await waitFor(async () => !existsSync(join(app.spool, `${uid}.json`)), 5000, 'sidecar archived');
      assert.equal(existsSync(tif), false);
      assert.ok(existsSync(join(app.dataDir, 'inbound', 'tiff', `${f.id}.tif`)));
      assert.ok(existsSync(join(app.dataDir, 'inbound', 'tiff', `${f.id}.json`)));
      const pdf = await app.req(`/inbound/${f.id}/pdf`);
      assert.equal(pdf.status, 200);
    });

    test('a TIFF with neither hook nor sidecar is ingested after the grace period, numbers unknown', async () => {
      const uid = newUid();
      await putFixture('sample-2page.tif', app.spool, `${uid}.tif`);
      const id = await waitFor(async () => (await app.services.inbound.store.bySource('asterisk', uid))?.id, 15_000, 'orphan ingested');
      const f = await listed(app, (x) => x.id === id, 'orphan listed');
      assert.equal(f.status, 'received');
      assert.equal(f.pages, 2);
      assert.equal(f.fr, null);
      assert.equal(f.to, null);
      assert.match(String(f.note), /result unknown/);
      assert.equal((await app.services.inbound.store.get(id))!.via, 'spool');
    });

    test('the hook after the watcher: merged into the same record, numbers added', async () => {
      const uid = newUid();
      await putFixture('sample-2page.tif', app.spool, `${uid}.tif`);
      const id = await waitFor(async () => {
        const r = await app.services.inbound.store.bySource('asterisk', uid);
        return r?.ingest_state === 'done' ? r.id : undefined;
      }, 15_000, 'orphan ingested');
      const r = await postHook(app, asteriskBody({ tiff_path: join(app.spool, `${uid}.tif`), uniqueid: uid, to_number: '2000', faxpages: '2' }));
      assert.equal(r.status, 200);
      assert.equal(r.body.id, id);
      assert.equal(r.body.to, '2000');
      assert.equal(r.body.fr, '+15550000001');
      assert.equal(r.body.status, 'received');
    });

    test('hook and sidecar at the same moment: one record, one conversion', async () => {
      const uid = newUid();
      const tif = await putFixture('received.tif', app.spool, `${uid}.tif`);
      const body = asteriskBody({ tiff_path: tif, uniqueid: uid });
      const before = await inboundCount(app);
      await Promise.all([writeFile(join(app.spool, `${uid}.json`), body), postHook(app, body), postHook(app, body)]);
      const id = await waitFor(async () => {
        const r = await app.services.inbound.store.bySource('asterisk', uid);
        return r?.ingest_state === 'done' ? r.id : undefined;
      }, 15_000, 'ingested');
      await waitFor(async () => !existsSync(join(app.spool, `${uid}.json`)), 5000, 'sidecar archived');
      assert.equal(await inboundCount(app), before + 1);
      assert.equal((await auditTypes(app)).filter((e) => e.subject === id && e.type === 'inbound.received').length, 1);
    });

    test('a FreeSWITCH sidecar (source freeswitch) with its TIFF', async () => {
      const uuid = '5f0c8f7e-1b2a-4c3d-9e8f-0a1b2c3d4e5f';
      const tif = await putFixture('fs-received.tif', app.spool, `${uuid}.tif`);
      await writeFile(join(app.spool, `${uuid}.json`), fsSidecar(uuid, tif));
      const f = await listed(app, (x) => x.backend === 'freeswitch' && x.to === '+15551230000', 'the FreeSWITCH fax');
      assert.equal(f.status, 'received');
      assert.equal(f.pages, 2);
      const row = await app.services.inbound.store.get(f.id);
      assert.equal(row!.source_uid, uuid);
      assert.equal(row!.remote_station_id, '+15550000001');
      const info = await pdfInfo(join(app.dataDir, row!.pdf_path!));
      assert.equal(info.pages, 2);
    });

    test('a FreeSWITCH failure with no page: FAILED with spandsp’s words, no TIFF needed', async () => {
      const uuid = '6a0c8f7e-1b2a-4c3d-9e8f-0a1b2c3d4e5f';
      await writeFile(join(app.spool, `${uuid}.json`), fsSidecar(uuid, join(app.spool, `${uuid}.tif`), { success: false, pages: '0' }));
      const id = await waitFor(async () => {
        const r = await app.services.inbound.store.bySource('freeswitch', uuid);
        return r?.ingest_state === 'done' ? r.id : undefined;
      }, 15_000, 'failure recorded');
      const row = await app.services.inbound.store.get(id);
      assert.equal(row!.status, 'FAILED');
      assert.match(String(row!.error), /The call dropped prematurely before any page arrived/);
    });

    test('a truncated TIFF found by the watcher: FAILED and quarantined, not deleted', async () => {
      const uid = newUid();
      const full = await readFile(join(TIFF_FIXTURES, 'sample-2page.tif'));
      const cut = full.subarray(0, 3000);
      const tif = join(app.spool, `${uid}.tif`);
      await writeFile(tif, cut);
      await writeFile(join(app.spool, `${uid}.json`), asteriskBody({ tiff_path: tif, uniqueid: uid }));
      const id = await waitFor(async () => {
        const r = await app.services.inbound.store.bySource('asterisk', uid);
        return r?.ingest_state === 'done' ? r.id : undefined;
      }, 15_000, 'failure recorded');
      const row = await app.services.inbound.store.get(id);
      assert.equal(row!.status, 'FAILED');
      assert.match(String(row!.error), /truncated/);
      assert.deepEqual(await readFile(row!.quarantine_path!), cut);
    });

    test('a sidecar seen half-written is read again once complete', async () => {
      const uid = newUid();
      const tif = await putFixture('received.tif', app.spool, `${uid}.tif`);
      const body = asteriskBody({ tiff_path: tif, uniqueid: uid, to_number: '3000' });
      await writeFile(join(app.spool, `${uid}.json`), body.slice(0, 40));
      await new Promise((r) => setTimeout(r, 250));
      await writeFile(join(app.spool, `${uid}.json`), body);
      const f = await listed(app, (x) => x.to === '3000', 'the fax after its sidecar completed');
      assert.equal(f.status, 'received');
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`inbound start-up scan and restarts on ${dialect}`, () => {
    let root = '';
    let dataDir = '';
    let db: { url: string; drop: () => Promise<void> } | null = null;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'faxbot-spool-restart-'));
      dataDir = join(root, 'data');
      if (dialect === 'postgres') db = await createPgDatabase();
    });
    after(async () => {
      await rm(root, { recursive: true, force: true });
      await db?.drop();
    });

    test('files that arrived while the service was down are ingested at start; kept TIFFs are not ingested again', async () => {
      const opts = { dialect, root, dataDir, ...(db ? { databaseUrl: db.url } : {}), env: { INBOUND_TIFF_ACTION: 'keep' } };
      let app = await startInboundApp(opts);
      const uidA = newUid();
      const uidB = newUid();
      await app.close();
      // While down: one fax with its sidecar, one TIFF alone (old enough that its grace period is over).
      const tifA = await putFixture('received.tif', app.spool, `${uidA}.tif`);
      await writeFile(join(app.spool, `${uidA}.json`), asteriskBody({ tiff_path: tifA, uniqueid: uidA, to_number: '4000' }));
      await putFixture('sample-2page.tif', app.spool, `${uidB}.tif`);
      const { utimes } = await import('node:fs/promises');
      const old = new Date(Date.now() - 3600_000);
      await utimes(join(app.spool, `${uidB}.tif`), old, old);

      app = await startInboundApp(opts);
      try {
        const a = await waitFor(async () => (await app.services.inbound.store.bySource('asterisk', uidA))?.ingest_state === 'done', 15_000, 'A ingested');
        const b = await waitFor(async () => (await app.services.inbound.store.bySource('asterisk', uidB))?.ingest_state === 'done', 15_000, 'B ingested');
        assert.ok(a && b);
        // keep: the files stay in the spool, marked as ingested by their records.
        assert.deepEqual(await listDir(app.spool), [`${uidA}.json`, `${uidA}.tif`, `${uidB}.tif`].sort());
        assert.equal((await app.services.inbound.store.bySource('asterisk', uidA))!.tiff_path, tifA);
      } finally {
        await app.close();
      }
      app = await startInboundApp(opts);
      try {
        await app.services.inbound.watcher.scan();
        await new Promise((r) => setTimeout(r, 700));
        assert.equal(await inboundCount(app), 2);
        const received = (await auditTypes(app)).filter((e) => e.type === 'inbound.received');
        assert.equal(received.length, 2, 'each fax recorded once across three starts');
      } finally {
        await app.close();
      }
    });

    test('an ingest interrupted after the TIFF was archived is finished at the next start', async () => {
      const opts = { dialect, root, dataDir, ...(db ? { databaseUrl: db.url } : {}), env: { INBOUND_WATCH: 'false', INBOUND_SWEEP_SECONDS: '3600' } };
      let app = await startInboundApp(opts);
      const uid = newUid();
      const tif = await putFixture('received.tif', app.spool, `${uid}.tif`);
      // Simulate the crash: a claimed record whose TIFF already sits in the archive, no PDF, no final status.
      const { fax } = await app.services.inbound.ingest({ source: 'asterisk', sourceUid: uid, via: 'hook', toNumber: '5000', success: true, pages: 2 });
      const { copyFile, unlink } = await import('node:fs/promises');
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(app.dataDir, 'inbound', 'tiff'), { recursive: true });
      await copyFile(tif, join(app.dataDir, 'inbound', 'tiff', `${fax.id}.tif`));
      await unlink(tif);
      await app.services.inbound.store.patch(fax.id, {
        spool_path: tif,
        ingest_state: 'processing',
        lease_owner: app.settings.instanceId,
        lease_expires_at: new Date(Date.now() + 3600_000).toISOString(),
      });
      await app.close();
      app = await startInboundApp(opts);
      try {
        const row = await waitFor(async () => {
          const r = await app.services.inbound.store.get(fax.id);
          return r?.ingest_state === 'done' ? r : undefined;
        }, 15_000, 'finished after restart');
        assert.equal(row.status, 'received');
        assert.equal(row.pages, 2);
        assert.ok(existsSync(join(app.dataDir, row.pdf_path!)));
      } finally {
        await app.close();
      }
    });
  });
}

describe('two instances on one PostgreSQL database watching one spool', () => {
  let root = '';
  let db: { url: string; drop: () => Promise<void> };
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'faxbot-two-'));
    db = await createPgDatabase();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
    await db.drop();
  });

  test('every fax becomes exactly one record, converted once', async () => {
    const dataDir = join(root, 'data');
    const common = { dialect: 'postgres' as const, root, dataDir, databaseUrl: db.url };
    const a = await startInboundApp({ ...common, env: { INSTANCE_ID: 'a' } });
    const b = await startInboundApp({ ...common, env: { INSTANCE_ID: 'b' } });
    try {
      const uids = [newUid(), newUid(), newUid(), newUid()];
      for (const uid of uids) {
        const tif = await putFixture('received.tif', a.spool, `${uid}.tif`);
        await writeFile(join(a.spool, `${uid}.json`), asteriskBody({ tiff_path: tif, uniqueid: uid }));
      }
      // Both instances also get the hook for the first two (Asterisk retried, or a load balancer).
      await Promise.all(
        uids.slice(0, 2).flatMap((uid) => [a, b].map((app) => postHook(app, asteriskBody({ tiff_path: join(a.spool, `${uid}.tif`), uniqueid: uid })))),
      );
      await waitFor(async () => {
        const rows = await a.services.db.k.selectFrom('inbound_faxes').select('ingest_state').execute();
        return rows.length === uids.length && rows.every((r) => r.ingest_state === 'done');
      }, 20_000, 'all ingested');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await inboundCount(a), uids.length);
      const received = (await auditTypes(a)).filter((e) => e.type === 'inbound.received');
      assert.equal(received.length, uids.length, 'one conversion per fax');
      assert.deepEqual(await listDir(a.spool), []);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
