// Directory flushes are group-committed: callers that arrive while one runs share the next, never the running one.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { syncDir } from '../../src/util/fsync.js';

test('callers during a flush share one later flush; all of them resolve', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faxbot-fsync-'));
  const first = syncDir(dir);
  const second = syncDir(dir);
  const third = syncDir(dir);
  assert.notEqual(second, first, 'a flush that may have started before the caller\'s rename is not enough');
  assert.equal(third, second, 'waiting callers share the next flush');
  let firstDone = false;
  void first.then(() => (firstDone = true));
  await second;
  assert.ok(firstDone, 'the shared flush starts after the running one');
  await Promise.all(Array.from({ length: 50 }, () => syncDir(dir)));
  await syncDir(join(dir, 'does-not-exist'));
});
