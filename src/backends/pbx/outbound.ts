// The PBX-independent half of an outbound PBX backend: TIFF preparation in the spool, the per-attempt plan (ladder rung,
// identities, paths), cleanup after each attempt and of stale files, and readiness of the spool.
//
// A PBX backend is a protocol adapter (ARI, ESL) composed with one PbxOutbound:
//   prepare(job, attempt)  → PbxOutbound.prepare          (nothing leaves the process)
//   send(job, attempt)     → PbxOutbound.plan → adapter originates with plan.line / plan.tiff.pbxPath
//   outcome stored         → PbxOutbound.release          (the TIFF goes)
import type { Logger } from '../../log.js';
import type { AttemptInfo, DispatchJob, ReadinessCheck } from '../types.js';
import type { PbxFaxConfig } from './config.js';
import { FaxConverter, type ConvertedTiff } from './convert.js';
import { ladderStep, type FaxLineParams } from './ladder.js';
import type { FaxSpool } from './spool.js';

export interface PbxOutboundOptions {
  fax: PbxFaxConfig;
  spool: FaxSpool;
  log?: Logger;
  /** Spool files older than this and not in flight are deleted by the sweeper. Default 24 h. */
  staleAfterMs?: number;
  /** How often the sweeper runs. Default 1 h. */
  sweepEveryMs?: number;
}

export interface PreparedFax extends ConvertedTiff {
  localPath: string;
  pbxPath: string;
}

/** Everything an adapter needs to place one attempt's call. */
export interface AttemptPlan {
  /** This attempt's rung of the fallback ladder. */
  line: FaxLineParams;
  tiff: { localPath: string; pbxPath: string; pages: number | null };
  stationId?: string | undefined;
  header?: string | undefined;
  callerIdNumber?: string | undefined;
  callerIdName?: string | undefined;
  /** Kept with the attempt (SendAccepted.details / progress): what this attempt asked the line for. */
  details: Record<string, unknown>;
}

const key = (jobId: string, attemptNo: number): string => `${jobId}#${attemptNo}`;

export class PbxOutbound {
  readonly converter: FaxConverter;
  private readonly pages = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly staleAfterMs: number;
  private readonly sweepEveryMs: number;

  constructor(private readonly opts: PbxOutboundOptions) {
    this.converter = new FaxConverter(opts.fax.tiff);
    this.staleAfterMs = opts.staleAfterMs ?? 24 * 3600_000;
    this.sweepEveryMs = opts.sweepEveryMs ?? 3600_000;
  }

  get spool(): FaxSpool {
    return this.opts.spool;
  }

  get fax(): PbxFaxConfig {
    return this.opts.fax;
  }

  /**
   * Converts the job's PDF into the attempt's spool file (idempotent: a complete file from before a
   * crash is reused). Throws AttemptFailedError('document' | 'transient') or NotSentError (see conversionFailure).
   */
  async prepare(job: DispatchJob, attempt: Pick<AttemptInfo, 'attemptNo'>): Promise<PreparedFax> {
    const localPath = this.spool.localPath(job.id, attempt.attemptNo);
    // The directory may have been removed since start (an admin's clean-up); a failure shows as 'unwritable'.
    await this.spool.ensureDir().catch(() => undefined);
    const r = await this.converter.convert(job.pdfPath, localPath);
    this.pages.set(key(job.id, attempt.attemptNo), r.pages);
    return { ...r, localPath, pbxPath: this.spool.pbxPath(job.id, attempt.attemptNo) };
  }

  /** The attempt's call parameters: ladder rung from the protocol failures so far, identities, both TIFF paths. */
  plan(job: DispatchJob, attempt: Pick<AttemptInfo, 'attemptNo' | 'protocolFailures'>): AttemptPlan {
    const line = ladderStep(this.fax.line, attempt.protocolFailures);
    const pages = this.pages.get(key(job.id, attempt.attemptNo)) ?? null;
    const f = this.fax;
    return {
      line,
      tiff: { localPath: this.spool.localPath(job.id, attempt.attemptNo), pbxPath: this.spool.pbxPath(job.id, attempt.attemptNo), pages },
      stationId: f.stationId,
      header: f.header,
      callerIdNumber: f.callerIdNumber,
      callerIdName: f.callerIdName,
      details: {
        line: { step: line.step, t38: line.t38, ecm: line.ecm, maxRate: line.maxRate },
        ...(pages !== null ? { tiffPages: pages } : {}),
      },
    };
  }

  /** The attempt is over (its outcome is stored, or it never left): delete its TIFF. */
  async release(jobId: string, attemptNo: number): Promise<void> {
    this.pages.delete(key(jobId, attemptNo));
    try {
      await this.spool.remove(jobId, attemptNo);
    } catch (err) {
      this.opts.log?.warn({ jobId, attempt: attemptNo, err: (err as Error).message }, 'could not delete the fax TIFF; the sweeper will');
    }
  }

  /** Creates the spool directory (errors are left to readiness) and starts the stale-file sweeper. */
  async start(inFlight: (jobId: string, attemptNo: number) => boolean): Promise<void> {
    try {
      await this.spool.ensureDir();
    } catch (err) {
      this.opts.log?.error({ dir: this.spool.dir, err: (err as Error).message }, 'cannot create the fax spool directory');
    }
    const sweep = (): void => {
      void this.spool
        .sweep({ olderThanMs: this.staleAfterMs, keep: inFlight })
        .then((n) => {
          if (n > 0) this.opts.log?.info({ removed: n }, 'removed stale fax TIFFs from the spool');
        })
        .catch(() => undefined);
    };
    sweep();
    this.sweepTimer = setInterval(sweep, this.sweepEveryMs);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.converter.stop();
  }

  /** The spool's readiness (Ghostscript is checked by the service's readiness for every backend with needsGhostscript). */
  async readiness(): Promise<ReadinessCheck[]> {
    return [await this.spool.check()];
  }
}
