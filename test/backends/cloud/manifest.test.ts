// The shipped example manifest end to end against its fake provider, plus upload and auth variants.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProviderError, toAttemptError } from '../../../src/backends/cloud/http.js';
import { checkLostSends } from '../../../src/backends/cloud/lost-send.js';
import { loadManifestFile, validateManifest, type Manifest } from '../../../src/backends/manifest/load.js';
import { createManifestProvider, type ManifestProvider } from '../../../src/backends/manifest/provider.js';
import { AttemptFailedError, NotSentError } from '../../../src/backends/types.js';
import { ExampleFaxSim } from '../../sim/manifest/server.js';
import { attemptInfo, DocServer, makePdf, Receiver } from './helpers.js';

const secrets = { apiKey: 'ex-key-1', webhookSecret: 'ex-hook-secret' };
const sim = new ExampleFaxSim(secrets);
const docs = new DocServer();
const hooks = new Receiver();
let manifest: Manifest;
let provider: ManifestProvider;
let env: Record<string, string>;
let pdf: Buffer;

before(async () => {
  const base = await sim.start();
  await docs.start();
  await hooks.start();
  env = { EXAMPLE_FAX_BASE_URL: base, EXAMPLE_FAX_API_KEY: secrets.apiKey, EXAMPLE_FAX_WEBHOOK_SECRET: secrets.webhookSecret };
  manifest = await loadManifestFile(join(import.meta.dirname, '../../../manifests/example-http-fax.json'), 'manifests/example-http-fax.json');
  provider = createManifestProvider(manifest, env);
  pdf = await makePdf(3);
});

after(async () => {
  await sim.close();
  await docs.close();
  await hooks.close();
});

const cbUrl = (jobId: string, attempt = 1) => `${hooks.base}/manifest-callback/example-http-fax?job_id=${jobId}&attempt=${attempt}`;

function lastCallback() {
  const r = hooks.last();
  return { r, url: hooks.fullUrl(r), type: r.headers['content-type'] };
}

