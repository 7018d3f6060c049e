// Manifest validation: every kind of error, with the exact message naming the file and the field path.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadManifestDir, loadManifestFile, ManifestError, validateManifest } from '../../../src/backends/manifest/load.js';
import { createManifestProvider } from '../../../src/backends/manifest/provider.js';
import { parseSelector, select } from '../../../src/backends/manifest/select.js';
import { parseTemplate, renderTemplate } from '../../../src/backends/manifest/template.js';

const SRC = 'manifests/acme.json';
const examplePath = join(import.meta.dirname, '../../../manifests/example-http-fax.json');
let example: Record<string, unknown>;

before(async () => {
  example = (await import(examplePath, { with: { type: 'json' } })).default as Record<string, unknown>;
});

type Json = Record<string, unknown>;
/** A valid manifest (the shipped example, renamed) changed by `edit`. */
function variant(edit: (m: Json) => void): Json {
  const m = structuredClone(example) as Json;
  m.id = 'acme';
  edit(m);
  return m;
}
const at = (m: Json, path: string): Json => path.split('.').reduce((o, k) => o[k] as Json, m);

/** The issues a manifest produces, or [] when it is valid. */
function issues(m: unknown): string[] {
  try {
    validateManifest(m, SRC);
    return [];
  } catch (err) {
    if (err instanceof ManifestError) return err.issues;
    throw err;
  }
}

function expectIssues(edit: (m: Json) => void, expected: string[]): void {
  assert.deepEqual(issues(variant(edit)), expected.map((e) => `${SRC}: ${e}`));
}

test('the shipped example is valid', () => {
  assert.deepEqual(issues(variant(() => {})), []);
  const m = validateManifest(example, 'manifests/example-http-fax.json');
  assert.equal(m.json.id, 'example-http-fax');
  assert.deepEqual(m.statusMap.get('busy'), { status: 'FAILED', failureClass: 'busy' });
  assert.deepEqual(m.statusMap.get('delivered'), { status: 'SUCCESS', failureClass: null });
  assert.equal(m.defaultFailureClass, 'permanent');
});

describe('schema errors', () => {
  test('missing fields', () => {
    expectIssues((m) => delete at(m, 'send').url, ['send.url: required']);
    expectIssues((m) => delete m.id, ['id: required']);
    expectIssues((m) => delete at(m, 'send.response').providerId, ['send.response.providerId: required']);
    expectIssues((m) => delete m.status, ['status: required']);
    expectIssues((m) => delete at(m, 'auth').token, ['auth.token: required']);
  });

  test('wrong types', () => {
    expectIssues((m) => (at(m, 'send').timeoutSeconds = '30'), ['send.timeoutSeconds: expected number, got string']);
    expectIssues((m) => (at(m, 'send').timeoutSeconds = 1.5), ['send.timeoutSeconds: expected an integer, got number']);
    expectIssues((m) => (at(m, 'send').timeoutSeconds = 0), ['send.timeoutSeconds: at least 1']);
    expectIssues((m) => (m.name = ['x']), ['name: expected string, got array']);
    expectIssues((m) => (at(m, 'settings.API_KEY').secret = 'yes'), ['settings.API_KEY.secret: expected boolean, got string']);
  });

  test('unknown keys', () => {
    expectIssues((m) => (m.extra = 1), ['extra: unknown key']);
    expectIssues((m) => (at(m, 'send').retries = 3), ['send.retries: unknown key']);
    expectIssues((m) => (at(m, 'callback.signature').salt = 'x'), ['callback.signature.salt: unknown key']);
    expectIssues((m) => (at(m, 'status.map').busy = { status: 'FAILED', klass: 'busy' }), ['status.map.busy.klass: unknown key']);
  });

  test('values outside their set', () => {
    expectIssues((m) => (at(m, 'send').method = 'FETCH'), ['send.method: expected one of "GET", "POST", "PUT", "PATCH", got "FETCH"']);
    expectIssues((m) => (at(m, 'send').document = 'inline'), ['send.document: expected one of "url", "upload", got "inline"']);
    expectIssues((m) => (at(m, 'auth').scheme = 'oauth'), ['auth.scheme: expected one of "none", "basic", "bearer", "header", "query", got "oauth"']);
    expectIssues((m) => (at(m, 'send.body').type = 'xml'), ['send.body.type: expected one of "json", "form", "multipart", got "xml"']);
    expectIssues((m) => (at(m, 'callback.signature').algorithm = 'md5'), ['callback.signature.algorithm: expected one of "sha1", "sha256", "sha512", got "md5"']);
    expectIssues((m) => (at(m, 'settings.API_KEY').env = 'api_key'), ['settings.API_KEY.env: expected an environment variable name in capitals, e.g. ACME_API_KEY']);
  });

  test('ids: format and clashes with built-in backends', () => {
    expectIssues((m) => (m.id = 'Acme Fax'), ['id: expected lower-case letters, digits, - and _ (at most 64), starting with a letter or digit']);
    for (const id of ['phaxio', 'sinch', 'signalwire', 'sip', 'asterisk', 'freeswitch', 'sandbox']) {
      expectIssues((m) => (m.id = id), [`id: "${id}" is a built-in backend name`]);
    }
  });
});

