// The Asterisk backend (FAX_BACKEND=sip): the ARI protocol adapter composed with the shared PBX layer (pbx/backend.ts).
//
// What is Asterisk's own: the channel id derived from job and attempt (the provider_sid), the originate
// request, how ARI's answers to it read (409: our channel exists already; 401/403/404 or unreachable:
// never placed; other 4xx: refused; timeout or 5xx: may exist), and the CallTracker, which follows
// channels over the WebSocket and, after a lost WebSocket or a restart, settles them from Asterisk's
// GLOBAL record. Everything else (conversion, the attempt bookkeeping, durable outcomes, reconcile,
// readiness, waiting while Asterisk is down) is the shared PbxBackend.
import type { Logger } from '../../log.js';
import { PbxBackend, pbxOutboundFromSettings, type OriginateResult, type PbxBackendOptions, type PbxCallFollower } from '../pbx/backend.js';
import { pbxFaxConfig, type PbxFaxSettings } from '../pbx/config.js';
import type { AttemptPlan } from '../pbx/outbound.js';
import type { AttemptInfo, DispatchJob, Outcome } from '../types.js';
import { AriClient, type AriConnectionState } from './ari-client.js';
import { AriHttpError, AriUnavailableError } from './ari-errors.js';
import { CallTracker } from './call-tracker.js';
import { asteriskConfig, asteriskMissing, type AsteriskConfig, type AsteriskSettings } from './config.js';
import { buildOriginate, channelIdFor, parseChannelId } from './dialplan-contract.js';

export interface AsteriskBackendOptions extends PbxBackendOptions<AsteriskConfig> {
  /** For tests: an AriClient built elsewhere. */
  client?: AriClient;
}

type OriginateParams = ReturnType<typeof buildOriginate>;

export class AsteriskBackend extends PbxBackend<AriConnectionState, OriginateParams> {
  readonly name = 'sip';
  readonly client: AriClient;
  protected readonly peerName = 'Asterisk';
  protected readonly linkName = 'ARI';
  protected readonly checkName = 'asterisk_ari';
  private asteriskVersion: string | null = null;

  constructor(private readonly opts: AsteriskBackendOptions) {
    super(opts);
    const a = opts.config.ari;
    this.client =
      opts.client ??
      new AriClient({
        url: a.url,
        username: a.username,
        password: a.password,
        app: a.app,
        logger: opts.log,
        reconnect: { initialMs: Math.min(500, a.reconnectMaxMs), maxMs: a.reconnectMaxMs },
        refusedRetryMs: a.refusedRetryMs,
      });
  }

  protected get link(): AriClient {
    return this.client;
  }

  protected createFollower(onOutcome: (callId: string, outcome: Outcome) => void): PbxCallFollower {
    const tracker = new CallTracker(this.client, { logger: this.log });
    tracker.setMaxListeners(0);
    tracker.on('outcome', onOutcome);
    return tracker;
  }

  protected openLink(): void {
    this.client.on('state', (state) => this.noteLinkState(state));
    this.client.on('connected', () => {
      this.client.info().then(
        (i) => (this.asteriskVersion = i.system?.version ?? null),
        () => undefined,
      );
    });
    this.client.start();
  }

  protected closeLink(): Promise<void> {
    return this.client.stop();
  }

  protected callIdFor(jobId: string, attemptNo: number): string {
    return channelIdFor(jobId, attemptNo);
  }

  protected isCallId(callId: string): boolean {
    return parseChannelId(callId) !== null;
  }

  protected buildCall(job: DispatchJob, attempt: AttemptInfo, plan: AttemptPlan): OriginateParams {
    return buildOriginate({
      jobId: job.id,
      attemptNo: attempt.attemptNo,
      number: job.to,
      pbxTiffPath: plan.tiff.pbxPath,
      line: plan.line,
      header: plan.header,
      stationId: plan.stationId,
      callerIdName: plan.callerIdName,
      callerIdNumber: plan.callerIdNumber,
      dial: this.opts.config.dial,
      timeoutSec: this.opts.config.dialTimeoutSec,
    });
  }

  protected async originate(params: OriginateParams): Promise<OriginateResult> {
    try {
      await this.client.originate(params);
      return { kind: 'placed' };
    } catch (err) {
      // Our deterministic id already exists: this attempt's call is up (an earlier try reached Asterisk).
      if (err instanceof AriHttpError && err.status === 409) return { kind: 'exists' };
      if (err instanceof AriUnavailableError || (err instanceof AriHttpError && (err.status === 401 || err.status === 403 || err.status === 404))) {
        return { kind: 'not_sent', reason: err.message };
      }
      if (err instanceof AriHttpError && err.notSent) {
        return { kind: 'refused', error: `Asterisk refused to place the call (HTTP ${err.status}${err.ariMessage ? `: ${err.ariMessage}` : ''})` };
      }
      // Timeout, lost connection or 5xx after the request left: the channel (then the GLOBAL record) is asked later.
      return { kind: 'uncertain', reason: (err as Error).message };
    }
  }

  protected retryFloorMs(): number {
    const a = this.opts.config.ari;
    const refused = this.client.state === 'auth_failed' || this.client.state === 'events_unavailable';
    return refused ? a.refusedRetryMs : a.reconnectMaxMs;
  }

  protected linkWhere(): string {
    return `${this.opts.config.ari.url} as app "${this.opts.config.ari.app}"`;
  }

  protected stateText(state: AriConnectionState): string {
    switch (state) {
      case 'connected':
        return `connected to Asterisk${this.asteriskVersion ? ` ${this.asteriskVersion}` : ''}`;
      case 'connecting':
        return 'connecting to Asterisk ARI';
      case 'disconnected':
        return 'Asterisk ARI not reachable (reconnecting)';
      case 'auth_failed':
        return 'ARI authentication failed';
      case 'events_unavailable':
        return 'ARI events unavailable (/ari/events missing)';
      case 'stopped':
        return 'ARI client stopped';
    }
  }
}

/** Builds the backend from settings; throws PbxConfigError naming what is missing or wrong. */
export function createAsteriskBackend(
  s: AsteriskSettings & PbxFaxSettings & { dataDir: string },
  log: Logger,
  tuning: Pick<AsteriskBackendOptions, 'connectWaitMs' | 'uncertainCheckMs'> = {},
): AsteriskBackend {
  const config = asteriskConfig(s, s.dataDir);
  const blog = log.child({ backend: 'sip' });
  const pbx = pbxOutboundFromSettings({
    backend: 'sip',
    missing: asteriskMissing(s),
    fax: pbxFaxConfig(s),
    spool: { dir: config.spoolDir, pbxDir: config.spoolDirPbx, names: { dir: 'ASTERISK_FAX_DIR', pbxDir: 'ASTERISK_FAX_DIR_PBX' } },
    log: blog,
  });
  return new AsteriskBackend({ config, pbx, log: blog, ...tuning });
}