describe('example manifest: send', () => {
  test('sends JSON with the document URL, the callback and our metadata; the provider fetches the PDF', async () => {
    const documentUrl = docs.add('m-1', pdf);
    const sent = await provider.send({ jobId: 'm-1', attempt: 1, to: '+15551234567', documentUrl, callbackUrl: cbUrl('m-1') });
    const rec = sim.faxes.get(sent.providerSid)!;
    assert.equal(rec.auth, 'bearer');
    assert.equal(rec.format, 'json');
    assert.equal(rec.idempotencyKey, 'faxbot-m-1-1');
    assert.deepEqual(rec.fax.metadata, { faxbot_job: 'm-1', faxbot_attempt: '1' });
    assert.equal(rec.callbackUrl, cbUrl('m-1'));
    assert.equal(rec.fetched?.ok, true);
    assert.deepEqual(rec.fetched?.bytes, pdf);
    assert.deepEqual(sent.status, { state: 'queued', providerStatus: 'queued', pages: null });
  });

  test('delivered: the signed callback verifies and parses; polling agrees', async () => {
    const sent = await provider.send({ jobId: 'm-ok', attempt: 2, to: '+15551234567', documentUrl: docs.add('m-ok', pdf), callbackUrl: cbUrl('m-ok', 2) });
    assert.equal((await sim.update(sent.providerSid, 'sending')).status, 200);
    let cb = provider.parseCallback(hooks.last().raw, lastCallback().type);
    assert.deepEqual(cb.status, { state: 'in_progress', providerStatus: 'sending', pages: null });
    await sim.update(sent.providerSid, 'delivered', { pages: 3 });
    const { r, url, type } = lastCallback();
    assert.deepEqual(provider.verifyCallback({ rawBody: r.raw, url, headers: r.headers }), { ok: true, scheme: 'hmac-sha256' });
    cb = provider.parseCallback(r.raw, type, url);
    assert.deepEqual(cb, {
      providerSid: sent.providerSid, jobId: 'm-ok', attempt: 2, providerStatus: 'delivered',
      status: { state: 'final', providerStatus: 'delivered', outcome: { ok: true, pages: 3, cause: 'delivered' } },
    });
    assert.deepEqual(await provider.getStatus(sent.providerSid, { jobId: 'm-ok', attempt: 2, to: '+15551234567' }), cb.status);
  });

  test('failures map through the manifest\'s classes', async () => {
    for (const [status, expected] of [['busy', 'busy'], ['no_answer', 'no_answer'], ['failed', 'protocol'], ['canceled', 'permanent']] as const) {
      const sent = await provider.send({ jobId: `m-${status}`, attempt: 1, to: '+15551234567', documentUrl: docs.add(`m-${status}`, pdf), callbackUrl: cbUrl(`m-${status}`) });
      await sim.update(sent.providerSid, status, { error: status === 'failed' ? 'Far end stopped responding' : undefined });
      const cb = provider.parseCallback(hooks.last().raw, lastCallback().type);
      assert.ok(cb.status.state === 'final' && !cb.status.outcome.ok, status);
      assert.equal(cb.status.outcome.failureClass, expected, status);
      if (status === 'failed') assert.equal(cb.status.outcome.error, 'Example HTTP Fax: Far end stopped responding');
    }
    assert.deepEqual(provider.mapStatus('held_for_review', null, null), { state: 'in_progress', providerStatus: 'held_for_review', pages: null });
    assert.equal(provider.mapStatus('DELIVERED', 2, null).state, 'final');
  });

  test('an expired document token: the provider cannot fetch it → document error', async () => {
    docs.add('m-exp', pdf, 'fresh');
    const sent = await provider.send({ jobId: 'm-exp', attempt: 1, to: '+15551234567', documentUrl: `${docs.base}/fax/m-exp/pdf?token=stale`, callbackUrl: cbUrl('m-exp') });
    await sim.update(sent.providerSid, 'delivered', { pages: 3 });
    const cb = provider.parseCallback(hooks.last().raw, lastCallback().type);
    assert.ok(cb.status.state === 'final' && !cb.status.outcome.ok);
    assert.equal(cb.status.outcome.failureClass, 'document');
    assert.match(cb.status.outcome.error, /HTTP 403/);
  });

  test('422 with the provider\'s message', async () => {
    const err = await provider.send({ jobId: 'm-bad', attempt: 1, to: '555', documentUrl: docs.add('m-bad', pdf), callbackUrl: cbUrl('m-bad') }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 422);
    assert.equal(err.failureClass, 'permanent');
    assert.equal(err.message, 'example-http-fax: request refused (HTTP 422): "to" must be an E.164 number');
  });

  test('500 then success, 429 with Retry-After, timeout', async () => {
    sim.sendScript.push({ kind: 'http', status: 503, body: { error: { code: 'unavailable', message: 'Try again soon' } } });
    const e1 = await provider.send({ jobId: 'm-500', attempt: 1, to: '+15551234567', documentUrl: docs.add('m-500', pdf), callbackUrl: cbUrl('m-500') }).catch((e: unknown) => e);
    assert.ok(e1 instanceof ProviderError && e1.failureClass === 'transient');
    assert.ok(toAttemptError(e1) instanceof AttemptFailedError);
    assert.ok((await provider.send({ jobId: 'm-500', attempt: 2, to: '+15551234567', documentUrl: docs.add('m-500', pdf), callbackUrl: cbUrl('m-500', 2) })).providerSid);

    sim.sendScript.push({ kind: 'http', status: 429, body: { error: { code: 'rate', message: 'Slow down' } }, headers: { 'retry-after': '9' } });
    const e2 = await provider.send({ jobId: 'm-429', attempt: 1, to: '+15551234567', documentUrl: docs.add('m-429', pdf), callbackUrl: cbUrl('m-429') }).catch((e: unknown) => e);
    assert.ok(e2 instanceof ProviderError);
    const a = toAttemptError(e2);
    assert.ok(a instanceof NotSentError && a.retryAfterMs === 9000);

    const quick = createManifestProvider(validateManifest({ ...manifest.json, send: { ...manifest.json.send, timeoutSeconds: 1 } }, 'inline'), env);
    sim.sendScript.push({ kind: 'hang' });
    const e3 = await quick.send({ jobId: 'm-hang', attempt: 1, to: '+15551234567', documentUrl: docs.add('m-hang', pdf), callbackUrl: cbUrl('m-hang') }).catch((e: unknown) => e);
    assert.ok(e3 instanceof ProviderError && e3.code === 'timeout' && e3.maybeCreated);
  });

  test('lost response: find locates the fax; the idempotency key stops a duplicate', async () => {
    sim.sendScript.push({ kind: 'lose' });
    const quick = createManifestProvider(validateManifest({ ...manifest.json, send: { ...manifest.json.send, timeoutSeconds: 1 } }, 'inline'), env);
    const req = { jobId: 'm-lost', attempt: 1, to: '+15551234567', documentUrl: docs.add('m-lost', pdf), callbackUrl: cbUrl('m-lost') };
    await assert.rejects(quick.send(req), ProviderError);
    const created = [...sim.faxes.values()].find((r) => r.fax.metadata.faxbot_job === 'm-lost')!;
    const found = await provider.findExisting('m-lost', 1, { to: req.to });
    assert.deepEqual(found, { kind: 'found', providerSid: created.fax.id, fax: { providerSid: created.fax.id, status: { state: 'queued', providerStatus: 'queued', pages: null } } });
    assert.deepEqual(await provider.findExisting('m-lost', 2, { to: req.to }), { kind: 'none' });
    const check = await checkLostSends(attemptInfo(2, [{ attemptNo: 1, failureClass: 'transient' }]), (n) => provider.findExisting('m-lost', n, { to: req.to }), (f) => f.status ?? { state: 'queued', providerStatus: '?', pages: null });
    assert.equal(check.kind, 'found');
    const count = sim.faxes.size;
    const again = await provider.send(req);
    assert.equal(again.providerSid, created.fax.id);
    assert.equal(sim.faxes.size, count, 'the same attempt sent again made no second fax');
  });
});

