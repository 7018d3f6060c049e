// The ESL simulator against the recordings, byte for byte where they show bytes, over a raw TCP socket.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseOriginateArgs, separateString, startEslSim, writeBlankFaxTiff, type EslSim } from './index.js';

interface Frame {
  raw: string;
  headers: Record<string, string>;
  headerOrder: string[];
  body: string | null;
}

/** A minimal ESL client that keeps raw frames, to compare them with the recordings. */
class RawClient {
  private buf = Buffer.alloc(0);
  private frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  ended = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  private parse() {
    for (;;) {
      const end = this.buf.indexOf('\n\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('utf8');
      const headerOrder: string[] = [];
      const headers: Record<string, string> = {};
      for (const line of head.split('\n')) {
        const i = line.indexOf(': ');
        headerOrder.push(line.slice(0, i));
        headers[line.slice(0, i)] = line.slice(i + 2);
      }
      const len = headers['Content-Length'] ? Number(headers['Content-Length']) : 0;
      if (this.buf.length < end + 2 + len) return;
      const body = len > 0 ? this.buf.subarray(end + 2, end + 2 + len).toString('utf8') : null;
      this.frames.push({ raw: this.buf.subarray(0, end + 2 + len).toString('utf8'), headers, headerOrder, body });
      this.buf = this.buf.subarray(end + 2 + len);
      this.wake();
    }
  }

  async next(timeoutMs = 3000): Promise<Frame> {
    const until = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.ended) throw new Error('socket ended');
      if (Date.now() > until) throw new Error('no frame in time');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
    return this.frames.shift()!;
  }

