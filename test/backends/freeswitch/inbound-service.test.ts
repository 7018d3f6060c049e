// A fax received by FreeSWITCH reaches GET /inbound through the backend's own event socket (spandsp::rxfaxresult),
// with no hook and no sidecar; the spool watcher is off so only the ESL path can have delivered it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startTestApp, waitFor } from '../../helpers/app.js';
import { startEslSim } from '../../sim/esl/index.js';
import { ESL_PASS, fsEnv, postFax } from './service-helpers.js';

describe('FreeSWITCH inbound through the backend connection', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('rxfaxresult is ingested: listed with its pages and a PDF', async () => {
    const spool = await mkdtemp(join(tmpdir(), 'faxbot-fs-spool-'));
    cleanups.push(() => rm(spool, { recursive: true, force: true }));
    const sim = await startEslSim({ password: ESL_PASS, spoolDir: spool });
    cleanups.push(() => sim.close());
    const app = await startTestApp({
      env: fsEnv(sim, { INBOUND_ENABLED: 'true', INBOUND_SPOOL_DIRS: `freeswitch:${spool}`, INBOUND_WATCH: 'false', ASTERISK_INBOUND_SECRET: 'unused' }),
    });
    cleanups.push(() => app.close());
    await waitFor(async () => (await app.services.readiness()).checks.freeswitch_esl?.ok, 10_000, 'ESL connected');

    const rx = await sim.receiveFax({ to: '+15551230000', from: '+15559870000', pages: 2 });
    assert.ok(rx.fileWritten);
    const listed = await waitFor(async () => {
      const r = await app.req('/inbound');
      const list = (await r.json()) as { id: string; pages: number | null; status: string }[];
      return list.find((f) => f.pages === 2 && f.status === 'received');
    }, 15_000, 'the received fax to be listed');
    const pdf = await app.req(`/inbound/${listed.id}/pdf`);
    assert.equal(pdf.status, 200);
    assert.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');

    // An outbound fax on the same service: both conversions and the received fax show in /metrics.
    const job = await postFax(app, '+15551239999', 1);
    await waitFor(async () => (await app.services.jobs.get(job.id))?.status === 'SUCCESS', 20_000, 'the outbound fax');
    const metrics = await (await app.req('/metrics')).text();
    const count = (re: RegExp) => Number(metrics.split('\n').find((l) => re.test(l))?.split(' ').pop() ?? 0);
    assert.ok(count(/^faxbot_document_conversion_seconds_count\{kind="tiff_to_pdf"\}/) >= 1);
    assert.ok(count(/^faxbot_document_conversion_seconds_count\{kind="pdf_to_tiff"\}/) >= 1);
    assert.ok(count(/^faxbot_inbound_faxes_total\{source="freeswitch",status="received"\}/) >= 1);
    assert.ok(count(/^faxbot_backend_up\{backend="freeswitch"\}/) === 1);
  });
});
