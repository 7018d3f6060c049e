// FAX_BACKEND=freeswitch end to end: the whole service over HTTP against the ESL simulator, every scenario, on SQLite and PostgreSQL.
// Checks what an API client sees (status, error, pages, provider_sid), what the attempts record (class, cause, ladder rung,
// T.38 status) and what reached FreeSWITCH (the originate), and that no spool TIFF is left behind.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jobUuidFor } from '../../../src/backends/freeswitch/originate.js';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { expectScenarioEnds, type ScenarioCase } from '../../helpers/fax-jobs.js';
import { startEslSim, type EslSim, type ScenarioName } from '../../sim/esl/index.js';
import { attempts, callOf, ESL_PASS, finalJob, originates, postFax, startFsApp } from './service-helpers.js';

interface Case extends ScenarioCase {
  scenario: ScenarioName;
}

const gaveUp = '(gave up after 2 protocol attempts)';

const cases: Case[] = [
  {
    // The far end takes audio only: our T.38 request (FAX_T38 default) is refused and the fax goes on in G.711.
    name: 'success, T.38 asked for and refused, audio fallback', number: '+15551000001', scenario: 'success',
    expect: { status: 'SUCCESS', error: null, pages: 2, attempt: 1 },
    check: (a) => {
      assert.equal(a[0]!.outcome, 'success');
      assert.deepEqual(a[0]!.details.line, { step: 0, t38: true, ecm: true, maxRate: 14400 });
      assert.deepEqual(
        [a[0]!.details.t38Status, a[0]!.details.transport, a[0]!.details.rate, a[0]!.details.remoteStationId, a[0]!.details.tiffPages, a[0]!.details.ecm],
        ['refused', 'audio', 14400, '+15550000002', 2, true],
      );
      assert.equal(a[0]!.cause, 'T.30 0 OK');
    },
  },
  {
    name: 'success over T.38', number: '+15551000002', scenario: 't38',
    expect: { status: 'SUCCESS', error: null, pages: 2, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.details.t38Status, a[0]!.details.transport], ['negotiated', 't38']),
  },
  {
    name: 'T.38 re-INVITE refused by the far end, audio fallback', number: '+15551000003', scenario: 't38-refused',
    expect: { status: 'SUCCESS', error: null, pages: 2, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.details.t38Status, a[0]!.details.transport], ['refused', 'audio']),
  },
  {
    // Our leg always accepts T.38 (fax_enable_t38=true), so a far end that switches by itself is no trouble.
    name: 'the far end asks for T.38 itself', number: '+15551000004', scenario: 'remote-requests-t38',
    expect: { status: 'SUCCESS', error: null, pages: 2, attempt: 1 },
    check: (a) => assert.equal(a[0]!.details.t38Status, 'negotiated'),
  },
  {
    name: 'slow answer', number: '+15551000005', scenario: 'slow-answer', pages: 1,
    expect: { status: 'SUCCESS', error: null, pages: 1, attempt: 1 },
  },
  {
    name: 'busy', number: '+15551000006', scenario: 'busy',
    expect: { status: 'FAILED', error: 'line busy', pages: 0, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.failure_class, a[0]!.cause], ['busy', '17 USER_BUSY (SIP 486)']),
  },
  {
    name: 'no answer', number: '+15551000007', scenario: 'no-answer',
    expect: { status: 'FAILED', error: 'no answer', pages: 0, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.failure_class, a[0]!.cause], ['no_answer', '19 NO_ANSWER']),
  },
  {
    name: 'unallocated number', number: '+15551000008', scenario: 'unallocated',
    expect: { status: 'FAILED', error: 'number not in service (unallocated)', pages: 0, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.failure_class, a[0]!.cause], ['permanent', '1 UNALLOCATED_NUMBER (SIP 404)']),
  },
  {
    name: 'call rejected', number: '+15551000009', scenario: 'rejected',
    expect: { status: 'FAILED', error: 'call rejected by the far end or the carrier', pages: 0, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.failure_class, a[0]!.cause], ['permanent', '21 CALL_REJECTED (SIP 403)']),
  },
  {
    // The gateway's far end does not answer SIP: FreeSWITCH makes the 503 itself.
    name: 'unreachable gateway', number: '+15551000010', scenario: 'unreachable',
    expect: { status: 'FAILED', error: 'temporary failure on the trunk or carrier', pages: 0, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.failure_class, a[0]!.cause], ['congestion', '41 NORMAL_TEMPORARY_FAILURE (SIP 503)']),
  },
  {
    // A protocol failure: retried once (FAX_RETRY_PROTOCOL=2) one rung down the ladder (T.38 off), then given up.
    name: 'remote hang-up mid-fax', number: '+15551000011', scenario: 'remote-hangup',
    expect: { status: 'FAILED', error: `fax failed: The call dropped prematurely ${gaveUp}`, pages: 0, attempt: 2 },
    check: (a) => {
      assert.deepEqual(a.map((x) => x.failure_class), ['protocol', 'protocol']);
      assert.deepEqual(a.map((x) => (x.details.line as { step: number }).step), [0, 1]);
      assert.deepEqual(a.map((x) => x.cause), ['T.30 49 The call dropped prematurely', 'T.30 49 The call dropped prematurely']);
    },
  },
  {
    name: 'partial pages', number: '+15551000012', scenario: 'partial',
    expect: { status: 'FAILED', error: `fax failed: The call dropped prematurely (1 of 2 pages sent) ${gaveUp}`, pages: 1, attempt: 2 },
    check: (a) => {
      assert.deepEqual(a.map((x) => x.pages), [1, 1]);
      assert.deepEqual(a.map((x) => x.details.pagesTotal), [2, 2]);
    },
  },
  {
    // T.30 code 2: a voice line or silence answered; retried as no answer (FAX_RETRY_NO_ANSWER=1: no retry).
    name: 'answered without fax tones', number: '+15551000013', scenario: 'no-fax-tones',
    expect: { status: 'FAILED', error: 'answered, but no fax machine responded', pages: 0, attempt: 1 },
    check: (a) => assert.deepEqual([a[0]!.failure_class, a[0]!.cause], ['no_answer', 'T.30 2 Timed out waiting for initial communication']),
  },
  {
    name: 'training failure, retried one rung down, then given up', number: '+15551000014', scenario: 'train-fail',
    expect: { status: 'FAILED', error: `fax failed: Failed to train with any of the compatible modems ${gaveUp}`, pages: 0, attempt: 2 },
    check: (a) => assert.deepEqual(a[1]!.details.line, { step: 1, t38: false, ecm: true, maxRate: 14400 }),
  },
];

