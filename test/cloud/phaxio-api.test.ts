// FAX_BACKEND=phaxio through the public API against the fake Phaxio: send, signed callbacks, retries, polling, deadline, restart, inbound.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, createPgDatabase } from '../helpers/db.js';
import { makePdf } from '../helpers/docs.js';
import type { TestApp } from '../helpers/app.js';
import { multipartBytes, postWebhook } from '../sim/cloud-http.js';
import { phaxioSign, PhaxioSim, phpJson } from '../sim/phaxio/server.js';
import {
  assertCleanLogs, attempts, audits, expireToken, getJob, startCloudApp, submit, waitFinal, waitJob, waitSent,
} from './helpers.js';

const creds = { apiKey: 'phx-key-1', apiSecret: 'phx-secret-2', callbackToken: 'phx-webhook-token-3' };

function phaxioEnv(base: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    FAX_BACKEND: 'phaxio', PHAXIO_API_KEY: creds.apiKey, PHAXIO_API_SECRET: creds.apiSecret, PHAXIO_CALLBACK_TOKEN: creds.callbackToken,
    PHAXIO_BASE_URL: base, PHAXIO_VERIFY_SIGNATURE: 'true', PHAXIO_DOCUMENT_MODE: 'url', PHAXIO_STATUS_POLL_SECONDS: '0',
    FAX_RETRY_BUSY: '1:0', FAX_RETRY_NO_ANSWER: '1:0', FAX_RETRY_PROTOCOL: '1:0', ...extra,
  };
}

/** The fake's record of the fax a job was sent as. */
function faxOf(sim: PhaxioSim, providerSid: string | null) {
  const rec = sim.faxes.get(Number(providerSid));
  assert.ok(rec, `no fax ${providerSid} at the fake Phaxio`);
  return rec;
}

const faxesOfJob = (sim: PhaxioSim, jobId: string) => sim.sent.filter((r) => r.fax.tags.faxbot_job === jobId);

for (const dialect of DIALECTS) {
  describe(`phaxio main flows on ${dialect}`, () => {
    const sim = new PhaxioSim(creds);
    let app: TestApp;
    let pdf: Uint8Array;
    before(async () => {
      app = await startCloudApp({ dialect, env: phaxioEnv(await sim.start()) });
      pdf = await makePdf(2);
    });
    after(async () => {
      await app?.close();
      await sim.close();
    });

    test('send by URL: Phaxio fetches the tokenized PDF; a signed success callback finishes the job with its pages', async () => {
      const id = await submit(app, '+15551110001', pdf);
      const sent = await waitSent(app, id);
      const rec = faxOf(sim, sent.provider_sid);
      assert.match(rec.contentUrl ?? '', new RegExp(`^${app.url}/fax/${id}/pdf\\?token=[A-Za-z0-9_-]{43}$`));
      assert.equal(rec.fetched?.ok, true, rec.fetched?.reason);
      assert.equal(rec.fetched?.contentType, 'application/pdf');
      assert.deepEqual(rec.fetched?.bytes, readFileSync(join(app.dataDir, 'outbound', `${id}.pdf`)));
      assert.deepEqual(rec.fax.tags, { faxbot_job: id, faxbot_attempt: '1' });
      assert.equal(rec.callbackUrl, `${app.url}/phaxio-callback?job_id=${id}&attempt=1`);
      // Only the hash of the token is stored.
      const row = await app.services.jobs.get(id);
      const token = new URL(rec.contentUrl!).searchParams.get('token')!;
      assert.notEqual(row?.pdf_token_hash, token);
      assert.match(row?.pdf_token_hash ?? '', /^[0-9a-f]{64}$/);

      const r = await sim.complete(Number(sent.provider_sid), { status: 'success', pages: 2 });
      assert.equal(r.status, 200);
      const done = await waitFinal(app, id);
      assert.equal(done.status, 'SUCCESS');
      assert.equal(done.pages, 2);
      assert.equal(done.error, null);
      assert.equal(done.provider_sid, sent.provider_sid);
      assert.equal(done.backend, 'phaxio');
      assert.equal((await audits(app, 'document.served')).filter((a) => a.subject === id).length, 1);
      assertCleanLogs(app, ['5551110001', token, creds.apiSecret, creds.callbackToken]);
    });

    test('a failure callback fails the job with Phaxio\'s message and class (busy, no retry left)', async () => {
      const id = await submit(app, '+15551110002', pdf);
      const sent = await waitSent(app, id);
      await sim.complete(Number(sent.provider_sid), { status: 'failure', errorType: 'lineError', errorId: 17, errorMessage: 'Busy' });
      const done = await waitFinal(app, id);
      assert.equal(done.status, 'FAILED');
      assert.match(done.error ?? '', /Phaxio: Busy/);
      const [a] = await attempts(app, id);
      assert.equal(a?.failure_class, 'busy');
    });
  });
}

