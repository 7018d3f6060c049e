// FAX_BACKEND=sip end to end: the whole service over HTTP against the ARI simulator, every scenario, on SQLite and PostgreSQL.
// Checks what an API client sees (status, error, pages, provider_sid), what the attempts record (class, ladder rung,
// mode) and what reached Asterisk (the originate), and that nothing is left behind (spool TIFFs, PBX records).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { expectScenarioEnds, type ScenarioCase } from '../../helpers/fax-jobs.js';
import { startAriSim, type AriSim, type SimScenario } from '../../sim/ari/index.js';
import { ARI_PASS, ARI_USER, attempts, channelOf, finalJob, originates, postFax, startSipApp } from './service-helpers.js';

interface Case extends ScenarioCase {
  scenario: SimScenario;
}

const cases: Case[] = [
  {
    name: 'success over G.711 audio', number: '+15551000001', scenario: { kind: 'success', pages: 2 },
    expect: { status: 'SUCCESS', error: null, pages: 2, attempt: 1 },
    check: (a) => {
      assert.equal(a[0]!.outcome, 'success');
      assert.deepEqual(a[0]!.details.line, { step: 0, t38: true, ecm: true, maxRate: 14400 });
      assert.deepEqual([a[0]!.details.mode, a[0]!.details.bitRate, a[0]!.details.remoteStationId, a[0]!.details.tiffPages], ['audio', 14400, '+15550001000', 2]);
      assert.equal(a[0]!.cause, '16 NORMAL_CLEARING');
    },
  },
  {
    name: 'success over T.38', number: '+15551000002', scenario: { kind: 'success', pages: 2, t38: true },
    expect: { status: 'SUCCESS', error: null, pages: 2, attempt: 1 },
    check: (a) => assert.equal(a[0]!.details.mode, 'T38'),
  },
  {
    name: 'success, SendFAX returns before the far end hangs up', number: '+15551000003', scenario: { kind: 'success', pages: 1, remoteHangsUpFirst: false }, pages: 1,
    expect: { status: 'SUCCESS', error: null, pages: 1, attempt: 1 },
  },
  {
    name: 'slow answer', number: '+15551000004', scenario: { kind: 'success', pages: 2, answerDelaySec: 25 },
    expect: { status: 'SUCCESS', error: null, pages: 2, attempt: 1 },
  },
  {
    name: 'busy', number: '+15551000005', scenario: { kind: 'busy' },
    expect: { status: 'FAILED', error: 'line busy', pages: 0, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.failure_class, a[0]!.cause], ['busy', '17 USER_BUSY (SIP 486)']),
  },
  {
    name: 'no answer', number: '+15551000006', scenario: { kind: 'no_answer' },
    expect: { status: 'FAILED', error: 'no answer', pages: 0, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.failure_class, a[0]!.cause], ['no_answer', '19 NO_ANSWER (SIP 480)']),
  },
  {
    name: 'congestion', number: '+15551000007', scenario: { kind: 'congestion' },
    expect: { status: 'FAILED', error: 'network congestion (no circuit available)', pages: 0, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.failure_class, a[0]!.cause], ['congestion', '34 NORMAL_CIRCUIT_CONGESTION (SIP 503)']),
  },
  {
    name: 'rejected', number: '+15551000008', scenario: { kind: 'rejected' },
    expect: { status: 'FAILED', error: 'call rejected by the far end or the carrier', pages: 0, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.failure_class, a[0]!.cause], ['permanent', '21 CALL_REJECTED (SIP 403)']),
  },
  {
    name: 'unallocated number', number: '+15551000009', scenario: { kind: 'unallocated' },
    expect: { status: 'FAILED', error: 'number not in service (unallocated)', pages: 0, attempt: 1 },
    check: (a) => assert.equal(a[0]!.failure_class, 'permanent'),
  },
  {
    // A protocol failure: retried once (FAX_RETRY_PROTOCOL=2) one rung down the ladder, then given up.
    name: 'remote hang-up mid-fax', number: '+15551000010', scenario: { kind: 'remote_hangup' },
    expect: { status: 'FAILED', error: 'the far end hung up during the fax, before any page was sent (gave up after 2 protocol attempts)', pages: 0, attempt: 2 },
    check: (a) => {
      assert.deepEqual(a.map((x) => x.failure_class), ['protocol', 'protocol']);
      assert.deepEqual(a.map((x) => (x.details.line as { step: number }).step), [0, 1]);
    },
  },
  {
    name: 'partial pages', number: '+15551000011', scenario: { kind: 'partial', pagesSent: 1, totalPages: 2 },
    expect: { status: 'FAILED', error: 'the far end hung up after 1 of 2 pages (gave up after 2 protocol attempts)', pages: 1, attempt: 2 },
    check: (a) => {
      assert.deepEqual(a.map((x) => x.pages), [1, 1]);
      assert.equal(a[1]!.cause, 'T.30 49: The call dropped prematurely; hangup 0 NONE');
    },
  },
  {
    name: 'T.38 failure, then audio success on the retry', number: '+15551000012', scenario: { kind: 't38_fail', pages: 2 },
    expect: { status: 'SUCCESS', error: null, pages: 2, attempt: 2 },
    check: (a) => {
      assert.deepEqual([a[0]!.failure_class, a[0]!.error], ['protocol', 'fax failed: T.38 negotiation with the far end failed']);
      assert.deepEqual(a[0]!.details.line, { step: 0, t38: true, ecm: true, maxRate: 14400 });
      assert.deepEqual(a[1]!.details.line, { step: 1, t38: false, ecm: true, maxRate: 14400 });
      assert.deepEqual([a[1]!.outcome, a[1]!.details.mode], ['success', 'audio']);
    },
  },
  {
    // spandsp says the far machine cannot take the image: the document as it is will never go, so no retry.
    name: 'far end cannot receive the resolution', number: '+15551000013', scenario: { kind: 'fax_error', error: 'Far end cannot receive at the resolution of the image' },
    expect: { status: 'FAILED', error: 'fax failed: Far end cannot receive at the resolution of the image', pages: 0, attempt: 1 },
    check: (a) => assert.equal(a[0]!.failure_class, 'document'),
  },
  {
    name: 'training failure, retried one rung down, then given up', number: '+15551000014', scenario: { kind: 'fax_error', error: 'Failed to train with any of the compatible modems' },
    expect: { status: 'FAILED', error: 'fax failed: Failed to train with any of the compatible modems (gave up after 2 protocol attempts)', pages: 0, attempt: 2 },
  },
];

