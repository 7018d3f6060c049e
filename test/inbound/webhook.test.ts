// The inbound webhook: signature over the raw body, retries through a receiver outage and a service restart, never delaying ingest.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../helpers/app.js';
import { createPgDatabase, DIALECTS } from '../helpers/db.js';
import { backoffDelay } from '../../src/util/backoff.js';
import { signWebhook, verifyWebhookSignature } from '../../src/webhooks/signature.js';
import { TIFF_FIXTURES, auditTypes, startInboundApp } from './helpers.js';
import { freePort } from '../helpers/process.js';

const SECRET = 'whsec-test-0123456789';

interface Received {
  raw: string;
  signature: string;
  body: { event: string; event_id: string; attempt: number; fax: { id: string; pdf_url: string | null; fr: string | null; status: string } };
}

/** A client system's receiver: verifies each delivery like the README shows, records it, answers `status()`. */
async function receiver(port = 0, status: () => number = () => 200): Promise<{ server: Server; port: number; got: Received[]; hold: ServerResponse[] }> {
  const got: Received[] = [];
  const hold: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signature = String(req.headers['x-faxbot-signature'] ?? '');
      if (!verifyWebhookSignature(SECRET, signature, raw)) {
        res.statusCode = 401;
        res.end();
        return;
      }
      got.push({ raw, signature, body: JSON.parse(raw) as Received['body'] });
      const s = status();
      if (s === 0) {
        hold.push(res); // never answers: a hung receiver
        return;
      }
      res.statusCode = s;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port, got, hold };
}


const closeServer = (s: Server) =>
  new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });

describe('webhook signature', () => {
  test('t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">, verified in constant time, with a replay window', () => {
    const body = '{"event":"inbound.received"}';
    const t = Math.floor(Date.now() / 1000);
    const h = signWebhook(SECRET, body, t);
    assert.match(h, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(SECRET, h, body), true);
    assert.equal(verifyWebhookSignature(SECRET, h, body + ' '), false, 'a changed body fails');
    assert.equal(verifyWebhookSignature('other', h, body), false, 'another secret fails');
    assert.equal(verifyWebhookSignature(SECRET, signWebhook(SECRET, body, t - 3600), body), false, 'an old timestamp fails');
    assert.equal(verifyWebhookSignature(SECRET, `t=${t},v1=zz`, body), false);
    assert.equal(verifyWebhookSignature(SECRET, '', body), false);
  });

  test('backoff doubles from the base up to the cap (between half and all of it)', () => {
    const top = () => 1;
    assert.deepEqual([0, 1, 2, 3, 9].map((a) => backoffDelay(a, { initialMs: 1000, maxMs: 5000 }, top)), [1000, 2000, 4000, 5000, 5000]);
    assert.equal(backoffDelay(1, { initialMs: 1000, maxMs: 5000 }, () => 0), 1000);
  });
});

for (const dialect of DIALECTS) {
  describe(`inbound webhook on ${dialect}`, () => {
    let root = '';
    let db: { url: string; drop: () => Promise<void> } | null = null;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'faxbot-webhook-'));
      if (dialect === 'postgres') db = await createPgDatabase();
    });
    after(async () => {
      await rm(root, { recursive: true, force: true });
      await db?.drop();
    });

    test('a receiver down for a while (and a service restart meanwhile) still gets every notification, once', async () => {
      const port = await freePort();
      const opts = {
        dialect,
        root,
        dataDir: join(root, 'data'),
        ...(db ? { databaseUrl: db.url } : {}),
        env: {
          INBOUND_WATCH: 'false',
          INBOUND_WEBHOOK_URL: `http://127.0.0.1:${port}/faxes`,
          INBOUND_WEBHOOK_SECRET: SECRET,
          INBOUND_WEBHOOK_BACKOFF_SECONDS: '0.05',
          INBOUND_WEBHOOK_BACKOFF_MAX_SECONDS: '0.2',
          INBOUND_WEBHOOK_POLL_MS: '50',
          INBOUND_WEBHOOK_MAX_ATTEMPTS: '1000',
          PUBLIC_API_URL: 'https://fax.example.org',
        },
      };
      let app = await startInboundApp(opts);
      const tiff = await readFile(join(TIFF_FIXTURES, 'received.tif'));
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { fax } = await app.services.inbound.ingest({
          source: 'test',
          sourceUid: `wh-${i}`,
          via: 'callback',
          toNumber: '+15551230000',
          fromNumber: `+1555000000${i}`,
          success: i !== 2,
          document: i === 2 ? { kind: 'none' } : { kind: 'tiff-bytes', bytes: tiff },
        });
        ids.push(fax.id);
      }
      // Nobody listens: every fax fails a few deliveries and stays pending.
      await waitFor(async () => {
        const rows = await app.services.db.k.selectFrom('inbound_faxes').select(['notify_attempts', 'notify_state']).execute();
        return rows.every((r) => r.notify_state === 'pending' && r.notify_attempts >= 2);
      }, 15_000, 'failed deliveries');
      const before = await app.services.db.k.selectFrom('inbound_faxes').select(['id', 'notify_last_error']).execute();
      assert.ok(before.every((r) => r.notify_last_error === 'ECONNREFUSED'), JSON.stringify(before));
      await app.close();

      const rx = await receiver(port);
      app = await startInboundApp(opts);
      try {
        await waitFor(async () => {
          const rows = await app.services.db.k.selectFrom('inbound_faxes').select('notify_state').execute();
          return rows.every((r) => r.notify_state === 'delivered');
        }, 15_000, 'deliveries after the outage');
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(rx.got.map((g) => g.body.fax.id).sort(), [...ids].sort(), 'each fax exactly once');
        for (const g of rx.got) {
          assert.equal(g.body.event_id, `${g.body.fax.id}:${g.body.fax.status}`);
          assert.ok(g.body.attempt > 2);
        }
        const ok = rx.got.find((g) => g.body.fax.id === ids[0])!;
        assert.equal(ok.body.event, 'inbound.received');
        assert.equal(ok.body.fax.fr, '+15550000000');
        assert.match(String(ok.body.fax.pdf_url), /^https:\/\/fax\.example\.org\/inbound\/[0-9a-f-]+\/pdf\?token=[A-Za-z0-9_-]{43}$/);
        assert.ok(!ok.raw.includes('JVBER'), 'the document itself is never in the webhook');
        // The tokenized link in the webhook opens the PDF.
        const link = new URL(ok.body.fax.pdf_url!);
        const pdf = await fetch(`${app.url}${link.pathname}${link.search}`);
        assert.equal(pdf.status, 200);
        const failed = rx.got.find((g) => g.body.fax.id === ids[2])!;
        assert.equal(failed.body.event, 'inbound.failed');
        assert.equal(failed.body.fax.pdf_url, null);
        const notified = (await auditTypes(app, 'inbound.notified')).map((e) => e.subject).sort();
        assert.deepEqual(notified, [...ids].sort());
      } finally {
        await app.close();
        await closeServer(rx.server);
      }
    });
  });
}

