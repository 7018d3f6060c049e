// Inbound building blocks: settings parsing, mailbox routing, path mapping and checks, sidecars, outcome rules.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, parseSettings } from '../../src/config/index.js';
import { parseSpoolDirs, parseSpoolMap } from '../../src/inbound/config.js';
import { decideOutcome } from '../../src/inbound/ingest.js';
import { parseRoutes, routeMailbox } from '../../src/inbound/mailbox.js';
import { AsteriskInboundBody, fromAsteriskBody, parseSidecar } from '../../src/inbound/reports.js';
import { SpoolPaths, uidFromFileName } from '../../src/inbound/spool-paths.js';

describe('inbound settings', () => {
  test('INBOUND_SPOOL_DIRS: absolute directories, optionally tagged by PBX', () => {
    assert.deepEqual(parseSpoolDirs('/var/spool/asterisk/fax/in/, freeswitch:/srv/fs/rx'), [
      { dir: '/var/spool/asterisk/fax/in', source: 'auto' },
      { dir: '/srv/fs/rx', source: 'freeswitch' },
    ]);
    assert.match(String(parseSpoolDirs('spool')), /not an absolute directory/);
    assert.match(String(parseSpoolDirs('/a/../b')), /\.\./);
  });

  test('INBOUND_SPOOL_MAP: pbx=local pairs, longest PBX prefix first', () => {
    const m = parseSpoolMap('/var/spool=/data, /var/spool/asterisk/fax/in=/faxdata/spool/asterisk');
    assert.ok(Array.isArray(m));
    assert.equal(m[0]!.pbx, '/var/spool/asterisk/fax/in');
    assert.match(String(parseSpoolMap('/a')), /<absolute path on the PBX>=<absolute path here>/);
  });

  test('a bad inbound setting stops the start with the variable named', () => {
    for (const [name, value, msg] of [
      ['INBOUND_ROUTES', '+1555=', /INBOUND_ROUTES.*mailbox/],
      ['INBOUND_SPOOL_DIRS', 'relative/dir', /INBOUND_SPOOL_DIRS/],
      ['INBOUND_TIFF_ACTION', 'delete', /INBOUND_TIFF_ACTION.*archive, keep/],
      ['INBOUND_RETENTION_CRON', 'daily', /INBOUND_RETENTION_CRON/],
      ['INBOUND_WEBHOOK_URL', 'ftp://x', /INBOUND_WEBHOOK_URL/],
    ] as const) {
      assert.throws(() => parseSettings({ [name]: value }), (e: unknown) => e instanceof ConfigError && msg.test(e.message), name);
    }
    const s = parseSettings({});
    assert.equal(s.INBOUND_ENABLED, false);
    assert.equal(s.INBOUND_TOKEN_TTL_MINUTES, 60);
    assert.equal(s.INBOUND_RETENTION_DAYS, 30);
    assert.equal(s.INBOUND_TIFF_ACTION, 'archive');
  });
});

describe('mailbox routing (INBOUND_ROUTES)', () => {
  const routes = parseRoutes('+15551230000=billing, +1555123*=clinic, +1555*=region, *=frontdesk');
  assert.ok(Array.isArray(routes));
  const r = routes as Exclude<typeof routes, string>;

  test('exact number first, then the longest prefix, then the catch-all', () => {
    assert.equal(routeMailbox(r, '+15551230000'), 'billing');
    assert.equal(routeMailbox(r, '15551230000'), 'billing', 'digits compare, with or without +');
    assert.equal(routeMailbox(r, '+15551239999'), 'clinic');
    assert.equal(routeMailbox(r, '+15559999999'), 'region');
    assert.equal(routeMailbox(r, '+4930123456'), 'frontdesk');
    assert.equal(routeMailbox(r, null), 'frontdesk');
  });

  test('no catch-all: unmatched numbers have no mailbox', () => {
    const only = parseRoutes('1000=desk') as Exclude<ReturnType<typeof parseRoutes>, string>;
    assert.equal(routeMailbox(only, '1000'), 'desk');
    assert.equal(routeMailbox(only, '1001'), null);
    assert.equal(routeMailbox(only, ''), null);
  });

  test('invalid routes are explained', () => {
    assert.match(String(parseRoutes('abc=desk')), /expected <number>=<mailbox>/);
    assert.match(String(parseRoutes('1000=bad mailbox')), /mailbox/);
  });
});

