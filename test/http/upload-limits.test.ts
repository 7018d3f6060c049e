// Oversize uploads over raw sockets: the server answers 413 and stops reading instead of taking the body in.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';

const BOUNDARY = 'faxbotboundary';

function open(app: TestApp): Promise<Socket> {
  const u = new URL(app.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => resolve(s));
    s.once('error', reject);
  });
}

/** Collects what the server sends until it closes the connection. */
function readAll(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    s.on('data', (c: Buffer) => (data += c.toString('latin1')));
    s.on('close', () => resolve(data));
    s.on('error', () => undefined);
  });
}

function head(app: TestApp, extra: string): string {
  return (
    `POST /fax HTTP/1.1\r\nHost: x\r\nX-API-Key: ${app.adminKey}\r\n` +
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n${extra}\r\n`
  );
}

const preamble =
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="to"\r\n\r\n+15551230001\r\n` +
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n`;

describe('upload size limits on the wire', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { MAX_FILE_SIZE_MB: '1' } });
  });
  after(() => app.close());

  async function jobs(): Promise<number> {
    const r = await app.services.db.k.selectFrom('fax_jobs').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  test('a declared Content-Length over the limit gets 413 before any body is sent', async () => {
    const s = await open(app);
    const done = readAll(s);
    s.write(head(app, `Content-Length: ${50 * 1024 * 1024}\r\n`));
    const response = await done;
    assert.match(response, /^HTTP\/1\.1 413/);
    assert.match(response, /"code":"file_too_large"/);
    assert.match(response, /connection: close/i);
  });

  test('Expect: 100-continue over the limit gets 413 instead of 100 Continue', async () => {
    const s = await open(app);
    const done = readAll(s);
    s.write(head(app, `Content-Length: ${20 * 1024 * 1024}\r\nExpect: 100-continue\r\n`));
    const response = await done;
    assert.match(response, /^HTTP\/1\.1 413/);
    assert.doesNotMatch(response, /100 Continue/);
  });

  test('a chunked upload that grows past the limit is cut off mid-stream, and nothing is stored', async () => {
    const before = await jobs();
    const s = await open(app);
    const done = readAll(s);
    s.write(head(app, 'Transfer-Encoding: chunked\r\n'));
    const chunk = (b: Buffer | string) => {
      const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
      return Buffer.concat([Buffer.from(buf.length.toString(16) + '\r\n'), buf, Buffer.from('\r\n')]);
    };
    let closed = false;
    s.on('close', () => (closed = true));
    s.write(chunk(preamble));
    const piece = Buffer.alloc(64 * 1024, 0x41);
    let sent = 0;
    const total = 40 * 1024 * 1024;
    while (!closed && sent < total) {
      const ok = s.write(chunk(piece));
      sent += piece.length;
      if (!ok) await new Promise<void>((r) => { const t = setTimeout(r, 200); s.once('drain', () => { clearTimeout(t); r(); }); });
    }
    const response = await done;
    assert.match(response, /^HTTP\/1\.1 413/);
    assert.ok(sent < total, `the server kept reading: ${sent} of ${total} bytes went out`);
    assert.equal(await jobs(), before);
  });
});

describe('multipart details', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('a file part without its own Content-Type is still a file (RFC 7578 allows it)', async () => {
    const body =
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="to"\r\n\r\n+15551230001\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="scan.txt"\r\n\r\nhello from a scanner\r\n--${BOUNDARY}--\r\n`;
    const r = await app.req('/fax', { method: 'POST', body, headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` } });
    assert.equal(r.status, 202, await r.clone().text());
    assert.equal(((await r.json()) as { pages: number }).pages, 1);
  });
});