describe('templates', () => {
  test('bad URL templates', () => {
    expectIssues((m) => (at(m, 'send').url = 'ftp://fax.example/{{to}}'), ['send.url: must be an absolute http(s) URL or start with {{settings.NAME}}']);
    expectIssues((m) => (at(m, 'send').url = '{{job_id}}/faxes'), ['send.url: must be an absolute http(s) URL or start with {{settings.NAME}}']);
    expectIssues((m) => (at(m, 'send').url = 'https://exa mple.com/faxes'), ['send.url: not a valid URL template ("https://exa mple.com/faxes")']);
    expectIssues((m) => (at(m, 'poll').url = '/faxes/{{provider_id}}'), ['poll.url: must be an absolute http(s) URL or start with {{settings.NAME}}']);
  });

  test('malformed and unknown placeholders', () => {
    expectIssues((m) => (at(m, 'send.body.fields').to = '{{to'), ['send.body.fields.to: unclosed placeholder "{{to"']);
    expectIssues((m) => (at(m, 'send.body.fields').to = '{{ To Number }}'), ['send.body.fields.to: bad placeholder "{{ To Number }}"']);
    expectIssues((m) => (at(m, 'send.body.fields').to = '{{recipient}}'), ['send.body.fields.to: unknown placeholder {{recipient}}']);
    expectIssues((m) => (at(m, 'send.body.fields.metadata').faxbot_job = '{{provider_id}}'), ['send.body.fields.metadata.faxbot_job: unknown placeholder {{provider_id}}']);
    expectIssues((m) => (at(m, 'poll').url = '{{settings.BASE_URL}}/faxes/{{document_url}}'), ['poll.url: unknown placeholder {{document_url}}']);
  });

  test('settings must be declared; auth may only use settings', () => {
    expectIssues((m) => (at(m, 'auth').token = '{{settings.NOPE}}'), ['auth.token: unknown setting "NOPE" in {{settings.NOPE}} (declare it under settings)']);
    expectIssues((m) => (at(m, 'auth').token = '{{job_id}}'), ['auth.token: unknown placeholder {{job_id}} (auth values may only use {{settings.NAME}})']);
    expectIssues((m) => (at(m, 'callback.signature').secretSetting = 'SECRET'), ['callback.signature.secretSetting: unknown setting "SECRET" (declare it under settings)']);
  });

  test('the document mode and the body must agree', () => {
    expectIssues((m) => (at(m, 'send').document = 'upload'), [
      'send.body.fields.document_url: {{document_url}} needs send.document "url"',
      'send.body: an uploaded document needs a multipart body with a file, or a json body using {{document_base64}}',
    ]);
    expectIssues((m) => (at(m, 'send.body.fields').document_url = 'fixed'), ['send: send.document is "url" but no template uses {{document_url}}']);
    expectIssues((m) => (at(m, 'send.body.fields').doc = '{{document_base64}}'), ['send.body.fields.doc: {{document_base64}} needs send.document "upload"']);
    expectIssues((m) => (at(m, 'send').method = 'GET'), ['send.body: a GET request has no body']);
  });
});

describe('status map and selectors', () => {
  test('a status mapped to something that is not a job status', () => {
    expectIssues((m) => (at(m, 'status.map').delivered = 'DONE'), [
      'status.map.delivered: expected one of "queued", "in_progress", "SUCCESS", "FAILED", got "DONE"',
      'status.map: must map at least one provider status to SUCCESS and one to FAILED',
    ]);
    expectIssues((m) => (at(m, 'status.map')['no answer'] = 'failed'), ['status.map["no answer"]: expected one of "queued", "in_progress", "SUCCESS", "FAILED", got "failed"']);
    expectIssues((m) => (at(m, 'status.map').x = 7), ['status.map.x: expected a status string or {"status": …, "failureClass": …}, got number']);
  });

  test('failure classes', () => {
    expectIssues((m) => (at(m, 'status.map').busy = { status: 'FAILED', failureClass: 'flaky' }), [
      'status.map.busy.failureClass: expected one of busy, no_answer, congestion, protocol, document, permanent, transient, unknown, got "flaky"',
    ]);
    expectIssues((m) => (at(m, 'status.map').delivered = { status: 'SUCCESS', failureClass: 'busy' }), ['status.map.delivered.failureClass: only a FAILED status has a failure class']);
    expectIssues((m) => (at(m, 'status.map').busy = { failureClass: 'busy' }), ['status.map.busy.status: required']);
    expectIssues((m) => (at(m, 'status').defaultFailureClass = 'retry'), [
      'status.defaultFailureClass: expected one of busy, no_answer, congestion, protocol, document, permanent, transient, unknown, got "retry"',
    ]);
  });

  test('a map that can never finish a job', () => {
    expectIssues((m) => (at(m, 'status').map = { queued: 'queued', delivered: 'SUCCESS' }), ['status.map: must map at least one provider status to SUCCESS and one to FAILED']);
    expectIssues((m) => (at(m, 'status').map = {}), ['status.map: must map at least one provider status to SUCCESS and one to FAILED']);
  });

  test('bad selectors', () => {
    expectIssues((m) => (at(m, 'send.response').providerId = 'fax.id'), ['send.response.providerId: bad selector "fax.id": must start with $']);
    expectIssues((m) => (at(m, 'callback').status = '$.fax..status'), ['callback.status: bad selector "$.fax..status" at "..status"']);
    expectIssues((m) => (at(m, 'find.response').items = '$[faxes]'), ['find.response.items: bad selector "$[faxes]" at "[faxes]"']);
  });

  test('several problems are all reported', () => {
    assert.equal(issues(variant((m) => {
      m.id = 'phaxio';
      at(m, 'send').url = 'ftp://x';
      at(m, 'status.map').delivered = 'DONE';
    })).length, 4);
  });
});

