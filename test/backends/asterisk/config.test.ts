// Checks the shipped asterisk-config/ against the service's dialplan contract and our security rules.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  CHANNEL_VAR_NAMES,
  DIALPLAN_CONTEXTS,
  FAX_RESULT_EVENT,
  INBOUND_CONTEXT,
  OUTBOUND_REPORT_CONTEXT,
  OUTBOUND_TARGET,
  RECORD_FIELDS,
  USEREVENT_KEYS,
  resultVarName,
} from '../../../src/backends/asterisk/dialplan-contract.js';
import { parseConf, parseDialplan, variableSet, variablesRead, type DialplanStep } from './conf-parser.js';

const dir = resolve(import.meta.dirname, '../../../asterisk-config');
const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
const dialplan = parseDialplan(read('extensions.conf'));

function steps(context: string): DialplanStep[] {
  const s = dialplan.contexts.get(context);
  assert.ok(s, `context [${context}] missing from extensions.conf`);
  return s;
}

/** Variables res_fax or Asterisk itself provide; the service never sets these. */
const ASTERISK_VARS = new Set([
  'FAXSTATUS', 'FAXERROR', 'FAXSTATUSSTRING', 'FAXPAGES', 'FAXBITRATE', 'FAXRESOLUTION', 'FAXMODE', 'REMOTESTATIONID',
  'LOCALSTATIONID', 'HANGUPCAUSE', 'EPOCH', 'UNIQUEID', 'EXTEN',
]);
const OUTBOUND_CONTEXTS = [OUTBOUND_TARGET.context, OUTBOUND_REPORT_CONTEXT];

test('every .conf file parses', () => {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.conf'))) {
    assert.doesNotThrow(() => parseConf(read(f)), f);
  }
});

test('every context the service names exists, with the extension it continues to', () => {
  for (const c of DIALPLAN_CONTEXTS) steps(c);
  const send = steps(OUTBOUND_TARGET.context).filter((s) => s.exten === OUTBOUND_TARGET.extension);
  assert.equal(send[0]?.priority, String(OUTBOUND_TARGET.priority));
  assert.equal(steps(OUTBOUND_REPORT_CONTEXT)[0]?.exten, 's');
  assert.ok(steps(INBOUND_CONTEXT).some((s) => s.exten === '_X.'));
});

test('every Goto and hangup handler target in the dialplan exists', () => {
  const all = [...dialplan.contexts.values()].flat();
  for (const s of all) {
    let target: string | null = null;
    if (s.app === 'Goto' && s.args.includes(',')) target = s.args;
    const push = /^CHANNEL\(hangup_handler_push\)=(.*)$/.exec(s.args);
    if (s.app === 'Set' && push) target = push[1]!;
    if (!target) continue;
    const [ctx, exten, prio] = target.split(',');
    const ext = steps(ctx!).filter((x) => x.exten === exten);
    assert.ok(ext.length > 0, `${target} (line ${s.line}) points at a missing extension`);
    assert.equal(ext[0]!.priority, prio, `${target} (line ${s.line})`);
  }
  // Labels used by GotoIf exist in the same extension.
  for (const [ctx, list] of dialplan.contexts) {
    for (const s of list.filter((x) => x.app === 'GotoIf')) {
      const label = /\?([A-Za-z0-9_-]+)\)?$/.exec(s.args)?.[1];
      assert.ok(label, `GotoIf at line ${s.line} has no label`);
      assert.ok(list.some((x) => x.exten === s.exten && x.label === label), `[${ctx}] label ${label} missing`);
    }
  }
});

test('the hangup handler is pushed before SendFAX and ReceiveFAX, and SendFAX sends FAXFILE', () => {
  const send = steps(OUTBOUND_TARGET.context);
  const push = send.findIndex((s) => s.app === 'Set' && s.args === `CHANNEL(hangup_handler_push)=${OUTBOUND_REPORT_CONTEXT},s,1`);
  const sendfax = send.map((s, i) => (s.app === 'SendFAX' ? i : -1)).filter((i) => i >= 0);
  assert.ok(push >= 0, 'outbound context does not push the report handler');
  assert.ok(sendfax.length > 0, 'outbound context never runs SendFAX');
  for (const i of sendfax) {
    assert.ok(push < i, 'hangup handler must be pushed before SendFAX');
    assert.match(send[i]!.args, /^\$\{FAXFILE\},/, 'SendFAX must send ${FAXFILE}');
  }
  // One SendFAX asks for T.38 with in-call audio fallback, the other forces audio.
  assert.deepEqual(sendfax.map((i) => send[i]!.args.split(',')[1]).sort(), ['F', 'fz']);

  const recv = steps('faxbot-inbound-receive');
  const rpush = recv.findIndex((s) => /^CHANNEL\(hangup_handler_push\)=faxbot-inbound-report,s,1$/.test(s.args));
  const rfax = recv.findIndex((s) => s.app === 'ReceiveFAX');
  assert.ok(rpush >= 0 && rfax > rpush, 'inbound: handler must be pushed before ReceiveFAX');
});

