// POST /fax and GET /fax/{id} through real HTTP, on SQLite and on PostgreSQL: happy paths and every bad input.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIALECTS } from '../helpers/db.js';
import { faxForm, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { garbagePdf, makePdf, truncatedPdf } from '../helpers/docs.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'pdf', name));

async function jobCount(app: TestApp): Promise<number> {
  const r = await app.services.db.k.selectFrom('fax_jobs').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

function storedDocuments(app: TestApp): string[] {
  const dir = join(app.dataDir, 'outbound');
  return existsSync(dir) ? readdirSync(dir) : [];
}

async function post(app: TestApp, form: FormData, headers: Record<string, string> = {}, key?: string | null) {
  const res = await app.req('/fax', { method: 'POST', body: form, headers, ...(key !== undefined ? { key } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function finalJob(app: TestApp, id: string): Promise<Record<string, unknown>> {
  return waitFor(async () => {
    const j = (await (await app.req(`/fax/${id}`)).json()) as Record<string, unknown>;
    return ['SUCCESS', 'FAILED', 'disabled'].includes(String(j.status)) ? j : undefined;
  }, 15_000, `job ${id} to finish`);
}

for (const dialect of DIALECTS) {
  describe(`fax API on ${dialect}`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({ dialect, env: { FAX_RETRY_BUSY: '1:1', FAX_RETRY_NO_ANSWER: '1:1', FAX_MAX_PAGES: '5', MAX_FILE_SIZE_MB: '1' } });
    });
    after(() => app.close());

    test('a text file is rendered to PDF, queued with 202, and reaches SUCCESS', async () => {
      const r = await post(app, faxForm('+1 (555) 123-0001', 'Hello from the test suite\nSecond line\n', 'note.txt'));
      assert.equal(r.status, 202);
      assert.deepEqual(Object.keys(r.body).sort(), ['backend', 'created_at', 'error', 'id', 'pages', 'provider_sid', 'status', 'to', 'updated_at']);
      assert.equal(r.body.status, 'queued');
      assert.equal(r.body.to, '+15551230001');
      assert.equal(r.body.backend, 'sandbox');
      assert.equal(r.body.pages, 1);
      assert.match(String(r.body.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const done = await finalJob(app, String(r.body.id));
      assert.equal(done.status, 'SUCCESS');
      assert.equal(done.error, null);
      assert.equal(done.pages, 1);
      assert.equal(done.provider_sid, `sandbox-${String(r.body.id)}-1`);
      const stored = readFileSync(join(app.dataDir, 'outbound', `${String(r.body.id)}.pdf`));
      assert.equal(stored.subarray(0, 5).toString(), '%PDF-');
    });

    test('a PDF keeps its page count; a name or declared type does not decide the type', async () => {
      const r = await post(app, faxForm('+15551230001', await makePdf(3), 'scan.txt'));
      assert.equal(r.status, 202);
      assert.equal(r.body.pages, 3);
      assert.equal((await finalJob(app, String(r.body.id))).status, 'SUCCESS');
    });

    test('numbers ending 0002 fail busy and 0003 fail with no answer', async () => {
      const busy = await post(app, faxForm('+15551230002', 'x'));
      const noAnswer = await post(app, faxForm('+15551230003', 'x'));
      const b = await finalJob(app, String(busy.body.id));
      const n = await finalJob(app, String(noAnswer.body.id));
      assert.equal(b.status, 'FAILED');
      assert.match(String(b.error), /busy/);
      assert.equal(n.status, 'FAILED');
      assert.match(String(n.error), /no answer/);
    });

    const bad: [string, () => Promise<FormData>, number, string, RegExp][] = [
      ['a number with letters', async () => faxForm('+1555CALLNOW', 'x'), 400, 'invalid_number', /digits/],
      ['a number too short', async () => faxForm('12345', 'x'), 400, 'invalid_number', /6 to 20/],
      ['a number too long', async () => faxForm('+' + '1'.repeat(21), 'x'), 400, 'invalid_number', /6 to 20/],
      ['a missing number', async () => faxForm(null, 'x'), 400, 'missing_to', /"to"/],
      ['a missing file', async () => faxForm('+15551230001', null), 400, 'missing_file', /"file"/],
      ['an empty file', async () => faxForm('+15551230001', new Uint8Array(0)), 400, 'empty_file', /empty/],
      ['a binary file', async () => faxForm('+15551230001', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]), 'a.pdf'), 415, 'unsupported_media_type', /PDF and UTF-8 text/],
      ['a PNG named .pdf', async () => faxForm('+15551230001', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), 'a.pdf'), 415, 'unsupported_media_type', /PDF/],
      ['UTF-16 text', async () => faxForm('+15551230001', Buffer.from('\ufeffhello', 'utf16le'), 'a.txt'), 415, 'unsupported_media_type', /UTF-16/],
      ['invalid UTF-8', async () => faxForm('+15551230001', Buffer.from([0x68, 0xc3, 0x28, 0x0a])), 415, 'unsupported_media_type', /UTF-8/],
      ['a PDF that is not one', async () => faxForm('+15551230001', garbagePdf()), 400, 'pdf_malformed', /could not be parsed/],
      ['a truncated PDF', async () => faxForm('+15551230001', await truncatedPdf()), 400, 'pdf_malformed', /truncated/],
      ['an encrypted PDF', async () => faxForm('+15551230001', fixture('encrypted.pdf')), 400, 'pdf_encrypted', /encrypted/],
      ['an owner-password PDF', async () => faxForm('+15551230001', fixture('encrypted-owner-only.pdf')), 400, 'pdf_encrypted', /encrypted/],
      ['too many pages', async () => faxForm('+15551230001', await makePdf(6)), 400, 'too_many_pages', /6 pages; at most 5/],
      ['text that renders to too many pages', async () => faxForm('+15551230001', 'line\n'.repeat(400)), 400, 'too_many_pages', /at most 5/],
    ];
    for (const [what, form, status, code, detail] of bad) {
      test(`${what}: ${status} ${code}, nothing stored`, async () => {
        const jobsBefore = await jobCount(app);
        const docsBefore = storedDocuments(app).length;
        const r = await post(app, await form());
        assert.equal(r.status, status);
        assert.equal(r.body.code, code);
        assert.match(String(r.body.detail), detail);
        assert.equal(await jobCount(app), jobsBefore);
        assert.equal(storedDocuments(app).length, docsBefore);
      });
    }

    test('a JSON body instead of multipart is refused with 400', async () => {
      const res = await app.req('/fax', { method: 'POST', body: JSON.stringify({ to: '+15551230001' }), headers: { 'Content-Type': 'application/json' } });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { code: string }).code, 'multipart_required');
    });

    test('two files in one request are refused', async () => {
      const f = faxForm('+15551230001', 'x');
      f.append('file', new Blob([Buffer.from('y')]), 'b.txt');
      const before = await jobCount(app);
      const r = await post(app, f);
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'too_many_files');
      assert.equal(await jobCount(app), before);
    });

    test('an upload over MAX_FILE_SIZE_MB is refused with 413 and nothing stored', async () => {
      const before = await jobCount(app);
      const r = await post(app, faxForm('+15551230001', Buffer.alloc(1024 * 1024 + 10, 0x41)));
      assert.equal(r.status, 413);
      assert.equal(r.body.code, 'file_too_large');
      assert.match(String(r.body.detail), /1 MB limit/);
      assert.equal(await jobCount(app), before);
      assert.equal(storedDocuments(app).filter((n) => n.endsWith('.tmp')).length, 0);
    });

    test('Idempotency-Key: the same request twice makes one job and one call', async () => {
      const pdf = await makePdf(1);
      const first = await post(app, faxForm('+15551239001', pdf), { 'Idempotency-Key': 'order-42' });
      const second = await post(app, faxForm('+15551239001', pdf), { 'Idempotency-Key': 'order-42' });
      assert.equal(first.status, 202);
      assert.equal(second.status, 202);
      assert.equal(second.body.id, first.body.id);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      await finalJob(app, String(first.body.id));
      const attempts = await app.services.jobs.attempts(String(first.body.id));
      assert.equal(attempts.length, 1);
      const calls = readFileSync(join(app.dataDir, 'sandbox', 'calls.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.includes(String(first.body.id)) && l.includes('"placed"'));
      assert.equal(calls.length, 1);
    });

    test('Idempotency-Key: concurrent duplicates still make one job', async () => {
      const pdf = await makePdf(1);
      const results = await Promise.all(
        Array.from({ length: 8 }, () => post(app, faxForm('+15551239002', pdf), { 'Idempotency-Key': 'burst-1' })),
      );
      assert.ok(results.every((r) => r.status === 202));
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    });

    test('Idempotency-Key reused for a different fax is a 409 and stores nothing', async () => {
      await post(app, faxForm('+15551239003', 'first'), { 'Idempotency-Key': 'k-409' });
      const before = await jobCount(app);
      const r = await post(app, faxForm('+15551239003', 'second'), { 'Idempotency-Key': 'k-409' });
      assert.equal(r.status, 409);
      assert.equal(r.body.code, 'idempotency_key_reused');
      assert.equal(await jobCount(app), before);
    });

    test('Idempotency-Key is per API key', async () => {
      const other = await app.services.apiKeys.create({ name: 'other', scopes: ['fax:send', 'fax:read'] });
      const a = await post(app, faxForm('+15551239004', 'same'), { 'Idempotency-Key': 'shared' });
      const b = await post(app, faxForm('+15551239004', 'same'), { 'Idempotency-Key': 'shared' }, other.token);
      assert.notEqual(a.body.id, b.body.id);
    });

    test('a bad Idempotency-Key header is a 400', async () => {
      const r = await post(app, faxForm('+15551230001', 'x'), { 'Idempotency-Key': 'x'.repeat(300) });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'invalid_idempotency_key');
    });

    test('GET /fax/{id}: unknown ids and other keys\' jobs are 404; admin sees all', async () => {
      const alice = await app.services.apiKeys.create({ name: 'alice', scopes: ['fax:send', 'fax:read'] });
      const bob = await app.services.apiKeys.create({ name: 'bob', scopes: ['fax:send', 'fax:read'] });
      const job = await post(app, faxForm('+15551230001', 'alice fax'), {}, alice.token);
      assert.equal(job.status, 202);
      const id = String(job.body.id);
      assert.equal((await app.req(`/fax/${id}`, { key: alice.token })).status, 200);
      const asBob = await app.req(`/fax/${id}`, { key: bob.token });
      assert.equal(asBob.status, 404);
      assert.deepEqual(await asBob.json(), { detail: 'fax job not found', code: 'not_found' });
      assert.equal((await app.req(`/fax/${id}`)).status, 200);
      assert.equal((await app.req('/fax/00000000-0000-0000-0000-000000000000')).status, 404);
    });
  });
}

describe('FAX_DISABLED', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { FAX_DISABLED: 'true' } });
  });
  after(() => app.close());

  test('every new job ends disabled, is never dispatched, and keeps no document', async () => {
    const r = await post(app, faxForm('+15551230001', 'do not send'));
    assert.equal(r.status, 202);
    assert.equal(r.body.status, 'disabled');
    await new Promise((res) => setTimeout(res, 300));
    const j = (await (await app.req(`/fax/${String(r.body.id)}`)).json()) as Record<string, unknown>;
    assert.equal(j.status, 'disabled');
    assert.equal((await app.services.jobs.attempts(String(r.body.id))).length, 0);
    assert.equal(storedDocuments(app).length, 0);
  });
});
