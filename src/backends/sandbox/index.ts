// The sandbox backend: behaves like a real one (calls take time, some numbers fail) without sending anything.
//
// Outcomes by destination: numbers ending in 0002 are busy, 0003 never answer, all others succeed after
// SANDBOX_DELAY_SECONDS. Each call it "places" is appended to FAX_DATA_DIR/sandbox/calls.jsonl, which plays
// the part of the far end's records: after a restart, reconciliation reads it like a PBX would be asked.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import type { AttemptInfo, DispatchJob, FaxBackend, InFlightAttempt, Outcome, OutcomeSink, ReadinessCheck, SendAccepted } from '../types.js';

export interface SandboxOptions {
  dataDir: string;
  delayMs: number;
  capacity: number;
  log: Logger;
}

interface CallRecord {
  ts: string;
  event: 'placed' | 'ended';
  job: string;
  attempt: number;
  sid: string;
}

export function sandboxOutcome(to: string, pages: number | null): Outcome {
  const digits = to.replace(/\D/g, '');
  if (digits.endsWith('0002')) return { ok: false, failureClass: 'busy', error: 'line busy', cause: '17 USER_BUSY (sandbox)' };
  if (digits.endsWith('0003')) return { ok: false, failureClass: 'no_answer', error: 'no answer', cause: '19 NO_ANSWER (sandbox)' };
  return { ok: true, pages, details: { sandbox: true } };
}

export class SandboxBackend implements FaxBackend {
  readonly name = 'sandbox';
  readonly needsGhostscript = false;
  readonly capacity: number;
  private sink: OutcomeSink | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly logPath: string;

  constructor(private readonly opts: SandboxOptions) {
    this.capacity = opts.capacity;
    this.logPath = join(opts.dataDir, 'sandbox', 'calls.jsonl');
  }

  async start(sink: OutcomeSink): Promise<void> {
    this.sink = sink;
    await mkdir(join(this.opts.dataDir, 'sandbox'), { recursive: true });
    this.opts.log.warn('FAX_BACKEND is sandbox: faxes are NOT sent anywhere; jobs only simulate the call (set FAX_BACKEND to send for real)');
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.sink = null;
  }

  async readiness(): Promise<ReadinessCheck[]> {
    return [{ name: 'backend', ok: true, detail: 'sandbox (simulated calls, nothing is sent)' }];
  }

  async send(job: DispatchJob, attempt: AttemptInfo): Promise<SendAccepted> {
    const sid = `sandbox-${job.id}-${attempt.attemptNo}`;
    await this.record({ ts: new Date().toISOString(), event: 'placed', job: job.id, attempt: attempt.attemptNo, sid });
    this.finishAfter(job, attempt.attemptNo, sid, this.opts.delayMs);
    return { providerSid: sid, details: { sandbox: true } };
  }

  async reconcile(attempts: readonly InFlightAttempt[]): Promise<void> {
    const placed = await this.placedCalls();
    for (const a of attempts) {
      const sid = a.providerSid ?? `sandbox-${a.job.id}-${a.attemptNo}`;
      const at = placed.get(sid);
      if (at === undefined) {
        // The far end never got this call: place it now, once.
        await this.record({ ts: new Date().toISOString(), event: 'placed', job: a.job.id, attempt: a.attemptNo, sid });
        this.finishAfter(a.job, a.attemptNo, sid, this.opts.delayMs);
      } else {
        this.finishAfter(a.job, a.attemptNo, sid, Math.max(0, at + this.opts.delayMs - Date.now()));
      }
    }
  }

  private finishAfter(job: DispatchJob, attemptNo: number, sid: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      const sink = this.sink;
      if (!sink) return;
      void (async () => {
        await this.record({ ts: new Date().toISOString(), event: 'ended', job: job.id, attempt: attemptNo, sid });
        await sink.settle(job.id, attemptNo, sandboxOutcome(job.to, job.pages));
      })().catch((err: unknown) => this.opts.log.error({ err: String(err), jobId: job.id }, 'sandbox could not report an outcome'));
    }, ms);
    this.timers.add(t);
  }

  private async record(r: CallRecord): Promise<void> {
    await appendFile(this.logPath, JSON.stringify(r) + '\n');
  }

  /** When each call was placed (ms), by sid, from the call log; a torn last line is ignored. */
  private async placedCalls(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    let text = '';
    try {
      text = await readFile(this.logPath, 'utf8');
    } catch {
      return out;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as CallRecord;
        if (r.event === 'placed' && !out.has(r.sid)) out.set(r.sid, Date.parse(r.ts));
      } catch {
        // torn write at a crash
      }
    }
    return out;
  }
}