for (const dialect of DIALECTS) {
  describe(`Asterisk backend through the API on ${dialect}`, () => {
    let sim: AriSim;
    let app: TestApp;
    let missing: TestApp;
    before(async () => {
      sim = await startAriSim({ username: ARI_USER, password: ARI_PASS });
      for (const c of cases) sim.script(c.number, c.scenario);
      app = await startSipApp(sim, { FAX_RETRY_PROTOCOL: '2:0', ASTERISK_MAX_CHANNELS: '8' }, { dialect });
      // Asterisk sees the spool under another path, which does not exist on its side: SendFAX cannot open the file.
      missing = await startSipApp(sim, { ASTERISK_FAX_DIR_PBX: '/nonexistent/faxbot/spool', ARI_APP: 'faxbot-missing' }, { dialect });
    });
    after(async () => {
      await app?.close();
      await missing?.close();
      await sim?.close();
    });

    test('every scenario ends with the right status, error, pages and provider_sid', async () => {
      await expectScenarioEnds(app, cases, { backend: 'sip', sidOf: channelOf });
    });

    test('the originate carried the trunk, caller id, the PBX path of the TIFF and the per-job variables', () => {
      // The API keeps the number as +E.164 and so does the dial string.
      const orig = originates(sim).find((r) => r.query.endpoint === 'PJSIP/+15551000001@faxbot-trunk');
      assert.ok(orig, 'originate to the first number');
      const channelId = orig.query.channelId!;
      const jobId = /^faxbot-(.+)-1$/.exec(channelId)![1]!;
      assert.deepEqual(
        { app: orig.query.app, appArgs: orig.query.appArgs, callerId: orig.query.callerId, timeout: orig.query.timeout },
        { app: 'faxbot', appArgs: `${jobId},1`, callerId: '"Faxbot" <+15550000001>', timeout: '30' },
      );
      const v = (orig.body as { variables: Record<string, string> }).variables;
      assert.deepEqual(v, {
        FAXFILE: join(app.dataDir, 'spool', 'asterisk', `faxbot-${jobId}-1.tif`),
        FAXJOB: jobId, FAXATTEMPT: '1', FAXHEADER: 'Faxbot test', FAXSTATIONID: '+1 555 000 0001', FAXECM: 'yes', FAXMAXRATE: '14400', FAXT38: 'yes',
      });
    });

    test('after the calls: no TIFF left in the spool, no result record left on the PBX', async () => {
      await sim.idle();
      const spool = join(app.dataDir, 'spool', 'asterisk');
      const records = (): string[] => [...sim.globals.keys()].filter((k) => k.startsWith('FAXBOT_RESULT_'));
      // Both go right after each outcome is stored (the API shows the job final a moment before).
      const deadline = Date.now() + 5000;
      while ((readdirSync(spool).length > 0 || records().length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(readdirSync(spool), []);
      assert.deepEqual(records(), []);
    });

    test('a TIFF Asterisk cannot open (wrong ASTERISK_FAX_DIR_PBX): FAILED with a clear error, not retried', async () => {
      const posted = await postFax(missing, '+15551000099');
      const j = await finalJob(missing, posted.id);
      assert.deepEqual(
        { status: j.status, error: j.error, pages: j.pages, provider_sid: j.provider_sid },
        { status: 'FAILED', error: 'the PBX could not read the fax file (missing or unreadable TIFF)', pages: 0, provider_sid: channelOf(posted.id) },
      );
      const [a] = await attempts(missing, posted.id);
      assert.equal(a!.failure_class, 'document');
      const orig = originates(sim, posted.id)[0]!;
      assert.equal((orig.body as { variables: Record<string, string> }).variables.FAXFILE, `/nonexistent/faxbot/spool/faxbot-${posted.id}-1.tif`);
    });
  });
}
