// FAX_BACKEND=sinch through the public API against the fake Sinch Fax v3: send, callbacks (Basic, HMAC, or confirmed with the API), retries, polling, inbound.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/db.js';
import { makePdf } from '../helpers/docs.js';
import { postWebhook } from '../sim/cloud-http.js';
import { SinchSim } from '../sim/sinch/server.js';
import { attempts, audits, expireToken, getJob, startCloudApp, submit, waitFinal, waitSent } from './helpers.js';

const creds = { projectId: 'proj-1', keyId: 'key-id-1', keySecret: 'key-secret-1' };
const hookUser = 'sinch-hook';
const hookPass = 'hook-pass-123';

async function sinchEnv(sim: SinchSim, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const { baseUrl, tokenUrl } = await sim.start();
  return {
    FAX_BACKEND: 'sinch', SINCH_PROJECT_ID: creds.projectId, SINCH_API_KEY: creds.keyId, SINCH_API_SECRET: creds.keySecret,
    SINCH_BASE_URL: baseUrl, SINCH_AUTH_BASE_URL: tokenUrl, SINCH_STATUS_POLL_SECONDS: '0',
    FAX_RETRY_BUSY: '1:0', FAX_RETRY_NO_ANSWER: '1:0', FAX_RETRY_PROTOCOL: '1:0', ...extra,
  };
}

const basicHeader = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const faxesOfJob = (sim: SinchSim, id: string) => sim.outbound.filter((r) => r.fax.labels.faxbot_job === id);

for (const dialect of DIALECTS) {
  describe(`sinch main flows on ${dialect} (upload, Basic-guarded callbacks)`, () => {
    const sim = new SinchSim(creds);
    let app: TestApp;
    let pdf: Uint8Array;
    before(async () => {
      app = await startCloudApp({ dialect, env: await sinchEnv(sim, { SINCH_INBOUND_BASIC_USER: hookUser, SINCH_INBOUND_BASIC_PASS: hookPass }) });
      pdf = await makePdf(2);
    });
    after(async () => {
      await app?.close();
      await sim.close();
    });

    test('upload: base64 PDF with our labels; the FAX_COMPLETED callback (Basic from the URL) finishes the job', async () => {
      const id = await submit(app, '+15552220001', pdf);
      const sent = await waitSent(app, id);
      const rec = sim.faxes.get(sent.provider_sid!);
      assert.ok(rec);
      assert.equal(rec.format, 'json');
      assert.deepEqual(rec.upload, Buffer.from(pdf));
      assert.deepEqual(rec.fax.labels, { faxbot_job: id, faxbot_attempt: '1' });
      const cb = new URL(rec.fax.callbackUrl!);
      assert.equal(`${cb.origin}${cb.pathname}`, `${app.url}/sinch-callback`);
      assert.equal(cb.username, hookUser);
      assert.equal((await sim.complete(sent.provider_sid!, { status: 'COMPLETED', pages: 2 })).status, 200);
      const done = await waitFinal(app, id);
      assert.equal(done.status, 'SUCCESS');
      assert.equal(done.pages, 2);
      assert.equal(done.provider_sid, sent.provider_sid);
    });

    test('a FAILURE callback fails the job with Sinch\'s message', async () => {
      const id = await submit(app, '+15552220002', pdf);
      const sent = await waitSent(app, id);
      await sim.complete(sent.provider_sid!, { status: 'FAILURE', errorType: 'CALL_ERROR', errorCode: 17, errorMessage: 'Busy' });
      const done = await waitFinal(app, id);
      assert.equal(done.status, 'FAILED');
      assert.match(done.error ?? '', /Sinch: Busy/);
    });
  });
}

