// FAX_BACKEND=<manifest id>: the shipped example manifest end to end against its fake provider, and start-up errors.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/db.js';
import { makePdf } from '../helpers/docs.js';
import { postWebhook } from '../sim/cloud-http.js';
import { ExampleFaxSim } from '../sim/manifest/server.js';
import { attempts, audits, expireToken, getJob, startCloudApp, submit, waitFinal, waitSent } from './helpers.js';

const ID = 'example-http-fax';
const secrets = { apiKey: 'ex-key-1', webhookSecret: 'ex-webhook-secret' };
const example = readFileSync(join(import.meta.dirname, '../../manifests/example-http-fax.json'), 'utf8');
const dirs: string[] = [];

/** The shipped manifest in a fresh MANIFEST_DIR, with a 2 s send timeout so a lost answer is quick to test. */
function manifestDir(edit: (m: Record<string, unknown>) => void = () => undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'faxbot-manifests-'));
  dirs.push(dir);
  const m = JSON.parse(example) as Record<string, unknown> & { send: { timeoutSeconds: number } };
  m.send.timeoutSeconds = 2;
  edit(m);
  writeFileSync(join(dir, `${ID}.json`), JSON.stringify(m, null, 2));
  return dir;
}

/** Manifest settings are read from the process environment (like every setting), so the tests set them there. */
function providerEnv(base: string, webhookSecret: string | null): void {
  process.env.EXAMPLE_FAX_BASE_URL = base;
  process.env.EXAMPLE_FAX_API_KEY = secrets.apiKey;
  if (webhookSecret === null) delete process.env.EXAMPLE_FAX_WEBHOOK_SECRET;
  else process.env.EXAMPLE_FAX_WEBHOOK_SECRET = webhookSecret;
}

const env = (dir: string, extra: Record<string, string> = {}) => ({
  FAX_BACKEND: ID, MANIFEST_DIR: dir, FAX_RETRY_BUSY: '1:0', FAX_RETRY_NO_ANSWER: '1:0', FAX_RETRY_PROTOCOL: '1:0', MANIFEST_STATUS_POLL_SECONDS: '0', ...extra,
});

const faxesOfJob = (sim: ExampleFaxSim, id: string) => [...sim.faxes.values()].filter((r) => r.fax.metadata.faxbot_job === id);

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

for (const dialect of DIALECTS) {
  describe(`example manifest main flows on ${dialect}`, () => {
    const sim = new ExampleFaxSim(secrets);
    let app: TestApp;
    let pdf: Uint8Array;
    before(async () => {
      providerEnv(await sim.start(), secrets.webhookSecret);
      app = await startCloudApp({ dialect, env: env(manifestDir()) });
      pdf = await makePdf(2);
    });
    after(async () => {
      await app?.close();
      await sim.close();
    });

    test('sends as the manifest says; the provider fetches the tokenized URL; the signed webhook finishes the job', async () => {
      const id = await submit(app, '+15554440001', pdf);
      const sent = await waitSent(app, id);
      assert.equal(sent.backend, ID);
      const rec = sim.faxes.get(sent.provider_sid!)!;
      assert.equal(rec.auth, 'bearer');
      assert.equal(rec.idempotencyKey, `faxbot-${id}-1`);
      assert.equal(rec.fetched?.ok, true, rec.fetched?.reason);
      assert.deepEqual(rec.fetched?.bytes, Buffer.from(pdf));
      assert.equal(rec.callbackUrl, `${app.url}/manifest-callback/${ID}?job_id=${id}&attempt=1`);
      assert.equal((await sim.update(sent.provider_sid!, 'sending')).status, 200);
      assert.equal((await sim.update(sent.provider_sid!, 'delivered', { pages: 2 })).status, 200);
      const done = await waitFinal(app, id);
      assert.equal(done.status, 'SUCCESS');
      assert.equal(done.pages, 2);
      const ready = (await (await app.req('/health/ready')).json()) as { checks: Record<string, { detail: string }> };
      assert.match(ready.checks.backend?.detail ?? '', /Example HTTP Fax: manifest .*example-http-fax\.json, documents by url/);
    });

    test('a failed status fails the job with the provider\'s message and the mapped class', async () => {
      const id = await submit(app, '+15554440002', pdf);
      const sent = await waitSent(app, id);
      await sim.update(sent.provider_sid!, 'busy', { error: 'The line was busy' });
      const done = await waitFinal(app, id);
      assert.equal(done.status, 'FAILED');
      assert.match(done.error ?? '', /Example HTTP Fax: The line was busy/);
      assert.equal((await attempts(app, id))[0]?.failure_class, 'busy');
    });
  });
}

