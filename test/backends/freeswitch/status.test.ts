// `api status` as recorded from FreeSWITCH 1.10.12: uptime (to tell a FreeSWITCH restart since a call began) and version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStatus } from '../../../src/backends/freeswitch/status.js';

const RECORDED =
  'UP 0 years, 0 days, 0 hours, 2 minutes, 27 seconds, 282 milliseconds, 452 microseconds\n' +
  'FreeSWITCH (Version 1.10.12-release  64bit) is ready\n8 session(s) since startup\n1 session(s) - peak 1, last 5min 1 \n' +
  '0 session(s) per Sec out of max 30, peak 1, last 5min 1 \n100 session(s) max\nmin idle cpu 0.00/98.00\n';

test('the recorded reply: 2 min 27.282 s up, version 1.10.12-release', () => {
  assert.deepEqual(parseStatus(RECORDED), { uptimeMs: 147_282, version: '1.10.12-release' });
});

test('years, days and hours count; singular units too; anything else is unknown, not zero', () => {
  assert.equal(parseStatus('UP 1 year, 2 days, 3 hours, 0 minutes, 1 second, 0 milliseconds, 0 microseconds\n').uptimeMs, 365 * 86_400_000 + 2 * 86_400_000 + 3 * 3_600_000 + 1000);
  assert.deepEqual(parseStatus('-ERR something\n'), { uptimeMs: null, version: null });
});