describe('inbound webhook: slow and failing receivers', () => {
  test('a receiver that never answers does not delay ingest', async () => {
    const rx = await receiver(0, () => 0);
    const app = await startInboundApp({
      env: {
        INBOUND_WATCH: 'false',
        INBOUND_WEBHOOK_URL: `http://127.0.0.1:${rx.port}/faxes`,
        INBOUND_WEBHOOK_SECRET: SECRET,
        INBOUND_WEBHOOK_TIMEOUT_SECONDS: '30',
        INBOUND_WEBHOOK_POLL_MS: '50',
      },
    });
    try {
      const tiff = await readFile(join(TIFF_FIXTURES, 'received.tif'));
      await app.services.inbound.ingest({ source: 'test', sourceUid: 'slow-1', via: 'callback', success: true, document: { kind: 'tiff-bytes', bytes: tiff } });
      await waitFor(async () => rx.hold.length === 1, 10_000, 'the receiver holding a request');
      // While that request hangs, more faxes are ingested and finished.
      const { fax } = await app.services.inbound.ingest({ source: 'test', sourceUid: 'slow-2', via: 'callback', success: true, document: { kind: 'tiff-bytes', bytes: tiff } });
      assert.equal(fax.status, 'received');
      assert.equal(rx.hold.length, 1, 'the first delivery is still unanswered');
    } finally {
      for (const r of rx.hold) r.destroy();
      await app.close();
      await closeServer(rx.server);
    }
  });

  test('after INBOUND_WEBHOOK_MAX_ATTEMPTS the delivery is given up, recorded and audited', async () => {
    const rx = await receiver(0, () => 500);
    const app = await startInboundApp({
      env: {
        INBOUND_WATCH: 'false',
        INBOUND_WEBHOOK_URL: `http://127.0.0.1:${rx.port}/faxes`,
        INBOUND_WEBHOOK_SECRET: SECRET,
        INBOUND_WEBHOOK_BACKOFF_SECONDS: '0.02',
        INBOUND_WEBHOOK_POLL_MS: '20',
        INBOUND_WEBHOOK_MAX_ATTEMPTS: '3',
      },
    });
    try {
      const { fax } = await app.services.inbound.ingest({ source: 'test', sourceUid: 'give-up', via: 'callback', success: false, document: { kind: 'none' } });
      const row = await waitFor(async () => {
        const r = await app.services.inbound.store.get(fax.id);
        return r?.notify_state === 'failed' ? r : undefined;
      }, 10_000, 'given up');
      assert.equal(row.notify_attempts, 3);
      assert.equal(row.notify_last_error, 'HTTP 500');
      assert.equal(rx.got.length, 3);
      assert.equal((await auditTypes(app, 'inbound.notify_failed')).length, 1);
    } finally {
      await app.close();
      await closeServer(rx.server);
    }
  });

  test('a webhook URL without a secret refuses to start: deliveries are always signed', async () => {
    await assert.rejects(
      startInboundApp({ env: { INBOUND_WEBHOOK_URL: 'http://127.0.0.1:9/x' } }),
      /INBOUND_WEBHOOK_SECRET/,
    );
  });
});