describe('files, directories and settings', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faxbot-manifests-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('invalid JSON names the file', async () => {
    await writeFile(join(dir, 'broken.json'), '{"id": "x",');
    await assert.rejects(loadManifestFile(join(dir, 'broken.json'), 'manifests/broken.json'), (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.equal(err.issues.length, 1);
      assert.match(err.issues[0]!, /^manifests\/broken\.json: invalid JSON \(/);
      return true;
    });
  });

  test('a directory: valid manifests load, an invalid one is refused whole, a duplicate id is refused', async () => {
    const d = join(dir, 'set');
    await rm(d, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(d);
    await writeFile(join(d, 'a-good.json'), JSON.stringify(variant(() => {})));
    await writeFile(join(d, 'b-bad.json'), JSON.stringify(variant((m) => {
      m.id = 'other';
      delete at(m, 'send').url;
    })));
    await writeFile(join(d, 'c-dup.json'), JSON.stringify(variant(() => {})));
    await writeFile(join(d, 'notes.txt'), 'not a manifest');
    const r = await loadManifestDir(d);
    assert.deepEqual([...r.manifests.keys()], ['acme']);
    assert.deepEqual(r.errors, [
      `${join(d, 'b-bad.json')}: send.url: required`,
      `${join(d, 'c-dup.json')}: id: "acme" is already used by ${join(d, 'a-good.json')}`,
    ]);
    const missing = await loadManifestDir(join(dir, 'nope'));
    assert.equal(missing.manifests.size, 0);
    assert.match(missing.errors[0]!, /cannot read the manifest directory \(ENOENT\)/);
  });

  test('settings come from the environment; a missing required one is named with its variable', () => {
    const m = validateManifest(example, 'manifests/example-http-fax.json');
    assert.throws(() => createManifestProvider(m, {}), (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.deepEqual(err.issues, ['manifests/example-http-fax.json: settings.API_KEY: environment variable EXAMPLE_FAX_API_KEY is not set']);
      return true;
    });
    assert.throws(() => createManifestProvider(m, { EXAMPLE_FAX_API_KEY: 'k', EXAMPLE_FAX_BASE_URL: 'not a url' }), (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.deepEqual(err.issues, ['manifests/example-http-fax.json: send.url: with the configured settings it is not an http(s) URL']);
      return true;
    });
    const p = createManifestProvider(m, { EXAMPLE_FAX_API_KEY: 'k' });
    assert.equal(p.id, 'example-http-fax');
    assert.deepEqual(p.secretEnvNames, ['EXAMPLE_FAX_API_KEY', 'EXAMPLE_FAX_WEBHOOK_SECRET']);
    assert.equal(p.pollIntervalSeconds, 60);
  });
});

test('selectors and templates', () => {
  const data = { a: { 'b c': [{ id: 7 }] }, s: '' };
  const sel = parseSelector("$.a['b c'][0].id");
  assert.ok(Array.isArray(sel));
  assert.equal(select(data, sel), 7);
  assert.equal(select(data, parseSelector('$.a.x.y') as (string | number)[]), undefined);
  assert.deepEqual(parseSelector('$'), []);
  const t = parseTemplate('{{settings.BASE}}/faxes/{{ to }}?x={{job_id}}');
  assert.ok(Array.isArray(t));
  assert.equal(renderTemplate(t, new Map([['settings.BASE', 'https://h/v1'], ['to', '+1 555/1'], ['job_id', 'j&1']]), encodeURIComponent),
    'https://h/v1/faxes/%2B1%20555%2F1?x=j%261');
});