test('channel variables: every one the service sets is read by the dialplan, and vice versa', () => {
  const outbound = OUTBOUND_CONTEXTS.flatMap((c) => steps(c));
  const read = new Set<string>();
  const setHere = new Set<string>();
  for (const s of outbound) {
    for (const v of variablesRead(s.args)) read.add(v);
    const v = variableSet(s);
    if (v) setHere.add(v);
  }
  const fromService = [...read].filter((v) => !ASTERISK_VARS.has(v) && !setHere.has(v)).sort();
  assert.deepEqual(fromService, [...CHANNEL_VAR_NAMES].sort());
});

test('the result record and the UserEvent carry exactly the fields the service parses', () => {
  const report = steps(OUTBOUND_REPORT_CONTEXT);
  const globalSet = report.find((s) => s.app === 'Set' && s.args.startsWith('GLOBAL('));
  assert.ok(globalSet, 'report handler writes no GLOBAL record');
  const m = /^GLOBAL\(([^)]+)\)=(.*)$/.exec(globalSet.args)!;
  // The variable name is the one resultVarName() computes.
  assert.equal(m[1]!.replace('${FAXJOB}', 'J').replace('${FAXATTEMPT}', '7'), resultVarName('J', 7));
  const fields = m[2]!.split('|');
  assert.equal(fields[0], 'v1');
  const expectedSources: Record<string, string> = {
    status: '${FAXSTATUS}', pages: '${FAXPAGES}', bitrate: '${FAXBITRATE}', resolution: '${FAXRESOLUTION}', mode: '${FAXMODE}',
    ecm: '${FAXBOT_ECM}', hangupcause: '${HANGUPCAUSE}', error64: '${FAXBOT_ERR64}', statusstr64: '${FAXBOT_STR64}',
    remotestation64: '${FAXBOT_RSID64}', epoch: '${EPOCH}',
  };
  assert.deepEqual(fields.slice(1), RECORD_FIELDS.map((f) => expectedSources[f]));

  const started = steps(OUTBOUND_TARGET.context).find((s) => s.args.startsWith('GLOBAL('));
  assert.equal(started?.args, `GLOBAL(${m[1]})=v1|STARTED`, 'the outbound context marks the record STARTED before SendFAX');

  const ue = report.find((s) => s.app === 'UserEvent');
  assert.ok(ue, 'report handler raises no UserEvent');
  const [name, ...body] = ue.args.split(',');
  assert.equal(name, FAX_RESULT_EVENT);
  assert.deepEqual(body.map((kv) => kv.split(':')[0]!.trim()), [...USEREVENT_KEYS]);
  // Free texts go base64-encoded: no raw FAXERROR/FAXSTATUSSTRING/REMOTESTATIONID in the comma-split body.
  for (const raw of ['${FAXERROR}', '${FAXSTATUSSTRING}', '${REMOTESTATIONID}']) {
    assert.ok(!ue.args.includes(raw), `${raw} must not be put raw into the UserEvent`);
    assert.ok(!globalSet.args.includes(raw), `${raw} must not be put raw into the record`);
  }
  // The handler must run the encoding steps before writing.
  const order = report.map((s) => variableSet(s) ?? s.app);
  for (const v of ['FAXBOT_ERR64', 'FAXBOT_STR64', 'FAXBOT_RSID64', 'FAXBOT_ECM']) {
    assert.ok(order.indexOf(v) >= 0 && order.indexOf(v) < order.indexOf('UserEvent'), `${v} set before the UserEvent`);
  }
  assert.equal(report.at(-1)?.app, 'Return');
});

test('inbound: JSON body built in a variable first, posted with CURL and the secret from the environment', () => {
  const rep = steps('faxbot-inbound-report');
  const body = rep.find((s) => variableSet(s) === 'FAXBOT_BODY');
  assert.ok(body);
  const json = body.args.slice('FAXBOT_BODY='.length).replace(/\$\{[A-Z_]+\}/g, 'x');
  assert.deepEqual(Object.keys(JSON.parse(json) as object), ['tiff_path', 'to_number', 'from_number', 'faxstatus', 'faxpages', 'uniqueid']);
  const curl = rep.find((s) => s.args.includes('${CURL('));
  assert.match(curl!.args, /\$\{CURL\(\$\{ENV\(FAXBOT_INBOUND_URL\)\},\$\{FAXBOT_BODY\}\)\}/);
  assert.ok(rep.some((s) => s.args === 'CURLOPT(httpheader)=X-Internal-Secret: ${ENV(ASTERISK_INBOUND_SECRET)}'));
  assert.ok(rep.some((s) => s.args === 'FILE(${FAXBOT_DIR}/${UNIQUEID}.json)=${FAXBOT_BODY}'), 'sidecar JSON beside the TIFF');
  const recv = steps('faxbot-inbound-receive');
  assert.ok(recv.some((s) => s.args === 'FAXBOT_TIFF=${FAXBOT_DIR}/${UNIQUEID}.tif'));
  assert.ok(recv.some((s) => s.args === 'FAXBOT_DIR=/var/spool/asterisk/fax/in'));
  // Far-end controlled numbers are filtered before they reach the JSON.
  assert.ok(rep.indexOf(rep.find((s) => s.args.startsWith('FAXBOT_FROM=${FILTER('))!) < rep.indexOf(body));
});