describe('spool paths', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'faxbot-paths-'));
    await mkdir(join(root, 'spool'));
    await mkdir(join(root, 'other'));
    await writeFile(join(root, 'spool', '1.1.tif'), 'x');
    await writeFile(join(root, 'other', 'secret.tif'), 'x');
    await symlink(join(root, 'other', 'secret.tif'), join(root, 'spool', 'link.tif'));
    await symlink(join(root, 'other'), join(root, 'spool', 'dirlink'));
    await symlink(join(root, 'spool', '1.1.tif'), join(root, 'spool', 'inner.tif'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  const paths = () => new SpoolPaths(parseSpoolDirs(join(root, 'spool')) as never, parseSpoolMap(`/var/spool/asterisk/fax/in=${join(root, 'spool')}`) as never);

  test('PBX paths are mapped; files are checked after following every symlink', async () => {
    const p = paths();
    assert.equal(p.toLocal('/var/spool/asterisk/fax/in/1.1.tif'), join(root, 'spool', '1.1.tif'));
    assert.equal(p.toLocal('/var/spool/asterisk/fax/inbox/1.1.tif'), '/var/spool/asterisk/fax/inbox/1.1.tif', 'only whole path segments map');
    assert.deepEqual(await p.resolve('/var/spool/asterisk/fax/in/1.1.tif'), { ok: true, path: join(root, 'spool', '1.1.tif'), dir: p.dirs[0] });
    assert.equal((await p.resolve(join(root, 'spool', 'inner.tif'))).ok, true, 'a symlink staying inside is fine');
    for (const [path, code] of [
      [join(root, 'spool', 'link.tif'), 'tiff_path_outside_spool'],
      [join(root, 'spool', 'dirlink', 'secret.tif'), 'tiff_path_outside_spool'],
      [join(root, 'other', 'secret.tif'), 'tiff_path_outside_spool'],
      [`${join(root, 'spool')}/../other/secret.tif`, 'tiff_path_invalid'],
      [join(root, 'spool', 'nope.tif'), 'tiff_missing'],
      [join(root, 'spool'), 'tiff_path_invalid'],
      ['1.1.tif', 'tiff_path_invalid'],
      [`${join(root, 'spool')}/1.1.tif\0.tif`, 'tiff_path_invalid'],
    ] as const) {
      const r = await p.resolve(path);
      assert.equal(r.ok, false, path);
      assert.equal(!r.ok && r.code, code, path);
    }
    const none = await new SpoolPaths([], []).resolve('/x/1.tif');
    assert.equal(!none.ok && none.code, 'no_spool_configured');
  });

  test('file names: <uid>.tif and <uid>.json; source by tag, else by the shape of the uid', () => {
    assert.deepEqual(uidFromFileName('1795778049.0.tif'), { uid: '1795778049.0', kind: 'tiff' });
    assert.deepEqual(uidFromFileName('pbx1-1795778049.12.json'), { uid: 'pbx1-1795778049.12', kind: 'sidecar' });
    assert.equal(uidFromFileName('notes.txt'), null);
    assert.equal(uidFromFileName('.hidden.tif'), null);
    const p = new SpoolPaths([{ dir: '/s', source: 'auto' }], []);
    assert.equal(p.sourceFor(p.dirs[0]!, '7b51cab7-1964-42ac-beb9-035d10245e20'), 'freeswitch');
    assert.equal(p.sourceFor(p.dirs[0]!, '1795778049.0'), 'asterisk');
    assert.equal(p.sourceFor({ dir: '/s', source: 'freeswitch' }, '1795778049.0'), 'freeswitch');
  });
});