describe('phaxio on sqlite', () => {
  const sim = new PhaxioSim(creds);
  let app: TestApp;
  let pdf: Uint8Array;
  before(async () => {
    app = await startCloudApp({ env: phaxioEnv(await sim.start()) });
    pdf = await makePdf(1);
  });
  after(async () => {
    await app?.close();
    await sim.close();
  });

  test('a wrong signature is refused with 403 and changes nothing; a missing one with 401; both are audited', async () => {
    const id = await submit(app, '+15551110010', pdf);
    const sent = await waitSent(app, id);
    const fid = Number(sent.provider_sid);
    const bad = await sim.complete(fid, { status: 'success', pages: 1 }, { tamper: (f) => f.push(['extra', 'x']) });
    assert.equal(bad.status, 403);
    assert.equal(JSON.parse(bad.text).code, 'invalid_signature');
    // No signature at all.
    const { body, contentType } = multipartBytes([['fax', phpJson(faxOf(sim, sent.provider_sid).fax)], ['event_type', 'fax_completed']]);
    const missing = await postWebhook(`${app.url}/phaxio-callback?job_id=${id}&attempt=1`, body, { 'content-type': contentType });
    assert.equal(missing.status, 401);
    assert.equal(JSON.parse(missing.text).code, 'missing_signature');
    const j = await getJob(app, id);
    assert.equal(j.status, 'in_progress');
    assert.equal(j.pages, 1);
    const rejected = await audits(app, 'callback.rejected');
    assert.deepEqual(rejected.map((r) => r.data.reason).slice(-2), ['bad_signature', 'missing_signature']);
    assert.ok(!JSON.stringify(rejected).includes('x-phaxio-signature'));
    // The genuine callback still works.
    assert.equal((await sim.complete(fid, { status: 'success', pages: 1 })).status, 200);
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('the signature is checked over the bytes as received: the same fax JSON re-serialized does not pass', async () => {
    const id = await submit(app, '+15551110011', pdf);
    const sent = await waitSent(app, id);
    const failure = { status: 'failure' as const, errorType: 'lineError', errorId: 30, errorMessage: 'No answer / ring timeout' };
    // Phaxio escapes slashes in its JSON (PHP); JSON.stringify does not. Same data, different bytes.
    const r = await sim.complete(Number(sent.provider_sid), failure, {
      tamper: (f) => {
        assert.match(f[0]![1], /\\\//);
        f[0]![1] = JSON.stringify(JSON.parse(f[0]![1]));
      },
    });
    assert.equal(r.status, 403);
    assert.equal((await getJob(app, id)).status, 'in_progress');
    // The reference scheme signs the raw bytes: the same fields in a new multipart envelope do not pass either.
    const rec = faxOf(sim, sent.provider_sid);
    const fields: [string, string][] = [['fax', phpJson(rec.fax)], ['event_type', 'fax_completed']];
    const original = multipartBytes(fields, [], '----a');
    const sig = createHmac('sha256', creds.apiSecret).update(original.body).digest('hex');
    const url = `${app.url}/phaxio-callback?job_id=${id}&attempt=1`;
    const reserialized = multipartBytes(fields, [], '----b');
    assert.equal((await postWebhook(url, reserialized.body, { 'content-type': reserialized.contentType, 'x-phaxio-signature': sig })).status, 403);
    assert.equal((await getJob(app, id)).status, 'in_progress');
    assert.equal((await postWebhook(url, original.body, { 'content-type': original.contentType, 'x-phaxio-signature': sig })).status, 200);
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /No answer \/ ring timeout/);
  });

  test('the reference scheme (hex HMAC-SHA256 of the raw body with the API secret) is accepted too', async () => {
    const id = await submit(app, '+15551110012', pdf);
    const sent = await waitSent(app, id);
    const rec = faxOf(sim, sent.provider_sid);
    rec.fax.status = 'success';
    rec.fax.num_pages = 1;
    const { body, contentType } = multipartBytes([['fax', phpJson(rec.fax)], ['event_type', 'fax_completed']]);
    const sig = createHmac('sha256', creds.apiSecret).update(body).digest('hex');
    const r = await postWebhook(`${app.url}/phaxio-callback?job_id=${id}&attempt=1`, body, { 'content-type': contentType, 'x-phaxio-signature': sig });
    assert.equal(r.status, 200);
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('the document token: wrong → 403, expired → 403, unknown job → 404; never cached', async () => {
    const id = await submit(app, '+15551110013', pdf);
    const sent = await waitSent(app, id);
    const url = faxOf(sim, sent.provider_sid).contentUrl!;
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'application/pdf');
    assert.match(ok.headers.get('cache-control') ?? '', /no-store/);
    const wrong = await fetch(url.replace(/token=.*/, 'token=AAAA'));
    assert.equal(wrong.status, 403);
    assert.equal(((await wrong.json()) as { code: string }).code, 'invalid_token');
    assert.equal((await fetch(url.replace(/\?.*/, ''))).status, 403);
    assert.equal((await fetch(url.replace(id, randomUUID()))).status, 404);
    await expireToken(app, id);
    const expired = await fetch(url);
    assert.equal(expired.status, 403);
    assert.match(((await expired.json()) as { detail: string }).detail, /expired/);
    const denied = (await audits(app, 'document.denied')).filter((a) => a.subject === id).map((a) => a.data.reason);
    assert.deepEqual(denied, ['invalid', 'missing', 'expired']);
    assert.ok(!JSON.stringify(await audits(app, 'document.served')).includes('token='));
    // A document removed by cleanup: 404 with a clear detail (after a valid token).
    await app.services.store.remove(`outbound/${id}.pdf`);
    await app.services.db.k.updateTable('fax_jobs').set({ pdf_token_expires_at: new Date(Date.now() + 60_000).toISOString() }).where('id', '=', id).execute();
    const gone = await fetch(url);
    assert.equal(gone.status, 404);
    assert.equal(((await gone.json()) as { code: string }).code, 'document_gone');
    await sim.complete(Number(sent.provider_sid), { status: 'success', pages: 1 });
    await waitFinal(app, id);
  });

  test('provider 500, then success: the job is retried and ends SUCCESS with one fax at Phaxio', async () => {
    sim.sendScript.push({ kind: 'http', status: 500, body: { success: false, message: 'Internal Server Error', data: null } });
    const id = await submit(app, '+15551110014', pdf);
    const sent = await waitSent(app, id);
    assert.equal(faxesOfJob(sim, id).length, 1);
    const tries = await attempts(app, id);
    assert.equal(tries.length, 2);
    assert.equal(tries[0]?.failure_class, 'transient');
    assert.match(tries[0]?.error ?? '', /HTTP 500/);
    await sim.complete(Number(sent.provider_sid), { status: 'success', pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('provider 422: the job fails at once with Phaxio\'s own message', async () => {
    sim.sendScript.push({ kind: 'http', status: 422, body: { success: false, message: 'Phone number is not formatted correctly', data: null } });
    const id = await submit(app, '+15551110015', pdf);
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /Phone number is not formatted correctly/);
    assert.equal(faxesOfJob(sim, id).length, 0);
    assert.equal((await attempts(app, id)).length, 1);
  });

  test('a send whose answer is lost (timeout) but whose fax was created is found, not sent twice', async () => {
    sim.sendScript.push({ kind: 'lose' });
    const id = await submit(app, '+15551110016', pdf);
    const sent = await waitJob(app, id, (j) => j.provider_sid !== null && j.status === 'in_progress', 'adopted');
    const mine = faxesOfJob(sim, id);
    assert.equal(mine.length, 1, 'exactly one fax at Phaxio');
    assert.equal(String(mine[0]!.fax.id), sent.provider_sid);
    const tries = await attempts(app, id);
    assert.equal(tries.length, 2);
    assert.match(tries[0]?.error ?? '', /no answer within/);
    assert.match(tries[1]?.details ?? '', /"adopted_from_attempt":1/);
    // Its callback (tagged attempt 1) still reaches the job, through the provider id.
    assert.equal((await sim.complete(mine[0]!.fax.id, { status: 'success', pages: 1 })).status, 200);
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'SUCCESS');
  });

  test('replayed, backwards and unknown-job callbacks are answered 200, change nothing and are audited', async () => {
    const id = await submit(app, '+15551110017', pdf);
    const sent = await waitSent(app, id);
    const fid = Number(sent.provider_sid);
    await sim.complete(fid, { status: 'success', pages: 1 });
    const done = await waitFinal(app, id);
    const replay = await sim.complete(fid, { status: 'success', pages: 1 });
    assert.equal(replay.status, 200);
    assert.equal(JSON.parse(replay.text).result, 'ignored');
    const backwards = await sim.transmittingPage(fid, 1);
    assert.equal(backwards.status, 200);
    const flip = await sim.complete(fid, { status: 'failure', errorType: 'faxError', errorId: 0, errorMessage: 'x' });
    assert.equal(flip.status, 200);
    const after = await getJob(app, id);
    assert.deepEqual({ ...after }, { ...done });
    // A callback for a job we never had.
    const ghost = randomUUID();
    const url = `${app.url}/phaxio-callback?job_id=${ghost}&attempt=1`;
    const fields: [string, string][] = [['fax', phpJson({ id: 4242, status: 'success', num_pages: 1, direction: 'sent', tags: {} })], ['event_type', 'fax_completed']];
    const { body, contentType } = multipartBytes(fields);
    const unknown = await postWebhook(url, body, { 'content-type': contentType, 'x-phaxio-signature': phaxioSign(creds.callbackToken, url, fields, []) });
    assert.equal(unknown.status, 200);
    const ignored = await audits(app, 'callback.ignored');
    const reasons = ignored.filter((a) => a.subject === id).map((a) => a.data.reason);
    assert.deepEqual(reasons, ['replay', 'final_job', 'final_job']);
    assert.ok(ignored.some((a) => a.subject === null && a.data.reason === 'unknown_job'));
  });

  test('transmitting_page callbacks record progress; the admin refresh asks Phaxio at once', async () => {
    const id = await submit(app, '+15551110018', pdf);
    const sent = await waitSent(app, id);
    const fid = Number(sent.provider_sid);
    assert.equal((await sim.transmittingPage(fid, 1)).status, 200);
    await waitJob(app, id, (j) => j.status === 'in_progress', 'still going');
    const rec = faxOf(sim, sent.provider_sid);
    rec.fax.status = 'success';
    rec.fax.num_pages = 1;
    const res = await app.req(`/admin/fax-jobs/${id}/refresh`, { method: 'POST' });
    assert.equal(res.status, 200);
    const j = (await res.json()) as { status: string; pages: number };
    assert.equal(j.status, 'SUCCESS');
    assert.equal(j.pages, 1);
    // Refreshing a final job answers it as it is; an unknown job is 404.
    assert.equal((await app.req(`/admin/fax-jobs/${id}/refresh`, { method: 'POST' })).status, 200);
    assert.equal((await app.req(`/admin/fax-jobs/${randomUUID()}/refresh`, { method: 'POST' })).status, 404);
  });

  test('received faxes: the signed webhook stores the PDF once; a second delivery is a duplicate; a bad signature is refused', async () => {
    const inbound = await makePdf(3, 'received');
    const r = await sim.receive(`${app.url}/phaxio-inbound`, { from: '+15559990001', to: '+15558880001', pdf: Buffer.from(inbound), pages: 3 });
    assert.equal(r.status, 200, r.text);
    const first = JSON.parse(r.text) as { id: string; duplicate: boolean };
    assert.equal(first.duplicate, false);
    const row = await app.services.db.k.selectFrom('inbound_faxes').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
    assert.equal(row.source, 'phaxio');
    assert.equal(row.source_uid, String(r.id));
    assert.equal(row.pages, 3);
    assert.equal(row.status, 'received');
    assert.deepEqual(readFileSync(join(app.dataDir, row.pdf_path!)), Buffer.from(inbound));
    // Phaxio retries the same webhook: nothing new.
    const rec = sim.faxes.get(r.id)!;
    const fields: [string, string][] = [['fax', phpJson(rec.fax)], ['direction', 'received'], ['is_test', 'false'], ['event_type', 'fax_received']];
    const files = [{ name: 'file', filename: 'f.pdf', type: 'application/pdf', data: Buffer.from(inbound) }];
    const url = `${app.url}/phaxio-inbound`;
    const again = multipartBytes(fields, files);
    const dup = await postWebhook(url, again.body, { 'content-type': again.contentType, 'x-phaxio-signature': phaxioSign(creds.callbackToken, url, fields, files) });
    assert.equal(dup.status, 200);
    assert.deepEqual(JSON.parse(dup.text), { status: 'ok', id: first.id, duplicate: true });
    const bad = await postWebhook(url, again.body, { 'content-type': again.contentType, 'x-phaxio-signature': 'f'.repeat(40) });
    assert.equal(bad.status, 403);
    const n = await app.services.db.k.selectFrom('inbound_faxes').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 1);
    assertCleanLogs(app, ['5559990001', '5558880001']);
  });
});

describe('phaxio upload, polling and the status deadline', () => {
  const sim = new PhaxioSim(creds);
  let app: TestApp;
  let pdf: Uint8Array;
  let overdue: Promise<string>;
  before(async () => {
    app = await startCloudApp({
      env: phaxioEnv(await sim.start(), { PHAXIO_DOCUMENT_MODE: 'upload', PHAXIO_STATUS_POLL_SECONDS: '1', CLOUD_STATUS_DEADLINE_SECONDS: '4' }),
    });
    pdf = await makePdf(2);
  // Started first, so its deadline runs out while the other tests run.
    overdue = submit(app, '+15551110022', pdf);
  });
  after(async () => {
    await app?.close();
    await sim.close();
  });

  test('upload: the PDF travels as a file part named after the job, no content_url', async () => {
    const id = await submit(app, '+15551110020', pdf);
    const sent = await waitSent(app, id);
    const rec = faxOf(sim, sent.provider_sid);
    assert.equal(rec.contentUrl, null);
    assert.equal(rec.upload?.filename, `${id}.pdf`);
    assert.deepEqual(rec.upload?.data, Buffer.from(pdf));
    await sim.complete(Number(sent.provider_sid), { status: 'success', pages: 2 });
    assert.equal((await waitFinal(app, id)).pages, 2);
  });

  test('no callback comes: polling finds the final status', async () => {
    const id = await submit(app, '+15551110021', pdf);
    const sent = await waitSent(app, id);
    const rec = faxOf(sim, sent.provider_sid);
    rec.fax.status = 'failure';
    rec.fax.error_type = 'lineError';
    rec.fax.error_id = 34;
    rec.fax.error_message = 'Phone number not operational';
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /not operational/);
    assert.ok(sim.requests.some((r) => r.method === 'GET' && r.path === `/v2.1/faxes/${sent.provider_sid}`));
  });

  test('no final status before the deadline: the job fails with a clear error, never in progress forever', async () => {
    const id = await overdue;
    const done = await waitFinal(app, id, 20_000);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /no final status from Phaxio within 4 seconds \(last status "queued"\); the fax may still be sent, so it is not retried/);
    const [a] = await attempts(app, id);
    assert.equal(a?.failure_class, 'unknown');
  });
});

describe('phaxio with PHAXIO_VERIFY_SIGNATURE=false', () => {
  const sim = new PhaxioSim(creds);
  let app: TestApp;
  before(async () => {
    app = await startCloudApp({ env: phaxioEnv(await sim.start(), { PHAXIO_VERIFY_SIGNATURE: 'false' }) });
  });
  after(async () => {
    await app?.close();
    await sim.close();
  });

  test('an unsigned callback is only a hint: the status is read from Phaxio, a forged "success" changes nothing', async () => {
    const id = await submit(app, '+15551110050', await makePdf(1));
    const sent = await waitSent(app, id);
    const fax = { ...faxOf(sim, sent.provider_sid).fax, status: 'success', num_pages: 1 };
    const { body, contentType } = multipartBytes([['fax', phpJson(fax)], ['event_type', 'fax_completed']]);
    const url = `${app.url}/phaxio-callback?job_id=${id}&attempt=1`;
    const forged = await postWebhook(url, body, { 'content-type': contentType });
    assert.equal(forged.status, 200);
    assert.equal(JSON.parse(forged.text).result, 'progress');
    assert.equal((await getJob(app, id)).status, 'in_progress');
    await sim.complete(Number(sent.provider_sid), { status: 'success', pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });
});

describe('phaxio: a restart while a fax is in flight', () => {
  for (const dialect of DIALECTS) {
    test(`on ${dialect}: the new process asks Phaxio and settles the job (and a late callback is still applied)`, async () => {
      const sim = new PhaxioSim(creds);
      const base = await sim.start();
      const dataDir = mkdtempSync(join(tmpdir(), 'faxbot-phx-restart-'));
      const pg = dialect === 'postgres' ? await createPgDatabase() : null;
      const env = phaxioEnv(base);
      const opts = { dataDir, env, ...(pg ? { databaseUrl: pg.url } : {}) };
      let app = await startCloudApp(opts);
      const port = app.port;
      try {
        const pdf = await makePdf(1);
        const a = await submit(app, '+15551110030', pdf);
        const b = await submit(app, '+15551110031', pdf);
        const sa = await waitSent(app, a);
        const sb = await waitSent(app, b);
        await app.close();
        // While we were down: fax a finished, fax b is still going.
        const ra = faxOf(sim, sa.provider_sid);
        ra.fax.status = 'success';
        ra.fax.num_pages = 1;
        app = await startCloudApp({ ...opts, port });
        const da = await waitFinal(app, a);
        assert.equal(da.status, 'SUCCESS');
        assert.equal(da.pages, 1);
        assert.equal((await getJob(app, b)).status, 'in_progress');
        assert.equal((await audits(app, 'dispatcher.reconcile')).length >= 1, true);
        await sim.complete(Number(sb.provider_sid), { status: 'success', pages: 1 });
        assert.equal((await waitFinal(app, b)).status, 'SUCCESS');
        assert.equal(sim.sent.length, 2, 'nothing was sent again');
      } finally {
        await app.close();
        await sim.close();
        await pg?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }
});

describe('phaxio start-up', () => {
  test('ENFORCE_PUBLIC_HTTPS=true refuses an http:// PUBLIC_API_URL with a clear message', async () => {
    await assert.rejects(
      startCloudApp({ env: { ...phaxioEnv('http://127.0.0.1:9'), ENFORCE_PUBLIC_HTTPS: 'true' } }),
      /PUBLIC_API_URL: must be an https:\/\/ URL when ENFORCE_PUBLIC_HTTPS=true/,
    );
  });

  test('missing credentials: readiness names them and jobs wait in the queue', async () => {
    const app = await startCloudApp({ env: { FAX_BACKEND: 'phaxio', PHAXIO_API_KEY: '', PHAXIO_API_SECRET: '' } });
    try {
      const r = await app.req('/health/ready');
      assert.equal(r.status, 503);
      const body = (await r.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
      assert.match(body.checks.backend?.detail ?? '', /PHAXIO_API_KEY, PHAXIO_API_SECRET/);
      const id = await submit(app, '+15551110040', await makePdf(1));
      const { waitFor } = await import('../helpers/app.js');
      await waitFor(async () => (await attempts(app, id)).some((a) => a.outcome === 'aborted' && /not configured/.test(a.error ?? '')), 10_000, 'attempt given back');
      assert.equal((await getJob(app, id)).status, 'queued');
      assert.ok(existsSync(join(app.dataDir, 'outbound', `${id}.pdf`)));
    } finally {
      await app.close();
    }
  });
});
