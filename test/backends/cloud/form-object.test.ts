// The fax object inside a provider's form (JSON field, or flattened fields), shared by the Phaxio and Sinch callback parsers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BodyParseError, type FormField } from '../../../src/backends/cloud/body.js';
import { flattenedFields, jsonField } from '../../../src/backends/cloud/form-object.js';
import { parsePhaxioCallback } from '../../../src/backends/phaxio/callback.js';
import { parseSinchCallback } from '../../../src/backends/sinch/callback.js';

const fields = (pairs: [string, string][]): FormField[] => pairs.map(([name, value]) => ({ name, value }));

describe('form objects', () => {
  test('jsonField: the field parsed, undefined without it, a BodyParseError naming the field when it is not JSON', () => {
    assert.deepEqual(jsonField(fields([['fax', '{"id":7}']]), 'fax', 'X callback'), { id: 7 });
    assert.equal(jsonField(fields([['other', '{}']]), 'fax', 'X callback'), undefined);
    assert.throws(() => jsonField(fields([['fax', '{']]), 'fax', 'X callback'), (e: unknown) => e instanceof BodyParseError && e.message === 'X callback: the fax field is not JSON');
  });

  test('flattenedFields: keyed by the first group captured, others ignored, empty when nothing matches', () => {
    const f = fields([['fax[id]', '1'], ['fax.status', 'success'], ['fax[Bad-Name]', 'x'], ['event', 'E']]);
    assert.deepEqual(flattenedFields(f, /^fax(?:\[([A-Za-z_]+)\]|\.([A-Za-z_]+))$/), { id: '1', status: 'success' });
    assert.deepEqual(flattenedFields(f, /^fax\[([a-z_]+)\]$/), { id: '1' });
    assert.deepEqual(flattenedFields(f, /^nothing\[([a-z]+)\]$/), {});
  });
});

describe('the callback parsers read flattened fax objects as before', () => {
  test('Phaxio: legacy fax[field] (lower case, brackets only); nothing at all is "no fax object"', () => {
    const cb = parsePhaxioCallback({ fields: fields([['fax[id]', '1234'], ['fax[status]', 'success'], ['fax[direction]', 'sent'], ['fax.status', 'failure']]), files: [] });
    assert.equal(cb.kind, 'status');
    assert.equal(cb.providerSid, '1234');
    assert.equal(cb.fax.status, 'success');
    assert.throws(() => parsePhaxioCallback({ fields: fields([['fax[ID]', '1']]), files: [] }), (e: unknown) => e instanceof BodyParseError && e.message === 'Phaxio callback: no fax object');
    assert.throws(() => parsePhaxioCallback({ fields: fields([['fax', 'nope']]), files: [] }), (e: unknown) => e instanceof BodyParseError && e.message === 'Phaxio callback: the fax field is not JSON');
  });

  test('Sinch: fax[name] and fax.name, then top-level fields when neither is there', () => {
    const dotted = parseSinchCallback({ kind: 'form', fields: fields([['event', 'FAX_COMPLETED'], ['fax[id]', 'f1'], ['fax.status', 'COMPLETED']]), files: [] });
    assert.equal(dotted.providerSid, 'f1');
    assert.equal(dotted.fax.status, 'COMPLETED');
    const top = parseSinchCallback({ kind: 'form', fields: fields([['event', 'FAX_COMPLETED'], ['id', 'f2'], ['status', 'FAILURE']]), files: [] });
    assert.equal(top.providerSid, 'f2');
    assert.equal(top.fax.status, 'FAILURE');
    assert.throws(() => parseSinchCallback({ kind: 'form', fields: fields([['fax', '{x']]), files: [] }), (e: unknown) => e instanceof BodyParseError && e.message === 'Sinch callback: the fax field is not JSON');
  });
});
