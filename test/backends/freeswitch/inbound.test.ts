// The inbound parser: a received fax from spandsp::rxfaxresult or the rxfax leg's hangup.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { EslConnection } from '../../../src/backends/freeswitch/esl-connection.js';
import type { EslEvent } from '../../../src/backends/freeswitch/esl-event.js';
import { parseInboundFax, parseRxSidecar } from '../../../src/backends/freeswitch/inbound.js';
import { countTiffPages, startEslSim } from '../../sim/esl/index.js';
import { scenarioEvents } from './scenario-events.js';

test('a successful reception, from rxfaxresult', () => {
  const ev = scenarioEvents('fs-b/success-audio').find((e) => e.subclass === 'spandsp::rxfaxresult')!;
  const fax = parseInboundFax(ev);
  assert.deepEqual(fax, {
    uuid: '7443fa79-45ce-486a-a0aa-d8ad4271cd09',
    filename: '/var/spool/freeswitch/fax/in/7443fa79-45ce-486a-a0aa-d8ad4271cd09.tif',
    toNumber: '15550100002',
    fromNumber: '15550100001',
    success: true,
    pages: 2,
    resultCode: 0,
    resultText: 'OK',
    remoteStationId: '+15550100001',
    source: 'rxfaxresult',
    details: {
      resultCode: 0,
      resultText: 'OK',
      pagesTotal: 2,
      t38Status: 'off',
      transport: 'audio',
      ecm: true,
      rate: 14400,
      remoteStationId: '+15550100001',
      resolution: '204x196',
    },
  });
});

test('the rx leg hangup gives the same fax (the key is the uuid), without our marker too', () => {
  const hc = scenarioEvents('fs-b/success-audio').find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!;
  const fax = parseInboundFax(hc);
  assert.ok(fax);
  assert.equal(fax.source, 'hangup');
  assert.equal(fax.uuid, '7443fa79-45ce-486a-a0aa-d8ad4271cd09');
  assert.equal(fax.pages, 2);
  assert.equal(fax.success, true);
  assert.equal(fax.filename, '/var/spool/freeswitch/fax/in/7443fa79-45ce-486a-a0aa-d8ad4271cd09.tif');
});

test('a failed reception (sender hung up, no page): code 49, 0 pages, file named but not there', () => {
  for (const s of ['fs-b/missing-file', 'fs-b/local-cancel'] as const) {
    const ev = scenarioEvents(s).find((e) => e.subclass === 'spandsp::rxfaxresult')!;
    const fax = parseInboundFax(ev);
    assert.ok(fax, s);
    assert.equal(fax.success, false);
    assert.equal(fax.pages, 0);
    assert.equal(fax.resultCode, 49);
    assert.equal(fax.resultText, 'The call dropped prematurely');
    assert.ok(fax.filename?.endsWith('.tif'));
  }
});

test('not an rx fax: the txfax leg, a call that never ran rxfax, other events', () => {
  for (const ev of scenarioEvents('success-audio')) assert.equal(parseInboundFax(ev), null, ev.name);
  const busyB = scenarioEvents('fs-b/busy');
  assert.ok(busyB.length > 0);
  for (const ev of busyB) assert.equal(parseInboundFax(ev), null);
  const marked: EslEvent = { name: 'CHANNEL_HANGUP_COMPLETE', headers: { 'Unique-ID': 'x', variable_faxbot_rx: 'true' } };
  assert.equal(parseInboundFax(marked), null, 'rxfax never started: no result variables');
});

test('over a socket: the simulator receives a fax, writes the TIFF, and both events parse to it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'esl-in-'));
  const sim = await startEslSim({ password: 'pw', spoolDir: dir });
  const conn = new EslConnection({ host: '127.0.0.1', port: sim.port, password: 'pw', logger: pino({ level: 'silent' }) });
  try {
    conn.start();
    await once(conn, 'connected');
    const seen: ReturnType<typeof parseInboundFax>[] = [];
    conn.on('event', (ev) => {
      const fax = parseInboundFax(ev);
      if (fax) seen.push(fax);
    });
    const got = await sim.receiveFax({ to: '+15557654321', from: '+15550001111', pages: 3 });
    assert.ok(got.fileWritten);
    assert.equal(countTiffPages(readFileSync(got.file)), 3);
    const failed = await sim.receiveFax({ to: '+15557654321', from: '+15550001111', pages: 0, success: false });
    assert.equal(existsSync(failed.file), false, 'no page: no file, as spandsp does');
    // rxfaxresult is subscribed; HANGUP_COMPLETE too: two views of each fax, same uuid.
    await waitFor(() => seen.length >= 4);
    const ok = seen.filter((f) => f?.uuid === got.uuid);
    assert.deepEqual(ok.map((f) => f?.source).sort(), ['hangup', 'rxfaxresult']);
    for (const f of ok) {
      assert.equal(f?.toNumber, '+15557654321');
      assert.equal(f?.fromNumber, '+15550001111');
      assert.equal(f?.pages, 3);
      assert.equal(f?.filename, got.file);
      assert.equal(f?.success, true);
    }
    const bad = seen.filter((f) => f?.uuid === failed.uuid);
    assert.ok(bad.length >= 1 && bad.every((f) => f?.success === false && f.pages === 0 && f.resultCode === 49));
  } finally {
    await conn.stop();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('the sidecar JSON the hangup hook writes reads as the same fax; anything else is refused', () => {
  // As faxbot_rx_sidecar.lua writes it (every value a string).
  const text =
    '{"version":"1","source":"freeswitch","uniqueid":"7443fa79-45ce-486a-a0aa-d8ad4271cd09","tiff_path":"/var/spool/freeswitch/fax/in/7443fa79-45ce-486a-a0aa-d8ad4271cd09.tif","to_number":"15550100002","from_number":"15550100001","fax_success":"1","fax_result_code":"0","fax_result_text":"OK","fax_document_transferred_pages":"2","fax_remote_station_id":"+15550100001","hangup_cause":"NORMAL_CLEARING","end_epoch":"1767268821"}\n';
  const fax = parseRxSidecar(text);
  assert.ok(fax);
  assert.equal(fax.uuid, '7443fa79-45ce-486a-a0aa-d8ad4271cd09');
  assert.equal(fax.source, 'sidecar');
  assert.equal(fax.success, true);
  assert.equal(fax.pages, 2);
  assert.equal(fax.toNumber, '15550100002');
  assert.equal(fax.filename, '/var/spool/freeswitch/fax/in/7443fa79-45ce-486a-a0aa-d8ad4271cd09.tif');
  const failed = parseRxSidecar(JSON.stringify({ source: 'freeswitch', uniqueid: 'u1', fax_success: '0', fax_result_code: '49', fax_document_transferred_pages: '', to_number: '' }));
  assert.ok(failed);
  assert.equal(failed.success, false);
  assert.equal(failed.pages, 0);
  assert.equal(failed.toNumber, null);
  assert.equal(failed.resultCode, 49);
  for (const bad of ['', 'not json', '[]', '{"source":"asterisk","uniqueid":"x"}', '{"source":"freeswitch"}']) assert.equal(parseRxSidecar(bad), null, bad);
});
