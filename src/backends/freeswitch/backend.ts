// The FreeSWITCH backend (FAX_BACKEND=freeswitch): the Event Socket protocol adapter composed with the shared PBX layer (pbx/backend.ts).
//
// What is FreeSWITCH's own: the call uuid (origination_uuid) and the bgapi Job-UUID derived from job and
// attempt (the uuid is the provider_sid), the `originate {vars}sofia/gateway/<gw>/<number> &txfax(<tiff>)`
// command, how the event socket's answers to it read (not connected: never sent; no reply in time or
// the socket closed: may exist; -ERR: refused), and the follower, which turns BACKGROUND_JOB, channel
// and spandsp events into one outcome per call and asks FreeSWITCH about calls whose events were lost.
// Everything else (conversion, the attempt bookkeeping, durable outcomes, reconcile, readiness, waiting
// while FreeSWITCH is down) is the shared PbxBackend, as for Asterisk.
import type { Logger } from '../../log.js';
import { PbxBackend, type OriginateResult, type PbxCallFollower } from '../pbx/backend.js';
import { pbxFaxConfig, type PbxFaxSettings } from '../pbx/config.js';
import { PbxOutbound, type AttemptPlan } from '../pbx/outbound.js';
import { FaxSpool } from '../pbx/spool.js';
import type { AttemptInfo, DispatchJob, Outcome, ReadinessCheck } from '../types.js';
import { FreeswitchCallFollower } from './call-follower.js';
import { freeswitchConfig, freeswitchMissing, type FreeswitchConfig, type FreeswitchSettings } from './config.js';
import { EslCommandError, EslConnection, EslTimeoutError, EslUnavailableError, type EslState } from './esl-connection.js';
import { isUuid } from './esl-event.js';
import { buildOriginate, callUuidFor, jobUuidFor } from './originate.js';

export class FreeswitchConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FreeswitchConfigError';
  }
}

export interface FreeswitchBackendOptions {
  config: FreeswitchConfig;
  pbx: PbxOutbound;
  log: Logger;
  /** For tests: an EslConnection built elsewhere. */
  connection?: EslConnection;
  /** How long prepare waits for a connection that is being (re)established before giving the attempt back. Default 2 s. */
  connectWaitMs?: number;
  /** After a bgapi whose reply was lost, when to ask FreeSWITCH whether the call exists. Default 30 s. */
  uncertainCheckMs?: number;
}

interface OriginateRequest {
  /** The API command (without `bgapi `). */
  command: string;
  jobUuid: string;
}

export class FreeswitchBackend extends PbxBackend<EslState, OriginateRequest> {
  readonly name = 'freeswitch';
  readonly connection: EslConnection;
  protected readonly peerName = 'FreeSWITCH';
  protected readonly linkName = 'the event socket';
  private calls: FreeswitchCallFollower | null = null;

  constructor(private readonly opts: FreeswitchBackendOptions) {
    super({ pbx: opts.pbx, log: opts.log, capacity: opts.config.maxChannels, connectWaitMs: opts.connectWaitMs, uncertainCheckMs: opts.uncertainCheckMs });
    const e = opts.config.esl;
    this.connection =
      opts.connection ??
      new EslConnection({
        host: e.host,
        port: e.port,
        password: e.password,
        logger: opts.log.child({ mod: 'esl' }),
        reconnectInitialMs: Math.min(250, e.reconnectMaxMs),
        reconnectMaxMs: e.reconnectMaxMs,
        authRetryMs: e.refusedRetryMs,
        subscribeTimeoutMs: e.timeoutMs,
        apiTimeoutMs: e.timeoutMs,
      });
  }

  protected get link(): EslConnection {
    return this.connection;
  }

  protected createFollower(onOutcome: (callId: string, outcome: Outcome) => void): PbxCallFollower {
    this.calls = new FreeswitchCallFollower(this.connection, onOutcome, { logger: this.log, timeoutMs: this.opts.config.esl.timeoutMs });
    return this.calls;
  }

  protected openLink(): void {
    this.connection.on('state', (state) => this.noteLinkState(state));
    this.connection.start();
  }

  protected closeLink(): Promise<void> {
    return this.connection.stop();
  }

  protected callIdFor(jobId: string, attemptNo: number): string {
    return callUuidFor(jobId, attemptNo);
  }

  protected isCallId(callId: string): boolean {
    return isUuid(callId);
  }

