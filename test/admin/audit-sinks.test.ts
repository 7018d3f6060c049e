// Audit sinks: RFC 5424 / 3164 framing, addresses, and real delivery to a file, a UDP syslog server and a unix datagram socket.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatRfc3164, formatRfc5424, parseSyslogAddress } from '../../src/audit/syslog.js';
import { severityOf } from '../../src/audit/format.js';
import { startTestApp, waitFor } from '../helpers/app.js';
import { mintKey } from './helpers.js';

describe('syslog framing', () => {
  const date = new Date(Date.UTC(2026, 10, 27, 9, 5, 7, 123));
  test('RFC 5424: PRI, version, ISO time, host, app, pid, msgid, no structured data, then the message', () => {
    const line = formatRfc5424({ facility: 'authpriv', severity: 'notice', appName: 'faxbot', msgId: 'key.created', message: '{"a":1}', date, pid: 42, host: 'gw1' });
    assert.equal(line, '<85>1 2026-11-27T09:05:07.123Z gw1 faxbot 42 key.created - {"a":1}');
    const nil = formatRfc5424({ facility: 'local0', severity: 'info', appName: 'faxbot', msgId: 'x y', message: 'm', date, pid: 1, host: null });
    assert.equal(nil, '<134>1 2026-11-27T09:05:07.123Z - faxbot 1 x_y - m');
  });

  test('RFC 3164: PRI, "Mmm dd hh:mm:ss", optional host, tag[pid]:', () => {
    const line = formatRfc3164({ facility: 'auth', severity: 'warning', appName: 'faxbot', msgId: 'auth.failed', message: 'm', date: new Date(2026, 0, 5, 3, 4, 5), pid: 7, host: null });
    assert.equal(line, '<36>Jan  5 03:04:05 faxbot[7]: m');
    const withHost = formatRfc3164({ facility: 'user', severity: 'info', appName: 'faxbot', msgId: 'x', message: 'm', date: new Date(2026, 10, 27, 13, 0, 0), pid: 7, host: 'gw' });
    assert.equal(withHost, '<14>Nov 27 13:00:00 gw faxbot[7]: m');
  });

  test('addresses and severities', () => {
    assert.deepEqual(parseSyslogAddress('/dev/log'), { kind: 'unix', path: '/dev/log' });
    assert.deepEqual(parseSyslogAddress('udp://127.0.0.1:5514'), { kind: 'udp', host: '127.0.0.1', port: 5514 });
    assert.deepEqual(parseSyslogAddress('logs.example:514'), { kind: 'udp', host: 'logs.example', port: 514 });
    assert.deepEqual(parseSyslogAddress('[::1]:601'), { kind: 'udp', host: '::1', port: 601 });
    assert.deepEqual(parseSyslogAddress('loghost'), { kind: 'udp', host: 'loghost', port: 514 });
    assert.match(String(parseSyslogAddress('tcp://h:514')), /unsupported/);
    assert.match(String(parseSyslogAddress('h:99999')), /out of range/);
    assert.equal(severityOf('auth.failed'), 'warning');
    assert.equal(severityOf('inbound.path_refused'), 'warning');
    assert.equal(severityOf('key.created'), 'notice');
    assert.equal(severityOf('job.succeeded'), 'info');
  });
});

describe('audit sinks delivering events', () => {
  test('AUDIT_LOG_FILE gets one JSON line per event, mode 0600; UDP syslog gets RFC 5424 datagrams', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faxbot-audit-'));
    const udp = createSocket('udp4');
    const got: string[] = [];
    udp.on('message', (m) => got.push(m.toString('utf8')));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const port = udp.address().port;
    const file = join(dir, 'audit', 'audit.jsonl');
    const app = await startTestApp({
      env: { AUDIT_LOG_ENABLED: 'true', AUDIT_LOG_FILE: file, AUDIT_LOG_SYSLOG: 'true', AUDIT_LOG_SYSLOG_ADDRESS: `udp://127.0.0.1:${port}`, AUDIT_LOG_SYSLOG_FACILITY: 'local3' },
    });
    try {
      const k = await mintKey(app, ['fax:read']);
      await waitFor(async () => got.some((g) => g.includes('key.created')), 5000, 'the syslog datagram');
      const dgram = got.find((g) => g.includes(' key.created '))!;
      assert.match(dgram, /^<157>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ faxbot \d+ key\.created - \{/);
      const payload = JSON.parse(dgram.slice(dgram.indexOf('{'))) as Record<string, unknown>;
      assert.equal(payload.subject, k.id);
      await waitFor(async () => (await readFile(file, 'utf8').catch(() => '')).includes('key.created'), 5000, 'the file line');
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const created = lines.find((l) => l.type === 'key.created')!;
      assert.equal(created.subject, k.id);
      assert.deepEqual(Object.keys(created).sort(), ['actor', 'data', 'instance_id', 'subject', 'ts', 'type']);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const d = app.services.admin.sinks.describe();
      assert.equal(d.file, file);
      assert.equal(d.syslog?.format, 'rfc5424');
    } finally {
      await app.close();
      udp.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a unix datagram socket (like /dev/log) gets RFC 3164 lines', async () => {
    const unix = createRequire(import.meta.url)('unix-dgram') as {
      createSocket(t: 'unix_dgram', cb: (m: Buffer) => void): { bind(p: string): void; close(): void; on(e: string, f: () => void): void };
    };
    const dir = await mkdtemp(join(tmpdir(), 'faxbot-devlog-'));
    const path = join(dir, 'log');
    const got: string[] = [];
    const server = unix.createSocket('unix_dgram', (m) => got.push(m.toString('utf8')));
    server.bind(path);
    const app = await startTestApp({ env: { AUDIT_LOG_ENABLED: 'true', AUDIT_LOG_SYSLOG: 'true', AUDIT_LOG_SYSLOG_ADDRESS: path } });
    try {
      await mintKey(app, ['fax:read']);
      await waitFor(async () => got.some((g) => g.includes('key.created')), 5000, 'the datagram');
      const line = got.find((g) => g.includes('key.created'))!;
      // authpriv.notice = 10*8+5; no host on a local socket, as syslog(3) writes it.
      assert.match(line, /^<85>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d faxbot\[\d+\]: \{"ts":/);
      assert.equal(app.services.admin.sinks.describe().syslog?.format, 'rfc3164');
    } finally {
      await app.close();
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an unreachable syslog socket does not break requests; events stay stored', async () => {
    const app = await startTestApp({ env: { AUDIT_LOG_ENABLED: 'true', AUDIT_LOG_SYSLOG: 'true', AUDIT_LOG_SYSLOG_ADDRESS: '/nonexistent/dir/log' } });
    try {
      const k = await mintKey(app, ['fax:read']);
      const stored = await app.services.db.k.selectFrom('audit_events').selectAll().where('subject', '=', k.id).execute();
      assert.equal(stored.length, 1);
      await waitFor(async () => app.services.admin.sinks.describe().dropped > 0, 5000, 'the failure to be counted');
      assert.ok(app.logs.some((l) => l.includes('audit sink failed')));
    } finally {
      await app.close();
    }
  });

  test('enabled without a file or syslog: events go to the process log', async () => {
    const app = await startTestApp({ env: { AUDIT_LOG_ENABLED: 'true' } });
    try {
      const k = await mintKey(app, ['fax:read']);
      await waitFor(async () => app.logs.some((l) => l.includes('"audit"') && l.includes(k.id)), 5000, 'the log line');
    } finally {
      await app.close();
    }
  });
});
