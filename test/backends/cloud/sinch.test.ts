// Sinch Fax v3: Basic and OAuth2, send, status mapping, JSON and multipart webhooks, inbound verification, against the fake Sinch.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ProviderError, toAttemptError } from '../../../src/backends/cloud/http.js';
import { checkLostSends } from '../../../src/backends/cloud/lost-send.js';
import { parseSinchCallbackBody, verifySinchCallback } from '../../../src/backends/sinch/callback.js';
import { SinchClient, type SinchClientConfig } from '../../../src/backends/sinch/client.js';
import { sinchEnvSchema, sinchClientConfig, sinchMissing } from '../../../src/backends/sinch/config.js';
import { mapSinchFax } from '../../../src/backends/sinch/status.js';
import { AttemptFailedError, NotSentError } from '../../../src/backends/types.js';
import { SinchSim } from '../../sim/sinch/server.js';
import { z } from 'zod';
import { attemptInfo, closedPort, DocServer, header, makePdf, Receiver } from './helpers.js';

const opts = { projectId: 'proj-1', keyId: 'key-id', keySecret: 'key-secret' };
const sim = new SinchSim(opts);
const docs = new DocServer();
const hooks = new Receiver();
let urls: { baseUrl: string; tokenUrl: string };
let pdf: Buffer;

const mk = (over: Partial<SinchClientConfig> = {}, method: 'basic' | 'oauth' = 'basic', auth: Partial<SinchClientConfig['auth']> = {}) =>
  new SinchClient({
    projectId: opts.projectId, baseUrl: urls.baseUrl, timeoutMs: 1500,
    auth: { method, keyId: opts.keyId, keySecret: opts.keySecret, tokenUrl: urls.tokenUrl, ...auth }, ...over,
  });

before(async () => {
  urls = await sim.start();
  await docs.start();
  await hooks.start();
  pdf = await makePdf(2);
});

after(async () => {
  await sim.close();
  await docs.close();
  await hooks.close();
});

const cbUrl = (jobId: string) => `${hooks.base}/sinch-callback?job_id=${jobId}`;

