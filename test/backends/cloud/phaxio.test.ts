// Phaxio v2.1: send, status mapping, callbacks and both signature schemes, against the fake Phaxio over real HTTP.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseMultipart } from '../../../src/backends/cloud/body.js';
import { ProviderError, toAttemptError } from '../../../src/backends/cloud/http.js';
import { checkLostSends } from '../../../src/backends/cloud/lost-send.js';
import { parsePhaxioCallbackBody, verifyPhaxioCallback } from '../../../src/backends/phaxio/callback.js';
import { PhaxioClient } from '../../../src/backends/phaxio/client.js';
import { mapPhaxioFax } from '../../../src/backends/phaxio/status.js';
import { AttemptFailedError, NotSentError } from '../../../src/backends/types.js';
import { phaxioSign, PhaxioSim, phpJson } from '../../sim/phaxio/server.js';
import { multipartBytes } from '../../sim/cloud-http.js';
import { attemptInfo, closedPort, DocServer, header, makePdf, Receiver } from './helpers.js';

const creds = { apiKey: 'key-123', apiSecret: 'secret-456', callbackToken: 'webhook-token-789' };
const sim = new PhaxioSim(creds);
const docs = new DocServer();
const hooks = new Receiver();
let client: PhaxioClient;
let pdf: Buffer;

before(async () => {
  const base = await sim.start();
  await docs.start();
  await hooks.start();
  client = new PhaxioClient({ apiKey: creds.apiKey, apiSecret: creds.apiSecret, baseUrl: base, timeoutMs: 1500 });
  pdf = await makePdf(2);
});

after(async () => {
  await sim.close();
  await docs.close();
  await hooks.close();
});

const cbUrl = (jobId: string, attempt = 1) => `${hooks.base}/phaxio-callback?job_id=${jobId}&attempt=${attempt}`;

/** Verifies the last webhook as our route would: exact URL, raw bytes, header. */
function verifyLast(opts: { token?: string; secret?: string; url?: string } = { token: creds.callbackToken }) {
  const r = hooks.last();
  return verifyPhaxioCallback({
    url: opts.url ?? hooks.fullUrl(r), rawBody: r.raw, contentType: header(r.headers, 'content-type'),
    signature: header(r.headers, 'x-phaxio-signature'), callbackToken: opts.token, apiSecret: opts.secret,
  });
}

