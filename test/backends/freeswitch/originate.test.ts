// The originate builder: variables, escaping that survives FreeSWITCH's parser, refusals, deterministic uuids.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ladderStep } from '../../../src/backends/pbx/ladder.js';
import {
  buildOriginate,
  callUuidFor,
  jobUuidFor,
  OriginateError,
  parseJobCommandArg,
  uuidV5,
  validateTiffPath,
  type OriginateParams,
} from '../../../src/backends/freeswitch/originate.js';
import { parseOriginateArgs } from '../../sim/esl/index.js';

const line = ladderStep({ t38: true, ecm: true, maxRate: 14400 }, 0);

function params(over: Partial<OriginateParams> = {}): OriginateParams {
  return {
    callUuid: callUuidFor('job-1', 1),
    jobId: 'job-1',
    attemptNo: 1,
    gateway: 'carrier1',
    number: '+15551234567',
    tiffPath: '/var/spool/faxbot/out/job-1.tif',
    line,
    stationId: '+1 555 000 1111',
    header: 'ACME Clinic',
    ...over,
  };
}

/** What FreeSWITCH would store, read with the simulator's port of its parser. */
function asFreeSwitchReadsIt(command: string) {
  assert.ok(command.startsWith('originate '));
  const parsed = parseOriginateArgs(command.slice('originate '.length));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.value;
}

