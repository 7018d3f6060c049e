// SignalWire Compatibility fax: send by MediaUrl, polling, status callbacks with Twilio-style signatures, inbound, lost sends.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ProviderError, toAttemptError } from '../../../src/backends/cloud/http.js';
import {
  parseSignalWireCallbackBody, receiveFaxLaml, signatureFromHeaders, urlVariants, verifySignalWireCallback,
} from '../../../src/backends/signalwire/callback.js';
import { SignalWireClient, spaceOrigin } from '../../../src/backends/signalwire/client.js';
import { mapSignalWireStatus } from '../../../src/backends/signalwire/status.js';
import { AttemptFailedError, NotSentError } from '../../../src/backends/types.js';
import { SignalWireSim, twilioSign } from '../../sim/signalwire/server.js';
import { DocServer, header, makePdf, Receiver } from './helpers.js';

const opts = { projectId: 'b3877c40-da60-4998-90ad-b792e98472ac', apiToken: 'PTtoken', signingKey: 'PSKsigning', numbers: ['+15550001111'] };
const sim = new SignalWireSim(opts);
const docs = new DocServer();
const hooks = new Receiver();
let client: SignalWireClient;
let pdf: Buffer;

before(async () => {
  const space = await sim.start();
  await docs.start();
  await hooks.start();
  client = new SignalWireClient({ spaceUrl: space, projectId: opts.projectId, apiToken: opts.apiToken, from: opts.numbers[0]!, timeoutMs: 1500 });
  pdf = await makePdf(2);
});

after(async () => {
  await sim.close();
  await docs.close();
  await hooks.close();
});

const cbUrl = (jobId: string, attempt = 1) => `${hooks.base}/signalwire-callback?job_id=${jobId}&attempt=${attempt}`;

function verifyLast(keys: (string | undefined)[] = [opts.signingKey], url?: string) {
  const r = hooks.last();
  return verifySignalWireCallback({
    url: url ?? hooks.fullUrl(r), rawBody: r.raw, contentType: header(r.headers, 'content-type'),
    signature: signatureFromHeaders(r.headers as Record<string, string>), keys,
  });
}

