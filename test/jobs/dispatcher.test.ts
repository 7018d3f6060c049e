// The dispatcher through the whole service: retries by class, caps, deadline, capacity, one call per number,
// give-back of unsent attempts, unknown outcomes, stale reports, the watchdog and restart reconciliation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { faxForm, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/db.js';
import { ScriptedPeer } from '../helpers/scripted-peer.js';

const FAST_RETRIES = {
  FAX_RETRY_BUSY: '3:0',
  FAX_RETRY_NO_ANSWER: '2:0',
  FAX_RETRY_CONGESTION: '3:0',
  FAX_RETRY_PROTOCOL: '4:0',
  FAX_RETRY_TRANSIENT: '3:0',
};

async function send(app: TestApp, to: string): Promise<string> {
  const r = await app.req('/fax', { method: 'POST', body: faxForm(to, 'hello') });
  assert.equal(r.status, 202);
  return ((await r.json()) as { id: string }).id;
}

async function final(app: TestApp, id: string) {
  return waitFor(async () => {
    const j = await app.services.jobs.get(id);
    return j && ['SUCCESS', 'FAILED'].includes(j.status) ? j : undefined;
  }, 10_000, `job ${id} final`);
}

for (const dialect of DIALECTS) {
  describe(`dispatcher on ${dialect}`, () => {
    let app: TestApp;
    let peer: ScriptedPeer;
    before(async () => {
      peer = new ScriptedPeer(4);
      app = await startTestApp({ dialect, env: FAST_RETRIES, backend: () => peer });
    });
    after(() => app.close());

    test('busy twice then success: SUCCESS after three attempts, each recorded', async () => {
      peer.script.set('+15550000101', [
        { ok: false, failureClass: 'busy', error: 'line busy' },
        { ok: false, failureClass: 'busy', error: 'line busy' },
        { ok: true, pages: 1 },
      ]);
      const id = await send(app, '+15550000101');
      const j = await final(app, id);
      assert.equal(j.status, 'SUCCESS');
      assert.equal(j.error, null);
      const attempts = await app.services.jobs.attempts(id);
      assert.deepEqual(attempts.map((a) => [a.attempt_no, a.outcome, a.failure_class]), [
        [1, 'failed', 'busy'],
        [2, 'failed', 'busy'],
        [3, 'success', null],
      ]);
      assert.equal(j.provider_sid, `peer-${id}-3`);
    });

    test('a class past its cap fails with the count in the error', async () => {
      peer.script.set('+15550000102', Array(5).fill({ ok: false, failureClass: 'busy', error: 'line busy' }));
      const j = await final(app, await send(app, '+15550000102'));
      assert.equal(j.status, 'FAILED');
      assert.equal(j.error, 'line busy (gave up after 3 busy attempts)');
      assert.equal((await app.services.jobs.attempts(j.id)).length, 3);
    });

    for (const cls of ['permanent', 'document', 'unknown'] as const) {
      test(`a ${cls} failure is never retried`, async () => {
        const to = `+1555000020${['permanent', 'document', 'unknown'].indexOf(cls)}`;
        peer.script.set(to, [{ ok: false, failureClass: cls, error: `${cls} failure` }, { ok: true, pages: 1 }]);
        const j = await final(app, await send(app, to));
        assert.equal(j.status, 'FAILED');
        assert.equal(j.error, `${cls} failure`);
        assert.equal((await app.services.jobs.attempts(j.id)).length, 1);
      });
    }

    test('protocol failures tell the next attempt how far down the ladder to go', async () => {
      peer.script.set('+15550000103', [
        { ok: false, failureClass: 'protocol', error: 'T.38 negotiation failed' },
        { ok: false, failureClass: 'protocol', error: 'training failed' },
        { ok: true, pages: 2 },
      ]);
      const id = await send(app, '+15550000103');
      assert.equal((await final(app, id)).status, 'SUCCESS');
      const seen = peer.calls.filter((c) => c.job === id).map((c) => c.info.protocolFailures);
      assert.deepEqual(seen, [0, 1, 2]);
    });

    test('an unsent attempt (peer unreachable) is given back and does not count', async () => {
      peer.script.set('+15550000104', ['not_sent', 'not_sent', { ok: true, pages: 1 }]);
      const id = await send(app, '+15550000104');
      const j = await final(app, id);
      assert.equal(j.status, 'SUCCESS');
      const attempts = await app.services.jobs.attempts(id);
      assert.deepEqual(attempts.map((a) => a.outcome), ['aborted', 'aborted', 'success']);
    });

    test('a send that fails after the request may have left ends FAILED with outcome unknown, never retried', async () => {
      peer.script.set('+15550000105', ['throw', { ok: true, pages: 1 }]);
      const j = await final(app, await send(app, '+15550000105'));
      assert.equal(j.status, 'FAILED');
      assert.match(String(j.error), /^outcome unknown/);
      assert.equal(peer.calls.filter((c) => c.to === '+15550000105').length, 0);
    });

    test('a repeated or late report changes nothing', async () => {
      const id = await send(app, '+15550000106');
      const j = await final(app, id);
      assert.equal(j.status, 'SUCCESS');
      await app.services.dispatcher.settle(id, 1, { ok: false, failureClass: 'busy', error: 'late' });
      await app.services.dispatcher.settle(id, 7, { ok: false, failureClass: 'busy', error: 'wrong attempt' });
      const again = await app.services.jobs.get(id);
      assert.equal(again?.status, 'SUCCESS');
      assert.equal(again?.error, null);
    });

    test('never more calls than the capacity, and never two to one number', async () => {
      peer.maxActive = 0;
      peer.maxActiveSameNumber = 0;
      peer.callDelayMs = 60;
      const ids = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => send(app, `+1555000030${i}`)),
        ...Array.from({ length: 4 }, () => send(app, '+15550000399')),
      ]);
      for (const id of ids) assert.equal((await final(app, id)).status, 'SUCCESS');
      peer.callDelayMs = 20;
      assert.ok(peer.maxActive <= 4, `at most 4 calls at once, saw ${peer.maxActive}`);
      assert.equal(peer.maxActiveSameNumber, 1);
    });
  });
}