describe('send', () => {
  test('by contentUrl (JSON): Sinch fetches the PDF; labels carry job and attempt; JSON callbacks requested', async () => {
    const url = docs.add('s-url', pdf);
    const { providerSid } = await mk().sendFax({ jobId: 's-url', attempt: 1, to: '+15551234567', document: { url }, callbackUrl: cbUrl('s-url') });
    const rec = sim.faxes.get(providerSid)!;
    assert.equal(rec.format, 'json');
    assert.equal(rec.fetched?.ok, true);
    assert.deepEqual(rec.fetched?.bytes, pdf);
    assert.deepEqual(rec.fax.labels, { faxbot_job: 's-url', faxbot_attempt: '1' });
    assert.equal(rec.fax.callbackUrlContentType, 'application/json');
  });

  test('by upload (JSON, base64 files[])', async () => {
    const { providerSid } = await mk().sendFax({ jobId: 's-up', attempt: 1, to: '+15551234567', document: { pdf } });
    assert.deepEqual(sim.faxes.get(providerSid)?.upload, pdf);
  });

  test('by upload (multipart file part)', async () => {
    const { providerSid } = await mk({ upload: 'multipart' }).sendFax({ jobId: 's-mp', attempt: 3, to: '+15551234567', document: { pdf }, callbackUrl: cbUrl('s-mp') });
    const rec = sim.faxes.get(providerSid)!;
    assert.equal(rec.format, 'multipart');
    assert.deepEqual(rec.upload, pdf);
    assert.equal(rec.fax.labels.faxbot_attempt, '3');
  });

  test('an array answer (newer API) is accepted like a single fax', async () => {
    sim.opts.arrayResponse = true;
    try {
      const { providerSid } = await mk().sendFax({ jobId: 's-arr', attempt: 1, to: '+15551234567', document: { pdf } });
      assert.ok(sim.faxes.has(providerSid));
    } finally {
      sim.opts.arrayResponse = false;
    }
  });

  test('422 with field violations: fails with Sinch\'s words', async () => {
    const err = await mk().sendFax({ jobId: 's-bad', attempt: 1, to: '12', document: { pdf } }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 422);
    assert.equal(err.failureClass, 'permanent');
    assert.match(err.message, /to: The \(12\) is not a valid phone number/);
  });

  test('500 then success', async () => {
    sim.sendScript.push({ kind: 'http', status: 500, body: { code: '500', error: 'Internal service error', message: 'Most likely a temporary issue, please try again later.' } });
    const err = await mk().sendFax({ jobId: 's-500', attempt: 1, to: '+15551234567', document: { pdf } }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError && err.failureClass === 'transient' && err.maybeCreated);
    assert.ok(toAttemptError(err) instanceof AttemptFailedError);
    const check = await checkLostSends(attemptInfo(2, [{ attemptNo: 1, failureClass: 'transient' }]),
      (n) => mk().findExisting('s-500', n, { to: '+15559990000' }), mapSinchFax);
    assert.deepEqual(check, { kind: 'clear' });
    const ok = await mk().sendFax({ jobId: 's-500', attempt: 2, to: '+15551234567', document: { pdf } });
    assert.ok(sim.faxes.has(ok.providerSid));
  });

  test('429 with Retry-After gives the attempt back', async () => {
    sim.sendScript.push({ kind: 'http', status: 429, body: 'Rate limit exceeded, please back off and try again later.', headers: { 'retry-after': '3' } });
    const err = await mk().sendFax({ jobId: 's-429', attempt: 1, to: '+15551234567', document: { pdf } }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    const a = toAttemptError(err);
    assert.ok(a instanceof NotSentError);
    assert.equal(a.retryAfterMs, 3000);
  });

  test('timeout is transient', async () => {
    sim.sendScript.push({ kind: 'hang' });
    const err = await mk().sendFax({ jobId: 's-hang', attempt: 1, to: '+15551234567', document: { pdf } }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError && err.code === 'timeout' && err.failureClass === 'transient');
  });

  test('lost response: findExisting matches our labels; a foreign fax to the same number makes it unknown', async () => {
    const to = '+15557770001';
    sim.sendScript.push({ kind: 'lose' });
    await assert.rejects(mk().sendFax({ jobId: 's-lost', attempt: 1, to, document: { pdf } }), ProviderError);
    const created = sim.outbound.find((r) => r.fax.labels.faxbot_job === 's-lost')!;
    const found = await mk().findExisting('s-lost', 1, { to });
    assert.deepEqual(found.kind === 'found' && found.providerSid, created.fax.id);
    assert.deepEqual(await mk().findExisting('s-lost', 2, { to }), { kind: 'none' });
    const q = sim.listQueries[sim.listQueries.length - 1]!;
    assert.equal(q.get('to'), to);
    assert.equal(q.get('direction'), 'OUTBOUND');
    assert.ok(q.get('createTime>'), 'createTime>= range sent');
    sim.addForeign('+15557770002');
    const unknown = await mk().findExisting('s-other', 1, { to: '+15557770002' });
    assert.equal(unknown.kind, 'unknown');
  });
});

describe('OAuth2', () => {
  test('one token serves many calls, a refused token is refreshed once', async () => {
    sim.opts.oauthOnly = true;
    try {
      const before = sim.tokenRequests;
      const c = mk({}, 'oauth');
      const a = await c.sendFax({ jobId: 'o-1', attempt: 1, to: '+15551234567', document: { pdf } });
      await c.getFax(a.providerSid);
      assert.equal(sim.tokenRequests - before, 1);
      assert.equal(sim.authSeen[sim.authSeen.length - 1], 'Bearer');
      sim.revokeTokens();
      await c.getFax(a.providerSid);
      assert.equal(sim.tokenRequests - before, 2);
      assert.equal(c.auth.tokenRequests, 2);
    } finally {
      sim.opts.oauthOnly = false;
    }
  });

  test('a token is refreshed shortly before it expires', async () => {
    let now = Date.now();
    const c = mk({}, 'oauth', { now: () => now });
    const { providerSid } = await c.sendFax({ jobId: 'o-2', attempt: 1, to: '+15551234567', document: { pdf } });
    now += 3540_000 - 1000; // 59 minutes: still inside the lifetime minus the one-minute margin
    await c.getFax(providerSid);
    assert.equal(c.auth.tokenRequests, 1);
    now += 2000;
    await c.getFax(providerSid);
    assert.equal(c.auth.tokenRequests, 2);
  });

  test('wrong key: the token endpoint refuses, the attempt fails with a clear message', async () => {
    const err = await mk({}, 'oauth', { keySecret: 'wrong' }).getFax('x').catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 401);
    assert.equal(err.failureClass, 'permanent');
    assert.match(err.message, /Client authentication failed/);
    assert.doesNotMatch(err.message, /wrong/);
  });

  test('token endpoint unreachable: nothing was sent, the attempt is given back', async () => {
    const err = await mk({}, 'oauth', { tokenUrl: `http://127.0.0.1:${await closedPort()}/oauth2/token` }).getFax('x').catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.sent, false);
    assert.ok(toAttemptError(err) instanceof NotSentError);
  });
});

