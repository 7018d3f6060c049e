// The inbound API over HTTP: filters, stable pagination, masking by scope, PDF tokens, routing, retention; SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIALECTS } from '../helpers/db.js';
import { makePdf } from '../helpers/docs.js';
import { TIFF_FIXTURES, auditTypes, startInboundApp, type InboundTestApp } from './helpers.js';

interface Out {
  id: string;
  fr: string | null;
  to: string | null;
  status: string;
  pages: number | null;
  mailbox: string | null;
  received_at: string;
  pdf_url?: string | null;
  remote_station_id: string | null;
}

for (const dialect of DIALECTS) {
  describe(`inbound API on ${dialect}`, () => {
    let app: InboundTestApp;
    let listOnly = '';
    let reader = '';
    let sender = '';
    const ids: string[] = [];
    const t0 = Date.parse('2026-11-01T10:00:00.000Z');

    before(async () => {
      app = await startInboundApp({ dialect, env: { INBOUND_WATCH: 'false', INBOUND_ROUTES: '+15551230000=billing,+1555123*=clinic,*=general' } });
      listOnly = (await app.services.apiKeys.create({ name: 'list', scopes: ['inbound:list'] })).token;
      reader = (await app.services.apiKeys.create({ name: 'reader', scopes: ['inbound:list', 'inbound:read'] })).token;
      sender = (await app.services.apiKeys.create({ name: 'sender', scopes: ['fax:send'] })).token;
      const tiff = await readFile(join(TIFF_FIXTURES, 'received.tif'));
      const pdf = await makePdf(3);
      // Seven faxes, two of them at the same instant (pagination must still not skip or repeat).
      const specs = [
        { to: '+15551230000', from: '+15550000001', at: 0, doc: { kind: 'tiff-bytes' as const, bytes: tiff } },
        { to: '+15551239999', from: '+15550000002', at: 1, doc: { kind: 'pdf' as const, bytes: pdf } },
        { to: '15551230000', from: '+15550000003', at: 2, doc: { kind: 'none' as const }, success: false },
        { to: '+19998887777', from: '+15550000001', at: 3, doc: { kind: 'pdf' as const, bytes: pdf } },
        { to: '+15551230000', from: '+15550000004', at: 3, doc: { kind: 'pdf' as const, bytes: pdf } },
        { to: '+15551230001', from: '+15550000005', at: 4, doc: { kind: 'pdf' as const, bytes: pdf } },
        { to: '+15551230000', from: '+15550000006', at: 5, doc: { kind: 'pdf' as const, bytes: pdf } },
      ];
      for (const [i, s] of specs.entries()) {
        const { fax } = await app.services.inbound.ingest({
          source: 'test',
          sourceUid: `api-${i}`,
          via: 'callback',
          toNumber: s.to,
          fromNumber: s.from,
          success: s.success ?? true,
          remoteStationId: s.from,
          receivedAt: new Date(t0 + s.at * 86_400_000),
          document: s.doc,
        });
        ids.push(fax.id);
      }
    });
    after(() => app.close());

    const get = async (path: string, key: string | null) => {
      const res = await app.req(path, { key });
      return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
    };

    test('newest first; limit and cursor walk every record exactly once, even with equal timestamps', async () => {
      const seen: string[] = [];
      let next: string | null = '/inbound?limit=2';
      let pages = 0;
      while (next) {
        const r = await get(next, reader);
        assert.equal(r.status, 200);
        const items = r.body as Out[];
        assert.ok(items.length <= 2);
        seen.push(...items.map((i) => i.id));
        const cursor = r.headers.get('X-Next-Cursor');
        if (cursor) assert.match(String(r.headers.get('Link')), /rel="next"/);
        next = cursor ? `/inbound?limit=2&cursor=${cursor}` : null;
        pages++;
      }
      assert.equal(pages, 4);
      assert.equal(new Set(seen).size, 7);
      const all = (await get('/inbound?limit=200', reader)).body as Out[];
      assert.deepEqual(seen, all.map((i) => i.id));
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.received_at >= all[i]!.received_at);
    });

    test('filters: to_number (with or without +), from_number, status, date range, mailbox', async () => {
      const q = async (qs: string) => ((await get(`/inbound?${qs}`, reader)).body as Out[]).map((i) => i.id).sort();
      assert.deepEqual(await q('to_number=%2B15551230000'), [ids[0]!, ids[2]!, ids[4]!, ids[6]!].sort());
      assert.deepEqual(await q('to_number=15551230000'), await q('to_number=%2B15551230000'));
      assert.deepEqual(await q('from_number=%2B15550000001'), [ids[0]!, ids[3]!].sort());
      assert.deepEqual(await q('status=FAILED'), [ids[2]!]);
      assert.deepEqual(await q('since=2026-11-03T00:00:00Z&until=2026-11-05'), [ids[2]!, ids[3]!, ids[4]!].sort());
      assert.deepEqual(await q('mailbox=clinic'), [ids[1]!, ids[5]!].sort());
      assert.deepEqual(await q('mailbox=general'), [ids[3]!]);
    });

    test('bad query values: 400 naming the field', async () => {
      for (const [qs, field] of [
        ['limit=0', 'query.limit'],
        ['limit=201', 'query.limit'],
        ['since=yesterday', 'query.since'],
        ['status=done', 'query.status'],
      ]) {
        const r = await get(`/inbound?${qs}`, reader);
        assert.equal(r.status, 400, qs);
        assert.match(String((r.body as { detail: string }).detail), new RegExp(field!.replace('.', '\\.')));
      }
      const bad = await get('/inbound?cursor=garbage', reader);
      assert.equal(bad.status, 400);
      assert.equal((bad.body as { code: string }).code, 'invalid_cursor');
    });

    test('numbers are masked for a key with inbound:list but not inbound:read', async () => {
      const masked = (await get('/inbound?limit=200', listOnly)).body as Out[];
      const full = (await get('/inbound?limit=200', reader)).body as Out[];
      const m = masked.find((i) => i.id === ids[0])!;
      const f = full.find((i) => i.id === ids[0])!;
      assert.equal(f.fr, '+15550000001');
      assert.equal(m.fr, '+*******0001');
      assert.equal(m.to, '+*******0000');
      assert.equal(m.remote_station_id, '+*******0001');
      assert.ok(!JSON.stringify(masked).includes('5550000001'));
    });

    test('scopes: list needs inbound:list, one record needs inbound:read', async () => {
      assert.equal((await get('/inbound', sender)).status, 403);
      assert.equal((await get('/inbound', null)).status, 401);
      assert.equal((await get(`/inbound/${ids[0]!}`, listOnly)).status, 403);
      const r = await get(`/inbound/${ids[0]!}`, reader);
      assert.equal(r.status, 200);
      assert.equal((r.body as Out).mailbox, 'billing');
      assert.equal((await get('/inbound/00000000-0000-0000-0000-000000000000', reader)).status, 404);
    });

    test('PDF by token: the link from GET /inbound/{id} works without a key; wrong, expired, other record → 403', async () => {
      const one = (await get(`/inbound/${ids[0]!}`, reader)).body as Out;
      const url = new URL(String(one.pdf_url));
      assert.equal(url.pathname, `/inbound/${ids[0]!}/pdf`);
      const token = url.searchParams.get('token')!;
      const ok = await fetch(`${app.url}${url.pathname}${url.search}`);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('content-type'), 'application/pdf');
      assert.equal(Buffer.from(await ok.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');

      const wrong = await fetch(`${app.url}/inbound/${ids[0]!}/pdf?token=${'x'.repeat(43)}`);
      assert.equal(wrong.status, 403);
      assert.equal(((await wrong.json()) as { code: string }).code, 'invalid_token');

      const other = await fetch(`${app.url}/inbound/${ids[1]!}/pdf?token=${token}`);
      assert.equal(other.status, 403, 'a token opens only its own fax');

      const unknown = await fetch(`${app.url}/inbound/00000000-0000-0000-0000-000000000000/pdf?token=${token}`);
      assert.equal(unknown.status, 404);

      await app.services.db.k.updateTable('inbound_pdf_tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).execute();
      const expired = await fetch(`${app.url}${url.pathname}${url.search}`);
      assert.equal(expired.status, 403);
      assert.equal(((await expired.json()) as { code: string }).code, 'token_expired');
      const refused = (await auditTypes(app, 'inbound.pdf_refused')).map((e) => JSON.parse(e.data!).reason as string);
      assert.ok(refused.includes('expired') && refused.includes('invalid'));
      assert.ok(!(await auditTypes(app)).some((e) => (e.data ?? '').includes(token)), 'tokens never reach the audit');
    });

    test('the token is stored hashed only', async () => {
      const one = (await get(`/inbound/${ids[1]!}`, reader)).body as Out;
      const token = new URL(String(one.pdf_url)).searchParams.get('token')!;
      const rows = await app.services.db.k.selectFrom('inbound_pdf_tokens').selectAll().execute();
      assert.ok(rows.length > 0);
      assert.ok(!JSON.stringify(rows).includes(token));
    });

    test('PDF by API key: inbound:read yes, inbound:list alone no, no key 401', async () => {
      const r = await app.req(`/inbound/${ids[1]!}/pdf`, { key: reader });
      assert.equal(r.status, 200);
      assert.equal((await app.req(`/inbound/${ids[1]!}/pdf`, { key: listOnly })).status, 403);
      assert.equal((await app.req(`/inbound/${ids[1]!}/pdf`, { key: null })).status, 401);
      assert.equal((await app.req('/inbound/00000000-0000-0000-0000-000000000000/pdf', { key: reader })).status, 404);
      const none = await app.req(`/inbound/${ids[2]!}/pdf`, { key: reader });
      assert.equal(none.status, 404);
      assert.equal(((await none.json()) as { code: string }).code, 'no_document');
    });

    test('cloud providers (InboundSink.receive): stored once; a TIFF is converted; a failure without document is recorded', async () => {
      const sink = app.services.inboundSink;
      const pdf = Buffer.from(await makePdf(2));
      const first = await sink.receive({ source: 'phaxio', sourceUid: 'px-1', to: '+15551230000', from: '+15550000009', pages: 2, pdf, status: 'received', error: null });
      const again = await sink.receive({ source: 'phaxio', sourceUid: 'px-1', to: '+15551230000', from: '+15550000009', pages: 2, pdf, status: 'received', error: null });
      assert.equal(first.duplicate, false);
      assert.deepEqual(again, { id: first.id, duplicate: true });
      const row = await app.services.inbound.store.get(first.id);
      assert.equal(row!.status, 'received');
      assert.equal(row!.mailbox, 'billing');
      assert.deepEqual(await readFile(join(app.dataDir, row!.pdf_path!)), pdf);
      const tiff = await sink.receive({ source: 'signalwire', sourceUid: 'sw-1', to: null, from: null, pages: null, pdf: await readFile(join(TIFF_FIXTURES, 'sample-2page.tif')), status: 'received', error: null });
      const trow = await app.services.inbound.store.get(tiff.id);
      assert.equal(trow!.pages, 2);
      assert.ok(trow!.pdf_path && trow!.tiff_path);
      const failed = await sink.receive({ source: 'sinch', sourceUid: 'sn-1', to: null, from: null, pages: null, pdf: null, status: 'failed', error: 'Sinch delivered no document for this fax' });
      const frow = await app.services.inbound.store.get(failed.id);
      assert.equal(frow!.status, 'FAILED');
      assert.match(String(frow!.error), /^Sinch delivered no document for this fax/);
    });

    test('retention: documents older than INBOUND_RETENTION_DAYS are removed, the record stays with a note', async () => {
      const { fax } = await app.services.inbound.ingest({
        source: 'test',
        sourceUid: 'retention-1',
        via: 'callback',
        success: true,
        receivedAt: new Date(Date.now() - 40 * 86_400_000),
        document: { kind: 'tiff-bytes', bytes: await readFile(join(TIFF_FIXTURES, 'sample-2page.tif')) },
      });
      const pdfPath = join(app.dataDir, fax.pdf_path!);
      const tiffPath = join(app.dataDir, fax.tiff_path!);
      assert.ok(existsSync(pdfPath) && existsSync(tiffPath));
      const recent = ids[6]!;
      const cleaned = await app.services.inbound.retention.run();
      assert.ok(cleaned >= 1);
      assert.equal(existsSync(pdfPath), false);
      assert.equal(existsSync(tiffPath), false);
      const row = await app.services.inbound.store.get(fax.id);
      assert.equal(row!.pdf_path, null);
      assert.match(String(row!.note), /removed after 30 days/);
      assert.ok(row!.documents_removed_at);
      const gone = await app.req(`/inbound/${fax.id}/pdf`, { key: reader });
      assert.equal(gone.status, 410);
      assert.equal(((await gone.json()) as { code: string }).code, 'document_removed');
      const ev = (await auditTypes(app, 'inbound.documents_removed')).filter((e) => e.subject === fax.id);
      assert.equal(ev.length, 1);
      // Recent faxes keep their PDF.
      assert.equal((await app.req(`/inbound/${recent}/pdf`, { key: reader })).status, 200);
      const listedAfter = (await get(`/inbound/${fax.id}`, reader)).body as Out & { has_pdf: boolean };
      assert.equal(listedAfter.has_pdf, false);
      assert.equal(listedAfter.pdf_url, null);
    });
  });
}
