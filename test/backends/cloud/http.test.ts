// The shared cloud pieces: HTTP error classes, Retry-After, message scrubbing, the raw multipart parser, Basic and constant-time checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyParseError, parseCallbackBody, parseMultipart, parseUrlEncoded } from '../../../src/backends/cloud/body.js';
import { checkBasicAuth, headerValue, safeEqual } from '../../../src/backends/cloud/crypto.js';
import { classifyFaxError, classifyMessage } from '../../../src/backends/cloud/fax-errors.js';
import { basicAuth, clipMessage, httpError, parseRetryAfter, redactUrl, toAttemptError } from '../../../src/backends/cloud/http.js';
import { checkLostSends } from '../../../src/backends/cloud/lost-send.js';
import { AttemptFailedError, NotSentError } from '../../../src/backends/types.js';
import { ProviderError } from '../../../src/backends/cloud/http.js';
import { multipartBytes } from '../../sim/cloud-http.js';
import { attemptInfo } from './helpers.js';

test('Retry-After: seconds, HTTP date, garbage', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter(null, now), null);
});

test('HTTP statuses → classes', () => {
  const h = new Headers();
  const cases: [number, string, string, boolean, boolean][] = [
    // status, message, class, sent, maybeCreated
    [400, 'Invalid number', 'permanent', true, false],
    [401, 'bad key', 'permanent', true, false],
    [413, 'too big', 'document', true, false],
    [415, 'nope', 'document', true, false],
    [422, 'The file you provided could not be converted', 'document', true, false],
    [408, 'timeout', 'transient', true, true],
    [429, 'slow down', 'transient', false, false],
    [500, 'oops', 'transient', true, true],
    [503, 'maintenance', 'transient', true, true],
  ];
  for (const [status, msg, cls, sent, maybe] of cases) {
    const e = httpError('p', status, h, msg);
    assert.equal(e.failureClass, cls, String(status));
    assert.equal(e.sent, sent, String(status));
    assert.equal(e.maybeCreated, maybe, String(status));
  }
  assert.ok(toAttemptError(httpError('p', 500, h, null)) instanceof AttemptFailedError);
  assert.ok(toAttemptError(httpError('p', 429, h, null)) instanceof NotSentError);
});

test('provider messages are scrubbed: numbers masked, URLs without query or credentials, one bounded line', () => {
  assert.equal(clipMessage("The 'To' number +1 (555) 123-4567 is invalid"), "The 'To' number +*******4567 is invalid");
  assert.equal(clipMessage('Could not access the url you provided. https://gw.example/fax/j1/pdf?token=SECRET'), 'Could not access the url you provided. https://gw.example/fax/j1/pdf?…');
  assert.equal(clipMessage('fax to 15551234567 failed'), 'fax to *******4567 failed');
  assert.equal(clipMessage('error code 21606 at 2026-11-27'), 'error code 21606 at 2026-11-27');
  assert.equal(clipMessage('a\n\n  b'), 'a b');
  assert.equal(clipMessage('x'.repeat(400))!.length, 301);
  assert.equal(clipMessage('   '), null);
  assert.equal(redactUrl('https://user:pw@h.example:8443/p?token=1'), 'https://h.example:8443/p?…');
  const e = httpError('sinch', 400, new Headers(), 'bad https://h/x?token=abc +15551234567');
  assert.doesNotMatch(e.message, /abc|5551234567/);
});

test('the raw multipart parser keeps values byte for byte and agrees with Node\'s own parser', async () => {
  const pdf = Buffer.from('%PDF-1.4\r\n--not-a-boundary\r\n\x00\xff binary');
  const value = '{"a":"x\\/y"}\r\nsecond line  ';
  const { body, contentType } = multipartBytes([['fax', value], ['event_type', 'fax_completed'], ['fax', 'again']], [{ name: 'file', filename: 'f "1".pdf', type: 'application/pdf', data: pdf }]);
  const form = parseMultipart(body, contentType);
  assert.deepEqual(form.fields, [{ name: 'fax', value }, { name: 'event_type', value: 'fax_completed' }, { name: 'fax', value: 'again' }]);
  assert.equal(form.files.length, 1);
  assert.deepEqual(form.files[0]!.data, pdf);
  assert.equal(form.files[0]!.contentType, 'application/pdf');
  // Node's parser reads the same.
  const fd = new FormData();
  fd.append('fax', value);
  fd.append('file', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'x.pdf');
  const req = new Request('http://x', { method: 'POST', body: fd });
  const raw = Buffer.from(await req.arrayBuffer());
  const viaFetch = parseMultipart(raw, req.headers.get('content-type')!);
  assert.deepEqual(viaFetch.fields, [{ name: 'fax', value }]);
  assert.deepEqual(viaFetch.files[0]!.data, pdf);
  // A quoted boundary.
  const quoted = parseMultipart(Buffer.from('--a b\r\nContent-Disposition: form-data; name="k"\r\n\r\nv\r\n--a b--\r\n'), 'multipart/form-data; boundary="a b"');
  assert.deepEqual(quoted.fields, [{ name: 'k', value: 'v' }]);
});