describe('example manifest on sqlite', () => {
  const sim = new ExampleFaxSim(secrets);
  let app: TestApp;
  let pdf: Uint8Array;
  before(async () => {
    providerEnv(await sim.start(), secrets.webhookSecret);
    app = await startCloudApp({ env: env(manifestDir()) });
    pdf = await makePdf(1);
  });
  after(async () => {
    await app?.close();
    await sim.close();
  });

  test('bad signature → 403, missing → 401, re-serialized body → 403; nothing changes', async () => {
    const id = await submit(app, '+15554440010', pdf);
    const sent = await waitSent(app, id);
    const reser = await sim.update(sent.provider_sid!, 'delivered', { pages: 1, tamper: (b) => JSON.stringify(JSON.parse(b), null, 2) });
    assert.equal(reser.status, 403);
    const url = `${app.url}/manifest-callback/${ID}?job_id=${id}&attempt=1`;
    const body = JSON.stringify({ event: 'fax.status', fax: { id: sent.provider_sid, status: 'delivered', pages: 1, metadata: { faxbot_job: id, faxbot_attempt: '1' } } });
    assert.equal((await postWebhook(url, body, { 'content-type': 'application/json' })).status, 401);
    assert.equal((await postWebhook(url, body, { 'content-type': 'application/json', 'x-example-signature': `sha256=${'0'.repeat(64)}` })).status, 403);
    assert.equal((await getJob(app, id)).status, 'in_progress');
    assert.deepEqual((await audits(app, 'callback.rejected')).map((a) => a.data.reason), ['bad_signature', 'missing_signature', 'bad_signature']);
    assert.equal((await postWebhook(`${app.url}/manifest-callback/other-id?job_id=${id}`, body, { 'content-type': 'application/json' })).status, 404);
    await sim.update(sent.provider_sid!, 'delivered', { pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('an expired token: the provider cannot fetch the document and the fax fails as a document error', async () => {
    const id = await submit(app, '+15554440011', pdf);
    const sent = await waitSent(app, id);
    const url = await app.services.documentTokens.issueUrl(id);
    assert.equal((await fetch(url)).status, 200);
    await expireToken(app, id);
    assert.equal((await fetch(url)).status, 403);
    sim.faxes.get(sent.provider_sid!)!.fetched = { ok: false, status: 403, contentType: null, bytes: null, reason: 'HTTP 403' };
    await sim.update(sent.provider_sid!, 'delivered', { pages: 1 });
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /Could not download the document/);
    assert.equal((await attempts(app, id))[0]?.failure_class, 'document');
  });

  test('provider 500, then success: one fax at the provider', async () => {
    sim.sendScript.push({ kind: 'http', status: 500, body: { error: { code: 'internal', message: 'Upstream trouble' } } });
    const id = await submit(app, '+15554440012', pdf);
    const sent = await waitSent(app, id);
    assert.equal(faxesOfJob(sim, id).length, 1);
    assert.match((await attempts(app, id))[0]?.error ?? '', /HTTP 500.*Upstream trouble/);
    await sim.update(sent.provider_sid!, 'delivered', { pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('provider 422: fails at once with the provider\'s message', async () => {
    sim.sendScript.push({ kind: 'http', status: 422, body: { error: { code: 'invalid_number', message: 'This destination is not allowed' } } });
    const id = await submit(app, '+15554440013', pdf);
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /This destination is not allowed/);
  });

  test('a lost answer whose fax was created is found through the manifest\'s find request, not sent twice', async () => {
    sim.sendScript.push({ kind: 'lose' });
    const id = await submit(app, '+15554440014', pdf);
    const sent = await waitSent(app, id);
    const mine = faxesOfJob(sim, id);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.fax.id, sent.provider_sid);
    assert.equal((await attempts(app, id)).length, 2);
    // The webhook names attempt 1 (its metadata); it reaches the job through the provider id.
    await sim.update(sent.provider_sid!, 'delivered', { pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('replayed, backwards and unknown-job webhooks: 200, no change, audited', async () => {
    const id = await submit(app, '+15554440015', pdf);
    const sent = await waitSent(app, id);
    await sim.update(sent.provider_sid!, 'delivered', { pages: 1 });
    const done = await waitFinal(app, id);
    assert.equal((await sim.update(sent.provider_sid!, 'delivered', { pages: 1 })).status, 200);
    assert.equal((await sim.update(sent.provider_sid!, 'sending')).status, 200);
    const rec = sim.faxes.get(sent.provider_sid!)!;
    rec.fax.metadata = { faxbot_job: randomUUID(), faxbot_attempt: '1' };
    rec.fax.id = 'fx_unknown';
    rec.callbackUrl = `${app.url}/manifest-callback/${ID}`;
    sim.faxes.set('fx_unknown', rec);
    assert.equal((await sim.update('fx_unknown', 'delivered', { pages: 1 })).status, 200);
    assert.deepEqual(await getJob(app, id), done);
    assert.deepEqual((await audits(app, 'callback.ignored')).map((a) => a.data.reason).slice(-3), ['replay', 'final_job', 'unknown_job']);
  });

  test('restart mid-fax: reconciled with the poll request', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'faxbot-manifest-restart-'));
    dirs.push(dataDir);
    const e = env(manifestDir());
    let a = await startCloudApp({ dataDir, env: e });
    try {
      const id = await submit(a, '+15554440016', pdf);
      const sent = await waitSent(a, id);
      await a.close();
      Object.assign(sim.faxes.get(sent.provider_sid!)!.fax, { status: 'delivered', pages: 1 });
      a = await startCloudApp({ dataDir, env: e, port: a.port });
      const done = await waitFinal(a, id);
      assert.equal(done.status, 'SUCCESS');
      assert.equal(faxesOfJob(sim, id).length, 1);
    } finally {
      await a.close();
    }
  });
});

describe('example manifest without a webhook secret: polling, the deadline, unverified webhooks confirmed by polling', () => {
  const sim = new ExampleFaxSim(secrets);
  let app: TestApp;
  let pdf: Uint8Array;
  let overdue: Promise<string>;
  before(async () => {
    providerEnv(await sim.start(), null);
    app = await startCloudApp({ env: env(manifestDir(), { MANIFEST_STATUS_POLL_SECONDS: '1', CLOUD_STATUS_DEADLINE_SECONDS: '4' }) });
    pdf = await makePdf(1);
  // Started first, so its deadline runs out while the other tests run.
    overdue = submit(app, '+15554440022', pdf);
  });
  after(async () => {
    await app?.close();
    await sim.close();
  });

  test('an unsigned webhook is a hint: its claim is checked with the poll request', async () => {
    const id = await submit(app, '+15554440020', pdf);
    const sent = await waitSent(app, id);
    const url = `${app.url}/manifest-callback/${ID}?job_id=${id}&attempt=1`;
    const forged = JSON.stringify({ fax: { id: sent.provider_sid, status: 'delivered', pages: 1, metadata: { faxbot_job: id, faxbot_attempt: '1' } } });
    const r = await postWebhook(url, forged, { 'content-type': 'application/json' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).result, 'progress');
    assert.equal((await getJob(app, id)).status, 'in_progress');
    await sim.update(sent.provider_sid!, 'delivered', { pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('no webhook: polling finds the final status', async () => {
    const id = await submit(app, '+15554440021', pdf);
    const sent = await waitSent(app, id);
    Object.assign(sim.faxes.get(sent.provider_sid!)!.fax, { status: 'no_answer', error: 'Nobody answered' });
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /Nobody answered/);
  });

  test('no final status before the deadline: failed with a clear error', async () => {
    const id = await overdue;
    const done = await waitFinal(app, id, 20_000);
    assert.match(done.error ?? '', /no final status from Example HTTP Fax within 4 seconds \(last status "queued"\)/);
  });

  test('the admin refresh polls the provider at once', async () => {
    const id = await submit(app, '+15554440023', pdf);
    const sent = await waitSent(app, id);
    Object.assign(sim.faxes.get(sent.provider_sid!)!.fax, { status: 'delivered', pages: 1 });
    const r = await app.req(`/admin/fax-jobs/${id}/refresh`, { method: 'POST' });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { status: string }).status, 'SUCCESS');
    const plain = await app.req(`/admin/fax-jobs/${id}/refresh`, { method: 'POST', key: null });
    assert.equal(plain.status, 401);
  });
});

describe('manifest start-up errors', () => {
  test('an unknown FAX_BACKEND, a missing MANIFEST_DIR, an invalid manifest and a missing setting each stop the start-up, named', async () => {
    providerEnv('http://127.0.0.1:9/v1', null);
    await assert.rejects(startCloudApp({ env: { FAX_BACKEND: 'acme' } }), /FAX_BACKEND=acme: not a built-in backend .* MANIFEST_DIR is not set/);
    await assert.rejects(startCloudApp({ env: env(manifestDir(), { FAX_BACKEND: 'acme' }) }), /FAX_BACKEND=acme: no valid manifest with this id .*valid ids: example-http-fax/);
    const broken = manifestDir((m) => {
      (m.send as Record<string, unknown>).retries = 3;
    });
    await assert.rejects(startCloudApp({ env: env(broken) }), (err: Error) => {
      assert.match(err.message, /FAX_BACKEND=example-http-fax: no valid manifest with this id/);
      assert.match(err.message, /example-http-fax\.json: send\.retries: unknown key/);
      return true;
    });
    delete process.env.EXAMPLE_FAX_API_KEY;
    await assert.rejects(startCloudApp({ env: env(manifestDir()) }), /settings\.API_KEY: environment variable EXAMPLE_FAX_API_KEY is not set/);
  });
});