describe('send', () => {
  test('by URL: Phaxio fetches the PDF from our tokenized URL; the fax is tagged with job and attempt', async () => {
    const url = docs.add('job-url', pdf);
    const { providerSid } = await client.sendFax({ jobId: 'job-url', attempt: 1, to: '+15551234567', document: { url }, callbackUrl: cbUrl('job-url') });
    const rec = sim.faxes.get(Number(providerSid));
    assert.ok(rec);
    assert.equal(rec.contentUrl, url);
    assert.equal(rec.fetched?.ok, true);
    assert.deepEqual(rec.fetched?.bytes, pdf);
    assert.deepEqual(rec.fax.tags, { faxbot_job: 'job-url', faxbot_attempt: '1' });
    assert.equal(rec.callbackUrl, cbUrl('job-url'));
  });

  test('by upload: the PDF goes as the file part, named after the job', async () => {
    const { providerSid } = await client.sendFax({ jobId: 'job-up', attempt: 2, to: '+15551234567', document: { pdf } });
    const rec = sim.faxes.get(Number(providerSid));
    assert.equal(rec?.upload?.filename, 'job-up.pdf');
    assert.deepEqual(rec?.upload?.data, pdf);
    assert.equal(rec?.fax.tags.faxbot_attempt, '2');
  });

  test('400-class answer: fails with Phaxio\'s own message, permanent', async () => {
    await assert.rejects(
      client.sendFax({ jobId: 'job-bad', attempt: 1, to: '5551234', document: { pdf } }),
      (err: unknown) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.status, 422);
        assert.equal(err.failureClass, 'permanent');
        assert.match(err.message, /E\.164/);
        assert.equal(err.maybeCreated, false);
        const a = toAttemptError(err);
        assert.ok(a instanceof AttemptFailedError);
        assert.equal(a.failureClass, 'permanent');
        return true;
      },
    );
  });

  test('500 then success: the first is transient (retried by the dispatcher), the next send works', async () => {
    sim.sendScript.push({ kind: 'http', status: 500, body: { success: false, message: 'Internal server error', data: null } });
    const err = await client.sendFax({ jobId: 'job-500', attempt: 1, to: '+15551234567', document: { pdf } }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.failureClass, 'transient');
    assert.equal(err.maybeCreated, true);
    assert.ok(toAttemptError(err) instanceof AttemptFailedError);
    // Before attempt 2 the backend checks attempt 1 left nothing behind, then sends.
    const check = await checkLostSends(attemptInfo(2, [{ attemptNo: 1, failureClass: 'transient' }]), (n) => client.findExisting('job-500', n), mapPhaxioFax);
    assert.deepEqual(check, { kind: 'clear' });
    const ok = await client.sendFax({ jobId: 'job-500', attempt: 2, to: '+15551234567', document: { pdf } });
    assert.ok(sim.faxes.has(Number(ok.providerSid)));
  });

  test('429 with Retry-After: nothing was accepted, the attempt is given back after the delay', async () => {
    sim.sendScript.push({ kind: 'http', status: 429, body: { success: false, message: 'Rate limit exceeded', data: null }, headers: { 'retry-after': '7' } });
    const err = await client.sendFax({ jobId: 'job-429', attempt: 1, to: '+15551234567', document: { pdf } }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryAfterMs, 7000);
    const a = toAttemptError(err);
    assert.ok(a instanceof NotSentError);
    assert.equal(a.retryAfterMs, 7000);
  });

  test('wrong credentials: 401 fails with a clear message', async () => {
    const bad = new PhaxioClient({ apiKey: 'nope', apiSecret: 'nope', baseUrl: `${sim.server.url}/v2.1` });
    const err = await bad.getFax('1').catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 401);
    assert.match(err.message, /credentials refused.*Invalid API key/);
    assert.doesNotMatch(err.message, /nope/);
  });

  test('timeout: no answer is transient and may have created the fax', async () => {
    sim.sendScript.push({ kind: 'hang' });
    const err = await client.sendFax({ jobId: 'job-hang', attempt: 1, to: '+15551234567', document: { pdf } }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.code, 'timeout');
    assert.equal(err.failureClass, 'transient');
    assert.equal(err.maybeCreated, true);
  });

  test('lost response: findExisting finds the fax by its tags instead of sending again', async () => {
    sim.sendScript.push({ kind: 'lose' });
    const before = sim.sent.length;
    await assert.rejects(client.sendFax({ jobId: 'job-lost', attempt: 1, to: '+15551234567', document: { pdf } }), ProviderError);
    assert.equal(sim.sent.length, before + 1);
    const created = sim.sent[sim.sent.length - 1]!;
    const found = await client.findExisting('job-lost', 1);
    assert.equal(found.kind, 'found');
    assert.equal(found.kind === 'found' && found.providerSid, String(created.fax.id));
    assert.deepEqual(await client.findExisting('job-lost', 2), { kind: 'none' });
    assert.deepEqual(await client.findExisting('job-never', 1), { kind: 'none' });
    const check = await checkLostSends(attemptInfo(2, [{ attemptNo: 1, failureClass: 'transient' }]), (n) => client.findExisting('job-lost', n), mapPhaxioFax);
    assert.equal(check.kind, 'found');
    assert.equal(sim.sent.length, before + 1, 'nothing was sent twice');
    const q = sim.requests[sim.requests.length - 1]!;
    assert.match(decodeURIComponent(q.query), /tag\[faxbot_job\]=job-lost/);
  });

  test('connection refused: certainly not sent, the attempt is given back', async () => {
    const dead = new PhaxioClient({ apiKey: 'k', apiSecret: 's', baseUrl: `http://127.0.0.1:${await closedPort()}/v2.1` });
    const err = await dead.getFax('1').catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.sent, false);
    assert.equal(err.code, 'ECONNREFUSED');
    assert.ok(toAttemptError(err) instanceof NotSentError);
  });
});