describe('status and webhooks', () => {
  test('COMPLETED (JSON webhook): final success with pages, labels give the job', async () => {
    const url = docs.add('s-ok', pdf);
    const { providerSid } = await mk().sendFax({ jobId: 's-ok', attempt: 1, to: '+15551234567', document: { url }, callbackUrl: cbUrl('s-ok') });
    assert.equal((await sim.complete(providerSid, { status: 'COMPLETED', pages: 2 })).status, 200);
    const r = hooks.last();
    const cb = parseSinchCallbackBody(r.raw, header(r.headers, 'content-type'));
    assert.ok(cb.kind === 'status');
    assert.equal(cb.event, 'FAX_COMPLETED');
    assert.equal(cb.jobId, 's-ok');
    assert.equal(cb.attempt, 1);
    assert.deepEqual(cb.status, { state: 'final', providerStatus: 'COMPLETED', outcome: { ok: true, pages: 2, cause: 'COMPLETED' } });
    assert.deepEqual(mapSinchFax(await mk().getFax(providerSid)), cb.status);
  });

  test('FAILURE (multipart webhook): busy line classed busy', async () => {
    const c = mk({ callbackContentType: 'multipart/form-data' });
    const { providerSid } = await c.sendFax({ jobId: 's-busy', attempt: 1, to: '+15551234567', document: { pdf }, callbackUrl: cbUrl('s-busy') });
    await sim.complete(providerSid, { status: 'FAILURE', errorType: 'CALL_ERROR', errorCode: 17, errorMessage: 'Busy' });
    const r = hooks.last();
    assert.match(header(r.headers, 'content-type')!, /^multipart\/form-data/);
    const cb = parseSinchCallbackBody(r.raw, header(r.headers, 'content-type'));
    assert.ok(cb.kind === 'status' && cb.status.state === 'final' && !cb.status.outcome.ok);
    assert.equal(cb.status.outcome.failureClass, 'busy');
    assert.equal(cb.status.outcome.error, 'Sinch: Busy');
    assert.equal(cb.jobId, 's-busy');
  });

  test('an unreachable contentUrl (expired token) fails as a document error', async () => {
    docs.add('s-exp', pdf, 'good');
    const { providerSid } = await mk().sendFax({ jobId: 's-exp', attempt: 1, to: '+15551234567', document: { url: `${docs.base}/fax/s-exp/pdf?token=old` }, callbackUrl: cbUrl('s-exp') });
    await sim.complete(providerSid, { status: 'COMPLETED', pages: 1 });
    const cb = parseSinchCallbackBody(hooks.last().raw, header(hooks.last().headers, 'content-type'));
    assert.ok(cb.kind === 'status' && cb.status.state === 'final' && !cb.status.outcome.ok);
    assert.equal(cb.status.outcome.failureClass, 'document');
  });

  test('error types map to classes', () => {
    const cls = (errorType: string, errorCode: number | null, errorMessage: string) => {
      const s = mapSinchFax({ id: 'x', status: 'FAILURE', errorType, errorCode, errorMessage });
      return s.state === 'final' && !s.outcome.ok ? s.outcome.failureClass : null;
    };
    assert.equal(cls('LINE_ERROR', 16, 'Ring Timeout'), 'no_answer');
    assert.equal(cls('FAX_ERROR', 10, 'Disconnected after permitted retries'), 'protocol');
    assert.equal(cls('DOCUMENT_CONVERSION_ERROR', 4, 'There was a problem in converting'), 'document');
    assert.equal(cls('FATAL_ERROR', 1, 'x'), 'permanent');
    assert.equal(cls('GENERAL_ERROR', 2, 'x'), 'transient');
    assert.deepEqual(mapSinchFax({ id: 'x', status: 'IN_PROGRESS', pagesSentSuccessfully: 1 }), { state: 'in_progress', providerStatus: 'IN_PROGRESS', pages: 1 });
  });

  for (const format of ['json', 'multipart'] as const) {
    test(`INCOMING_FAX (${format}): the PDF, numbers and pages are read`, async () => {
      const inbound = await makePdf(1);
      const r = await sim.incoming(`${hooks.base}/sinch-inbound`, { from: '+15557654321', to: '+15551230000', pdf: inbound, pages: 1, format });
      assert.equal(r.status, 200);
      const got = hooks.last();
      const cb = parseSinchCallbackBody(got.raw, header(got.headers, 'content-type'));
      assert.ok(cb.kind === 'incoming');
      assert.equal(cb.providerSid, r.id);
      assert.equal(cb.from, '+15557654321');
      assert.equal(cb.to, '+15551230000');
      assert.equal(cb.pages, 1);
      assert.deepEqual(cb.pdf, inbound);
    });
  }
});

