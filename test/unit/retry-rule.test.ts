import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRetryRule, retryDelaySeconds } from '../../src/config/retry-rule.js';

test('retry rules parse attempts, delay and multiplier', () => {
  assert.deepEqual(parseRetryRule('4:180'), { attempts: 4, delaySeconds: 180, multiplier: 1 });
  assert.deepEqual(parseRetryRule('6:30:2'), { attempts: 6, delaySeconds: 30, multiplier: 2 });
  assert.match(String(parseRetryRule('abc')), /attempts:delaySeconds/);
  assert.match(String(parseRetryRule('0:10')), /between 1 and 100/);
});

test('retry delays grow by the multiplier from the second retry on', () => {
  const r = { attempts: 6, delaySeconds: 30, multiplier: 2 };
  assert.equal(retryDelaySeconds(r, 2), 30);
  assert.equal(retryDelaySeconds(r, 3), 60);
  assert.equal(retryDelaySeconds(r, 4), 120);
});