describe('status and callbacks', () => {
  test('success: the signed fax_completed callback verifies, parses, and gives the pages', async () => {
    const url = docs.add('job-ok', pdf);
    const { providerSid } = await client.sendFax({ jobId: 'job-ok', attempt: 1, to: '+15551234567', document: { url }, callbackUrl: cbUrl('job-ok') });
    const r = await sim.complete(Number(providerSid), { status: 'success', pages: 2 });
    assert.equal(r.status, 200);
    assert.deepEqual(verifyLast(), { ok: true, scheme: 'phaxio-hmac-sha1' });
    const last = hooks.last();
    const cb = parsePhaxioCallbackBody(last.raw, header(last.headers, 'content-type'));
    assert.equal(cb.kind, 'status');
    if (cb.kind !== 'status') return;
    assert.equal(cb.eventType, 'fax_completed');
    assert.equal(cb.providerSid, providerSid);
    assert.equal(cb.jobId, 'job-ok');
    assert.equal(cb.attempt, 1);
    assert.deepEqual(cb.status, { state: 'final', providerStatus: 'success', outcome: { ok: true, pages: 2, cause: 'success' } });
    // Polling says the same.
    assert.deepEqual(mapPhaxioFax(await client.getFax(providerSid)), cb.status);
  });

  test('busy line: FAILED with class busy and Phaxio\'s message', async () => {
    const { providerSid } = await client.sendFax({ jobId: 'job-busy', attempt: 1, to: '+15551234567', document: { pdf }, callbackUrl: cbUrl('job-busy') });
    await sim.complete(Number(providerSid), { status: 'failure', errorType: 'lineError', errorId: 17, errorMessage: 'Busy' });
    const last = hooks.last();
    const cb = parsePhaxioCallbackBody(last.raw, header(last.headers, 'content-type'));
    assert.ok(cb.kind === 'status' && cb.status.state === 'final' && !cb.status.outcome.ok);
    assert.equal(cb.status.outcome.failureClass, 'busy');
    assert.equal(cb.status.outcome.error, 'Phaxio: Busy');
    assert.equal(cb.status.outcome.cause, 'lineError 17 Busy');
  });

  test('a document URL Phaxio cannot fetch (expired token) fails as a document error', async () => {
    docs.add('job-expired', pdf, 'right');
    const url = `${docs.base}/fax/job-expired/pdf?token=expired`;
    const { providerSid } = await client.sendFax({ jobId: 'job-expired', attempt: 1, to: '+15551234567', document: { url }, callbackUrl: cbUrl('job-expired') });
    assert.equal(sim.faxes.get(Number(providerSid))?.fetched?.status, 403);
    await sim.complete(Number(providerSid), { status: 'success', pages: 1 });
    const cb = parsePhaxioCallbackBody(hooks.last().raw, header(hooks.last().headers, 'content-type'));
    assert.ok(cb.kind === 'status' && cb.status.state === 'final' && !cb.status.outcome.ok);
    assert.equal(cb.status.outcome.failureClass, 'document');
  });

  test('other error types map to classes', () => {
    const base = { id: '1', status: 'failure' } as const;
    const cls = (error_type: string, error_id: number | null, error_message: string) => {
      const s = mapPhaxioFax({ ...base, error_type, error_id, error_message });
      return s.state === 'final' && !s.outcome.ok ? s.outcome.failureClass : null;
    };
    assert.equal(cls('lineError', 16, 'Ring Timeout'), 'no_answer');
    assert.equal(cls('lineError', 34, 'Phone number not operational'), 'permanent');
    assert.equal(cls('lineError', null, 'No answer from the fax machine'), 'no_answer');
    assert.equal(cls('faxError', 8, 'No response after sending a page'), 'protocol');
    assert.equal(cls('documentConversionError', 133, 'Failed to normalize PDF document'), 'document');
    assert.equal(cls('fatalError', 1, 'Fatal error'), 'permanent');
    assert.equal(cls('generalError', 2, 'Internal error'), 'transient');
    assert.deepEqual(mapPhaxioFax({ ...base, status: 'pendingbatch' }), { state: 'queued', providerStatus: 'pendingbatch', pages: null });
    assert.deepEqual(mapPhaxioFax({ ...base, status: 'inprogress' }), { state: 'in_progress', providerStatus: 'inprogress', pages: null });
  });

  test('transmitting_page is progress', async () => {
    const { providerSid } = await client.sendFax({ jobId: 'job-page', attempt: 1, to: '+15551234567', document: { pdf }, callbackUrl: cbUrl('job-page') });
    await sim.transmittingPage(Number(providerSid), 2);
    assert.equal(verifyLast().ok, true);
    const cb = parsePhaxioCallbackBody(hooks.last().raw, header(hooks.last().headers, 'content-type'));
    assert.ok(cb.kind === 'status');
    assert.equal(cb.page, 2);
    assert.deepEqual(cb.status, { state: 'in_progress', providerStatus: 'inprogress', pages: 1 });
  });

  test('received fax: the PDF part and numbers are read, the signature covers the file\'s SHA-1', async () => {
    const inbound = await makePdf(3);
    const r = await sim.receive(`${hooks.base}/phaxio-inbound`, { from: '+15557654321', to: '+15551230000', pdf: inbound, pages: 3 });
    assert.equal(r.status, 200);
    assert.deepEqual(verifyLast(), { ok: true, scheme: 'phaxio-hmac-sha1' });
    const cb = parsePhaxioCallbackBody(hooks.last().raw, header(hooks.last().headers, 'content-type'));
    assert.equal(cb.kind, 'received');
    if (cb.kind !== 'received') return;
    assert.equal(cb.providerSid, String(r.id));
    assert.equal(cb.from, '+15557654321');
    assert.equal(cb.to, '+15551230000');
    assert.equal(cb.pages, 3);
    assert.deepEqual(cb.pdf?.data, inbound);
    assert.equal(cb.isTest, false);
  });
});