describe('example manifest: callback signature', () => {
  let sid: string;
  before(async () => {
    sid = (await provider.send({ jobId: 'm-sig', attempt: 1, to: '+15551234567', documentUrl: docs.add('m-sig', pdf), callbackUrl: cbUrl('m-sig') })).providerSid;
  });

  test('valid, wrong secret, missing, tampered, re-serialized', async () => {
    await sim.update(sid, 'delivered', { pages: 3 });
    const { r, url } = lastCallback();
    assert.equal(provider.verifyCallback({ rawBody: r.raw, url, headers: r.headers }).ok, true);
    const other = createManifestProvider(manifest, { ...env, EXAMPLE_FAX_WEBHOOK_SECRET: 'other' });
    assert.deepEqual(other.verifyCallback({ rawBody: r.raw, url, headers: r.headers }), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(provider.verifyCallback({ rawBody: r.raw, url, headers: { ...r.headers, 'x-example-signature': undefined } }), { ok: false, reason: 'missing_signature' });
    const sig = r.headers['x-example-signature'] as string;
    assert.deepEqual(provider.verifyCallback({ rawBody: r.raw, url, headers: { 'x-example-signature': sig.replace('sha256=', '') } }), { ok: false, reason: 'bad_signature' });
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(r.raw.toString()), null, 2));
    assert.deepEqual(provider.verifyCallback({ rawBody: reserialized, url, headers: r.headers }), { ok: false, reason: 'bad_signature' });
    await sim.update(sid, 'delivered', { pages: 3, tamper: (b) => b.replace('"pages":3', '"pages":30') });
    const t = lastCallback();
    assert.deepEqual(provider.verifyCallback({ rawBody: t.r.raw, url: t.url, headers: t.r.headers }), { ok: false, reason: 'bad_signature' });
  });

  test('without the secret set, verification reports not_configured', () => {
    const unsigned = createManifestProvider(manifest, { ...env, EXAMPLE_FAX_WEBHOOK_SECRET: '' });
    const { r, url } = lastCallback();
    assert.deepEqual(unsigned.verifyCallback({ rawBody: r.raw, url, headers: r.headers }), { ok: false, reason: 'not_configured' });
  });
});

