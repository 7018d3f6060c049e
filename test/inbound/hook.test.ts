// POST /_internal/asterisk/inbound over real HTTP, with the bodies Asterisk's CURL() posts, on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/db.js';
import { pdfInfo } from '../documents/helpers.js';
import {
  SECRET,
  TIFF_FIXTURES,
  asteriskBody,
  auditTypes,
  inboundCount,
  listDir,
  newUid,
  postHook,
  putFixture,
  startInboundApp,
  type InboundTestApp,
} from './helpers.js';

for (const dialect of DIALECTS) {
  describe(`POST /_internal/asterisk/inbound on ${dialect}`, () => {
    let app: InboundTestApp;
    let outside = '';
    before(async () => {
      const root = await mkdtemp(join(tmpdir(), 'faxbot-hook-'));
      outside = join(root, 'outside');
      await mkdir(outside);
      app = await startInboundApp({
        dialect,
        root,
        env: {
          INBOUND_SPOOL_DIRS: join(root, 'spool'),
          INBOUND_SPOOL_MAP: `/var/spool/asterisk/fax/in=${join(root, 'spool')}`,
          INBOUND_ROUTES: '1000=frontdesk,+1555*=clinic',
          // The watcher is tested on its own; here every record must come from the hook.
          INBOUND_WATCH: 'false',
        },
      });
    });
    after(async () => {
      await app.close();
      await rm(join(outside, '..'), { recursive: true, force: true });
    });

    test('a received fax, posted as the recording shows: 201, PDF stored, TIFF archived, routed, listed', async () => {
      const uid = newUid();
      const tif = await putFixture('received.tif', app.spool, `${uid}.tif`);
      const original = await readFile(tif);
      const r = await postHook(app, asteriskBody({ tiff_path: tif, uniqueid: uid }));
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'received');
      assert.equal(r.body.pages, 2);
      assert.equal(r.body.fr, '+15550000001');
      assert.equal(r.body.to, '1000');
      assert.equal(r.body.backend, 'asterisk');
      assert.equal(r.body.mailbox, 'frontdesk');
      assert.equal(r.body.error, null);
      const id = String(r.body.id);
      // The TIFF left the spool for the archive, byte for byte; the PDF is in the data dir.
      assert.equal(existsSync(tif), false);
      assert.deepEqual(await readFile(join(app.dataDir, 'inbound', 'tiff', `${id}.tif`)), original);
      const pdfPath = join(app.dataDir, 'inbound', `${id}.pdf`);
      const info = await pdfInfo(pdfPath);
      assert.equal(info.pages, 2);
      const list = (await (await app.req('/inbound')).json()) as { id: string }[];
      assert.ok(list.some((f) => f.id === id));
      const types = (await auditTypes(app)).filter((e) => e.subject === id).map((e) => e.type);
      assert.deepEqual(types, ['inbound.received']);
      // No full number in the log lines about it.
      assert.ok(!app.logs.some((l) => l.includes('+15550000001')), 'numbers are masked in logs');
    });

    test('readiness: the spool is readable and writable, the quarantine writable', async () => {
      const r = await app.req('/health/ready', { key: null });
      const body = (await r.json()) as { status: string; checks: Record<string, { ok: boolean }> };
      assert.equal(r.status, 200, JSON.stringify(body));
      assert.equal(body.checks[`inbound_spool:${app.spool}`]?.ok, true);
      assert.equal(body.checks.inbound_quarantine?.ok, true);
    });

    test('the same uniqueid twice: one record, the second call answers 200 with the first', async () => {
      const uid = newUid();
      const tif = await putFixture('received.tif', app.spool, `${uid}.tif`);
      const before = await inboundCount(app);
      const first = await postHook(app, asteriskBody({ tiff_path: tif, uniqueid: uid }));
      const second = await postHook(app, asteriskBody({ tiff_path: tif, uniqueid: uid }));
      assert.equal(first.status, 201);
      assert.equal(second.status, 200);
      assert.equal(second.body.id, first.body.id);
      assert.equal(second.body.status, 'received');
      assert.equal(await inboundCount(app), before + 1);
    });

    test('hook calls racing each other for one uniqueid make one record and one conversion', async () => {
      const uid = newUid();
      const tif = await putFixture('received.tif', app.spool, `${uid}.tif`);
      const before = await inboundCount(app);
      const body = asteriskBody({ tiff_path: tif, uniqueid: uid });
      const results = await Promise.all([postHook(app, body), postHook(app, body), postHook(app, body)]);
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 201]);
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
      assert.equal(await inboundCount(app), before + 1);
      const id = String(results[0]!.body.id);
      const received = (await auditTypes(app)).filter((e) => e.subject === id && e.type === 'inbound.received');
      assert.equal(received.length, 1);
    });

    test('a PBX path is mapped with INBOUND_SPOOL_MAP', async () => {
      const uid = newUid();
      await putFixture('received.tif', app.spool, `${uid}.tif`);
      const r = await postHook(app, asteriskBody({ tiff_path: `/var/spool/asterisk/fax/in/${uid}.tif`, uniqueid: uid, to_number: '+15551230000' }));
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'received');
      assert.equal(r.body.mailbox, 'clinic');
    });

    const refused: [string, (uid: string) => Promise<string>, number, string][] = [
      ['a path outside the spool', async (uid) => putFixture('received.tif', outside, `${uid}.tif`), 400, 'tiff_path_outside_spool'],
      ['a path with ".."', async (uid) => `${app.spool}/../outside/${uid}.tif`, 400, 'tiff_path_invalid'],
      ['a relative path', async (uid) => `spool/${uid}.tif`, 400, 'tiff_path_invalid'],
      ['a file that is not .tif', async () => '/etc/passwd', 400, 'tiff_path_invalid'],
      [
        'a symlink in the spool escaping it',
        async (uid) => {
          const target = await putFixture('received.tif', outside, `target-${uid}.tif`);
          const link = join(app.spool, `${uid}.tif`);
          await symlink(target, link);
          return link;
        },
        400,
        'tiff_path_outside_spool',
      ],
      ['SUCCESS with no TIFF', async (uid) => join(app.spool, `${uid}.tif`), 400, 'tiff_missing'],
    ];
    for (const [what, make, status, code] of refused) {
      test(`${what}: ${status} ${code}, audited, nothing recorded`, async () => {
        const uid = newUid();
        const path = await make(uid);
        const before = await inboundCount(app);
        const r = await postHook(app, asteriskBody({ tiff_path: path, uniqueid: uid }));
        assert.equal(r.status, status);
        assert.equal(r.body.code, code);
        assert.equal(typeof r.body.detail, 'string');
        assert.equal(await inboundCount(app), before);
        const audit = (await auditTypes(app, 'inbound.path_refused')).filter((e) => e.subject === `asterisk:${uid}`);
        assert.equal(audit.length, 1);
        assert.equal(JSON.parse(audit[0]!.data!).code, code);
        assert.ok(!audit[0]!.data!.includes('/'), 'the audit event carries no path');
      });
    }

    test('a symlink escaping the spool: the target outside is neither read nor moved', async () => {
      const uid = newUid();
      const target = await putFixture('received.tif', outside, `kept-${uid}.tif`);
      await symlink(target, join(app.spool, `${uid}.tif`));
      const r = await postHook(app, asteriskBody({ tiff_path: join(app.spool, `${uid}.tif`), uniqueid: uid }));
      assert.equal(r.status, 400);
      assert.deepEqual(await readFile(target), await readFile(join(TIFF_FIXTURES, 'received.tif')));
    });

    test('a truncated TIFF: FAILED with the reason, the file moved to quarantine (not deleted)', async () => {
      const uid = newUid();
      const full = await readFile(join(TIFF_FIXTURES, 'received.tif'));
      const half = full.subarray(0, Math.floor(full.length / 2));
      const tif = join(app.spool, `${uid}.tif`);
      await writeFile(tif, half);
      const r = await postHook(app, asteriskBody({ tiff_path: tif, uniqueid: uid }));
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'FAILED');
      assert.match(String(r.body.error), /could not be read \(truncated/);
      assert.equal(r.body.has_pdf, false);
      assert.equal(existsSync(tif), false);
      const q = join(app.dataDir, 'inbound', 'quarantine', `asterisk-${uid}.tif`);
      assert.deepEqual(await readFile(q), half);
      const row = await app.services.inbound.store.get(String(r.body.id));
      assert.equal(row!.quarantine_path, q);
      const pdf = await app.req(`/inbound/${String(r.body.id)}/pdf`);
      assert.equal(pdf.status, 404);
      assert.equal(((await pdf.json()) as { code: string }).code, 'no_document');
    });

    test('not a TIFF at all (a PDF named .tif): FAILED, quarantined', async () => {
      const uid = newUid();
      const tif = join(app.spool, `${uid}.tif`);
      await writeFile(tif, '%PDF-1.4\nnot a fax\n%%EOF\n');
      const r = await postHook(app, asteriskBody({ tiff_path: tif, uniqueid: uid }));
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'FAILED');
      assert.match(String(r.body.error), /not a TIFF/);
      assert.ok((await listDir(join(app.dataDir, 'inbound', 'quarantine'))).includes(`asterisk-${uid}.tif`));
    });

    test('FAILED after one page (remote-hangup-after-page1): FAILED with the page that arrived and its PDF', async () => {
      const uid = newUid();
      const tif = await putFixture('received-partial-1page.tif', app.spool, `${uid}.tif`);
      const r = await postHook(app, asteriskBody({ tiff_path: tif, uniqueid: uid, to_number: '1006', faxstatus: 'FAILED', faxpages: '1' }));
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'FAILED');
      assert.equal(r.body.pages, 1);
      assert.equal(r.body.has_pdf, true);
      assert.match(String(r.body.error), /after 1 page/);
      const pdf = await app.req(`/inbound/${String(r.body.id)}/pdf`);
      assert.equal(pdf.status, 200);
    });

    test('FAILED with no page (remote-hangup-during-transfer, no TIFF): a failed reception, not an error', async () => {
      const uid = newUid();
      const r = await postHook(
        app,
        asteriskBody({ tiff_path: join(app.spool, `${uid}.tif`), uniqueid: uid, to_number: '1006', faxstatus: 'FAILED', faxpages: '0' }),
      );
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'FAILED');
      assert.equal(r.body.pages, 0);
      assert.match(String(r.body.error), /before any page arrived/);
    });

    test('empty status and pages (sendfax-missing-file): FAILED, reception never started', async () => {
      const uid = newUid();
      const r = await postHook(app, asteriskBody({ tiff_path: join(app.spool, `${uid}.tif`), uniqueid: uid, faxstatus: '', faxpages: '' }));
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'FAILED');
      assert.equal(r.body.pages, 0);
      assert.match(String(r.body.error), /did not start/);
    });

    const invalid: [string, string, RegExp][] = [
      ['faxpages not a number', JSON.stringify({ tiff_path: '/x.tif', faxpages: 'two', uniqueid: '1.2' }), /body\.faxpages/],
      ['uniqueid missing', JSON.stringify({ tiff_path: '/x.tif' }), /body\.uniqueid/],
      ['uniqueid with a slash', JSON.stringify({ tiff_path: '/x.tif', uniqueid: '../1' }), /body\.uniqueid/],
      ['tiff_path missing', JSON.stringify({ uniqueid: '1.2' }), /body\.tiff_path/],
      ['a control character in a number', JSON.stringify({ tiff_path: '/x.tif', uniqueid: '1.2', from_number: 'a\nb' }), /body\.from_number/],
    ];
    for (const [what, body, detail] of invalid) {
      test(`${what}: 400 validation_error naming the field`, async () => {
        const before = await inboundCount(app);
        const r = await postHook(app, body);
        assert.equal(r.status, 400);
        assert.equal(r.body.code, 'validation_error');
        assert.match(String(r.body.detail), detail);
        assert.equal(await inboundCount(app), before);
      });
    }

    test('a body that is not JSON: 400 invalid_json', async () => {
      const r = await postHook(app, '{"tiff_path":');
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'invalid_json');
    });

    test('a wrong secret: 401 invalid_internal_secret, audited, nothing read', async () => {
      const uid = newUid();
      const tif = await putFixture('received.tif', app.spool, `${uid}.tif`);
      const before = await inboundCount(app);
      const r = await postHook(app, asteriskBody({ tiff_path: tif, uniqueid: uid }), 'not-the-secret');
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'invalid_internal_secret');
      assert.equal(await inboundCount(app), before);
      assert.ok(existsSync(tif), 'the TIFF stays where it was');
      const audit = await auditTypes(app, 'inbound.hook_refused');
      assert.ok(audit.some((e) => JSON.parse(e.data!).code === 'invalid_internal_secret'));
      assert.ok(!audit.some((e) => (e.data ?? '').includes('not-the-secret')), 'the given secret is not audited');
    });

    test('no X-Internal-Secret header: 401 missing_internal_secret', async () => {
      const r = await postHook(app, asteriskBody({ tiff_path: '/x.tif', uniqueid: newUid() }), null);
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'missing_internal_secret');
    });

    test('an API key is no substitute for the internal secret', async () => {
      const res = await fetch(`${app.url}/_internal/asterisk/inbound`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-API-Key': app.adminKey },
        body: asteriskBody({ tiff_path: '/x.tif', uniqueid: newUid() }),
      });
      assert.equal(res.status, 401);
    });
  });
}

