// FAX_BACKEND=signalwire through the public API against the fake SignalWire: MediaUrl sends, Twilio-style signed callbacks, polling, inbound.
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
import { SignalWireSim, twilioSign } from '../sim/signalwire/server.js';
import { attempts, audits, expireToken, getJob, startCloudApp, submit, waitFinal, waitSent } from './helpers.js';

const opts = { projectId: 'sw-project-1', apiToken: 'sw-token-1', signingKey: 'sw-signing-key-1', numbers: ['+15550001000'] };

async function swEnv(sim: SignalWireSim, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    FAX_BACKEND: 'signalwire', SIGNALWIRE_SPACE_URL: await sim.start(), SIGNALWIRE_PROJECT_ID: opts.projectId, SIGNALWIRE_API_TOKEN: opts.apiToken,
    SIGNALWIRE_FAX_FROM_E164: opts.numbers[0]!, SIGNALWIRE_WEBHOOK_SIGNING_KEY: opts.signingKey, SIGNALWIRE_STATUS_POLL_SECONDS: '0',
    FAX_RETRY_BUSY: '1:0', FAX_RETRY_NO_ANSWER: '1:0', FAX_RETRY_PROTOCOL: '1:0', ...extra,
  };
}

const faxesOfJob = (sim: SignalWireSim, id: string) => [...sim.faxes.values()].filter((r) => (r.fax.media_url ?? '').includes(`/fax/${id}/pdf`));

/** The status parameters SignalWire posts for a fax. */
function statusParams(sid: string, status: string, extra: [string, string][] = []): [string, string][] {
  return [['AccountSid', opts.projectId], ['ApiVersion', 'v1'], ['FaxSid', sid], ['FaxStatus', status], ['NumPages', '1'], ...extra];
}

for (const dialect of DIALECTS) {
  describe(`signalwire main flows on ${dialect}`, () => {
    const sim = new SignalWireSim(opts);
    let app: TestApp;
    let pdf: Uint8Array;
    before(async () => {
      app = await startCloudApp({ dialect, env: await swEnv(sim) });
      pdf = await makePdf(3);
    });
    after(async () => {
      await app?.close();
      await sim.close();
    });

    test('SignalWire fetches the tokenized MediaUrl; the signed StatusCallback finishes the job', async () => {
      const id = await submit(app, '+15553330001', pdf);
      const sent = await waitSent(app, id);
      const rec = sim.faxes.get(sent.provider_sid!)!;
      assert.equal(rec.fetched?.ok, true, rec.fetched?.reason);
      assert.deepEqual(rec.fetched?.bytes, Buffer.from(pdf));
      assert.equal(rec.statusCallback, `${app.url}/signalwire-callback?job_id=${id}&attempt=1`);
      assert.equal(rec.fax.from, opts.numbers[0]);
      assert.equal((await sim.complete(sent.provider_sid!, { status: 'delivered', pages: 3 })).status, 200);
      const done = await waitFinal(app, id);
      assert.equal(done.status, 'SUCCESS');
      assert.equal(done.pages, 3);
      assert.equal(done.provider_sid, sent.provider_sid);
    });

    test('a busy StatusCallback fails the job', async () => {
      const id = await submit(app, '+15553330002', pdf);
      const sent = await waitSent(app, id);
      await sim.complete(sent.provider_sid!, { status: 'busy' });
      const done = await waitFinal(app, id);
      assert.equal(done.status, 'FAILED');
      assert.match(done.error ?? '', /SignalWire: line busy/);
    });
  });
}

