// Stored audit events (/admin/logs: filters, pages, bad inputs) and the live tail (/admin/logs/tail: SSE, filters, heartbeat, clean close).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS } from '../helpers/db.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { call, mintKey } from './helpers.js';

/** Reads SSE frames from a fetch response until `until` says stop (or the stream ends). */
async function readFrames(res: Response, until: (frames: string[]) => boolean, timeoutMs = 5000): Promise<{ frames: string[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const frames: string[] = [];
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  while (Date.now() < deadline) {
    const timer = new Promise<{ done: true; value: undefined; timeout: true }>((r) => setTimeout(() => r({ done: true, value: undefined, timeout: true }), Math.max(1, deadline - Date.now())));
    const chunk = (await Promise.race([reader.read(), timer])) as { done: boolean; value?: Uint8Array; timeout?: boolean };
    if (chunk.timeout) break;
    if (chunk.done) {
      ended = true;
      break;
    }
    buf += dec.decode(chunk.value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      frames.push(buf.slice(0, i));
      buf = buf.slice(i + 2);
    }
    if (until(frames)) break;
  }
  if (!ended) await reader.cancel().catch(() => undefined);
  return { frames, ended };
}

const dataOf = (frame: string) => JSON.parse(frame.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as Record<string, unknown>;

for (const dialect of DIALECTS) describe(`admin audit logs on ${dialect}`, () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ dialect, env: { AUDIT_TAIL_HEARTBEAT_SECONDS: '0.2' } });
  });
  after(() => app.close());

  test('filters by type (exact and prefix), actor, subject and time; pages with before', async () => {
    const a = await mintKey(app, ['fax:read'], 'a');
    const b = await mintKey(app, ['fax:read'], 'b');
    await call(app, 'DELETE', `/admin/api-keys/${a.id}`);
    const keyEvents = await call(app, 'GET', '/admin/logs?type=key.*');
    assert.equal(keyEvents.status, 200);
    const types = (keyEvents.body.events as { type: string }[]).map((e) => e.type);
    assert.deepEqual(types, ['key.revoked', 'key.created', 'key.created']);
    const bySubject = await call(app, 'GET', `/admin/logs?subject=${a.id}`);
    assert.deepEqual((bySubject.body.events as { type: string }[]).map((e) => e.type), ['key.revoked', 'key.created']);
    const exact = await call(app, 'GET', `/admin/logs?type=key.created,key.revoked&subject=${b.id}`);
    assert.equal((exact.body.events as unknown[]).length, 1);
    assert.equal((await call(app, 'GET', '/admin/logs?actor=env&type=key.created')).body.events && ((await call(app, 'GET', '/admin/logs?actor=env&type=key.created')).body.events as unknown[]).length, 2);
    const p1 = await call(app, 'GET', '/admin/logs?type=key.*&limit=2');
    assert.equal((p1.body.events as unknown[]).length, 2);
    const p2 = await call(app, 'GET', `/admin/logs?type=key.*&limit=2&before=${String(p1.body.next_before)}`);
    assert.deepEqual((p2.body.events as { type: string }[]).map((e) => e.type), ['key.created']);
    assert.equal(p2.body.next_before, null);
    const future = new Date(Date.now() + 60_000).toISOString();
    assert.equal(((await call(app, 'GET', `/admin/logs?since=${future}`)).body.events as unknown[]).length, 0);
    assert.ok(((await call(app, 'GET', `/admin/logs?until=${future}&type=key.*`)).body.events as unknown[]).length === 3);
  });

  const bad: [string, RegExp][] = [
    ['limit=0', /query\.limit/],
    ['limit=5000', /query\.limit/],
    ['before=abc', /query\.before/],
    ['since=soon', /query\.since/],
    ['since=2026-02-01&until=2026-01-01', /since: must be before/],
    ['type=DROP%20TABLE', /query\.type/],
  ];
  for (const [q, detail] of bad) {
    test(`logs refuse ${q} (400)`, async () => {
      const r = await call(app, 'GET', `/admin/logs?${q}`);
      assert.equal(r.status, 400, r.text);
      assert.match(String(r.body.detail), detail);
    });
  }

  test('tail streams matching events live, with a backlog and heartbeats', async () => {
    const res = await app.req('/admin/logs/tail?type=key.*&backlog=2');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const minted = mintKey(app, ['fax:send'], 'live');
    const { frames } = await readFrames(res, (f) => f.filter((x) => x.includes('event: audit')).length >= 3 && f.some((x) => x.startsWith(': heartbeat')));
    const audit = frames.filter((f) => f.includes('event: audit')).map(dataOf);
    assert.deepEqual(audit.map((e) => e.type), ['key.created', 'key.revoked', 'key.created']);
    assert.equal(audit[2]!.subject, (await minted).id);
    assert.ok(frames.some((f) => f.startsWith(': heartbeat')), 'a heartbeat while idle');
    assert.ok(!frames.some((f) => f.includes('admin.access')), 'the filter holds');
  });

  test('tail refuses bad filters, and a closed client is let go', async () => {
    assert.equal((await call(app, 'GET', '/admin/logs/tail?backlog=9999')).status, 400);
    const res = await app.req('/admin/logs/tail');
    await readFrames(res, (f) => f.length >= 1);
    // reader.cancel() above closed it: the hub forgets the client.
    const { waitFor } = await import('../helpers/app.js');
    await waitFor(async () => app.services.admin.tail.size === 0, 5000, 'the tail to drop the client');
  });

  test('tail streams end cleanly when the service stops', async () => {
    const other = await startTestApp({ env: { AUDIT_TAIL_HEARTBEAT_SECONDS: '30' } });
    const res = await other.req('/admin/logs/tail');
    const closing = other.close();
    const { ended } = await readFrames(res, () => false, 8000);
    await closing;
    assert.equal(ended, true, 'the stream ended');
  });
});