describe('send and poll', () => {
  test('MediaUrl is fetched by SignalWire; the answer is a queued fax resource', async () => {
    const mediaUrl = docs.add('w-1', pdf);
    const { providerSid, fax } = await client.sendFax({ jobId: 'w-1', attempt: 1, to: '+15551234567', mediaUrl, statusCallback: cbUrl('w-1') });
    const rec = sim.faxes.get(providerSid)!;
    assert.equal(rec.fetched?.ok, true);
    assert.deepEqual(rec.fetched?.bytes, pdf);
    assert.equal(rec.fax.quality, 'fine');
    assert.equal(rec.statusCallback, cbUrl('w-1'));
    assert.deepEqual(mapSignalWireStatus({ status: fax.status }), { state: 'queued', providerStatus: 'queued', pages: null });
  });

  test('polling after delivery: SUCCESS with NumPages', async () => {
    const { providerSid } = await client.sendFax({ jobId: 'w-poll', attempt: 1, to: '+15551234567', mediaUrl: docs.add('w-poll', pdf), statusCallback: cbUrl('w-poll') });
    await sim.complete(providerSid, { status: 'delivered', pages: 2 });
    const fax = await client.getFax(providerSid);
    assert.deepEqual(mapSignalWireStatus({ status: fax.status, numPages: fax.num_pages }), {
      state: 'final', providerStatus: 'delivered', outcome: { ok: true, pages: 2, cause: 'delivered' },
    });
  });

  test('400 with SignalWire\'s message (From not a project number)', async () => {
    const bad = new SignalWireClient({ spaceUrl: sim.server.url, projectId: opts.projectId, apiToken: opts.apiToken, from: '+15559999999' });
    const err = await bad.sendFax({ jobId: 'w-bad', attempt: 1, to: '+15551234567', mediaUrl: docs.add('w-bad', pdf) }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 400);
    assert.equal(err.failureClass, 'permanent');
    assert.match(err.message, /not a valid fax-capable number.*code 21606/);
  });

  test('500 then success', async () => {
    sim.sendScript.push({ kind: 'http', status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });
    const err = await client.sendFax({ jobId: 'w-500', attempt: 1, to: '+15551234567', mediaUrl: docs.add('w-500', pdf) }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError && err.failureClass === 'transient');
    assert.ok(toAttemptError(err) instanceof AttemptFailedError);
    const ok = await client.sendFax({ jobId: 'w-500', attempt: 2, to: '+15551234567', mediaUrl: docs.add('w-500', pdf) });
    assert.ok(sim.faxes.has(ok.providerSid));
  });

  test('429 Retry-After and timeout', async () => {
    sim.sendScript.push({ kind: 'http', status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 }, headers: { 'retry-after': '4' } });
    const e1 = await client.sendFax({ jobId: 'w-429', attempt: 1, to: '+15551234567', mediaUrl: docs.add('w-429', pdf) }).catch((e: unknown) => e);
    assert.ok(e1 instanceof ProviderError);
    const a = toAttemptError(e1);
    assert.ok(a instanceof NotSentError && a.retryAfterMs === 4000);
    sim.sendScript.push({ kind: 'hang' });
    const e2 = await client.sendFax({ jobId: 'w-hang', attempt: 1, to: '+15551234567', mediaUrl: docs.add('w-hang', pdf) }).catch((e: unknown) => e);
    assert.ok(e2 instanceof ProviderError && e2.code === 'timeout' && e2.maybeCreated);
  });

  test('lost response: found by the job id in media_url; a foreign fax to the number makes it unknown', async () => {
    const to = '+15558880001';
    const since = new Date(Date.now() - 1000);
    sim.sendScript.push({ kind: 'lose' });
    await assert.rejects(client.sendFax({ jobId: 'w-lost', attempt: 1, to, mediaUrl: docs.add('w-lost', pdf) }), ProviderError);
    const found = await client.findExisting('w-lost', 1, { to, since });
    assert.equal(found.kind, 'found');
    assert.equal(sim.listQueries[sim.listQueries.length - 1]!.get('To'), to);
    assert.deepEqual(await client.findExisting('w-never', 1, { to, since }), { kind: 'none' });
    sim.addForeign(to);
    assert.equal((await client.findExisting('w-never', 1, { to, since })).kind, 'unknown');
    // Our own fax is still found next to the foreign one.
    assert.equal((await client.findExisting('w-lost', 1, { to, since })).kind, 'found');
  });

  test('cancel a queued fax', async () => {
    const { providerSid } = await client.sendFax({ jobId: 'w-cancel', attempt: 1, to: '+15551234567', mediaUrl: docs.add('w-cancel', pdf) });
    const fax = await client.cancelFax(providerSid);
    assert.equal(mapSignalWireStatus({ status: fax.status }).state, 'final');
  });

  test('space URL: host only or full URL', () => {
    assert.equal(spaceOrigin('example.signalwire.com'), 'https://example.signalwire.com');
    assert.equal(spaceOrigin('https://example.signalwire.com/'), 'https://example.signalwire.com');
  });
});

