import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ladderStep } from '../../src/backends/pbx/ladder.js';

const configured = { t38: true, ecm: true, maxRate: 14400 };

test('the ladder gives up T.38, then ECM, then speed', () => {
  assert.deepEqual(ladderStep(configured, 0), { ...configured, step: 0 });
  assert.deepEqual(ladderStep(configured, 1), { t38: false, ecm: true, maxRate: 14400, step: 1 });
  assert.deepEqual(ladderStep(configured, 2), { t38: false, ecm: false, maxRate: 14400, step: 2 });
  assert.deepEqual(ladderStep(configured, 3), { t38: false, ecm: false, maxRate: 9600, step: 3 });
  assert.deepEqual(ladderStep(configured, 4), { t38: false, ecm: false, maxRate: 7200, step: 4 });
  assert.deepEqual(ladderStep(configured, 5), { t38: false, ecm: false, maxRate: 4800, step: 5 });
  assert.deepEqual(ladderStep(configured, 9), { t38: false, ecm: false, maxRate: 4800, step: 5 });
});

test('a line configured for audio starts the ladder at ECM', () => {
  assert.deepEqual(ladderStep({ t38: false, ecm: true, maxRate: 9600 }, 1), { t38: false, ecm: false, maxRate: 9600, step: 1 });
});