test('uuids are deterministic per job and attempt, valid v5, and differ between call and job', () => {
  const a = callUuidFor('job-1', 1);
  assert.equal(a, callUuidFor('job-1', 1));
  assert.notEqual(a, callUuidFor('job-1', 2));
  assert.notEqual(a, callUuidFor('job-2', 1));
  assert.notEqual(a, jobUuidFor('job-1', 1));
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // RFC 4122 appendix test vector: v5("www.example.com", DNS namespace).
  assert.equal(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  assert.notEqual(callUuidFor('job-1', 1, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), a);
});

test('the command carries our uuid, job, attempt and the fax variables, and FreeSWITCH reads them back intact', () => {
  const p = params();
  const built = buildOriginate(p);
  const fs = asFreeSwitchReadsIt(built.command);
  assert.equal(fs.dialString, 'sofia/gateway/carrier1/+15551234567');
  assert.equal(fs.app, 'txfax');
  assert.equal(fs.appArg, '/var/spool/faxbot/out/job-1.tif');
  assert.deepEqual(fs.vars, {
    origination_uuid: p.callUuid,
    faxbot_job_id: 'job-1',
    faxbot_attempt: '1',
    ignore_early_media: 'true',
    originate_timeout: '60',
    absolute_codec_string: '^^:PCMU:PCMA',
    fax_enable_t38: 'true',
    fax_enable_t38_request: 'true',
    fax_use_ecm: 'true',
    fax_disable_v17: 'false',
    fax_ident: '+1 555 000 1111',
    fax_header: 'ACME Clinic',
  });
  assert.deepEqual(built.vars, fs.vars);
});

test('the ladder drives T.38 request, ECM and V.17; fax_enable_t38 stays true on every rung', () => {
  const cfg = { t38: true, ecm: true, maxRate: 14400 };
  const vars = (step: number) => asFreeSwitchReadsIt(buildOriginate(params({ line: ladderStep(cfg, step) })).command).vars;
  assert.equal(vars(1).fax_enable_t38_request, 'false');
  assert.equal(vars(1).fax_enable_t38, 'true');
  assert.equal(vars(2).fax_use_ecm, 'false');
  assert.equal(vars(2).fax_disable_v17, 'false');
  assert.equal(vars(3).fax_disable_v17, 'true');
  assert.equal(vars(5).fax_disable_v17, 'true');
  assert.equal(vars(5).fax_enable_t38, 'true');
});

test('commas, spaces and = in text values survive all of FreeSWITCH parsing passes', () => {
  const header = 'Smith, Jones & Co. = fax #1 (main)';
  const built = buildOriginate(params({ header, callerIdName: 'Front Desk, 2nd floor', callerIdNumber: '+15550001111' }));
  const fs = asFreeSwitchReadsIt(built.command);
  assert.equal(fs.vars.fax_header, header);
  assert.equal(fs.vars.origination_caller_id_name, 'Front Desk, 2nd floor');
  assert.equal(fs.vars.origination_caller_id_number, '+15550001111');
  assert.equal(fs.vars.origination_uuid, built.vars.origination_uuid);
  assert.equal(fs.appArg, '/var/spool/faxbot/out/job-1.tif');
  assert.match(built.command, /fax_header='Smith\\, Jones & Co\. = fax #1 \(main\)'/);
});

test('extra variables are quoted the same way and cannot override ours', () => {
  const fs = asFreeSwitchReadsIt(buildOriginate(params({ extraVars: { sip_h_X_Account: 'a b,c', empty: '' } })).command);
  assert.equal(fs.vars.sip_h_X_Account, 'a b,c');
  assert.equal('empty' in fs.vars, false, 'FreeSWITCH ignores "x=" so empty values are left out');
  assert.throws(() => buildOriginate(params({ extraVars: { origination_uuid: callUuidFor('x', 1) } })), OriginateError);
  assert.throws(() => buildOriginate(params({ extraVars: { 'bad name': 'x' } })), /plain identifier/);
});

test('characters that cannot be carried safely are refused with the variable named', () => {
  for (const header of ["O'Brien", 'say "hi"', 'back\\slash', 'a{b}', 'cost $5', 'x[1]', 'a^b', 'tab\there', 'Zürich', 'a:_:b']) {
    assert.throws(() => buildOriginate(params({ header })), (e: unknown) => e instanceof OriginateError && /fax_header/.test(e.message), header);
  }
  assert.throws(() => buildOriginate(params({ header: 'x'.repeat(51) })), /50 characters/);
  assert.throws(() => buildOriginate(params({ stationId: 'ACME' })), /station id/);
  assert.throws(() => buildOriginate(params({ callerIdNumber: '555-1234' })), /caller id/);
});

test('TIFF paths with spaces or ")" are refused: txfax would get a cut path', () => {
  assert.throws(() => validateTiffPath('/var/spool/fax out/1.tif'), /space/);
  assert.throws(() => buildOriginate(params({ tiffPath: '/var/spool/fax)/1.tif' })), /"\)"/);
  assert.throws(() => validateTiffPath('/var/spool/(x)/1.tif'), /"\("/);
  assert.throws(() => validateTiffPath('relative/1.tif'), /absolute/);
  assert.throws(() => validateTiffPath("/var/spool/it's.tif"), /only contain/);
  assert.throws(() => validateTiffPath('/var/spool/$HOME.tif'), /only contain/);
  assert.throws(() => validateTiffPath('/var/spool/../etc/x.tif'), /\.\./);
  assert.equal(validateTiffPath('/var/spool/fax/out/a_b-c.1,2.tif'), '/var/spool/fax/out/a_b-c.1,2.tif');
});

test('numbers, gateways and dial string templates are checked', () => {
  assert.throws(() => buildOriginate(params({ number: '555 1234' })), /destination/);
  assert.throws(() => buildOriginate(params({ number: '5551234,5556789' })), /destination/);
  assert.throws(() => buildOriginate(params({ gateway: 'gw|other' })), /gateway/);
  const t = buildOriginate(params({ dialStringTemplate: 'sofia/external/{number}@sip.carrier.example;transport=tcp' }));
  assert.equal(asFreeSwitchReadsIt(t.command).dialString, 'sofia/external/+15551234567@sip.carrier.example;transport=tcp');
  assert.throws(() => buildOriginate(params({ dialStringTemplate: 'sofia/gateway/{gateway}/1234' })), /\{number\}/);
  assert.throws(() => buildOriginate(params({ dialStringTemplate: 'sofia/external/{number}@a,sofia/external/{number}@b' })), /commas/);
  assert.throws(() => buildOriginate(params({ callUuid: 'not-a-uuid' })), /uuid/);
  assert.throws(() => buildOriginate(params({ jobId: 'job 1' })), /job id/);
  assert.throws(() => buildOriginate(params({ originateTimeoutSec: 0 })), /timeout/);
});

test('BACKGROUND_JOB Job-Command-Arg gives back our call uuid, job and attempt', () => {
  const built = buildOriginate(params({ attemptNo: 3 }));
  const arg = built.command.slice('originate '.length);
  assert.deepEqual(parseJobCommandArg(arg), { callUuid: params().callUuid, jobId: 'job-1', attemptNo: 3 });
  // As recorded (someone else's originate, no faxbot variables).
  assert.deepEqual(
    parseJobCommandArg(
      "{origination_uuid=1184d077-1c0d-47bb-b42d-6e8de82fb000,fax_enable_t38=true,fax_header='Fixture',gw_job_id=job-unknown-gateway}sofia/gateway/gwNope/15550000001 &txfax(/srv/fswork/two.tif)",
    ),
    { callUuid: '1184d077-1c0d-47bb-b42d-6e8de82fb000' },
  );
  assert.deepEqual(parseJobCommandArg(undefined), {});
});