describe('status callbacks', () => {
  test('delivered: verified with X-SignalWire-Signature, parsed with the job from the callback URL', async () => {
    const { providerSid } = await client.sendFax({ jobId: 'w-ok', attempt: 2, to: '+15551234567', mediaUrl: docs.add('w-ok', pdf), statusCallback: cbUrl('w-ok', 2) });
    await sim.complete(providerSid, { status: 'delivered', pages: 2 });
    assert.deepEqual(verifyLast(), { ok: true, scheme: 'compat-hmac-sha1' });
    const r = hooks.last();
    const cb = parseSignalWireCallbackBody(r.raw, header(r.headers, 'content-type'), hooks.fullUrl(r));
    assert.ok(cb.kind === 'status');
    assert.equal(cb.providerSid, providerSid);
    assert.equal(cb.jobId, 'w-ok');
    assert.equal(cb.attempt, 2);
    assert.deepEqual(cb.status, { state: 'final', providerStatus: 'delivered', outcome: { ok: true, pages: 2, cause: 'delivered' } });
  });

  test('busy, no-answer, failed, canceled map to classes', async () => {
    const cases: [Parameters<SignalWireSim['complete']>[1], string][] = [
      [{ status: 'busy' }, 'busy'],
      [{ status: 'no-answer' }, 'no_answer'],
      [{ status: 'failed', errorCode: '15003', errorMessage: 'Fax transmission failed: far end disconnected during training' }, 'protocol'],
      [{ status: 'failed', errorCode: '15004', errorMessage: 'The number is not in service' }, 'permanent'],
    ];
    for (const [result, expected] of cases) {
      const { providerSid } = await client.sendFax({ jobId: `w-${result.status}`, attempt: 1, to: '+15551234567', mediaUrl: docs.add(`w-${result.status}`, pdf), statusCallback: cbUrl('w-x') });
      await sim.complete(providerSid, result);
      const cb = parseSignalWireCallbackBody(hooks.last().raw, header(hooks.last().headers, 'content-type'));
      assert.ok(cb.status.state === 'final' && !cb.status.outcome.ok);
      assert.equal(cb.status.outcome.failureClass, expected, result.status);
    }
    const c = mapSignalWireStatus({ status: 'canceled' });
    assert.ok(c.state === 'final' && !c.outcome.ok && c.outcome.failureClass === 'permanent');
  });

  test('an expired MediaUrl token: SignalWire cannot fetch the document → document error', async () => {
    docs.add('w-exp', pdf, 'good');
    const { providerSid } = await client.sendFax({ jobId: 'w-exp', attempt: 1, to: '+15551234567', mediaUrl: `${docs.base}/fax/w-exp/pdf?token=stale`, statusCallback: cbUrl('w-exp') });
    await sim.complete(providerSid, { status: 'delivered', pages: 1 });
    const cb = parseSignalWireCallbackBody(hooks.last().raw, header(hooks.last().headers, 'content-type'));
    assert.ok(cb.status.state === 'final' && !cb.status.outcome.ok);
    assert.equal(cb.status.outcome.failureClass, 'document');
  });

  describe('signature', () => {
    let sid: string;
    before(async () => {
      sid = (await client.sendFax({ jobId: 'w-sig', attempt: 1, to: '+15551234567', mediaUrl: docs.add('w-sig', pdf), statusCallback: cbUrl('w-sig') })).providerSid;
      await sim.complete(sid, { status: 'delivered', pages: 2 });
    });

    test('valid', () => assert.equal(verifyLast().ok, true));
    test('wrong key', () => assert.deepEqual(verifyLast(['other']), { ok: false, reason: 'bad_signature' }));
    test('missing', () => {
      const r = hooks.last();
      assert.deepEqual(verifySignalWireCallback({ url: hooks.fullUrl(r), rawBody: r.raw, contentType: 'application/x-www-form-urlencoded', signature: undefined, keys: [opts.signingKey] }), { ok: false, reason: 'missing_signature' });
    });
    test('no key configured', () => assert.deepEqual(verifyLast([undefined, '']), { ok: false, reason: 'not_configured' }));
    test('wrong URL (other attempt in the query)', () => assert.equal(verifyLast(undefined, cbUrl('w-sig', 2)).ok, false));
    test('a re-serialized body (values changed by a parser) does not pass', () => {
      const r = hooks.last();
      const params = new URLSearchParams(r.raw.toString());
      params.set('RemoteStationId', params.get('RemoteStationId')!.trim());
      params.set('NumPages', String(Number(params.get('NumPages'))) + '.0');
      const reserialized = Buffer.from(params.toString());
      assert.notDeepEqual(reserialized, r.raw);
      assert.deepEqual(verifySignalWireCallback({ url: hooks.fullUrl(r), rawBody: reserialized, contentType: 'application/x-www-form-urlencoded', signature: signatureFromHeaders(r.headers as Record<string, string>), keys: [opts.signingKey] }), { ok: false, reason: 'bad_signature' });
    });
    test('the order and encoding of the params do not matter (sorted, decoded)', () => {
      const r = hooks.last();
      const params = [...new URLSearchParams(r.raw.toString())].reverse();
      const body = Buffer.from(params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
      assert.equal(verifySignalWireCallback({ url: hooks.fullUrl(r), rawBody: body, contentType: 'application/x-www-form-urlencoded', signature: signatureFromHeaders(r.headers as Record<string, string>), keys: [opts.signingKey] }).ok, true);
    });
    test('X-Twilio-Signature is read when X-SignalWire-Signature is absent; the API token works as a fallback key', async () => {
      await sim.complete(sid, { status: 'delivered', pages: 2 }, { key: opts.apiToken, header: 'x-twilio-signature' });
      assert.equal(header(hooks.last().headers, 'x-signalwire-signature'), undefined);
      assert.deepEqual(verifyLast([opts.signingKey]), { ok: false, reason: 'bad_signature' });
      assert.equal(verifyLast([opts.signingKey, opts.apiToken]).ok, true);
    });
    test('signed over the URL with an explicit default port, verified against the public URL without it (and back)', () => {
      const params: [string, string][] = [['FaxSid', 'abc'], ['FaxStatus', 'delivered'], ['NumPages', '3']];
      const raw = Buffer.from(new URLSearchParams(params).toString());
      const pub = 'https://faxbot.example.org/signalwire-callback?job_id=j1&attempt=1';
      const withPort = 'https://faxbot.example.org:443/signalwire-callback?job_id=j1&attempt=1';
      const ct = 'application/x-www-form-urlencoded';
      assert.equal(verifySignalWireCallback({ url: pub, rawBody: raw, contentType: ct, signature: twilioSign('k', withPort, params), keys: ['k'] }).ok, true);
      assert.equal(verifySignalWireCallback({ url: withPort, rawBody: raw, contentType: ct, signature: twilioSign('k', pub, params), keys: ['k'] }).ok, true);
      assert.equal(verifySignalWireCallback({ url: pub.replace('https', 'http'), rawBody: raw, contentType: ct, signature: twilioSign('k', withPort, params), keys: ['k'] }).ok, false);
      assert.deepEqual(urlVariants('http://h.example/p?q=1'), ['http://h.example/p?q=1', 'http://h.example:80/p?q=1']);
    });
    test('the JSON scheme (hex HMAC-SHA1 of URL + raw body) is accepted', () => {
      const raw = Buffer.from('{"event_type":"calling.call.fax","params":{}}');
      const url = 'https://faxbot.example.org/signalwire-callback';
      const sig = createHmac('sha1', 'k').update(url + raw.toString()).digest('hex');
      assert.deepEqual(verifySignalWireCallback({ url, rawBody: raw, contentType: 'application/json', signature: sig, keys: ['k'] }), { ok: true, scheme: 'json-hmac-sha1' });
      assert.equal(verifySignalWireCallback({ url, rawBody: Buffer.from(JSON.stringify(JSON.parse(raw.toString()), null, 1)), contentType: 'application/json', signature: sig, keys: ['k'] }).ok, false);
    });
  });
});

describe('inbound', () => {
  test('the <Receive> action: parsed as received, the media downloaded with our credentials', async () => {
    const inbound = await makePdf(1);
    const r = await sim.receive(`${hooks.base}/signalwire-inbound`, { from: '+15557654321', to: opts.numbers[0]!, pdf: inbound, pages: 1 });
    assert.equal(r.status, 200);
    assert.equal(verifyLast().ok, true);
    const cb = parseSignalWireCallbackBody(hooks.last().raw, header(hooks.last().headers, 'content-type'));
    assert.ok(cb.kind === 'received');
    assert.equal(cb.providerSid, r.sid);
    assert.equal(cb.from, '+15557654321');
    assert.equal(cb.pages, 1);
    assert.deepEqual(await client.downloadMedia(cb.mediaUrl!), inbound);
    assert.equal(sim.mediaRequests[sim.mediaRequests.length - 1]!.authorized, true);
  });

  test('a MediaUrl on another host is fetched without our credentials', async () => {
    await client.downloadMedia(`${hooks.base}/elsewhere.pdf`);
    assert.equal(header(hooks.last().headers, 'authorization'), undefined);
  });

  test('the LaML answer to an inbound fax call', () => {
    assert.equal(receiveFaxLaml('https://gw.example/signalwire-inbound?a=1&b=2'),
      '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Receive action="https://gw.example/signalwire-inbound?a=1&amp;b=2" method="POST" mediaType="application/pdf" pageSize="letter"/></Response>\n');
  });
});