  protected buildCall(job: DispatchJob, attempt: AttemptInfo, plan: AttemptPlan, callId: string): OriginateRequest {
    const c = this.opts.config;
    const { command } = buildOriginate({
      callUuid: callId,
      jobId: job.id,
      attemptNo: attempt.attemptNo,
      gateway: c.gateway,
      dialStringTemplate: c.dialTemplate,
      number: job.to,
      tiffPath: plan.tiff.pbxPath,
      line: plan.line,
      stationId: plan.stationId,
      header: plan.header,
      callerIdNumber: plan.callerIdNumber,
      callerIdName: plan.callerIdName,
      originateTimeoutSec: c.originateTimeoutSec,
    });
    return { command, jobUuid: jobUuidFor(job.id, attempt.attemptNo) };
  }

  protected async originate(req: OriginateRequest): Promise<OriginateResult> {
    try {
      // Only FreeSWITCH's acceptance of the job is awaited; its result (BACKGROUND_JOB) reaches the follower.
      await this.connection.bgapi(req.command, { jobUuid: req.jobUuid, timeoutMs: this.opts.config.esl.timeoutMs });
      return { kind: 'placed' };
    } catch (err) {
      if (err instanceof EslUnavailableError) return { kind: 'not_sent', reason: err.message };
      // No reply in time, or the socket closed after the command left: the call may exist (asked by its uuid later).
      if (err instanceof EslTimeoutError) return { kind: 'uncertain', reason: err.message };
      if (err instanceof EslCommandError) return { kind: 'refused', error: `FreeSWITCH refused the originate command (${err.reply.slice(0, 120)})` };
      return { kind: 'refused', error: `the originate command could not be sent: ${(err as Error).message}` };
    }
  }

  protected retryFloorMs(): number {
    const e = this.opts.config.esl;
    return this.connection.state === 'auth_failed' ? e.refusedRetryMs : e.reconnectMaxMs;
  }

  protected linkCheck(): ReadinessCheck {
    const s = this.connection.state;
    const e = this.opts.config.esl;
    const where = `${e.host}:${e.port}`;
    if (s === 'connected') {
      const v = this.calls?.version;
      return { name: 'freeswitch_esl', ok: true, detail: `connected to FreeSWITCH${v ? ` ${v}` : ''} at ${where}` };
    }
    const err = this.connection.lastError;
    const prefix: Record<EslState, string> = {
      connected: '',
      connecting: 'connecting to the FreeSWITCH event socket',
      disconnected: 'FreeSWITCH event socket not reachable (reconnecting)',
      auth_failed: 'ESL authentication failed',
      stopped: 'event socket client stopped',
    };
    return { name: 'freeswitch_esl', ok: false, detail: `${prefix[this.shownState()]} at ${where}${err ? `: ${err}` : ''}` };
  }
}

/** Builds the backend from settings; throws FreeswitchConfigError naming what is missing or wrong. */
export function createFreeswitchBackend(
  s: FreeswitchSettings & PbxFaxSettings & { dataDir: string },
  log: Logger,
  tuning: Pick<FreeswitchBackendOptions, 'connectWaitMs' | 'uncertainCheckMs'> = {},
): FreeswitchBackend {
  const missing = freeswitchMissing(s);
  if (missing.length > 0) throw new FreeswitchConfigError(`FAX_BACKEND=freeswitch needs ${missing.join(', ')}`);
  const config = freeswitchConfig(s, s.dataDir);
  let spool: FaxSpool;
  try {
    spool = new FaxSpool({ dir: config.spoolDir, pbxDir: config.spoolDirPbx, names: { dir: 'FREESWITCH_FAX_DIR', pbxDir: 'FREESWITCH_FAX_DIR_PBX' } });
  } catch (err) {
    throw new FreeswitchConfigError((err as Error).message);
  }
  const blog = log.child({ backend: 'freeswitch' });
  if (config.esl.password === 'ClueCon') {
    blog.warn('FREESWITCH_ESL_PASSWORD is FreeSWITCH\'s well-known default; change it in event_socket.conf.xml and here');
  }
  const fax = pbxFaxConfig(s);
  // FREESWITCH_T38_ENABLE, when set, decides the first rung's T.38 request instead of FAX_T38.
  if (config.t38Request !== undefined) fax.line = { ...fax.line, t38: config.t38Request };
  const pbx = new PbxOutbound({ fax, spool, log: blog });
  return new FreeswitchBackend({ config, pbx, log: blog, ...tuning });
}