describe('signalwire on sqlite', () => {
  const sim = new SignalWireSim(opts);
  let app: TestApp;
  let pdf: Uint8Array;
  before(async () => {
    app = await startCloudApp({ env: await swEnv(sim) });
    pdf = await makePdf(1);
  });
  after(async () => {
    await app?.close();
    await sim.close();
  });

  test('wrong key → 403, no signature → 401, nothing changes; the explicit-port URL and X-Twilio-Signature are accepted', async () => {
    const id = await submit(app, '+15553330010', pdf);
    const sent = await waitSent(app, id);
    const bad = await sim.complete(sent.provider_sid!, { status: 'delivered', pages: 1 }, { key: 'not-the-key' });
    assert.equal(bad.status, 403);
    const url = `${app.url}/signalwire-callback?job_id=${id}&attempt=1`;
    const none = await postWebhook(url, new URLSearchParams(statusParams(sent.provider_sid!, 'delivered')).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(none.status, 401);
    assert.equal((await getJob(app, id)).status, 'in_progress');
    assert.deepEqual((await audits(app, 'callback.rejected')).map((a) => a.data.reason).slice(-2), ['bad_signature', 'missing_signature']);
    const ok = await sim.complete(sent.provider_sid!, { status: 'delivered', pages: 1 }, { explicitPort: true, header: 'x-twilio-signature' });
    assert.equal(ok.status, 200);
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('a body signed over its raw bytes (hex HMAC of URL + body) does not pass once re-serialized', async () => {
    const id = await submit(app, '+15553330011', pdf);
    const sent = await waitSent(app, id);
    const url = `${app.url}/signalwire-callback?job_id=${id}&attempt=1`;
    const params = statusParams(sent.provider_sid!, 'delivered');
    const raw = new URLSearchParams(params).toString();
    const sig = createHmac('sha1', opts.signingKey).update(url + raw).digest('hex');
    const reordered = new URLSearchParams([...params].reverse()).toString();
    const re = await postWebhook(url, reordered, { 'content-type': 'application/x-www-form-urlencoded', 'x-signalwire-signature': sig });
    assert.equal(re.status, 403);
    assert.equal((await getJob(app, id)).status, 'in_progress');
    const ok = await postWebhook(url, raw, { 'content-type': 'application/x-www-form-urlencoded', 'x-signalwire-signature': sig });
    assert.equal(ok.status, 200);
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('an expired document token is refused (and the fax then fails at SignalWire with its media error)', async () => {
    const id = await submit(app, '+15553330012', pdf);
    const sent = await waitSent(app, id);
    const url = sim.faxes.get(sent.provider_sid!)!.fax.media_url!;
    await expireToken(app, id);
    assert.equal((await fetch(url)).status, 403);
    await sim.complete(sent.provider_sid!, { status: 'failed', errorCode: '15002', errorMessage: 'Unable to fetch media' });
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /Unable to fetch media/);
    assert.equal((await attempts(app, id))[0]?.failure_class, 'document');
  });

  test('provider 500, then success: one fax at SignalWire', async () => {
    sim.sendScript.push({ kind: 'http', status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });
    const id = await submit(app, '+15553330013', pdf);
    const sent = await waitSent(app, id);
    assert.equal(faxesOfJob(sim, id).length, 1);
    await sim.complete(sent.provider_sid!, { status: 'delivered', pages: 1 });
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('provider 400: fails with SignalWire\'s message (numbers masked)', async () => {
    sim.sendScript.push({ kind: 'http', status: 400, body: { code: 21211, message: "The 'To' number +15553330014 is not a valid phone number.", status: 400 } });
    const id = await submit(app, '+15553330014', pdf);
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /is not a valid phone number\. \(code 21211\)/);
    assert.ok(!(done.error ?? '').includes('5553330014'));
  });

  test('a lost answer whose fax was created is found by its MediaUrl, not sent twice', async () => {
    sim.sendScript.push({ kind: 'lose' });
    const id = await submit(app, '+15553330015', pdf);
    const sent = await waitSent(app, id);
    const mine = faxesOfJob(sim, id);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.fax.sid, sent.provider_sid);
    assert.equal((await attempts(app, id)).length, 2);
    // Its StatusCallback still names attempt 1: it is applied through the provider id.
    assert.equal((await sim.complete(sent.provider_sid!, { status: 'delivered', pages: 1 })).status, 200);
    assert.equal((await waitFinal(app, id)).status, 'SUCCESS');
  });

  test('replayed, backwards and unknown-job callbacks: 200, no change, audited', async () => {
    const id = await submit(app, '+15553330016', pdf);
    const sent = await waitSent(app, id);
    await sim.complete(sent.provider_sid!, { status: 'delivered', pages: 1 });
    const done = await waitFinal(app, id);
    assert.equal((await sim.complete(sent.provider_sid!, { status: 'delivered', pages: 1 })).status, 200);
    const url = `${app.url}/signalwire-callback?job_id=${id}&attempt=1`;
    const back = statusParams(sent.provider_sid!, 'sending');
    assert.equal((await postWebhook(url, new URLSearchParams(back).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-signalwire-signature': twilioSign(opts.signingKey, url, back) })).status, 200);
    const ghostUrl = `${app.url}/signalwire-callback?job_id=${randomUUID()}&attempt=1`;
    const ghost = statusParams(randomUUID(), 'delivered');
    assert.equal((await postWebhook(ghostUrl, new URLSearchParams(ghost).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-signalwire-signature': twilioSign(opts.signingKey, ghostUrl, ghost) })).status, 200);
    assert.deepEqual(await getJob(app, id), done);
    assert.deepEqual((await audits(app, 'callback.ignored')).map((a) => a.data.reason).slice(-3), ['replay', 'final_job', 'unknown_job']);
  });

  test('inbound: the signed call webhook answers <Receive>; the result is downloaded with our credentials and stored once', async () => {
    const url = `${app.url}/signalwire-inbound`;
    const call: [string, string][] = [['AccountSid', opts.projectId], ['ApiVersion', 'v1'], ['FaxSid', 'call-1'], ['From', '+15554440001'], ['To', opts.numbers[0]!]];
    const laml = await postWebhook(url, new URLSearchParams(call).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-signalwire-signature': twilioSign(opts.signingKey, url, call) });
    assert.equal(laml.status, 200);
    const action = /<Receive action="([^"]+)"/.exec(laml.text)?.[1];
    assert.equal(action, `${app.url}/signalwire-inbound/received`);
    const unsigned = await postWebhook(url, new URLSearchParams(call).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(unsigned.status, 401);
    const doc = Buffer.from(await makePdf(2, 'inbound'));
    const r = await sim.receive(action!, { from: '+15554440001', to: opts.numbers[0]!, pdf: doc, pages: 2 });
    assert.equal(r.status, 200, r.text);
    const { id } = JSON.parse(r.text) as { id: string };
    const row = await app.services.db.k.selectFrom('inbound_faxes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.source, 'signalwire');
    assert.equal(row.source_uid, r.sid);
    assert.equal(row.pages, 2);
    assert.deepEqual(readFileSync(join(app.dataDir, row.pdf_path!)), doc);
    assert.deepEqual(sim.mediaRequests.at(-1), { authorized: true });
  });
});

describe('signalwire polling, deadline and restart', () => {
  const sim = new SignalWireSim(opts);
  let app: TestApp;
  let pdf: Uint8Array;
  let overdue: Promise<string>;
  before(async () => {
    app = await startCloudApp({ env: await swEnv(sim, { SIGNALWIRE_STATUS_POLL_SECONDS: '1', CLOUD_STATUS_DEADLINE_SECONDS: '4' }) });
    pdf = await makePdf(1);
  // Started first, so its deadline runs out while the other tests run.
    overdue = submit(app, '+15553330021', pdf);
  });
  after(async () => {
    await app?.close();
    await sim.close();
  });

  test('no callback: polling finds the final status', async () => {
    const id = await submit(app, '+15553330020', pdf);
    const sent = await waitSent(app, id);
    Object.assign(sim.faxes.get(sent.provider_sid!)!.fax, { status: 'no-answer' });
    const done = await waitFinal(app, id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error ?? '', /no answer/);
  });

  test('no final status before the deadline: failed with a clear error', async () => {
    const id = await overdue;
    const done = await waitFinal(app, id, 20_000);
    assert.match(done.error ?? '', /no final status from SignalWire within 4 seconds \(last status "queued"\)/);
  });

  test('restart mid-fax: reconciled from SignalWire', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'faxbot-sw-restart-'));
    const sim2 = new SignalWireSim(opts);
    const env = await swEnv(sim2);
    let a = await startCloudApp({ dataDir, env });
    try {
      const id = await submit(a, '+15553330022', pdf);
      const sent = await waitSent(a, id);
      await a.close();
      Object.assign(sim2.faxes.get(sent.provider_sid!)!.fax, { status: 'delivered', num_pages: '1' });
      a = await startCloudApp({ dataDir, env, port: a.port });
      const done = await waitFinal(a, id);
      assert.equal(done.status, 'SUCCESS');
      assert.equal(done.pages, 1);
      assert.equal(sim2.faxes.size, 1);
    } finally {
      await a.close();
      await sim2.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