describe('an unreachable peer', () => {
  test('due jobs stay queued and unclaimed while the backend says it is unavailable, then go in order', async () => {
    const peer = new ScriptedPeer(4);
    peer.available = false;
    const app = await startTestApp({ backend: () => peer });
    try {
      const first = await send(app, '+15550000601');
      const second = await send(app, '+15550000602');
      await new Promise((r) => setTimeout(r, 20 * app.settings.DISPATCH_POLL_MS));
      for (const id of [first, second]) {
        assert.equal((await app.services.jobs.get(id))?.status, 'queued');
        assert.equal((await app.services.jobs.attempts(id)).length, 0, 'no attempt is used up while the peer is down');
      }
      peer.available = true;
      for (const id of [first, second]) assert.equal((await final(app, id)).status, 'SUCCESS');
      assert.deepEqual(peer.calls.filter((c) => [first, second].includes(c.job)).map((c) => c.job), [first, second]);
    } finally {
      await app.close();
    }
  });
});

describe('dispatcher limits in time', () => {
  test('a retry that would start after the deadline fails the job instead', async () => {
    const peer = new ScriptedPeer(2);
    const app = await startTestApp({ env: { FAX_RETRY_BUSY: '4:120', FAX_JOB_DEADLINE_MINUTES: '1' }, backend: () => peer });
    try {
      peer.script.set('+15550000401', [{ ok: false, failureClass: 'busy', error: 'line busy' }]);
      const j = await final(app, await send(app, '+15550000401'));
      assert.equal(j.status, 'FAILED');
      assert.equal(j.error, 'line busy');
    } finally {
      await app.close();
    }
  });

  test('an attempt that never reports is settled as unknown by the watchdog', async () => {
    const peer = new ScriptedPeer(2);
    const app = await startTestApp({ env: { FAX_ATTEMPT_TIMEOUT_MINUTES: '0.002', FAX_ATTEMPT_TIMEOUT_PER_PAGE_SECONDS: '0' }, backend: () => peer });
    try {
      peer.script.set('+15550000402', ['hang']);
      const j = await waitFor(async () => {
        const x = await app.services.jobs.get(await idFor(app, '+15550000402'));
        return x?.status === 'FAILED' ? x : undefined;
      }, 15_000, 'watchdog');
      assert.match(String(j.error), /no result from the sandbox backend within \d+ seconds; the outcome is unknown/);
    } finally {
      await app.close();
    }
  });

  test('a queued job past its deadline is failed', async () => {
    const peer = new ScriptedPeer(1);
    const app = await startTestApp({ backend: () => peer });
    try {
      peer.script.set('+15550000403', ['hang']);
      await send(app, '+15550000403');
      const waiting = await send(app, '+15550000404');
      await app.services.db.k.updateTable('fax_jobs').set({ deadline_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', waiting).execute();
      const j = await waitFor(async () => {
        const x = await app.services.jobs.get(waiting);
        return x?.status === 'FAILED' ? x : undefined;
      }, 15_000, 'deadline sweep');
      assert.match(String(j.error), /deadline/);
    } finally {
      await app.close();
    }
  });
});

describe('restart', () => {
  test('attempts left in flight are handed to the backend to reconcile; unsent ones are re-queued', async () => {
    const peer1 = new ScriptedPeer(2);
    const first = await startTestApp({ backend: () => peer1 });
    peer1.script.set('+15550000501', ['hang']);
    const inFlight = await send(first, '+15550000501');
    await waitFor(async () => peer1.calls.some((c) => c.job === inFlight), 5000, 'call placed');
    // A claimed-but-never-dialled attempt, as a crash between claim and dial leaves it.
    const unsent = await send(first, '+15550000502');
    await waitFor(async () => (await first.services.jobs.get(unsent))?.status === 'SUCCESS', 5000);
    await first.services.db.k.updateTable('fax_jobs').set({ status: 'in_progress', attempt_count: 2, completed_at: null }).where('id', '=', unsent).execute();
    await first.services.db.k
      .insertInto('fax_attempts')
      .values({ job_id: unsent, attempt_no: 2, backend: 'sandbox', instance_id: first.settings.instanceId, state: 'claimed', outcome: null, failure_class: null, error: null, cause: null, call_id: null, provider_sid: null, pages: null, details: null, started_at: new Date().toISOString(), dialed_at: null, ended_at: null })
      .execute();
    const dataDir = first.dataDir;
    await first.stop();

    const peer2 = new ScriptedPeer(2);
    const second = await startTestApp({ dataDir, backend: () => peer2, env: { INSTANCE_ID: first.settings.instanceId } });
    try {
      assert.deepEqual(peer2.reconciled.map((a) => [a.job.id, a.state, a.providerSid]), [[inFlight, 'active', `peer-${inFlight}-1`]]);
      await peer2.sink!.settle(inFlight, 1, { ok: true, pages: 1 });
      assert.equal((await second.services.jobs.get(inFlight))?.status, 'SUCCESS');
      const j = await final(second, unsent);
      assert.equal(j.status, 'SUCCESS');
      const attempts = await second.services.jobs.attempts(unsent);
      assert.equal(attempts.find((a) => a.attempt_no === 2)?.outcome, 'aborted');
    } finally {
      await second.close();
    }
  });
});

async function idFor(app: TestApp, to: string): Promise<string> {
  const cached = sent.get(to);
  if (cached) return cached;
  const id = await send(app, to);
  sent.set(to, id);
  return id;
}
const sent = new Map<string, string>();
