// /metrics moves as a fax goes through: jobs by status, attempts, pages, call durations, HTTP durations.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { faxForm, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { makePdf } from '../helpers/docs.js';

function value(text: string, line: RegExp): number {
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.split(' ').pop()) : 0;
}

describe('metrics', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('needs the metrics:read scope', async () => {
    assert.equal((await app.req('/metrics', { key: null })).status, 401);
    const k = await app.services.apiKeys.create({ name: 'fax only', scopes: ['fax:send'] });
    assert.equal((await app.req('/metrics', { key: k.token })).status, 403);
    const m = await app.services.apiKeys.create({ name: 'prometheus', scopes: ['metrics:read'] });
    const r = await app.req('/metrics', { key: m.token });
    assert.equal(r.status, 200);
    // As Prometheus sends it: Authorization: Bearer <key>.
    const bearer = await app.req('/metrics', { key: null, headers: { Authorization: `Bearer ${m.token}` } });
    assert.equal(bearer.status, 200);
    assert.equal((await app.req('/metrics', { key: null, headers: { Authorization: 'Bearer wrong' } })).status, 401);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
  });

  test('a fax moves the counters', async () => {
    const before = await (await app.req('/metrics')).text();
    const r = await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', await makePdf(3)) });
    const id = ((await r.json()) as { id: string }).id;
    await waitFor(async () => (await app.services.jobs.get(id))?.status === 'SUCCESS', 10_000);
    const after = await (await app.req('/metrics')).text();
    assert.equal(value(after, /^faxbot_fax_pages_sent_total\{backend="sandbox"\}/) - value(before, /^faxbot_fax_pages_sent_total\{backend="sandbox"\}/), 3);
    assert.ok(value(after, /^faxbot_fax_jobs\{status="SUCCESS",backend="sandbox"\}/) >= 1);
    assert.ok(value(after, /^faxbot_fax_call_duration_seconds_count\{backend="sandbox",outcome="success"\}/) >= 1);
    assert.ok(value(after, /^faxbot_fax_attempts_total\{backend="sandbox",outcome="success"/) >= 1);
    assert.match(after, /faxbot_http_request_duration_seconds_count\{method="POST",route="\/fax",status="202"\}/);
    assert.match(after, /^faxbot_backend_up\{backend="sandbox"\} 1$/m);
    assert.match(after, /^faxbot_queue_depth \d+$/m);
    assert.ok(!after.includes(id), 'no job id may become a label value');
    assert.ok(value(after, /^faxbot_document_conversion_seconds_count\{kind="text_to_pdf"\}/) === value(before, /^faxbot_document_conversion_seconds_count\{kind="text_to_pdf"\}/), 'a PDF upload renders nothing');
    await app.req('/fax', { method: 'POST', body: faxForm('+15551230001', 'a text fax') });
    const later = await (await app.req('/metrics')).text();
    assert.ok(value(later, /^faxbot_document_conversion_seconds_count\{kind="text_to_pdf"\}/) >= 1);
  });
});