describe('the hook when the gateway is not set up for it', () => {
  let noSecret: TestApp;
  let disabled: TestApp;
  before(async () => {
    [noSecret, disabled] = await Promise.all([
      startTestApp({ env: { INBOUND_ENABLED: 'true', INBOUND_SPOOL_DIRS: '/nonexistent-spool', INBOUND_WATCH: 'false' } }),
      startTestApp({ env: { ASTERISK_INBOUND_SECRET: SECRET } }),
    ]);
  });
  after(async () => {
    await noSecret.close();
    await disabled.close();
  });

  test('no ASTERISK_INBOUND_SECRET configured: every call refused with 403, even with a header', async () => {
    for (const secret of [SECRET, '', null]) {
      const r = await postHook(noSecret, asteriskBody({ tiff_path: '/nonexistent-spool/1.1.tif', uniqueid: '1.1' }), secret);
      assert.equal(r.status, 403);
      assert.equal(r.body.code, 'internal_secret_not_configured');
    }
  });

  test('readiness names an unreadable spool directory', async () => {
    const r = await noSecret.req('/health/ready', { key: null });
    assert.equal(r.status, 503);
    const body = (await r.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    assert.equal(body.checks['inbound_spool:/nonexistent-spool']?.ok, false);
    assert.match(body.checks['inbound_spool:/nonexistent-spool']!.detail, /ENOENT/);
    assert.equal(body.checks.inbound_quarantine?.ok, true);
  });

  test('INBOUND_ENABLED=false: the inbound routes answer 404 inbound_disabled', async () => {
    const r = await postHook(disabled, asteriskBody({ tiff_path: '/x/1.1.tif', uniqueid: '1.1' }));
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'inbound_disabled');
    const list = await disabled.req('/inbound');
    assert.equal(list.status, 404);
  });
});
