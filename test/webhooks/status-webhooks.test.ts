// Status webhooks for API clients: every status change, signed, in order, once; a receiver that is down for a
// while still gets them all; a slow one never delays the fax; bad callback URLs are refused with nothing stored.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { verifyWebhookSignature } from '../../src/webhooks/signature.js';
import { faxForm, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/db.js';

const SECRET = 'status-webhook-secret';

interface Received {
  eventId: string;
  sequence: number;
  status: string;
  signed: boolean;
}

/** A receiver that can be told to fail, hang or answer. */
class Receiver {
  server!: Server;
  url = '';
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  received: Received[] = [];
  attempts = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.attempts++;
        if (this.mode === 'hang') return;
        if (this.mode === 'fail') {
          res.writeHead(503).end();
          return;
        }
        const j = JSON.parse(body) as { event_id: string; sequence: number; job: { status: string } };
        this.received.push({
          eventId: j.event_id,
          sequence: j.sequence,
          status: j.job.status,
          signed: verifyWebhookSignature(SECRET, String(req.headers['x-faxbot-signature'] ?? ''), body),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/fax`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

async function send(app: TestApp, to: string, callbackUrl: string | null): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = faxForm(to, 'status webhook test');
  if (callbackUrl !== null) form.set('callback_url', callbackUrl);
  const r = await app.req('/fax', { method: 'POST', body: form });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

for (const dialect of DIALECTS) {
  describe(`status webhooks on ${dialect}`, () => {
    let app: TestApp;
    const rx = new Receiver();
    before(async () => {
      await rx.start();
      app = await startTestApp({
        dialect,
        env: {
          FAX_CALLBACK_SECRET: SECRET,
          FAX_CALLBACK_BACKOFF_SECONDS: '1',
          FAX_CALLBACK_BACKOFF_MAX_SECONDS: '1',
          FAX_CALLBACK_POLL_MS: '100',
          FAX_CALLBACK_TIMEOUT_SECONDS: '1',
          FAX_RETRY_BUSY: '2:0',
        },
      });
    });
    after(async () => {
      await app.close();
      await rx.stop();
    });

    test('every status change arrives once, in order, signed', async () => {
      rx.mode = 'ok';
      const r = await send(app, '+15551230001', rx.url);
      assert.equal(r.status, 202);
      const id = String(r.body.id);
      const mine = () => rx.received.filter((e) => e.eventId.startsWith(`${id}:`));
      await waitFor(async () => mine().some((e) => e.status === 'SUCCESS'), 15_000, 'the SUCCESS event');
      assert.deepEqual(mine().map((e) => [e.sequence, e.status]), [[1, 'queued'], [2, 'in_progress'], [3, 'SUCCESS']]);
      assert.ok(mine().every((e) => e.signed));
    });

    test('a receiver that is down for a while still gets every status change once, in order', async () => {
      rx.mode = 'fail';
      const r = await send(app, '+15551230002', rx.url); // busy, retried once, then FAILED
      const id = String(r.body.id);
      await waitFor(async () => (await app.services.jobs.get(id))?.status === 'FAILED', 15_000, 'the job to fail');
      const attemptsWhileDown = rx.attempts;
      assert.ok(attemptsWhileDown > 0);
      rx.mode = 'ok';
      const mine = () => rx.received.filter((e) => e.eventId.startsWith(`${id}:`));
      await waitFor(async () => mine().some((e) => e.status === 'FAILED'), 20_000, 'the FAILED event after the outage');
      await new Promise((res) => setTimeout(res, 500));
      assert.deepEqual(
        mine().map((e) => e.status),
        ['queued', 'in_progress', 'queued', 'in_progress', 'FAILED'],
      );
      assert.equal(new Set(mine().map((e) => e.eventId)).size, mine().length, 'no event twice');
      const rows = await app.services.db.k.selectFrom('webhook_deliveries').selectAll().where('subject', '=', id).orderBy('seq').execute();
      assert.ok(rows.every((w) => w.state === 'delivered'));
      assert.ok(rows[0]!.attempts > 1, 'the first event was retried');
    });

    test('a receiver that hangs never delays the fax', async () => {
      rx.mode = 'hang';
      const r = await send(app, '+15551230004', rx.url);
      const id = String(r.body.id);
      await waitFor(async () => (await app.services.jobs.get(id))?.status === 'SUCCESS', 10_000, 'the fax to go out while the receiver hangs');
      rx.mode = 'ok';
    });
  });
}

describe('callback_url validation', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { FAX_CALLBACK_SECRET: SECRET, FAX_CALLBACK_ALLOWED_HOSTS: 'hooks.example.org,.clinic.example' } });
  });
  after(() => app.close());

  const cases: [string, string, string][] = [
    ['not a URL', 'not a url', 'invalid_callback_url'],
    ['another scheme', 'ftp://hooks.example.org/x', 'invalid_callback_url'],
    ['credentials in the URL', 'https://user:pw@hooks.example.org/x', 'invalid_callback_url'],
    ['a host not allowed', 'http://169.254.169.254/latest/meta-data', 'callback_host_not_allowed'],
    ['a look-alike host', 'https://evilclinic.example/x', 'callback_host_not_allowed'],
  ];
  for (const [what, url, code] of cases) {
    test(`${what}: 400 ${code}, nothing stored`, async () => {
      const before = await app.services.db.k.selectFrom('fax_jobs').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
      const r = await send(app, '+15551230001', url);
      assert.equal(r.status, 400);
      assert.equal(r.body.code, code);
      const after = await app.services.db.k.selectFrom('fax_jobs').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n));
    });
  }

  test('allowed hosts and subdomains are accepted', async () => {
    assert.equal((await send(app, '+15551230001', 'https://hooks.example.org/fax')).status, 202);
    assert.equal((await send(app, '+15551230001', 'https://api.clinic.example/fax')).status, 202);
  });

  test('without FAX_CALLBACK_SECRET, callback_url is refused', async () => {
    const plain = await startTestApp();
    try {
      const form = faxForm('+15551230001', 'x');
      form.set('callback_url', 'https://hooks.example.org/x');
      const r = await plain.req('/fax', { method: 'POST', body: form });
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as { code: string }).code, 'callbacks_not_configured');
    } finally {
      await plain.close();
    }
  });
});