describe('what the PBXs report', () => {
  test('Asterisk bodies as recorded: strings, possibly empty; "2" → 2, "" → null', () => {
    const ok = fromAsteriskBody(
      AsteriskInboundBody.parse({ tiff_path: '/srv/astB/spool/fax/1795778049.0.tif', to_number: '1000', from_number: '+15550000001', faxstatus: 'SUCCESS', faxpages: '2', uniqueid: '1795778049.0' }),
    );
    assert.deepEqual(ok, { uid: '1795778049.0', tiffPath: '/srv/astB/spool/fax/1795778049.0.tif', toNumber: '1000', fromNumber: '+15550000001', success: true, pages: 2, error: null, remoteStationId: null });
    const empty = fromAsteriskBody(AsteriskInboundBody.parse({ tiff_path: '/x/1.1.tif', to_number: '', from_number: '', faxstatus: '', faxpages: '', uniqueid: '1.1' }));
    assert.equal(empty.success, null);
    assert.equal(empty.pages, null);
    assert.equal(empty.toNumber, null);
    const failed = fromAsteriskBody(AsteriskInboundBody.parse({ tiff_path: '/x/1.1.tif', faxstatus: 'FAILED', faxpages: '0', uniqueid: '1.1' }));
    assert.equal(failed.success, false);
    assert.equal(failed.pages, 0);
  });

  test('sidecars: Asterisk (the hook body) and FreeSWITCH (the lua hook); partial JSON is "not yet"', () => {
    const a = parseSidecar('{"tiff_path":"/a/1.2.tif","to_number":"1000","from_number":"","faxstatus":"SUCCESS","faxpages":"2","uniqueid":"1.2"}');
    assert.equal(a?.source, 'asterisk');
    assert.equal(a?.report.fromNumber, null);
    const f = parseSidecar(
      '{"version":"1","source":"freeswitch","uniqueid":"7b51cab7-1964-42ac-beb9-035d10245e20","tiff_path":"/rx/x.tif","to_number":"15550000001","from_number":"0000000000","fax_success":"0","fax_result_code":"49","fax_result_text":"The call dropped prematurely","fax_document_transferred_pages":"0","fax_remote_station_id":"","hangup_cause":"NORMAL_CLEARING","end_epoch":"1"}',
    );
    assert.equal(f?.source, 'freeswitch');
    assert.equal(f?.report.success, false);
    assert.equal(f?.report.pages, 0);
    assert.equal(f?.report.error, 'The call dropped prematurely');
    assert.equal(f?.report.remoteStationId, null);
    assert.equal(parseSidecar('{"tiff_path":"/a/1.2.tif","to_n'), null);
    assert.equal(parseSidecar('[1]'), null);
  });

  test('outcome rules: failed with pages keeps them; no TIFF after a failure is a failed reception', () => {
    assert.deepEqual(decideOutcome('success', null, 2, { kind: 'pdf', pages: 2 }), { status: 'received', error: null, pages: 2, note: null });
    assert.equal(decideOutcome(null, null, null, { kind: 'pdf', pages: 2 }).status, 'received');
    assert.match(String(decideOutcome(null, null, null, { kind: 'pdf', pages: 2 }).note), /unknown/);
    const partial = decideOutcome('failed', 'The call dropped prematurely', 2, { kind: 'pdf', pages: 1 });
    assert.equal(partial.status, 'FAILED');
    assert.equal(partial.pages, 1);
    assert.match(String(partial.error), /^The call dropped prematurely after 1 page;/);
    assert.equal(decideOutcome('failed', null, 0, { kind: 'missing' }).error, 'the reception failed before any page arrived');
    assert.match(String(decideOutcome('success', null, 2, { kind: 'missing' }).error), /reported success but the received TIFF is missing/);
    assert.match(String(decideOutcome(null, null, null, { kind: 'missing' }).error), /did not start/);
    assert.match(String(decideOutcome('success', null, 2, { kind: 'invalid', reason: 'truncated: x' }).error), /could not be read \(truncated: x\); it was moved to quarantine/);
  });
});