describe('inbound verification', () => {
  const user = 'sinch-hook';
  const pass = 'p@ss:word';
  let basicReq: { raw: Buffer; authorization: string | undefined };
  let hmacReq: { raw: Buffer; signature: string | undefined };
  const secret = 'hmac-secret';

  before(async () => {
    const withCreds = new URL(`${hooks.base}/sinch-inbound`);
    withCreds.username = user;
    withCreds.password = encodeURIComponent(pass);
    await sim.incoming(withCreds.toString(), { from: '+15557654321', to: '+15551230000', pdf, pages: 2, format: 'json' });
    basicReq = { raw: hooks.last().raw, authorization: header(hooks.last().headers, 'authorization') };
    await sim.incoming(`${hooks.base}/sinch-inbound`, { from: '+15557654321', to: '+15551230000', pdf, pages: 2, format: 'json', hmacSecret: secret });
    hmacReq = { raw: hooks.last().raw, signature: header(hooks.last().headers, 'x-sinch-signature') };
  });

  test('Basic from the webhook URL: valid, wrong, missing', () => {
    const v = (authorization: string | undefined, p = pass) => verifySinchCallback({ rawBody: basicReq.raw, authorization, signature: undefined, basicUser: user, basicPass: p });
    assert.deepEqual(v(basicReq.authorization), { ok: true, scheme: 'basic' });
    assert.deepEqual(v(basicReq.authorization, 'other'), { ok: false, reason: 'bad_credentials' });
    assert.deepEqual(v(undefined), { ok: false, reason: 'missing_credentials' });
    assert.deepEqual(v('Bearer abc'), { ok: false, reason: 'bad_credentials' });
  });

  test('HMAC over the raw body: SHA-1 (Sinch SDK) and SHA-256 (reference) valid; wrong, missing, re-serialized refused', () => {
    const v = (signature: string | undefined, rawBody = hmacReq.raw, s = secret) => verifySinchCallback({ rawBody, authorization: undefined, signature, hmacSecret: s });
    assert.deepEqual(v(hmacReq.signature), { ok: true, scheme: 'hmac-sha1' });
    assert.deepEqual(v(createHmac('sha256', secret).update(hmacReq.raw).digest('hex')), { ok: true, scheme: 'hmac-sha256' });
    assert.deepEqual(v(hmacReq.signature, hmacReq.raw, 'other'), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(v(undefined), { ok: false, reason: 'missing_signature' });
    const j = JSON.parse(hmacReq.raw.toString()) as Record<string, unknown>;
    const reordered = Buffer.from(JSON.stringify({ fax: j.fax, event: j.event, eventTime: j.eventTime, file: j.file, fileType: j.fileType }));
    assert.notDeepEqual(reordered, hmacReq.raw);
    assert.deepEqual(v(hmacReq.signature, reordered), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(v(hmacReq.signature, Buffer.from(JSON.stringify(j, null, 1))), { ok: false, reason: 'bad_signature' });
  });

  test('both configured: both must pass; nothing configured: not_configured', () => {
    const both = { rawBody: hmacReq.raw, signature: hmacReq.signature, basicUser: user, basicPass: pass, hmacSecret: secret };
    assert.deepEqual(verifySinchCallback({ ...both, authorization: basicReq.authorization }), { ok: true, scheme: 'basic+hmac-sha1' });
    assert.deepEqual(verifySinchCallback({ ...both, authorization: undefined }), { ok: false, reason: 'missing_credentials' });
    assert.deepEqual(verifySinchCallback({ ...both, authorization: basicReq.authorization, signature: 'x' }), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(verifySinchCallback({ rawBody: hmacReq.raw, authorization: undefined, signature: undefined }), { ok: false, reason: 'not_configured' });
  });
});

test('settings: env names, defaults and what is missing', () => {
  const s = z.object(sinchEnvSchema).parse({ SINCH_PROJECT_ID: 'p', SINCH_API_KEY: 'k', SINCH_AUTH_METHOD: 'OAuth', SINCH_INBOUND_BASIC_USER: 'u' });
  assert.equal(s.SINCH_BASE_URL, 'https://fax.api.sinch.com/v3');
  assert.equal(s.SINCH_AUTH_BASE_URL, 'https://auth.sinch.com/oauth2/token');
  assert.equal(s.SINCH_AUTH_METHOD, 'oauth');
  assert.deepEqual(sinchMissing(s), ['SINCH_API_SECRET', 'SINCH_INBOUND_BASIC_PASS']);
  assert.equal(sinchClientConfig(s).auth.method, 'oauth');
});
