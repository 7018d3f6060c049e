// A realistic admin session, then a grep of everything it left: no secret, token, full phone number or document content anywhere.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { secretSettings } from '../../src/config/index.js';
import { createPgDatabase, DIALECTS } from '../helpers/db.js';
import { faxForm, startTestApp, waitFor } from '../helpers/app.js';
import { call } from './helpers.js';

const NUMBERS = ['+15557654321', '+442071838750', '+15551230002'];
const DOCUMENT = 'CONFIDENTIAL-PATIENT-RECORD-7Q2X';

for (const dialect of DIALECTS) {
  describe(`nothing sensitive leaks through admin responses or audit events (${dialect})`, () => {
    test('a session of faxes, keys, settings and failures leaves no secret, token, number or content behind', async () => {
      const udp = createSocket('udp4');
      const datagrams: string[] = [];
      udp.on('message', (m) => datagrams.push(m.toString('utf8')));
      await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
      const secrets: Record<string, string> = {};
      for (const name of secretSettings) {
        if (name === 'DATABASE_URL' || name === 'API_KEY') continue;
        secrets[name] = `S3cr3t-${name}-${Math.random().toString(36).slice(2, 10)}`;
      }
      let pg: { url: string; drop: () => Promise<void> } | undefined;
      let databaseUrl: string | undefined;
      const forbidden: string[] = [...Object.values(secrets), DOCUMENT, ...NUMBERS, ...NUMBERS.map((n) => n.slice(1)), ...NUMBERS.map((n) => n.slice(-10))];
      if (dialect === 'postgres') {
        pg = await createPgDatabase();
        const u = new URL(pg.url);
        u.password = 'PgPassw0rd-Leak-Check';
        databaseUrl = u.toString();
        forbidden.push('PgPassw0rd-Leak-Check');
      }
      const sinkDir = await mkdtemp(join(tmpdir(), 'faxbot-leak-'));
      const auditFile = join(sinkDir, 'audit.jsonl');
      const app = await startTestApp({
        ...(databaseUrl ? { databaseUrl } : {}),
        env: {
          ...secrets,
          FAX_RETRY_BUSY: '1:1',
          FEATURE_V3_PLUGINS: 'true',
          AUDIT_LOG_ENABLED: 'true',
          AUDIT_LOG_FILE: auditFile,
          AUDIT_LOG_SYSLOG: 'true',
          AUDIT_LOG_SYSLOG_ADDRESS: `127.0.0.1:${udp.address().port}`,
          AUDIT_TAIL_HEARTBEAT_SECONDS: '0.2',
        },
      });
      forbidden.push(app.adminKey);
      const responses: string[] = [];
      const sse: string[] = [];
      try {
        const tail = await app.req('/admin/logs/tail');
        const reader = tail.body!.getReader();
        const dec = new TextDecoder();
        const pump = (async () => {
          for (;;) {
            const c = await reader.read();
            if (c.done) break;
            sse.push(dec.decode(c.value));
          }
        })();
        const admin = async (method: string, path: string, body?: unknown, key?: string | null) => {
          const r = await call(app, method, path, body, key);
          // A minted or rotated token is shown once, in its own field, by design: everything else is grepped.
          const shown = 'token' in r.body ? JSON.stringify({ ...r.body, token: '[shown once]' }) : r.text;
          responses.push(`${method} ${path} ${r.status} ${shown}`);
          return r;
        };

        // Faxes: success, busy failure, a number with formatting.
        const ids: string[] = [];
        for (const n of NUMBERS) {
          const r = await app.req('/fax', { method: 'POST', body: faxForm(n, `${DOCUMENT}\nfor ${n}\n`, 'note.txt') });
          ids.push(String(((await r.json()) as Record<string, unknown>).id));
        }
        await waitFor(async () => {
          const rows = await app.services.db.k.selectFrom('fax_jobs').select('status').where('status', 'in', ['queued', 'in_progress']).execute();
          return rows.length === 0;
        }, 20_000, 'faxes to finish');

        // Keys: mint, use, rotate with grace, rotate again, revoke; then the old tokens fail.
        const k = await admin('POST', '/admin/api-keys', { name: 'front desk', scopes: ['fax:send', 'fax:read'] });
        const t1 = String(k.body.token);
        forbidden.push(t1);
        const keyId = String(k.body.key_id);
        const r1 = await admin('POST', `/admin/api-keys/${keyId}/rotate`, { grace_seconds: 600 });
        const t2 = String(r1.body.token);
        const r2 = await admin('POST', `/admin/api-keys/${keyId}/rotate`);
        const t3 = String(r2.body.token);
        forbidden.push(t2, t3);
        await admin('GET', `/fax/${ids[0]}`, undefined, t1);
        await admin('GET', `/fax/${ids[0]}`, undefined, t3);
        await admin('DELETE', `/admin/api-keys/${keyId}`);
        await admin('GET', `/fax/${ids[0]}`, undefined, t3);
        await admin('GET', '/admin/settings', undefined, 'not-a-real-key-but-secret-looking-XYZ123');
        forbidden.push('not-a-real-key-but-secret-looking-XYZ123');

        // Settings with secrets: applied, refused, validated, masked round trip, exported.
        const newSecret = 'Fresh-Phaxio-Secret-991';
        forbidden.push(newSecret);
        await admin('PUT', '/admin/settings', { PHAXIO_API_SECRET: newSecret, FAX_MAX_PAGES: 100 });
        await admin('PUT', '/admin/settings', { SINCH_API_SECRET: 'Refused-Sinch-Secret-77', FAX_MAX_PAGES: 'lots' });
        forbidden.push('Refused-Sinch-Secret-77');
        await admin('POST', '/admin/settings/validate', { SIGNALWIRE_API_TOKEN: 'Validated-Token-55' });
        forbidden.push('Validated-Token-55');
        const view = await admin('GET', '/admin/settings');
        await admin('PUT', '/admin/settings', view.body.settings);
        await admin('GET', '/admin/settings/export');
        const full = await app.req('/admin/settings/export?include_secrets=true');
        assert.ok((await full.text()).includes(newSecret), 'the explicit export has the secret (and is not grepped)');
        await admin('POST', '/admin/settings/reload');

        // Plugins with secrets.
        await admin('PUT', '/plugins/phaxio/config', { enabled: false, settings: { PHAXIO_API_KEY: 'Plugin-Key-Q9', PHAXIO_API_SECRET: 'Plugin-Secret-Q9' } });
        forbidden.push('Plugin-Key-Q9', 'Plugin-Secret-Q9');
        await admin('GET', '/plugins');
        await admin('GET', '/plugins/phaxio/config');
        await admin('GET', '/plugin-registry');

        // Every read view.
        await admin('GET', '/admin/health-status');
        await admin('GET', '/admin/db-status');
        await admin('POST', '/admin/diagnostics/run');
        await admin('GET', '/admin/api-keys');
        await admin('GET', '/admin/fax-jobs');
        for (const id of ids) await admin('GET', `/admin/fax-jobs/${id}`);
        const pdf = await app.req(`/admin/fax-jobs/${ids[0]}/pdf`);
        assert.equal(pdf.status, 200);
        await admin('GET', '/admin/logs?limit=1000');

        await waitFor(async () => sse.join('').includes('document.served'), 5000, 'the tail to see the PDF being served');
        await waitFor(async () => datagrams.some((d) => d.includes('document.served')), 5000, 'syslog to see it');
        await reader.cancel();
        await pump.catch(() => undefined);

        const stored = JSON.stringify(await app.services.db.k.selectFrom('audit_events').selectAll().execute());
        const places: Record<string, string> = {
          'admin responses': responses.join('\n'),
          'stored audit events': stored,
          'syslog datagrams': datagrams.join('\n'),
          'audit file': await readFile(auditFile, 'utf8'),
          'live tail': sse.join(''),
          'process log': app.logs.join('\n'),
        };
        for (const [where, text] of Object.entries(places)) {
          assert.ok(text.length > 0, `${where} is not empty`);
          for (const f of forbidden) assert.ok(!text.includes(f), `${where} contains "${f}"`);
        }
        // The session did produce the events it should have.
        for (const type of ['job.queued', 'job.succeeded', 'job.failed', 'key.created', 'key.rotated', 'key.revoked', 'auth.failed', 'settings.changed', 'settings.change_refused', 'settings.exported', 'plugin.config_changed', 'document.served', 'admin.access']) {
          assert.ok(stored.includes(`"${type}"`), `an event ${type} was recorded`);
        }
        const dataDirFiles = await readFile(join(app.dataDir, 'faxbot.config.json'), 'utf8');
        assert.ok(dataDirFiles.includes('Plugin-Secret-Q9'), 'the config store holds the secret (mode 0600), the API never shows it');
      } finally {
        await app.close();
        udp.close();
        if (pg) await pg.drop();
        await rm(sinkDir, { recursive: true, force: true });
      }
    });
  });
}