describe('variants against the same fake', () => {
  const base = () => manifest.json;

  test('multipart upload with an API-key header; the callback\'s job comes from the URL', async () => {
    const m = validateManifest({
      ...base(), id: 'acme-upload',
      auth: { scheme: 'header', name: 'X-Api-Key', value: '{{settings.API_KEY}}' },
      send: {
        ...base().send, document: 'upload',
        body: { type: 'multipart', fields: { to: '{{to}}', callback_url: '{{callback_url}}', 'metadata[faxbot_job]': '{{job_id}}' }, file: { field: 'document' } },
      },
      callback: { format: 'json', providerId: '$.fax.id', status: '$.fax.status', pages: '$.fax.pages' },
    }, 'inline-upload');
    const p = createManifestProvider(m, env);
    const sent = await p.send({ jobId: 'v-up', attempt: 4, to: '+15551234567', pdf, callbackUrl: cbUrl('v-up', 4) });
    const rec = sim.faxes.get(sent.providerSid)!;
    assert.equal(rec.auth, 'header');
    assert.equal(rec.format, 'multipart');
    assert.deepEqual(rec.upload, pdf);
    assert.equal(rec.fax.metadata.faxbot_job, 'v-up');
    await sim.update(sent.providerSid, 'delivered', { pages: 3 });
    const { r, url, type } = lastCallback();
    const cb = p.parseCallback(r.raw, type, url);
    assert.equal(cb.jobId, 'v-up');
    assert.equal(cb.attempt, 4);
    assert.deepEqual(p.verifyCallback({ rawBody: r.raw, url, headers: r.headers }), { ok: false, reason: 'not_configured' });
  });

  test('JSON upload ({{document_base64}}) with the key in the query', async () => {
    const m = validateManifest({
      ...base(), id: 'acme-b64',
      auth: { scheme: 'query', name: 'api_key', value: '{{settings.API_KEY}}' },
      send: { ...base().send, document: 'upload', body: { type: 'json', fields: { to: '{{to}}', document_base64: '{{document_base64}}', callback_url: '{{callback_url}}' } } },
    }, 'inline-b64');
    const sent = await createManifestProvider(m, env).send({ jobId: 'v-b64', attempt: 1, to: '+15551234567', pdf, callbackUrl: cbUrl('v-b64') });
    const rec = sim.faxes.get(sent.providerSid)!;
    assert.equal(rec.auth, 'query');
    assert.deepEqual(rec.upload, pdf);
  });

  test('no credentials: 401 with the provider\'s message, never the key', async () => {
    const m = validateManifest({ ...base(), id: 'acme-none', auth: { scheme: 'none' } }, 'inline-none');
    const err = await createManifestProvider(m, env).send({ jobId: 'v-none', attempt: 1, to: '+15551234567', documentUrl: docs.add('v-none', pdf), callbackUrl: cbUrl('v-none') }).catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError);
    assert.equal(err.message, 'acme-none: credentials refused (HTTP 401): Missing or invalid API key');
  });

  test('{{callback_url}} in a template needs a callback URL; a field merely named callback_url does not', async () => {
    await assert.rejects(provider.send({ jobId: 'v-cb', attempt: 1, to: '+15551234567', documentUrl: docs.add('v-cb', pdf) }), /no callback URL was given/);
    const m = validateManifest({
      ...base(), id: 'acme-nocb',
      send: { ...base().send, body: { type: 'json', fields: { to: '{{to}}', document_url: '{{document_url}}', callback_url: 'https://hooks.example/fixed' } } },
    }, 'inline-nocb');
    const sent = await createManifestProvider(m, env).send({ jobId: 'v-nocb', attempt: 1, to: '+15551234567', documentUrl: docs.add('v-nocb', pdf) });
    assert.equal(sim.faxes.get(sent.providerSid)?.callbackUrl, 'https://hooks.example/fixed');
  });

  test('form callbacks are read by field name', () => {
    const m = validateManifest({ ...base(), id: 'acme-form', callback: { format: 'form', jobId: '$.job', providerId: '$.FaxId', status: '$.Status', pages: '$.Pages' } }, 'inline-form');
    const p = createManifestProvider(m, env);
    const cb = p.parseCallback(Buffer.from('FaxId=fx_1&Status=delivered&Pages=2&job=j-9'), 'application/x-www-form-urlencoded');
    assert.deepEqual(cb, { providerSid: 'fx_1', jobId: 'j-9', attempt: null, providerStatus: 'delivered', status: { state: 'final', providerStatus: 'delivered', outcome: { ok: true, pages: 2, cause: 'delivered' } } });
  });
});
