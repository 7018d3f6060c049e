// FreeSWITCH inbound: rxfaxresult results (values as recorded on fs-b) through the same ingest as the spool.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { once } from 'node:events';
import { pino } from 'pino';
import { EslConnection } from '../../src/backends/freeswitch/esl-connection.js';
import { waitFor } from '../helpers/app.js';
import { startEslSim } from '../sim/esl/index.js';
import { attachFreeswitchInbound, type FreeswitchRxResult } from '../../src/inbound/freeswitch.js';
import { auditTypes, inboundCount, putFixture, startInboundApp, type InboundTestApp } from './helpers.js';

/** As the ESL parser yields spandsp::rxfaxresult of fs-b/success-audio.jsonl (paths as FreeSWITCH sees them). */
function recorded(uuid: string, o: Partial<FreeswitchRxResult> = {}): FreeswitchRxResult {
  return {
    uuid,
    filename: `/srv/fswork/rx/${uuid}.tif`,
    toNumber: '15550000001',
    fromNumber: '0000000000',
    success: true,
    pages: 2,
    resultCode: 0,
    resultText: 'OK',
    remoteStationId: '+15550000001',
    ...o,
  };
}

describe('FreeSWITCH inbound results', () => {
  let app: InboundTestApp;
  let root = '';
  let fsSpool = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'faxbot-fsin-'));
    fsSpool = join(root, 'fs-rx');
    await mkdir(fsSpool);
    app = await startInboundApp({
      root,
      env: {
        INBOUND_SPOOL_DIRS: `${join(root, 'spool')},freeswitch:${fsSpool}`,
        // FreeSWITCH writes /srv/fswork/rx/<uuid>.tif; this service sees the volume at fsSpool.
        INBOUND_SPOOL_MAP: `/srv/fswork/rx=${fsSpool}`,
        INBOUND_ORPHAN_GRACE_SECONDS: '30',
      },
    });
  });
  after(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  test('success-audio: the TIFF under the mapped path is converted; the record is keyed by the channel uuid', async () => {
    const uuid = '7b51cab7-1964-42ac-beb9-035d10245e20';
    const tif = await putFixture('fs-received.tif', fsSpool, `${uuid}.tif`);
    const { fax, created } = await app.services.inbound.fromFreeswitch(recorded(uuid));
    assert.equal(created, true);
    assert.equal(fax.status, 'received');
    assert.equal(fax.source, 'freeswitch');
    assert.equal(fax.source_uid, uuid);
    assert.equal(fax.pages, 2);
    assert.equal(fax.via, 'event');
    assert.equal(fax.remote_station_id, '+15550000001');
    assert.equal(existsSync(tif), false, 'archived');
    // The hangup hook's sidecar arrives after the event: merged, not a second record.
    const before = await inboundCount(app);
    await writeFile(
      join(fsSpool, `${uuid}.json`),
      JSON.stringify({ version: '1', source: 'freeswitch', uniqueid: uuid, tiff_path: `/srv/fswork/rx/${uuid}.tif`, to_number: '15550000001', from_number: '0000000000', fax_success: '1', fax_result_code: '0', fax_result_text: 'OK', fax_document_transferred_pages: '2' }),
    );
    await waitFor(async () => !existsSync(join(fsSpool, `${uuid}.json`)), 10_000, 'sidecar archived');
    assert.equal(await inboundCount(app), before);
    // The same event again (a reconnect replays it) changes nothing.
    const again = await app.services.inbound.fromFreeswitch(recorded(uuid));
    assert.equal(again.created, false);
    assert.equal(again.fax.id, fax.id);
  });

  test('missing-file / local-cancel: code 49, no page, no file on disk → FAILED with spandsp’s text', async () => {
    const uuid = '0e936386-8e0a-4071-b125-1eb4f117d03a';
    const { fax } = await app.services.inbound.fromFreeswitch(
      recorded(uuid, { success: false, pages: 0, resultCode: 49, resultText: 'The call dropped prematurely', remoteStationId: null }),
    );
    assert.equal(fax.status, 'FAILED');
    assert.equal(fax.pages, 0);
    assert.equal(fax.error, 'The call dropped prematurely before any page arrived');
  });

  test('a file name outside every spool is refused and audited; the fax is still listed', async () => {
    const uuid = '6ebb33bb-8b5a-4c61-a3c4-bb70bd80252c';
    const outside = join(root, 'elsewhere');
    await mkdir(outside);
    await putFixture('fs-received.tif', outside, `${uuid}.tif`);
    const { fax } = await app.services.inbound.fromFreeswitch(recorded(uuid, { filename: join(outside, `${uuid}.tif`) }));
    assert.equal(fax.status, 'processing');
    assert.equal(fax.pdf_path, null);
    assert.ok(existsSync(join(outside, `${uuid}.tif`)), 'the file outside was not touched');
    const refused = (await auditTypes(app, 'inbound.path_refused')).filter((e) => e.subject === `freeswitch:${uuid}`);
    assert.equal(refused.length, 1);
    assert.equal(JSON.parse(refused[0]!.data!).via, 'event');
  });

  test('an event with no file name after a success leaves the record waiting for the TIFF, which the watcher then brings', async () => {
    const uuid = '11111111-2222-4333-8444-555555555555';
    const { fax } = await app.services.inbound.fromFreeswitch(recorded(uuid, { filename: null }));
    assert.equal(fax.status, 'processing');
    await putFixture('fs-received.tif', fsSpool, `${uuid}.tif`);
    const row = await waitFor(async () => {
      const r = await app.services.inbound.store.get(fax.id);
      return r?.ingest_state === 'done' ? r : undefined;
    }, 10_000, 'the watcher finished it');
    assert.equal(row.status, 'received');
    assert.equal(row.to_number, '15550000001');
  });
});

describe('FreeSWITCH inbound over the Event Socket (simulator)', () => {
  test('faxes received by the PBX reach the inbound list once each, via rxfaxresult and the hangup event', async () => {
    const app = await startInboundApp({ env: { INBOUND_ORPHAN_GRACE_SECONDS: '60' } });
    const sim = await startEslSim({ password: 'pw', spoolDir: app.spool });
    const conn = new EslConnection({ host: '127.0.0.1', port: sim.port, password: 'pw', logger: pino({ level: 'silent' }) });
    const detach = attachFreeswitchInbound(conn, (r) => app.services.inbound.fromFreeswitch(r), app.services.log);
    try {
      conn.start();
      await once(conn, 'connected');
      const ok = await sim.receiveFax({ to: '+15557654321', from: '+15550001111', pages: 3 });
      const failed = await sim.receiveFax({ to: '+15557654321', from: '+15550001111', pages: 0, success: false });
      const good = await waitFor(async () => {
        const r = await app.services.inbound.store.bySource('freeswitch', ok.uuid);
        return r?.ingest_state === 'done' ? r : undefined;
      }, 10_000, 'the received fax');
      assert.equal(good.status, 'received');
      assert.equal(good.pages, 3);
      assert.equal(good.to_number, '+15557654321');
      assert.equal(good.via, 'event');
      const bad = await waitFor(async () => {
        const r = await app.services.inbound.store.bySource('freeswitch', failed.uuid);
        return r?.ingest_state === 'done' ? r : undefined;
      }, 10_000, 'the failed reception');
      assert.equal(bad.status, 'FAILED');
      assert.equal(bad.pages, 0);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await inboundCount(app), 2);
    } finally {
      detach();
      await conn.stop();
      await sim.close();
      await app.close();
    }
  });
});
