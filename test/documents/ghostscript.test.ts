// Ghostscript runner: version for readiness, time limit with kill and reap, abort, missing binary.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GhostscriptError, ghostscriptVersion, runGhostscript } from '../../src/documents/ghostscript.js';

/** True while a process with this pid exists, zombies included (kill 0 succeeds on an unreaped child). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const LOOP = ['-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-dNODISPLAY', '-c', '{ 1 pop } loop'];

describe('ghostscript', () => {
  it('reports the installed version, cached', async () => {
    const v = await ghostscriptVersion();
    assert.match(v ?? '', /^\d+\.\d+/);
    assert.equal(ghostscriptVersion(), ghostscriptVersion(), 'the same cached promise');
  });

  it('reports null for a binary that does not exist', async () => {
    assert.equal(await ghostscriptVersion('/nonexistent/bin/gs'), null);
  });

  it('a missing binary is a not_found error', async () => {
    await assert.rejects(runGhostscript(['--version'], { gsPath: '/nonexistent/bin/gs', timeoutMs: 5000 }), (e: unknown) => {
      assert.ok(e instanceof GhostscriptError);
      assert.equal(e.code, 'not_found');
      assert.match(e.message, /could not be started \(\/nonexistent\/bin\/gs: ENOENT\)/);
      return true;
    });
  });

  it('kills a run that passes the time limit and reaps it', async () => {
    let pid = 0;
    await assert.rejects(
      runGhostscript(LOOP, { timeoutMs: 300, onSpawn: (p) => (pid = p) }),
      (e: unknown) => {
        assert.ok(e instanceof GhostscriptError);
        assert.equal(e.code, 'timeout');
        assert.equal(e.message, 'Ghostscript timed out after 300 ms');
        return true;
      },
    );
    assert.ok(pid > 0);
    assert.equal(exists(pid), false, 'no process (not even a zombie) is left');
  });

  it('stops when the caller aborts', async () => {
    const ac = new AbortController();
    let pid = 0;
    const run = runGhostscript(LOOP, { timeoutMs: 60_000, signal: ac.signal, onSpawn: (p) => (pid = p) });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(run, (e: unknown) => e instanceof GhostscriptError && e.code === 'aborted');
    assert.equal(exists(pid), false);
  });

  it('a non-zero exit is a failed error with redacted diagnostics', async () => {
    const secret = '/tmp/some/patient-file.pdf';
    await assert.rejects(
      runGhostscript(['-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-dNODISPLAY', secret], { timeoutMs: 10_000, redact: [secret] }),
      (e: unknown) => {
        assert.ok(e instanceof GhostscriptError);
        assert.equal(e.code, 'failed');
        assert.match(e.message, /^Ghostscript failed \(exit code \d+\)$/);
        assert.ok(!e.message.includes(secret) && !e.diagnostics.includes(secret), e.diagnostics);
        return true;
      },
    );
  });
});
