// A scripted far end for dispatcher tests: a FaxBackend whose calls end as each test says, recording what it saw.
// It plays the PBX/provider side of the contract (the peer), never the dispatcher's.
import type { AttemptInfo, DispatchJob, FaxBackend, InFlightAttempt, Outcome, OutcomeSink, ReadinessCheck, SendAccepted } from '../../src/backends/types.js';
import { NotSentError } from '../../src/backends/types.js';

export type Step = Outcome | 'not_sent' | 'throw' | 'hang' | { delayMs: number; then: Outcome };

export class ScriptedPeer implements FaxBackend {
  readonly name = 'sandbox';
  readonly needsGhostscript = false;
  sink: OutcomeSink | null = null;
  /** Steps per destination number, consumed one per attempt; the default applies when none is left. */
  readonly script = new Map<string, Step[]>();
  defaultStep: Step = { ok: true, pages: 1 };
  callDelayMs = 20;
  active = 0;
  maxActive = 0;
  readonly calls: { job: string; to: string; attempt: number; info: AttemptInfo; at: number }[] = [];
  readonly activeByNumber = new Map<string, number>();
  maxActiveSameNumber = 0;
  reconciled: InFlightAttempt[] = [];
  private timers = new Set<NodeJS.Timeout>();

  /** False: the peer is unreachable (the dispatcher should not claim). */
  available = true;

  constructor(readonly capacity = 4) {}

  isAvailable(): boolean {
    return this.available;
  }

  async start(sink: OutcomeSink): Promise<void> {
    this.sink = sink;
  }
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
  async readiness(): Promise<ReadinessCheck[]> {
    return [{ name: 'backend', ok: true }];
  }

  async send(job: DispatchJob, info: AttemptInfo): Promise<SendAccepted> {
    const queue = this.script.get(job.to);
    const step = queue && queue.length > 0 ? queue.shift()! : this.defaultStep;
    if (step === 'not_sent') throw new NotSentError('peer unreachable', 10);
    if (step === 'throw') throw new Error('connection reset after the request was written');
    this.calls.push({ job: job.id, to: job.to, attempt: info.attemptNo, info, at: Date.now() });
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const n = (this.activeByNumber.get(job.to) ?? 0) + 1;
    this.activeByNumber.set(job.to, n);
    this.maxActiveSameNumber = Math.max(this.maxActiveSameNumber, n);
    if (step !== 'hang') {
      const outcome = 'delayMs' in step ? step.then : step;
      const delay = 'delayMs' in step ? step.delayMs : this.callDelayMs;
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.end(job.to);
        void this.sink?.settle(job.id, info.attemptNo, outcome);
      }, delay);
      this.timers.add(t);
    }
    return { providerSid: `peer-${job.id}-${info.attemptNo}` };
  }

  private end(to: string): void {
    this.active--;
    this.activeByNumber.set(to, (this.activeByNumber.get(to) ?? 1) - 1);
  }

  async reconcile(attempts: readonly InFlightAttempt[]): Promise<void> {
    this.reconciled.push(...attempts);
  }
}
