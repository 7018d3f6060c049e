// The shipped FreeSWITCH configuration: well-formed XML, no secrets, the fax-relevant settings, and render.sh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '../../../freeswitch-config');

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}

/** A strict little XML parser (elements, attributes, comments, entities): throws on anything malformed. */
function parseXml(text: string): XmlElement {
  let i = 0;
  const fail = (msg: string): never => {
    const line = text.slice(0, i).split('\n').length;
    throw new Error(`${msg} at line ${line}`);
  };
  const checkText = (s: string) => {
    if (/<|&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(s)) fail(`bad character data "${s.slice(0, 40)}"`);
  };
  const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const skipMisc = () => {
    for (;;) {
      const ws = /^\s*/.exec(text.slice(i))![0];
      i += ws.length;
      if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i + 4);
        if (end < 0) fail('unterminated comment');
        if (text.slice(i + 4, end).includes('--')) fail('"--" inside a comment');
        i = end + 3;
      } else if (text.startsWith('<?', i)) {
        const end = text.indexOf('?>', i);
        if (end < 0) fail('unterminated processing instruction');
        i = end + 2;
      } else return;
    }
  };
  const element = (): XmlElement => {
    const m = /^<([A-Za-z_][\w.-]*)/.exec(text.slice(i));
    if (!m) return fail('expected an element');
    i += m[0].length;
    const el: XmlElement = { name: m[1]!, attrs: {}, children: [] };
    for (;;) {
      const a = /^\s+([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(text.slice(i));
      if (!a) break;
      const raw = a[3] ?? a[4] ?? '';
      checkText(raw);
      if (a[1]! in el.attrs) fail(`duplicate attribute ${a[1]}`);
      el.attrs[a[1]!] = unescape(raw);
      i += a[0].length;
    }
    const close = /^\s*(\/?)>/.exec(text.slice(i));
    if (!close) return fail(`malformed start tag <${el.name}`);
    i += close[0].length;
    if (close[1] === '/') return el;
    for (;;) {
      const next = text.indexOf('<', i);
      if (next < 0) fail(`unclosed <${el.name}>`);
      checkText(text.slice(i, next));
      i = next;
      if (text.startsWith('<!--', i)) skipMisc();
      else if (text.startsWith('</', i)) {
        const end = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(text.slice(i));
        if (!end || end[1] !== el.name) fail(`expected </${el.name}>`);
        i += end![0].length;
        return el;
      } else el.children.push(element());
    }
  };
  skipMisc();
  const doc = element();
  skipMisc();
  if (i !== text.length) fail('content after the root element');
  return doc;
}

function all(el: XmlElement, name: string): XmlElement[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const xmlFiles = files(root).filter((f) => f.endsWith('.xml'));
const load = (rel: string) => parseXml(readFileSync(join(root, rel), 'utf8'));
const param = (doc: XmlElement, name: string) => all(doc, 'param').find((p) => p.attrs.name === name)?.attrs.value;

test('every XML file is well-formed (and the checker does reject broken XML)', () => {
  assert.deepEqual(
    xmlFiles.map((f) => relative(root, f)).sort(),
    ['autoload_configs/event_socket.conf.xml', 'autoload_configs/spandsp.conf.xml', 'dialplan/public/50_faxbot_rxfax.xml', 'sip_profiles/external/faxbot-gateway.xml'],
  );
  for (const f of xmlFiles) assert.doesNotThrow(() => parseXml(readFileSync(f, 'utf8')), relative(root, f));
  for (const bad of ['<a><b></a>', '<a x="1" x="2"/>', '<a>&</a>', '<a x="<"/>', '<a/><b/>', '<a><!-- -- --></a>']) {
    assert.throws(() => parseXml(bad), bad);
  }
});

test('no secret in any file: passwords and credentials are placeholders, never the ClueCon default', () => {
  for (const f of files(root)) {
    const text = readFileSync(f, 'utf8');
    assert.equal(/ClueCon/i.test(text.replace(/ClueCon! http/g, '')) && !f.endsWith('render.sh') && !f.endsWith('README.md'), false, `${f} mentions ClueCon`);
    if (!f.endsWith('.xml')) continue;
    for (const p of all(parseXml(text), 'param')) {
      if (/pass|secret|token|key/i.test(p.attrs.name ?? '')) assert.match(p.attrs.value ?? '', /^@[A-Z][A-Z0-9_]*@$/, `${relative(root, f)}: ${p.attrs.name}`);
    }
  }
});

test('event socket: localhost, port 8021, password placeholder, an inbound ACL', () => {
  const doc = load('autoload_configs/event_socket.conf.xml');
  assert.equal(doc.attrs.name, 'event_socket.conf');
  assert.equal(param(doc, 'listen-ip'), '@FREESWITCH_ESL_LISTEN_IP@');
  assert.equal(param(doc, 'listen-port'), '@FREESWITCH_ESL_PORT@');
  assert.equal(param(doc, 'password'), '@FREESWITCH_ESL_PASSWORD@');
  assert.equal(param(doc, 'apply-inbound-acl'), '@FREESWITCH_ESL_ACL@');
  const render = readFileSync(join(root, 'render.sh'), 'utf8');
  assert.match(render, /FREESWITCH_ESL_LISTEN_IP:=127\.0\.0\.1/);
  assert.match(render, /FREESWITCH_ESL_PORT:=8021/);
});

test('spandsp accepts T.38 by default and keeps ECM on', () => {
  const doc = load('autoload_configs/spandsp.conf.xml');
  assert.equal(param(doc, 'enable-t38'), 'true');
  assert.equal(param(doc, 'use-ecm'), 'true');
  assert.equal(param(doc, 'spool-dir'), '@FREESWITCH_INBOUND_DIR@');
});

test('the gateway has the T.38-relevant settings', () => {
  const doc = load('sip_profiles/external/faxbot-gateway.xml');
  const gw = all(doc, 'gateway')[0]!;
  assert.equal(gw.attrs.name, '@FREESWITCH_GATEWAY_NAME@');
  const vars = Object.fromEntries(all(gw, 'variable').map((v) => [v.attrs.name, v.attrs.value]));
  assert.equal(vars.fax_enable_t38, 'true', 'a T.38 re-INVITE from the carrier must be accepted');
  assert.equal(vars.t38_passthru, 'false', 'FreeSWITCH terminates T.38 itself');
  assert.equal(vars.absolute_codec_string, 'PCMU,PCMA', 'G.711 only');
  assert.equal(param(gw, 'ping'), '30');
  assert.equal(param(gw, 'password'), '@SIP_TRUNK_PASSWORD@');
});

test('the inbound dialplan runs rxfax into the spool with the uuid, the hook set before answer', () => {
  const doc = load('dialplan/public/50_faxbot_rxfax.xml');
  const actions = all(doc, 'action').map((a) => `${a.attrs.application} ${a.attrs.data ?? ''}`.trim());
  const at = (prefix: string) => actions.findIndex((a) => a.startsWith(prefix));
  assert.ok(at('rxfax @FREESWITCH_INBOUND_DIR@/${uuid}.tif') >= 0, actions.join('\n'));
  assert.ok(at('set faxbot_rx=true') >= 0);
  assert.ok(at('set fax_enable_t38=true') >= 0);
  assert.ok(at('set api_hangup_hook=lua faxbot_rx_sidecar.lua ${uuid}') >= 0);
  assert.ok(at('set api_hangup_hook') < at('answer'), 'the hook must not depend on anything after rxfax');
  assert.ok(at('answer') < at('rxfax'));
  assert.equal(all(doc, 'condition')[0]?.attrs.expression, '@FREESWITCH_INBOUND_DID_REGEX@');
});

function render(env: Record<string, string>): { status: number | null; stderr: string; out: string } {
  const out = mkdtempSync(join(tmpdir(), 'fs-render-'));
  const r = spawnSync('bash', [join(root, 'render.sh'), out], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr, out };
}

const ENV = {
  FREESWITCH_ESL_PASSWORD: 'p&ss"<w>\'x@FREESWITCH_ESL_PORT@',
  FREESWITCH_GATEWAY_NAME: 'carrier1',
  SIP_TRUNK_PROXY: 'sip.carrier.example',
  SIP_TRUNK_USERNAME: 'acct1',
  SIP_TRUNK_PASSWORD: 'trunk&secret',
  FREESWITCH_INBOUND_DID_REGEX: '^\\+?1555123456[0-9]$',
  FAXBOT_FAX_IDENT: '+1 555 123 4560',
};

test('render.sh fills every placeholder from the environment, XML-escaped, and the output stays well-formed', () => {
  const r = render(ENV);
  try {
    assert.equal(r.status, 0, r.stderr);
    const outFiles = files(r.out);
    assert.equal(outFiles.length, 5);
    for (const f of outFiles) {
      const text = readFileSync(f, 'utf8');
      if (f.endsWith('.xml')) assert.doesNotThrow(() => parseXml(text), f);
      // (The password itself contains "@FREESWITCH_ESL_PORT@" on purpose.)
      assert.equal(/@[A-Z][A-Z0-9_]*@/.test(text.replace('x@FREESWITCH_ESL_PORT@', '')), false, `${f} still has a placeholder`);
    }
    const esl = parseXml(readFileSync(join(r.out, 'autoload_configs/event_socket.conf.xml'), 'utf8'));
    assert.equal(param(esl, 'password'), ENV.FREESWITCH_ESL_PASSWORD, 'a value containing a placeholder is not rendered twice');
    assert.equal(param(esl, 'listen-ip'), '127.0.0.1');
    assert.equal(param(esl, 'apply-inbound-acl'), 'loopback.auto');
    const gw = parseXml(readFileSync(join(r.out, 'sip_profiles/external/faxbot-gateway.xml'), 'utf8'));
    assert.equal(param(gw, 'password'), 'trunk&secret');
    assert.equal(param(gw, 'realm'), 'sip.carrier.example');
    const dp = parseXml(readFileSync(join(r.out, 'dialplan/public/50_faxbot_rxfax.xml'), 'utf8'));
    assert.equal(all(dp, 'condition')[0]?.attrs.expression, ENV.FREESWITCH_INBOUND_DID_REGEX);
    assert.ok(all(dp, 'action').some((a) => a.attrs.data === '/var/spool/freeswitch/fax/in/${uuid}.tif'));
    assert.equal(statSync(join(r.out, 'autoload_configs/event_socket.conf.xml')).mode & 0o007, 0, 'not world-readable');
  } finally {
    rmSync(r.out, { recursive: true, force: true });
  }
});

test('render.sh refuses missing secrets, the ClueCon default and unsafe values', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ ...ENV, FREESWITCH_ESL_PASSWORD: '' }, /missing required.*FREESWITCH_ESL_PASSWORD/],
    [{ ...ENV, FREESWITCH_ESL_PASSWORD: 'ClueCon' }, /well-known default/],
    [{ ...ENV, FREESWITCH_GATEWAY_NAME: 'bad name' }, /GATEWAY_NAME/],
    [{ ...ENV, FREESWITCH_INBOUND_DIR: '/var/fax in' }, /INBOUND_DIR/],
    [{ ...ENV, SIP_TRUNK_PASSWORD: 'a$${b}' }, /must not contain/],
  ];
  for (const [env, re] of cases) {
    const r = render(env);
    rmSync(r.out, { recursive: true, force: true });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, re);
  }
});