describe('sinch on sqlite (Basic-guarded callbacks)', () => {
  const sim = new SinchSim(creds);
  let app: TestApp;
  let pdf: Uint8Array;
  before(async () => {
    app = await startCloudApp({ env: await sinchEnv(sim, { SINCH_INBOUND_BASIC_USER: hookUser, SINCH_INBOUND_BASIC_PASS: hookPass }) });
    pdf = await makePdf(1);
  });
  after(async () => {
    await app?.close();
    await sim.close();
  });

  function completedEvent(id: string, providerSid: string, status: 'COMPLETED' | 'IN_PROGRESS' = 'COMPLETED'): Buffer {
    const fax = { ...sim.faxes.get(providerSid)!.fax, status, numberOfPages: 1 };
    return Buffer.from(JSON.stringify({ event: 'FAX_COMPLETED', eventTime: new Date().toISOString(), fax: { ...fax, labels: { faxbot_job: id, faxbot_attempt: '1' } } }));
  }

  test('wrong credentials → 403, none → 401; nothing changes; audited', async () => {
    const id = await submit(app, '+15552220010', pdf);
    const sent = await waitSent(app, id);
    const url = `${app.url}/sinch-callback?job_id=${id}&attempt=1`;
    const body = completedEvent(id, sent.provider_sid!);
    const wrong = await postWebhook(url, body, { 'content-type': 'application/json', authorization: basicHeader(hookUser, 'nope') });
    assert.equal(wrong.status, 403);
    const none = await postWebhook(url, body, { 'content-type': 'application/json' });
    assert.equal(none.status, 401);
    assert.equal((await getJob(app, id)).status, 'in_progress');
    assert.deepEqual((await audits(app, 'callback.rejected')).map((a) => a.data.reason).slice(-2), ['bad_credentials', 'missing_credentials']);
    const ok = await postWebhook(url, body, { 'content-type': 'application/json', authorization: basicHeader(hookUser, hookPass) });
    assert.equal(ok.status, 200);
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('provider 500, then success: retried, one fax at Sinch', async () => {
    sim.sendScript.push({ kind: 'http', status: 500, body: { code: 500, error: 'Internal Server Error', message: 'Something went wrong' } });
    const id = await submit(app, '+15552220011', pdf);
    const sent = await waitSent(app, id);
    assert.equal(faxesOfJob(sim, id).length, 1);
    assert.equal((await attempts(app, id))[0]?.failure_class, 'transient');
    await sim.complete(sent.provider_sid!, { status: 'COMPLETED', pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('provider 400: the job fails with Sinch\'s message and field violations', async () => {
    sim.sendScript.push({
      kind: 'http', status: 400,
      body: { code: 400, error: 'Invalid parameters', message: 'The request is invalid', details: { fieldViolations: [{ field: 'headerText', description: 'too long' }] } },
    });
    const id = await submit(app, '+15552220012', pdf);
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /The request is invalid; headerText: too long/);
    assert.equal(faxesOfJob(sim, id).length, 0);
  });

  test('a lost answer (timeout) whose fax was created is found by its labels, not sent twice', async () => {
    sim.sendScript.push({ kind: 'lose' });
    const id = await submit(app, '+15552220013', pdf);
    const sent = await waitSent(app, id);
    const mine = faxesOfJob(sim, id);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.fax.id, sent.provider_sid);
    assert.equal((await attempts(app, id)).length, 2);
    await sim.complete(sent.provider_sid!, { status: 'COMPLETED', pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('replayed, backwards and unknown-job callbacks: 200, no change, audited', async () => {
    const id = await submit(app, '+15552220014', pdf);
    const sent = await waitSent(app, id);
    await sim.complete(sent.provider_sid!, { status: 'COMPLETED', pages: 1 });
    const done = await waitFinal(app, id);
    const url = `${app.url}/sinch-callback?job_id=${id}&attempt=1`;
    const auth = { 'content-type': 'application/json', authorization: basicHeader(hookUser, hookPass) };
    assert.equal((await postWebhook(url, completedEvent(id, sent.provider_sid!), auth)).status, 200);
    assert.equal((await postWebhook(url, completedEvent(id, sent.provider_sid!, 'IN_PROGRESS'), auth)).status, 200);
    const ghost = randomUUID();
    const unknown = await postWebhook(`${app.url}/sinch-callback?job_id=${ghost}&attempt=1`, completedEvent(ghost, sent.provider_sid!), auth);
    assert.equal(unknown.status, 200);
    assert.deepEqual(await getJob(app, id), done);
    const reasons = (await audits(app, 'callback.ignored')).map((a) => a.data.reason);
    assert.deepEqual(reasons.slice(-3), ['replay', 'final_job', 'unknown_job']);
  });

  test('restart mid-fax: the new process asks Sinch and settles the job', async () => {
    // Own app: the suite's app keeps running.
    const dataDir = mkdtempSync(join(tmpdir(), 'faxbot-sinch-restart-'));
    const sim2 = new SinchSim(creds);
    const env = await sinchEnv(sim2);
    let a = await startCloudApp({ dataDir, env });
    try {
      const id = await submit(a, '+15552220015', pdf);
      const sent = await waitSent(a, id);
      await a.close();
      const f = sim2.faxes.get(sent.provider_sid!)!.fax;
      Object.assign(f, { status: 'FAILURE', errorType: 'FAX_ERROR', errorCode: 45, errorMessage: 'Fax protocol error', pagesSentSuccessfully: 0 });
      a = await startCloudApp({ dataDir, env, port: a.port });
      const done = await waitFinal(a, id);
      assert.equal(done.status, 'FAILED');
      assert.match(done.error ?? '', /Fax protocol error/);
      assert.equal(sim2.outbound.length, 1);
    } finally {
      await a.close();
      await sim2.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('inbound with Basic: stored once; wrong credentials refused', async () => {
    const inbound = Buffer.from(await makePdf(2, 'in'));
    const u = new URL(`${app.url}/sinch-inbound`);
    u.username = hookUser;
    u.password = hookPass;
    const r = await sim.incoming(u.toString(), { from: '+15557770001', to: '+15556660001', pdf: inbound, pages: 2, format: 'multipart' });
    assert.equal(r.status, 200, r.text);
    const body = JSON.parse(r.text) as { id: string; duplicate: boolean };
    const row = await app.services.db.k.selectFrom('inbound_faxes').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    assert.equal(row.source, 'sinch');
    assert.equal(row.source_uid, r.id);
    assert.deepEqual(readFileSync(join(app.dataDir, row.pdf_path!)), inbound);
    u.password = 'wrong';
    const bad = await sim.incoming(u.toString(), { from: '+15557770001', to: '+15556660001', pdf: inbound, pages: 2, format: 'json' });
    assert.equal(bad.status, 403);
  });
});

describe('sinch by URL with OAuth, no webhook guard (callbacks confirmed with the API), polling and the deadline', () => {
  const sim = new SinchSim({ ...creds, oauthOnly: true });
  let app: TestApp;
  let pdf: Uint8Array;
  let overdue: Promise<string>;
  before(async () => {
    app = await startCloudApp({
      env: await sinchEnv(sim, { SINCH_AUTH_METHOD: 'oauth', SINCH_DOCUMENT_MODE: 'url', SINCH_STATUS_POLL_SECONDS: '1', CLOUD_STATUS_DEADLINE_SECONDS: '4' }),
    });
    pdf = await makePdf(1);
  // Started first, so its deadline runs out while the other tests run.
    overdue = submit(app, '+15552220023', pdf);
  });
  after(async () => {
    await app?.close();
    await sim.close();
  });

  test('send by URL: Sinch fetches the tokenized PDF; an expired token is refused', async () => {
    const id = await submit(app, '+15552220020', pdf);
    const sent = await waitSent(app, id);
    const rec = sim.faxes.get(sent.provider_sid!)!;
    assert.equal(rec.fetched?.ok, true);
    assert.ok(sim.tokenRequests >= 1);
    await expireToken(app, id);
    assert.equal((await fetch(rec.fax.contentUrl!)).status, 403);
    await sim.complete(sent.provider_sid!, { status: 'COMPLETED', pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('an unauthenticated callback is only a hint: a forged COMPLETED does not finish a fax Sinch still has queued', async () => {
    const id = await submit(app, '+15552220021', pdf);
    const sent = await waitSent(app, id);
    const fax = { ...sim.faxes.get(sent.provider_sid!)!.fax, status: 'COMPLETED', numberOfPages: 1 };
    const forged = await postWebhook(`${app.url}/sinch-callback?job_id=${id}&attempt=1`, JSON.stringify({ event: 'FAX_COMPLETED', fax }), { 'content-type': 'application/json' });
    assert.equal(forged.status, 200);
    assert.equal(JSON.parse(forged.text).result, 'progress');
    assert.equal((await getJob(app, id)).status, 'in_progress');
    await sim.complete(sent.provider_sid!, { status: 'COMPLETED', pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('no callback: polling finds the final status', async () => {
    const id = await submit(app, '+15552220022', pdf);
    const sent = await waitSent(app, id);
    Object.assign(sim.faxes.get(sent.provider_sid!)!.fax, { status: 'COMPLETED', numberOfPages: 1 });
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'SUCCESS');
  });

  test('no final status before the deadline: failed with a clear error', async () => {
    const id = await overdue;
    const done = await waitFinal(app, id, 20_000);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /no final status from Sinch within 4 seconds \(last status "QUEUED"\)/);
  });

  test('inbound without a guard: the fax and its document are read from Sinch\'s API, not the body', async () => {
    const real = Buffer.from(await makePdf(1, 'real'));
    const r = await sim.incoming(`${app.url}/sinch-inbound`, { from: '+15557770002', to: '+15556660002', pdf: real, pages: 1, format: 'json' });
    assert.equal(r.status, 200, r.text);
    const { id } = JSON.parse(r.text) as { id: string };
    const row = await app.services.db.k.selectFrom('inbound_faxes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(readFileSync(join(app.dataDir, row.pdf_path!)), real);
    // An event naming a fax id Sinch does not know stores nothing.
    const forged = await postWebhook(`${app.url}/sinch-inbound`, JSON.stringify({ event: 'INCOMING_FAX', fax: { id: 'nope', status: 'COMPLETED', direction: 'INBOUND' } }), { 'content-type': 'application/json' });
    assert.equal(forged.status, 503);
    const n = await app.services.db.k.selectFrom('inbound_faxes').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 1);
  });
});

describe('sinch inbound with an HMAC secret', () => {
  const sim = new SinchSim(creds);
  const secret = 'sinch-hmac-secret';
  let app: TestApp;
  before(async () => {
    app = await startCloudApp({ env: await sinchEnv(sim, { SINCH_INBOUND_HMAC_SECRET: secret }) });
  });
  after(async () => {
    await app?.close();
    await sim.close();
  });

  test('signed over the exact raw body: accepted; the same JSON re-serialized is refused; no signature is 401', async () => {
    const pdf = Buffer.from(await makePdf(1, 'hmac'));
    const r = await sim.incoming(`${app.url}/sinch-inbound`, { from: '+15557770003', to: '+15556660003', pdf, pages: 1, format: 'json', hmacSecret: secret });
    assert.equal(r.status, 200, r.text);
    const fax = { id: 'fx-2', direction: 'INBOUND', from: '+15557770004', to: '+15556660004', status: 'COMPLETED', numberOfPages: 1 };
    const raw = JSON.stringify({ event: 'INCOMING_FAX', fax, file: pdf.toString('base64'), fileType: 'PDF' });
    const sig = createHmac('sha1', secret).update(raw).digest('hex');
    const again = JSON.stringify(JSON.parse(raw), null, 1);
    const re = await postWebhook(`${app.url}/sinch-inbound`, again, { 'content-type': 'application/json', 'x-sinch-signature': sig });
    assert.equal(re.status, 403);
    const none = await postWebhook(`${app.url}/sinch-inbound`, raw, { 'content-type': 'application/json' });
    assert.equal(none.status, 401);
    const ok = await postWebhook(`${app.url}/sinch-inbound`, raw, { 'content-type': 'application/json', 'x-sinch-signature': sig });
    assert.equal(ok.status, 200);
    const n = await app.services.db.k.selectFrom('inbound_faxes').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 2);
  });
});
