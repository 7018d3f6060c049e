// SIGTERM: no new connections, the request in flight finishes, calls in progress are left for the next start.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { faxForm, waitFor } from '../helpers/app.js';
import { killHard, startServiceProcess } from '../helpers/process.js';

const KEY = 'graceful-key';

describe('graceful shutdown', () => {
  test('an upload in flight completes, then the process exits 0; its call is finished by the next start', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'faxbot-term-'));
    const env = { FAX_DATA_DIR: dataDir, API_KEY: KEY, INSTANCE_ID: 'term-test', SANDBOX_DELAY_SECONDS: '2' };
    let proc = await startServiceProcess(env);
    try {
      // A call in progress when the signal comes.
      const first = await fetch(`${proc.url}/fax`, { method: 'POST', headers: { 'X-API-Key': KEY }, body: faxForm('+15551230001', 'in progress at shutdown') });
      const inProgressId = ((await first.json()) as { id: string }).id;
      await waitFor(async () => {
        const j = (await (await fetch(`${proc.url}/fax/${inProgressId}`, { headers: { 'X-API-Key': KEY } })).json()) as { status: string };
        return j.status === 'in_progress';
      }, 10_000);

      // An upload that is still being sent when SIGTERM arrives.
      const boundary = 'termboundary';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="to"\r\n\r\n+15551230009\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n`;
      const tail = `hello\r\n--${boundary}--\r\n`;
      const u = new URL(proc.url);
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/fax', headers: { 'X-API-Key': KEY, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': Buffer.byteLength(head) + Buffer.byteLength(tail) } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.write(head);
        setTimeout(() => {
          proc.child.kill('SIGTERM');
          setTimeout(() => req.end(tail), 300);
        }, 200);
      });
      const r = await response;
      assert.equal(r.status, 202, r.body + "\n" + proc.output.slice(-5).join("\n"));
      const exit = await proc.exited;
      assert.equal(exit, 0);
      assert.ok(proc.output.some((l) => l.includes('shutting down')));

      // The next start follows the call that was in progress to its end, without placing it again.
      proc = await startServiceProcess(env);
      await waitFor(async () => {
        const j = (await (await fetch(`${proc.url}/fax/${inProgressId}`, { headers: { 'X-API-Key': KEY } })).json()) as { status: string };
        return j.status === 'SUCCESS';
      }, 15_000, 'the interrupted call to finish');
    } finally {
      await killHard(proc).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