test('malformed bodies are refused with BodyParseError', () => {
  const ct = 'multipart/form-data; boundary=b';
  for (const raw of ['no boundary here', '--b\r\nContent-Disposition: form-data; name="k"\r\n\r\nunterminated', '--b\r\nX: y\r\n\r\nv\r\n--b--', '--bXX']) {
    assert.throws(() => parseMultipart(Buffer.from(raw), ct), BodyParseError, raw);
  }
  assert.throws(() => parseMultipart(Buffer.from(''), 'multipart/form-data'), BodyParseError);
  assert.throws(() => parseCallbackBody(Buffer.from('{'), 'application/json'), BodyParseError);
  assert.throws(() => parseCallbackBody(Buffer.from('x'), 'text/plain'), BodyParseError);
  const many = Array.from({ length: 5 }, (_, i) => [`f${i}`, 'v'] as const);
  const big = multipartBytes(many);
  assert.throws(() => parseMultipart(big.body, big.contentType, { maxParts: 2 }), BodyParseError);
});

test('urlencoded: order kept, + and escapes decoded', () => {
  assert.deepEqual(parseUrlEncoded(Buffer.from('b=1+2&a=%2B15551234567&b=3')), [
    { name: 'b', value: '1 2' }, { name: 'a', value: '+15551234567' }, { name: 'b', value: '3' },
  ]);
});

test('Basic auth and constant-time comparison', () => {
  assert.equal(checkBasicAuth(basicAuth('u', 'p:w'), 'u', 'p:w'), true);
  assert.equal(checkBasicAuth(basicAuth('u', 'x'), 'u', 'p:w'), false);
  assert.equal(checkBasicAuth('Basic !!!', 'u', 'p'), false);
  assert.equal(checkBasicAuth(undefined, 'u', 'p'), false);
  assert.equal(safeEqual('abc', 'abc'), true);
  assert.equal(safeEqual('abc', 'abd'), false);
  assert.equal(safeEqual('abc', 'abcd'), false);
  assert.equal(headerValue({ 'X-Thing': ['a', 'b'] }, 'x-thing'), 'a');
});

test('fax error classification', () => {
  assert.equal(classifyFaxError('lineError', 17, 'Busy'), 'busy');
  assert.equal(classifyFaxError('LINE_ERROR', null, 'No answer'), 'no_answer');
  assert.equal(classifyFaxError('CALL_ERROR', 999, 'something new'), 'congestion');
  assert.equal(classifyFaxError(null, null, 'Unable to fetch media'), 'document');
  assert.equal(classifyFaxError(null, null, 'weird'), 'unknown');
  assert.equal(classifyMessage('The receiving phone number is not operational'), 'permanent');
});

test('checkLostSends: only maybe-sent attempts are checked; a failed fax does not block; a failed lookup gives the attempt back', async () => {
  const seen: number[] = [];
  const statusOf = (f: { ok: boolean }) => f.ok
    ? { state: 'in_progress' as const, providerStatus: 'x', pages: null }
    : { state: 'final' as const, providerStatus: 'x', outcome: { ok: false as const, failureClass: 'busy' as const, error: 'busy' } };
  const info = attemptInfo(4, [{ attemptNo: 1, failureClass: 'busy' }, { attemptNo: 2, failureClass: 'transient' }, { attemptNo: 3, failureClass: 'transient' }]);
  const r = await checkLostSends(info, async (n) => {
    seen.push(n);
    return n === 3 ? { kind: 'found', providerSid: 'p3', fax: { ok: false } } : { kind: 'none' };
  }, statusOf);
  assert.deepEqual(r, { kind: 'clear' });
  assert.deepEqual(seen, [3, 2]);
  const live = await checkLostSends(info, async (n) => (n === 2 ? { kind: 'found', providerSid: 'p2', fax: { ok: true } } : { kind: 'none' }), statusOf);
  assert.equal(live.kind === 'found' && live.attemptNo, 2);
  const unknown = await checkLostSends(info, async () => ({ kind: 'unknown', reason: 'r' }), statusOf);
  assert.deepEqual(unknown, { kind: 'unknown', attemptNo: 3, reason: 'r' });
  await assert.rejects(checkLostSends(info, async () => {
    throw new ProviderError({ provider: 'p', message: 'down', failureClass: 'transient', sent: true, maybeCreated: true, code: 'http_503' });
  }, statusOf), NotSentError);
});