for (const dialect of DIALECTS) {
  describe(`FreeSWITCH backend through the API on ${dialect}`, () => {
    let sim: EslSim;
    let app: TestApp;
    let audio: TestApp;
    let missing: TestApp;
    let badGateway: TestApp;
    before(async () => {
      sim = await startEslSim({ password: ESL_PASS, gateways: ['faxbot'] });
      for (const c of cases) sim.script(c.number, c.scenario);
      [app, audio, missing, badGateway] = await Promise.all([
        startFsApp(sim, { FAX_RETRY_PROTOCOL: '2:0', FREESWITCH_MAX_CHANNELS: '8' }, { dialect }),
        // No T.38 request at all (FREESWITCH_T38_ENABLE overrides FAX_T38).
        startFsApp(sim, { FREESWITCH_T38_ENABLE: 'false' }, { dialect }),
        // FreeSWITCH sees the spool under another path, which does not exist on its side: txfax cannot open the file.
        startFsApp(sim, { FREESWITCH_FAX_DIR_PBX: '/nonexistent/faxbot/spool' }, { dialect }),
        startFsApp(sim, { FREESWITCH_GATEWAY_NAME: 'nosuchgateway' }, { dialect }),
      ]);
    });
    after(async () => {
      await Promise.all([app?.close(), audio?.close(), missing?.close(), badGateway?.close()]);
      await sim?.close();
    });

    test('every scenario ends with the right status, error, pages and provider_sid; one originate per attempt', async () => {
      await expectScenarioEnds(app, cases, {
        backend: 'freeswitch',
        sidOf: callOf,
        more: (c, id) => assert.equal(originates(sim, id).length, c.expect.attempt),
      });
    });

    test('the originate carried the gateway, our uuids, the ladder, identities, the job and the PBX path of the TIFF', async () => {
      const o = originates(sim).find((x) => x.dialString === `sofia/gateway/${'faxbot'}/+15551000001`);
      assert.ok(o, 'originate to the first number');
      const jobId = o.vars.faxbot_job_id!;
      assert.equal(o.jobUuid, jobUuidFor(jobId, 1));
      assert.deepEqual([o.app, o.appArg], ['txfax', join(app.dataDir, 'spool', 'freeswitch', `faxbot-${jobId}-1.tif`)]);
      assert.deepEqual(o.vars, {
        origination_uuid: callOf(jobId, 1),
        faxbot_job_id: jobId,
        faxbot_attempt: '1',
        ignore_early_media: 'true',
        originate_timeout: '30',
        absolute_codec_string: '^^:PCMU:PCMA',
        fax_enable_t38: 'true',
        fax_enable_t38_request: 'true',
        fax_use_ecm: 'true',
        fax_disable_v17: 'false',
        fax_ident: '+1 555 000 0001',
        fax_header: 'Faxbot test',
        origination_caller_id_number: '+15550000001',
        origination_caller_id_name: 'Faxbot',
      });
    });

    test('after the calls: no TIFF left in the spool', async () => {
      await sim.idle();
      const spool = join(app.dataDir, 'spool', 'freeswitch');
      // The TIFF goes right after each outcome is stored (the API shows the job final a moment before).
      const deadline = Date.now() + 5000;
      while (readdirSync(spool).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(readdirSync(spool), []);
    });

    test('success without T.38 (FREESWITCH_T38_ENABLE=false): not asked for, audio all along', async () => {
      const posted = await postFax(audio, '+15551000020');
      const j = await finalJob(audio, posted.id);
      assert.deepEqual([j.status, j.error, j.pages, j.provider_sid], ['SUCCESS', null, 2, callOf(posted.id)]);
      const [a] = await attempts(audio, posted.id);
      assert.deepEqual(a!.details.line, { step: 0, t38: false, ecm: true, maxRate: 14400 });
      assert.deepEqual([a!.details.t38Status, a!.details.transport], ['off', 'audio']);
      assert.equal(originates(sim, posted.id)[0]!.vars.fax_enable_t38_request, 'false');
    });

    test('a TIFF FreeSWITCH cannot open (wrong FREESWITCH_FAX_DIR_PBX): FAILED with a clear error, not retried', async () => {
      const posted = await postFax(missing, '+15551000099');
      const j = await finalJob(missing, posted.id);
      assert.deepEqual(
        { status: j.status, error: j.error, pages: j.pages, provider_sid: j.provider_sid },
        {
          status: 'FAILED',
          error: 'FreeSWITCH could not read the fax file (check that FREESWITCH_FAX_DIR_PBX names the spool directory as FreeSWITCH sees it)',
          pages: 0,
          provider_sid: callOf(posted.id),
        },
      );
      const [a] = await attempts(missing, posted.id);
      assert.deepEqual([a!.failure_class, a!.cause], ['document', 'txfax: Cannot send non-existant fax file']);
      assert.equal(originates(sim, posted.id)[0]!.appArg, `/nonexistent/faxbot/spool/faxbot-${posted.id}-1.tif`);
    });

    test('an unknown gateway (BACKGROUND_JOB -ERR INVALID_GATEWAY, no channel at all): FAILED, permanent', async () => {
      const posted = await postFax(badGateway, '+15551000098');
      const j = await finalJob(badGateway, posted.id);
      assert.deepEqual(
        { status: j.status, error: j.error, pages: j.pages, provider_sid: j.provider_sid },
        { status: 'FAILED', error: 'the PBX has no such gateway (check the gateway name setting)', pages: 0, provider_sid: callOf(posted.id) },
      );
      const [a] = await attempts(badGateway, posted.id);
      assert.deepEqual([a!.failure_class, a!.cause], ['permanent', '608 INVALID_GATEWAY']);
    });
  });
}
