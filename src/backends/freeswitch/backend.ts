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
import { PbxBackend, pbxOutboundFromSettings, type OriginateResult, type PbxBackendOptions, type PbxCallFollower } from '../pbx/backend.js';
import { pbxFaxConfig, type PbxFaxSettings } from '../pbx/config.js';
import type { AttemptPlan } from '../pbx/outbound.js';
import type { AttemptInfo, DispatchJob, Outcome } from '../types.js';
import { FreeswitchCallFollower } from './call-follower.js';
import { freeswitchConfig, freeswitchMissing, type FreeswitchConfig, type FreeswitchSettings } from './config.js';
import { EslCommandError, EslConnection, EslTimeoutError, EslUnavailableError, type EslState } from './esl-connection.js';
import { isUuid } from './esl-event.js';
import { buildOriginate, callUuidFor, jobUuidFor } from './originate.js';

export interface FreeswitchBackendOptions extends PbxBackendOptions<FreeswitchConfig> {
  /** For tests: an EslConnection built elsewhere. */
  connection?: EslConnection;
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
  protected readonly checkName = 'freeswitch_esl';
  private calls: FreeswitchCallFollower | null = null;

  constructor(private readonly opts: FreeswitchBackendOptions) {
    super(opts);
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

  protected linkWhere(): string {
    return `${this.opts.config.esl.host}:${this.opts.config.esl.port}`;
  }

  protected stateText(state: EslState): string {
    switch (state) {
      case 'connected': {
        const v = this.calls?.version;
        return `connected to FreeSWITCH${v ? ` ${v}` : ''}`;
      }
      case 'connecting':
        return 'connecting to the FreeSWITCH event socket';
      case 'disconnected':
        return 'FreeSWITCH event socket not reachable (reconnecting)';
      case 'auth_failed':
        return 'ESL authentication failed';
      case 'stopped':
        return 'event socket client stopped';
    }
  }
}

/** Builds the backend from settings; throws PbxConfigError naming what is missing or wrong. */
export function createFreeswitchBackend(
  s: FreeswitchSettings & PbxFaxSettings & { dataDir: string },
  log: Logger,
  tuning: Pick<FreeswitchBackendOptions, 'connectWaitMs' | 'uncertainCheckMs'> = {},
): FreeswitchBackend {
  const config = freeswitchConfig(s, s.dataDir);
  const blog = log.child({ backend: 'freeswitch' });
  const fax = pbxFaxConfig(s);
  // FREESWITCH_T38_ENABLE, when set, decides the first rung's T.38 request instead of FAX_T38.
  if (config.t38Request !== undefined) fax.line = { ...fax.line, t38: config.t38Request };
  const pbx = pbxOutboundFromSettings({
    backend: 'freeswitch',
    missing: freeswitchMissing(s),
    fax,
    spool: { dir: config.spoolDir, pbxDir: config.spoolDirPbx, names: { dir: 'FREESWITCH_FAX_DIR', pbxDir: 'FREESWITCH_FAX_DIR_PBX' } },
    log: blog,
  });
  if (config.esl.password === 'ClueCon') {
    blog.warn("FREESWITCH_ESL_PASSWORD is FreeSWITCH's well-known default; change it in event_socket.conf.xml and here");
  }
  return new FreeswitchBackend({ config, pbx, log: blog, ...tuning });
}