test('no file holds a literal secret: only ${PLACEHOLDERS} or ${ENV(...)}', () => {
  const secretKeys = /^(password|secret|username|md5_cred|api_key|token)$/i;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.conf'))) {
    const conf = parseConf(read(f));
    for (const s of conf.sections) {
      for (const e of s.entries) {
        if (secretKeys.test(e.key)) assert.match(e.value, /^\$\{[A-Z_]+\}$/, `${f}:${e.line} ${e.key} must be a placeholder`);
      }
      if (f === 'ari.conf' && s.name !== 'general') assert.equal(s.name, '${ARI_USERNAME}', 'ARI user section is a placeholder');
    }
    // Secret-looking header values in the dialplan come from the environment.
    for (const m of read(f).matchAll(/X-Internal-Secret:\s*(\S*)/g)) assert.match(m[1]!, /^\$\{ENV\([A-Z_]+\)\}/, `${f}: ${m[0]}`);
  }
  const pjsip = parseConf(read('pjsip.conf'));
  const endpoint = pjsip.sections.find((s) => s.name === 'faxbot-trunk' && s.entries.some((e) => e.key === 'type' && e.value === 'endpoint'));
  const get = (k: string): string | undefined => endpoint?.entries.find((e) => e.key === k)?.value;
  assert.equal(get('t38_udptl'), 'yes');
  assert.equal(get('t38_udptl_ec'), 'redundancy');
  assert.match(get('t38_udptl_maxdatagram') ?? '', /^[0-9]+$/);
  assert.equal(get('context'), INBOUND_CONTEXT);
  assert.equal(get('allow'), 'ulaw,alaw');
});

test('modules.conf loads what the dialplan and ARI need', () => {
  const mods = parseConf(read('modules.conf')).sections[0]!.entries.filter((e) => e.key === 'load').map((e) => e.value);
  for (const m of ['res_ari.so', 'res_ari_events.so', 'res_ari_channels.so', 'res_ari_asterisk.so', 'res_ari_applications.so',
    'res_stasis.so', 'res_http_websocket.so', 'res_fax.so', 'res_fax_spandsp.so', 'app_stack.so', 'app_userevent.so',
    'func_curl.so', 'res_curl.so', 'func_global.so', 'func_base64.so', 'func_env.so', 'func_strings.so', 'func_logic.so']) {
    assert.ok(mods.includes(m), `modules.conf does not load ${m}`);
  }
  const http = parseConf(read('http.conf')).sections[0]!.entries;
  assert.equal(http.find((e) => e.key === 'enabled')?.value, 'yes');
  assert.ok(http.find((e) => e.key === 'bindaddr'));
});

test('render.sh fills the credential placeholders from the environment and leaves none behind', () => {
  const out = mkdtempSync(join(tmpdir(), 'faxbot-render-'));
  try {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ARI_USERNAME: 'faxbot', ARI_PASSWORD: 'pw;with;semicolons', ARI_PASSWORD_FORMAT: 'plain',
      FAXBOT_TRUNK_HOST: 'sip.example.net', FAXBOT_TRUNK_USERNAME: 'acct1', FAXBOT_TRUNK_PASSWORD: 'trunkpw',
    };
    const stdout = execFileSync('sh', [join(dir, 'render.sh'), out], { env, encoding: 'utf8' });
    assert.ok(!stdout.includes('pw;with') && !stdout.includes('trunkpw'), 'render.sh must not print secrets');
    const ari = readFileSync(join(out, 'ari.conf'), 'utf8');
    const pj = readFileSync(join(out, 'pjsip_faxbot.conf'), 'utf8');
    assert.ok(!/\$\{(ARI|FAXBOT)_[A-Z_]+\}/.test(ari + pj), 'placeholders left after rendering');
    const user = parseConf(ari).sections.find((s) => s.name === 'faxbot');
    assert.equal(user?.entries.find((e) => e.key === 'password')?.value, 'pw;with;semicolons');
    assert.match(pj, /password = trunkpw/);
    assert.throws(() => execFileSync('sh', [join(dir, 'render.sh'), out, 'ari.conf'], { env: { PATH: env.PATH }, stdio: 'pipe' }));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