describe('signature verification', () => {
  let good: { url: string; raw: Buffer; contentType: string; sig: string };

  before(async () => {
    const { providerSid } = await client.sendFax({ jobId: 'job-sig', attempt: 1, to: '+15551234567', document: { pdf }, callbackUrl: cbUrl('job-sig') });
    await sim.complete(Number(providerSid), { status: 'success', pages: 2 });
    const r = hooks.last();
    good = { url: hooks.fullUrl(r), raw: r.raw, contentType: header(r.headers, 'content-type')!, sig: header(r.headers, 'x-phaxio-signature')! };
  });

  const verify = (over: Partial<Parameters<typeof verifyPhaxioCallback>[0]>) =>
    verifyPhaxioCallback({ url: good.url, rawBody: good.raw, contentType: good.contentType, signature: good.sig, callbackToken: creds.callbackToken, ...over });

  test('valid', () => assert.deepEqual(verify({}), { ok: true, scheme: 'phaxio-hmac-sha1' }));
  test('uppercase hex is accepted', () => assert.equal(verify({ signature: good.sig.toUpperCase() }).ok, true));
  test('wrong token', () => assert.deepEqual(verify({ callbackToken: 'other-token' }), { ok: false, reason: 'bad_signature' }));
  test('wrong signature', () => assert.deepEqual(verify({ signature: '0'.repeat(40) }), { ok: false, reason: 'bad_signature' }));
  test('missing signature', () => assert.deepEqual(verify({ signature: undefined }), { ok: false, reason: 'missing_signature' }));
  test('nothing configured: refused', () => assert.deepEqual(verify({ callbackToken: undefined }), { ok: false, reason: 'not_configured' }));
  test('wrong URL (other job id in the query)', () => assert.deepEqual(verify({ url: good.url.replace('job-sig', 'job-other') }), { ok: false, reason: 'bad_signature' }));
  test('wrong URL (trailing slash, other scheme)', () => {
    assert.equal(verify({ url: good.url.replace('/phaxio-callback', '/phaxio-callback/') }).ok, false);
    assert.equal(verify({ url: good.url.replace('http:', 'https:') }).ok, false);
  });

  test('a body re-serialized after parsing does not pass (fields rebuilt from the parsed fax object)', () => {
    // What a route that verified after parsing would sign over: the parsed object, re-encoded.
    const cb = parsePhaxioCallbackBody(good.raw, good.contentType);
    const form = parseMultipart(good.raw, good.contentType);
    const fields = form.fields.map((f) => [f.name, f.name === 'fax' ? JSON.stringify(cb.fax) : f.value] as [string, string]);
    assert.notEqual(fields.find(([n]) => n === 'fax')![1], form.fields.find((f) => f.name === 'fax')!.value);
    const again = multipartBytes(fields, []);
    assert.deepEqual(verify({ rawBody: again.body, contentType: again.contentType }), { ok: false, reason: 'bad_signature' });
    // The same fields re-encoded as urlencoded with trimmed values fail as well.
    const trimmed = new URLSearchParams(form.fields.map((f) => [f.name, f.value.trim() + ' '] as [string, string])).toString();
    assert.equal(verify({ rawBody: Buffer.from(trimmed), contentType: 'application/x-www-form-urlencoded' }).ok, false);
  });

  test('a tampered field does not pass', async () => {
    const { providerSid } = await client.sendFax({ jobId: 'job-tamper', attempt: 1, to: '+15551234567', document: { pdf }, callbackUrl: cbUrl('job-tamper') });
    await sim.complete(Number(providerSid), { status: 'failure', errorType: 'lineError', errorId: 17, errorMessage: 'Busy' }, {
      tamper: (fields) => {
        const i = fields.findIndex(([n]) => n === 'fax');
        fields[i] = ['fax', fields[i]![1].replace('"failure"', '"success"')];
      },
    });
    assert.deepEqual(verifyLast(), { ok: false, reason: 'bad_signature' });
  });

  test('the reference scheme (hex HMAC-SHA256 of the raw body with the API secret) is accepted too', () => {
    const sig = createHmac('sha256', creds.apiSecret).update(good.raw).digest('hex');
    assert.deepEqual(verify({ signature: sig, callbackToken: undefined, apiSecret: creds.apiSecret }), { ok: true, scheme: 'raw-body-hmac-sha256' });
    assert.deepEqual(verify({ signature: sig, apiSecret: creds.apiSecret }), { ok: true, scheme: 'raw-body-hmac-sha256' });
    // Over a re-serialized body (same fields, rebuilt multipart) it fails.
    const form = parseMultipart(good.raw, good.contentType);
    const rebuilt = multipartBytes(form.fields.map((f) => [f.name, f.value] as const), []);
    const reserialized = rebuilt.body;
    assert.deepEqual(verify({ signature: sig, rawBody: reserialized, callbackToken: undefined, apiSecret: creds.apiSecret }), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(verify({ signature: sig, callbackToken: undefined, apiSecret: 'wrong' }), { ok: false, reason: 'bad_signature' });
  });

  test('a legacy urlencoded callback (fax[field]=…) parses, and signs over its decoded fields', () => {
    const url = `${hooks.base}/phaxio-callback?job_id=legacy`;
    const fields: [string, string][] = [['fax[id]', '123456'], ['fax[status]', 'success'], ['fax[num_pages]', '2'], ['success', 'true']];
    const raw = Buffer.from(new URLSearchParams(fields).toString());
    const sig = phaxioSign(creds.callbackToken, url, fields, []);
    const ct = 'application/x-www-form-urlencoded';
    assert.equal(verifyPhaxioCallback({ url, rawBody: raw, contentType: ct, signature: sig, callbackToken: creds.callbackToken }).ok, true);
    const cb = parsePhaxioCallbackBody(raw, ct);
    assert.ok(cb.kind === 'status');
    assert.equal(cb.providerSid, '123456');
    assert.deepEqual(cb.status, { state: 'final', providerStatus: 'success', outcome: { ok: true, pages: 2, cause: 'success' } });
  });

  test('phpJson escapes slashes, so parsing must keep the raw string', () => {
    assert.equal(phpJson({ a: 'x/y' }), '{"a":"x\\/y"}');
  });
});