  /** Frames until `pred` matches (the matching one included). */
  async until(pred: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame[]> {
    const out: Frame[] = [];
    for (;;) {
      const f = await this.next(timeoutMs);
      out.push(f);
      if (pred(f)) return out;
    }
  }

  send(cmd: string, headers: Record<string, string> = {}) {
    this.socket.write(`${cmd}\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\n`).join('')}\n`);
  }

  async closed(timeoutMs = 2000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > until) throw new Error('not closed');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async auth(pw = 'pw'): Promise<void> {
    assert.equal((await this.next()).raw, 'Content-Type: auth/request\n\n');
    this.send(`auth ${pw}`);
    assert.equal((await this.next()).raw, 'Content-Type: command/reply\nReply-Text: +OK accepted\n\n');
  }

  close() {
    this.socket.destroy();
  }
}

const eventName = (f: Frame): string => {
  const b = JSON.parse(f.body ?? '{}') as Record<string, string>;
  return b['Event-Subclass'] ? `CUSTOM ${b['Event-Subclass']}` : (b['Event-Name'] ?? '?');
};

const DISCONNECT = 'Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
const RECORDER_SUBSCRIPTION =
  'event json CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB CUSTOM spandsp::txfaxresult spandsp::rxfaxresult spandsp::txfaxpageresult spandsp::rxfaxpageresult spandsp::txfaxnegociateresult spandsp::rxfaxnegociateresult';

let sim: EslSim;
let dir: string;
let tiff: string;
const clients: RawClient[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'esl-sim-'));
  tiff = join(dir, 'two.tif');
  writeBlankFaxTiff(tiff, 2);
  sim = await startEslSim({ password: 'pw', gateways: ['gwB'], deadGateways: ['gwDead'] });
});
after(async () => {
  for (const c of clients) c.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function client(): Promise<RawClient> {
  const c = await RawClient.open(sim.port);
  clients.push(c);
  return c;
}

function originate(number: string, opts: { gw?: string; file?: string; vars?: string } = {}): { uuid: string; cmd: string } {
  const uuid = crypto.randomUUID();
  return {
    uuid,
    cmd: `originate {origination_uuid=${uuid},fax_enable_t38=true,fax_enable_t38_request=false,fax_use_ecm=true,fax_ident=+15550000001,fax_header='Fixture',ignore_early_media=true,originate_timeout=20,gw_job_id=job-x${opts.vars ?? ''}}sofia/gateway/${opts.gw ?? 'gwB'}/${number} &txfax(${opts.file ?? tiff})`,
  };
}

test('wrong password: -ERR invalid, the disconnect notice, then the server closes (as recorded)', async () => {
  const c = await client();
  assert.equal((await c.next()).raw, 'Content-Type: auth/request\n\n');
  c.send('auth definitely-wrong-password');
  assert.equal((await c.next()).raw, 'Content-Type: command/reply\nReply-Text: -ERR invalid\n\n');
  assert.equal((await c.next()).raw, DISCONNECT);
  await c.closed();
});

test('a command before auth: -ERR command not found, and the socket stays open', async () => {
  const c = await client();
  await c.next();
  c.send('api status');
  assert.equal((await c.next()).raw, 'Content-Type: command/reply\nReply-Text: -ERR command not found\n\n');
  c.send('auth pw');
  assert.equal((await c.next()).headers['Reply-Text'], '+OK accepted');
});

test('the client closing its side still gets the disconnect notice (as recorded for A-noauth)', async () => {
  const c = await client();
  await c.next();
  c.socket.end();
  assert.equal((await c.next()).raw, DISCONNECT);
  await c.closed();
});

test('api replies: Content-Type then Content-Length, bodies exactly as FreeSWITCH writes them', async () => {
  const c = await client();
  await c.auth();
  c.send('api uuid_exists e115a4ca-8619-4a89-b1ff-c9a96539fcac');
  assert.equal((await c.next()).raw, 'Content-Type: api/response\nContent-Length: 5\n\nfalse');
  c.send('api show channels as json');
  assert.equal((await c.next()).raw, 'Content-Type: api/response\nContent-Length: 17\n\n{"row_count": 0}\n');
  c.send('api nosuchcommand');
  assert.equal((await c.next()).raw, 'Content-Type: api/response\nContent-Length: 38\n\n-ERR nosuchcommand Command not found!\n');
  c.send('api uuid_kill e115a4ca-8619-4a89-b1ff-c9a96539fcac');
  assert.equal((await c.next()).body, '-ERR No such channel!\n');
  c.send('api status');
  const status = await c.next();
  assert.deepEqual(status.headerOrder, ['Content-Type', 'Content-Length']);
  assert.match(status.body ?? '', /^UP .*\nFreeSWITCH \(Version 1\.10\.12-release {2}64bit\) is ready\n/);
  c.send('exit');
  assert.equal((await c.next()).raw, 'Content-Type: command/reply\nReply-Text: +OK bye\n\n');
  assert.equal((await c.next()).raw, DISCONNECT);
  await c.closed();
});

test('bgapi: the reply carries Job-UUID twice, a client-chosen Job-UUID is kept, BACKGROUND_JOB as recorded', async () => {
  const c = await client();
  await c.auth();
  c.send('event json BACKGROUND_JOB');
  assert.equal((await c.next()).headers['Reply-Text'], '+OK event listener enabled json');
  const job = '836f2105-2f35-4a47-8ed6-6969bdde0078';
  const { uuid, cmd } = originate('15550000001', { gw: 'gwNope' });
  c.send(`bgapi ${cmd}`, { 'Job-UUID': job });
  assert.equal((await c.next()).raw, `Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${job}\nJob-UUID: ${job}\n\n`);
  const bg = await c.next();
  assert.deepEqual(bg.headerOrder, ['Content-Length', 'Content-Type']);
  assert.equal(bg.headers['Content-Type'], 'text/event-json');
  const body = JSON.parse(bg.body!) as Record<string, string>;
  assert.deepEqual(Object.keys(body), [
    'Event-Name', 'Core-UUID', 'FreeSWITCH-Hostname', 'FreeSWITCH-Switchname', 'FreeSWITCH-IPv4', 'FreeSWITCH-IPv6',
    'Event-Date-Local', 'Event-Date-GMT', 'Event-Date-Timestamp', 'Event-Calling-File', 'Event-Calling-Function',
    'Event-Calling-Line-Number', 'Event-Sequence', 'Job-UUID', 'Job-Command', 'Job-Command-Arg', 'Content-Length', '_body',
  ]);
  assert.equal(body['Job-UUID'], job);
  assert.equal(body['Job-Command'], 'originate');
  assert.equal(body['Job-Command-Arg'], cmd.slice('originate '.length));
  assert.equal(body['_body'], '-ERR INVALID_GATEWAY\n');
  assert.equal(body['Content-Length'], '21');
  assert.ok(!sim.channels().some((ch) => ch.uuid === uuid), 'an unknown gateway creates no channel');
  c.send('bgapi status');
  const reply = await c.next();
  assert.match(reply.headers['Reply-Text'] ?? '', /^\+OK Job-UUID: [0-9a-f-]{36}$/);
  assert.equal(reply.headers['Job-UUID'], /Job-UUID: (.*)$/.exec(reply.headers['Reply-Text']!)?.[1]);
});

/** Runs one call with the recorder's subscription and returns the event names seen for it. */
async function sequence(number: string, scenario: Parameters<EslSim['script']>[1] | null, opts: { gw?: string; file?: string; vars?: string } = {}) {
  const c = await client();
  await c.auth();
  c.send(RECORDER_SUBSCRIPTION);
  await c.next();
  if (scenario) sim.script(number, scenario);
  const { uuid, cmd } = originate(number, opts);
  c.send(`bgapi ${cmd}`);
  const reply = await c.next();
  const job = reply.headers['Job-UUID'];
  const frames = await c.until((f) => {
    const b = JSON.parse(f.body ?? '{}') as Record<string, string>;
    if (b['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE' && b['Unique-ID'] === uuid) return true;
    return b['Job-UUID'] === job && /INVALID_GATEWAY|GATEWAY_DOWN/.test(b['_body'] ?? '');
  });
  // A failed originate may report after HANGUP_COMPLETE: collect it too.
  const mine = frames.filter((f) => {
    const b = JSON.parse(f.body ?? '{}') as Record<string, string>;
    return b['Unique-ID'] === uuid || b['Job-UUID'] === job;
  });
  if (!mine.some((f) => JSON.parse(f.body!)['Job-UUID'] === job)) mine.push(...(await c.until((f) => JSON.parse(f.body ?? '{}')['Job-UUID'] === job)).slice(-1));
  c.close();
  return mine.map((f) => ({ name: eventName(f), body: JSON.parse(f.body!) as Record<string, string> }));
}

test('event sequences per scenario match the recordings (order and BACKGROUND_JOB position)', async () => {
  const names = async (n: string, s: Parameters<EslSim['script']>[1] | null, o = {}) => (await sequence(n, s, o)).map((e) => e.name);
  assert.deepEqual(await names('15550000001', 'success'), [
    'CHANNEL_CREATE', 'CHANNEL_ANSWER', 'BACKGROUND_JOB', 'CHANNEL_EXECUTE', 'CUSTOM spandsp::txfaxnegociateresult',
    'CUSTOM spandsp::txfaxpageresult', 'CUSTOM spandsp::txfaxpageresult', 'CHANNEL_HANGUP', 'CUSTOM spandsp::txfaxresult',
    'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP_COMPLETE',
  ]);
  assert.deepEqual(await names('15550000002', 'busy'), ['CHANNEL_CREATE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'BACKGROUND_JOB']);
  assert.deepEqual(await names('15550000003', 'no-answer'), ['CHANNEL_CREATE', 'CHANNEL_HANGUP', 'BACKGROUND_JOB', 'CHANNEL_HANGUP_COMPLETE']);
  assert.deepEqual(await names('15550000005', 'unallocated'), ['CHANNEL_CREATE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'BACKGROUND_JOB']);
  assert.deepEqual(await names('15550000006', 'remote-hangup'), [
    'CHANNEL_CREATE', 'CHANNEL_ANSWER', 'BACKGROUND_JOB', 'CHANNEL_EXECUTE', 'CHANNEL_HANGUP', 'CUSTOM spandsp::txfaxresult',
    'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP_COMPLETE',
  ]);
  assert.deepEqual(await names('15550000007', 'success', { file: '/srv/fswork/does-not-exist.tif' }), [
    'CHANNEL_CREATE', 'CHANNEL_ANSWER', 'BACKGROUND_JOB', 'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE',
  ]);
  assert.deepEqual(await names('15550000008', 'no-fax-tones'), [
    'CHANNEL_CREATE', 'CHANNEL_ANSWER', 'BACKGROUND_JOB', 'CHANNEL_EXECUTE', 'CUSTOM spandsp::txfaxresult',
    'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE',
  ]);
  assert.deepEqual(await names('15550000009', null, { gw: 'gwDead' }), ['CHANNEL_CREATE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'BACKGROUND_JOB']);
  assert.deepEqual(await names('15550000001', null, { gw: 'gwNope' }), ['BACKGROUND_JOB']);
});

test('header order of each event type matches the recorded one (variables aside)', async () => {
  const order = JSON.parse(readFileSync(new URL('./recorded-header-order.json', import.meta.url), 'utf8')) as Record<string, { event: string; keys: string[] }[]>;
  const check = (events: { name: string; body: Record<string, string> }[], recordedScenario: string) => {
    for (const rec of order[recordedScenario]!) {
      const ev = events.find((e) => e.name === rec.event);
      assert.ok(ev, `${recordedScenario}: ${rec.event} not produced`);
      // The recorder's job header is not in our calls: compare the non-variable headers only.
      assert.deepEqual(Object.keys(ev.body).filter((k) => !k.startsWith('variable_')), rec.keys, `${recordedScenario}: ${rec.event}`);
    }
  };
  check(await sequence('15550000011', 'success'), 'success-audio');
  check(await sequence('15550000012', 'busy'), 'busy');
  check(await sequence('15550000013', 'no-answer'), 'no-answer');
  check(await sequence('15550000014', 'success', { file: join(dir, 'missing.tif') }), 'missing-file');
  check(await sequence('15550000015', 'no-fax-tones'), 'answered-no-fax-tones');
  check(await sequence('15550000016', 'remote-hangup'), 'remote-hangup-after-2s');
});

test('the fax result shows up as fax-* on txfaxresult and again as variable_fax_* on HANGUP_COMPLETE', async () => {
  const evs = await sequence('15550000021', 'success');
  const res = evs.find((e) => e.name === 'CUSTOM spandsp::txfaxresult')!.body;
  const hc = evs.find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!.body;
  for (const k of ['success', 'result-code', 'result-text', 'document-transferred-pages', 'document-total-pages', 't38-status', 'ecm-used', 'transfer-rate', 'remote-station-id']) {
    assert.equal(hc[`variable_fax_${k.replace(/-/g, '_')}`], res[`fax-${k}`], k);
  }
  assert.equal(res['fax-success'], '1');
  assert.equal(res['fax-document-transferred-pages'], '2');
  assert.equal(hc['Hangup-Cause'], 'NORMAL_CLEARING');
  assert.equal(hc['variable_gw_job_id'], 'job-x');
  // A silent answer: result before hangup, Answer-State answered and no Hangup-Cause; remote id omitted.
  const silent = (await sequence('15550000022', 'no-fax-tones')).find((e) => e.name === 'CUSTOM spandsp::txfaxresult')!.body;
  assert.equal(silent['Answer-State'], 'answered');
  assert.equal(silent['Hangup-Cause'], undefined);
  assert.equal(silent['fax-result-code'], '2');
  assert.equal(silent['fax-remote-station-id'], undefined);
  assert.equal(silent['fax-image-resolution'], '0x0');
  // A missing file: the reason only on EXECUTE_COMPLETE and as a variable on HANGUP_COMPLETE; no fax result.
  const missing = await sequence('15550000023', 'success', { file: join(dir, 'nope.tif') });
  assert.equal(missing.find((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE')!.body['Application-Response'], 'Cannot send non-existant fax file');
  const mhc = missing.find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!.body;
  assert.equal(mhc['variable_current_application_response'], 'Cannot send non-existant fax file');
  assert.equal(mhc['variable_fax_success'], undefined);
});

test('T.38: our request accepted, refused (audio fallback), and the far end asking while our leg forbids it', async () => {
  const status = async (n: string, s: Parameters<EslSim['script']>[1], vars = '') => {
    const evs = await sequence(n, s, { vars });
    const r = evs.find((e) => e.name === 'CUSTOM spandsp::txfaxresult')!.body;
    return [r['fax-t38-status'], r['fax-success'], evs.find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!.body['Hangup-Cause']];
  };
  assert.deepEqual(await status('15550000031', 't38', ',fax_enable_t38_request=true'), ['negotiated', '1', 'NORMAL_CLEARING']);
  assert.deepEqual(await status('15550000032', 't38-refused', ',fax_enable_t38_request=true'), ['refused', '1', 'NORMAL_CLEARING']);
  assert.deepEqual(await status('15550000033', 'remote-requests-t38', ',fax_enable_t38=false'), ['off', '0', 'INCOMPATIBLE_DESTINATION']);
});

test('subscriptions: only what was asked; CUSTOM needs its subclass; plain events are URL-encoded', async () => {
  const c = await client();
  await c.auth();
  c.send('event plain CHANNEL_HANGUP_COMPLETE CUSTOM');
  assert.equal((await c.next()).headers['Reply-Text'], '+OK event listener enabled plain');
  const { uuid, cmd } = originate('15550000041');
  c.send(`bgapi ${cmd}`);
  await c.next();
  const got = await c.until((f) => (f.body ?? '').includes(`Unique-ID: ${uuid}`) && f.body!.startsWith('Event-Name: CHANNEL_HANGUP_COMPLETE'));
  assert.equal(got.length, 1, 'no BACKGROUND_JOB, no CUSTOM without a named subclass, no other channel events');
  const f = got[0]!;
  assert.equal(f.headers['Content-Type'], 'text/event-plain');
  assert.deepEqual(f.headerOrder, ['Content-Length', 'Content-Type']);
  assert.match(f.body!, /\nEvent-Date-Local: \d{4}-\d\d-\d\d%20\d\d%3A\d\d%3A\d\d\n/);
  assert.match(f.body!, /\nHangup-Cause: NORMAL_CLEARING\n/);
  assert.ok(f.body!.endsWith('\n\n'));
});

test('the recorded originate string reads back as the recorded channel variables', () => {
  const arg =
    "{origination_uuid=00881582-3cab-46ec-a3e9-db723fd329a6,fax_enable_t38=true,fax_enable_t38_request=false,fax_use_ecm=true,fax_ident=+15550000001,fax_header='Fixture',ignore_early_media=true,originate_timeout=20,gw_job_id=job-success-audio}sofia/gateway/gwB/15550000001 &txfax(/srv/fswork/two.tif)";
  const p = parseOriginateArgs(arg);
  assert.ok(p.ok);
  assert.deepEqual(p.value.vars, {
    origination_uuid: '00881582-3cab-46ec-a3e9-db723fd329a6',
    fax_enable_t38: 'true',
    fax_enable_t38_request: 'false',
    fax_use_ecm: 'true',
    fax_ident: '+15550000001',
    fax_header: 'Fixture',
    ignore_early_media: 'true',
    originate_timeout: '20',
    gw_job_id: 'job-success-audio',
  });
  assert.equal(p.value.dialString, 'sofia/gateway/gwB/15550000001');
  assert.equal(p.value.appArg, '/srv/fswork/two.tif');
  // The txfax argument is cut at the first ")", as FreeSWITCH does.
  const cut = parseOriginateArgs('{a=1}sofia/gateway/gwB/1 &txfax(/tmp/a)b.tif)');
  assert.ok(cut.ok && cut.value.appArg === '/tmp/a');
  assert.deepEqual(separateString('^^:PCMU:PCMA', ','), ['PCMU', 'PCMA']);
  assert.deepEqual(separateString("a='b c' d", ' '), ['a=b c', 'd']);
  assert.equal(parseOriginateArgs('justone').ok, false);
});

test('an inbound fax: rx events in the recorded order and header layout, TIFF written', async () => {
  const c = await client();
  await c.auth();
  c.send(RECORDER_SUBSCRIPTION);
  await c.next();
  const got = await sim.receiveFax({ to: '15550000001', from: '0000000000', pages: 2, file: join(dir, 'rx.tif') });
  const frames = await c.until((f) => (f.body ?? '').includes('"CHANNEL_HANGUP_COMPLETE"'));
  const evs = frames.map((f) => ({ name: eventName(f), body: JSON.parse(f.body!) as Record<string, string> })).filter((e) => e.body['Unique-ID'] === got.uuid);
  assert.deepEqual(
    evs.map((e) => (e.body['Application'] ? `${e.name}(${e.body['Application']})` : e.name)),
    [
      'CHANNEL_CREATE', 'CHANNEL_EXECUTE(answer)', 'CHANNEL_ANSWER', 'CHANNEL_EXECUTE_COMPLETE(answer)', 'CHANNEL_EXECUTE(rxfax)',
      'CUSTOM spandsp::rxfaxnegociateresult', 'CUSTOM spandsp::rxfaxpageresult', 'CUSTOM spandsp::rxfaxpageresult', 'CUSTOM spandsp::rxfaxresult',
      'CHANNEL_EXECUTE_COMPLETE(rxfax)', 'CHANNEL_EXECUTE(hangup)', 'CHANNEL_HANGUP', 'CHANNEL_EXECUTE_COMPLETE(hangup)', 'CHANNEL_HANGUP_COMPLETE',
    ],
  );
  const order = JSON.parse(readFileSync(new URL('./recorded-header-order.json', import.meta.url), 'utf8')) as Record<string, { event: string; keys: string[] }[]>;
  for (const rec of order['fs-b/success-audio']!) {
    const ev = evs.find((e) => e.name === rec.event)!;
    assert.deepEqual(Object.keys(ev.body).filter((k) => !k.startsWith('variable_')), rec.keys, rec.event);
  }
  const res = evs.find((e) => e.name === 'CUSTOM spandsp::rxfaxresult')!.body;
  assert.equal(res['variable_fax_filename'], join(dir, 'rx.tif'));
  assert.equal(res['fax-filename'], undefined, 'there is no fax-filename header');
  assert.equal(res['Caller-Destination-Number'], '15550000001');
  assert.ok(got.fileWritten);
});
