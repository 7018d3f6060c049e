// The Event Socket connection to FreeSWITCH: authenticate, subscribe, reconnect, send commands with timeouts.
//
// Built on the `esl` package (v11) with its own reconnect loop switched off: each attempt uses a fresh
// FreeSwitchClient that is ended at its first disconnect, and the backoff here decides when to try
// again. Reasons, from esl's code: its retry starts at 200 ms, only grows on ECONNREFUSED and never
// resets; and after a wrong password (FreeSWITCH answers `-ERR invalid` and closes within ms) it
// still emits `connect` and then reconnects every 200 ms forever. Here a refused password is
// `auth_failed`, logged once per try, and retried slowly.
//
// Errors tell the caller whether the command may have reached FreeSWITCH:
// EslUnavailableError: certainly not sent (not connected); EslTimeoutError: may have been
// (no reply in time, or the socket closed while waiting); EslCommandError: FreeSWITCH answered -ERR.
import { EventEmitter } from 'node:events';
import { FreeSwitchClient, FreeSwitchError, FreeSwitchTimeout, type FreeSwitchEventData, type FreeSwitchResponse } from 'esl';
import type { Logger } from '../../log.js';
import { waitConnected } from '../pbx/link.js';
import {
  SUBSCRIBE_COMMAND,
  SUBSCRIBED_EVENTS,
  SUBSCRIBED_SUBCLASSES,
  isUuid,
  toEslEvent,
  type EslEvent,
  type EslHeaders,
} from './esl-event.js';
import { eslLogger } from './esl-logger.js';

export type EslState = 'connecting' | 'connected' | 'disconnected' | 'auth_failed' | 'stopped';

export class EslError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EslError';
  }
}

/** Nothing was sent: not connected (or stopped). Safe to retry the same command later. */
export class EslUnavailableError extends EslError {
  constructor(message: string) {
    super(message);
    this.name = 'EslUnavailableError';
  }
}

/** The command was written but no reply came (timeout) or the connection closed first: it may have run. */
export class EslTimeoutError extends EslError {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'closed',
  ) {
    super(message);
    this.name = 'EslTimeoutError';
  }
}

/** FreeSWITCH replied with an error (`-ERR ...`, `-USAGE ...`). */
export class EslCommandError extends EslError {
  constructor(
    what: string,
    readonly reply: string,
  ) {
    super(`${what}: ${reply.slice(0, 200)}`);
    this.name = 'EslCommandError';
  }
}

export interface EslConnectionOptions {
  host: string;
  port: number;
  password: string;
  logger: Logger;
  /** First reconnect delay after a lost or refused connection (doubles up to reconnectMaxMs). */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** Delay between tries after FreeSWITCH refused the password. */
  authRetryMs?: number;
  /** Timeout for the subscription command sent on each connect. */
  subscribeTimeoutMs?: number;
  /** Default for the helpers (uuidExists, showChannels, ...) when no timeout is passed. */
  apiTimeoutMs?: number;
}

/** One row of `show channels as json` (every field is a string). */
export interface ChannelRow {
  uuid: string;
  direction?: string;
  created_epoch?: string;
  name?: string;
  state?: string;
  callstate?: string;
  dest?: string;
  application?: string;
  application_data?: string;
  [k: string]: string | undefined;
}

type EventArgs = [EslEvent];

export interface EslConnectionEvents {
  state: [EslState];
  connected: [];
  disconnected: [reason: string];
  /** Every subscribed event, of every channel on the PBX: filter by call uuid / Job-UUID. */
  event: EventArgs;
  BACKGROUND_JOB: EventArgs;
  CHANNEL_EXECUTE_COMPLETE: EventArgs;
  CHANNEL_HANGUP_COMPLETE: EventArgs;
  'spandsp::txfaxresult': EventArgs;
  'spandsp::txfaxpageresult': EventArgs;
  'spandsp::rxfaxresult': EventArgs;
}

const SUBCLASSES: ReadonlySet<string> = new Set(SUBSCRIBED_SUBCLASSES);

function firstWord(cmd: string): string {
  return cmd.trim().split(/\s+/, 1)[0] ?? '';
}

function assertCommand(cmd: string): void {
  // A newline would end the ESL frame and start another command.
  if (/[\r\n]/.test(cmd)) throw new EslError('ESL command must be a single line');
}

function mapError(err: unknown, what: string): EslError {
  if (err instanceof EslError) return err;
  if (err instanceof FreeSwitchTimeout) return new EslTimeoutError(`${what}: no reply within ${err.timeout} ms`, 'timeout');
  if (err instanceof FreeSwitchError) {
    // Never include err.args.command: it may hold the password or phone numbers.
    const when = typeof err.args.when === 'string' ? err.args.when : '';
    if (/on closed socket/.test(when)) return new EslUnavailableError(`${what}: not connected to FreeSWITCH`);
    if (typeof err.args.reply === 'string') return new EslCommandError(what, err.args.reply.trim());
    return new EslTimeoutError(`${what}: ${when || 'failed'}`, 'closed');
  }
  if (err instanceof Error && /^(Socket closed|end\(\) called)/.test(err.message)) {
    return new EslTimeoutError(`${what}: the connection closed while waiting for the reply`, 'closed');
  }
  return new EslTimeoutError(`${what}: ${err instanceof Error ? err.message : String(err)}`, 'closed');
}

function isAuthRefusal(err: unknown): boolean {
  if (!(err instanceof FreeSwitchError)) return false;
  const reply = typeof err.args.reply === 'string' ? err.args.reply : '';
  const command = typeof err.args.command === 'string' ? err.args.command : '';
  return command.startsWith('auth ') || /^-ERR invalid/.test(reply);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class EslConnection extends EventEmitter<EslConnectionEvents> {
  private readonly opts: Required<Omit<EslConnectionOptions, 'logger'>>;
  private readonly log: Logger;
  private _state: EslState = 'disconnected';
  private _lastError: string | null = null;
  private client: FreeSwitchClient | null = null;
  private call: FreeSwitchResponse | null = null;
  /** Incremented for every attempt: callbacks of an older attempt are ignored. */
  private session = 0;
  private endSession: ((kind: 'auth' | 'down', reason: string) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private started = false;
  private stopped = false;
  private lastSocketError: string | null = null;

  constructor(options: EslConnectionOptions) {
    super();
    this.log = options.logger;
    this.opts = {
      host: options.host,
      port: options.port,
      password: options.password,
      reconnectInitialMs: options.reconnectInitialMs ?? 250,
      reconnectMaxMs: options.reconnectMaxMs ?? 10_000,
      authRetryMs: options.authRetryMs ?? 30_000,
      subscribeTimeoutMs: options.subscribeTimeoutMs ?? 5_000,
      apiTimeoutMs: options.apiTimeoutMs ?? 5_000,
    };
  }

  get state(): EslState {
    return this._state;
  }

  /** Why the connection is not up (refused, password, timeout), for readiness. Null once connected. */
  get lastError(): string | null {
    return this._lastError;
  }

  get connected(): boolean {
    return this._state === 'connected';
  }

  /** Resolves once connected and subscribed (at once if it is); rejects after `timeoutMs` or on stop(). */
  whenConnected(timeoutMs: number): Promise<void> {
    return waitConnected(this, timeoutMs, (why) =>
      why === 'stopped'
        ? new EslUnavailableError('the event socket connection was stopped')
        : new EslUnavailableError(`not connected to FreeSWITCH after ${timeoutMs} ms (${this._state}${this._lastError ? `: ${this._lastError}` : ''})`),
    );
  }

  /** Starts connecting; never throws for a FreeSWITCH that is down (state and lastError say so). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.openSession();
  }

  /** Stops for good: closes the socket and cancels any retry. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const wasConnected = this._state === 'connected';
    this.session++;
    this.endSession = null;
    this.call = null;
    this.client?.end();
    this.client = null;
    this.setState('stopped');
    if (wasConnected) this.emit('disconnected', 'stopped');
  }

  // ---- connection life cycle -------------------------------------------------------------------

  private setState(s: EslState): void {
    if (this._state === s) return;
    this._state = s;
    this.emit('state', s);
  }

  private openSession(): void {
    if (this.stopped) return;
    this.timer = null;
    const id = ++this.session;
    if (this._state !== 'auth_failed') this.setState('connecting');
    this.lastSocketError = null;
    const client = new FreeSwitchClient({
      host: this.opts.host,
      port: this.opts.port,
      password: this.opts.password,
      logger: eslLogger(this.log, {
        secrets: [this.opts.password],
        onSocketError: (code) => {
          if (id === this.session) this.lastSocketError = code;
        },
      }),
    });
    this.client = client;
    let authRefused = false;
    let ended = false;
    const end = (kind: 'auth' | 'down', reason: string) => {
      if (ended || id !== this.session) return;
      ended = true;
      this.endSession = null;
      client.end();
      this.sessionEnded(kind, reason);
    };
    this.endSession = end;

    client.on('error', (err: unknown) => {
      // Emitted by esl's connect sequence: auth/request never came, auth refused, or its own
      // `event json` failed. After a refused auth it still emits `connect` next.
      if (isAuthRefusal(err)) {
        authRefused = true;
        end('auth', 'FreeSWITCH refused the ESL password (-ERR invalid)');
      }
    });
    client.on('reconnecting', () => {
      // esl's signal that the socket failed or the server closed it; its own retry is disabled by end().
      const why = this.lastSocketError ?? 'connection closed by FreeSWITCH';
      end(authRefused ? 'auth' : 'down', why);
    });
    client.on('connect', (call: FreeSwitchResponse) => {
      if (ended || id !== this.session) return;
      if (authRefused) return end('auth', 'FreeSWITCH refused the ESL password (-ERR invalid)');
      this.attach(call);
      void this.subscribe(call, id);
    });
    client.connect();
  }

  private async subscribe(call: FreeSwitchResponse, id: number): Promise<void> {
    try {
      await call.send(SUBSCRIBE_COMMAND, {}, this.opts.subscribeTimeoutMs);
    } catch (err) {
      const e = mapError(err, 'event subscription');
      // FreeSWITCH answers "-ERR command not found" to anything sent before a successful auth.
      if (e instanceof EslCommandError && /command not found/i.test(e.reply)) {
        this.endSession?.('auth', 'FreeSWITCH did not accept the session (not authenticated)');
      } else if (id === this.session) {
        this.endSession?.('down', e.message);
      }
      return;
    }
    if (id !== this.session || this.stopped) return;
    this.call = call;
    this.failures = 0;
    this._lastError = null;
    this.log.info({ host: this.opts.host, port: this.opts.port }, 'FreeSWITCH event socket connected');
    this.setState('connected');
    this.emit('connected');
  }

  /** Listens for our events on this socket; esl emits each under its Event-Name. */
  private attach(call: FreeSwitchResponse): void {
    const forward = (data: FreeSwitchEventData) => {
      const ev = toEslEvent(data.body as Record<string, unknown>);
      if (!ev) return;
      if (ev.name === 'CUSTOM') {
        if (!ev.subclass || !SUBCLASSES.has(ev.subclass)) return;
        this.emit(ev.subclass as keyof EslConnectionEvents & `spandsp::${string}`, ev);
      } else {
        this.emit(ev.name as (typeof SUBSCRIBED_EVENTS)[number], ev);
      }
      this.emit('event', ev);
    };
    for (const name of SUBSCRIBED_EVENTS) call.on(name, forward);
    call.on('CUSTOM', forward);
    call.on('BACKGROUND_JOB', (data: FreeSwitchEventData) => {
      // esl keeps every BACKGROUND_JOB nobody awaited (all jobs of every client on this FreeSWITCH)
      // in a map until the socket closes; taking it back out right away keeps memory flat.
      const job = data.body['Job-UUID'];
      if (job && !call.closed) void call.waitAsync(`BACKGROUND_JOB ${job}`, 1, 'drain').catch(() => undefined);
    });
  }

  private sessionEnded(kind: 'auth' | 'down', reason: string): void {
    const wasConnected = this._state === 'connected';
    this.call = null;
    this.client = null;
    if (this.stopped) return;
    let delay: number;
    if (kind === 'auth') {
      this._lastError = `${reason}: check FREESWITCH_ESL_PASSWORD against event_socket.conf.xml`;
      delay = this.opts.authRetryMs;
      this.log.error(
        { host: this.opts.host, port: this.opts.port, retryInMs: delay },
        'FreeSWITCH refused the event socket password; check FREESWITCH_ESL_PASSWORD against event_socket.conf.xml',
      );
      this.setState('auth_failed');
    } else {
      this.failures++;
      delay = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectInitialMs * 2 ** Math.min(this.failures - 1, 20));
      this._lastError = reason;
      // One line per outage at warn, the repeats at debug: a PBX down for an hour is not 400 warnings.
      const level = wasConnected || this.failures === 1 ? 'warn' : 'debug';
      this.log[level]({ host: this.opts.host, port: this.opts.port, reason, retryInMs: delay }, 'FreeSWITCH event socket not connected');
      this.setState('disconnected');
    }
    if (wasConnected) this.emit('disconnected', reason);
    this.timer = setTimeout(() => this.openSession(), delay);
  }

  /** Drops the current socket and reconnects (used when a reply timed out: later replies would be mismatched). */
  private recycle(call: FreeSwitchResponse, reason: string): void {
    if (this.call === call) this.endSession?.('down', reason);
  }

  // ---- commands ----------------------------------------------------------------------------------

  private requireCall(what: string): FreeSwitchResponse {
    const call = this.call;
    if (!call || call.closed || this._state !== 'connected') {
      throw new EslUnavailableError(`${what}: not connected to FreeSWITCH (${this._state}${this._lastError ? `: ${this._lastError}` : ''})`);
    }
    return call;
  }

  private async guard<T>(call: FreeSwitchResponse, what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new EslError(`${what}: a positive timeout is required`);
    let timer: NodeJS.Timeout | undefined;
    // esl's own timer only starts when the command leaves its queue; this one bounds the whole wait.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EslTimeoutError(`${what}: no reply within ${timeoutMs} ms`, 'timeout')), timeoutMs);
    });
    try {
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      const e = mapError(err, what);
      // esl matches replies to commands by order only: after a lost reply every later one would be
      // attributed to the wrong command, so this socket cannot be trusted any more.
      if (e instanceof EslTimeoutError && e.reason === 'timeout') this.recycle(call, e.message);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `api <cmd>`: the reply body. Rejects with EslCommandError when FreeSWITCH answers `-...`. */
  async api(cmd: string, timeoutMs: number): Promise<string> {
    assertCommand(cmd);
    const what = `api ${firstWord(cmd)}`;
    const call = this.requireCall(what);
    const res = await this.guard(call, what, timeoutMs, () => call.api(cmd, timeoutMs));
    return res.body;
  }

  /**
   * `bgapi <cmd>` with our own Job-UUID; resolves once FreeSWITCH accepted the job. Its result comes
   * later as a BACKGROUND_JOB event carrying that Job-UUID (possibly before this resolves).
   */
  async bgapi(cmd: string, opts: { jobUuid: string; timeoutMs: number }): Promise<{ jobUuid: string }> {
    assertCommand(cmd);
    if (!isUuid(opts.jobUuid)) throw new EslError('bgapi: jobUuid must be a uuid');
    const what = `bgapi ${firstWord(cmd)}`;
    const call = this.requireCall(what);
    const res = await this.guard(call, what, opts.timeoutMs, () => call.send(`bgapi ${cmd}`, { 'Job-UUID': opts.jobUuid }, opts.timeoutMs));
    // esl splits header lines on the first ": " only, so Reply-Text loses the id: read the Job-UUID header.
    const job = res.headers['Job-UUID'] ?? /Job-UUID: (\S+)/.exec(res.headers['Reply-Text'] ?? '')?.[1];
    if (job && job.toLowerCase() !== opts.jobUuid.toLowerCase()) {
      this.log.warn({ expected: opts.jobUuid, got: job }, 'FreeSWITCH did not keep our Job-UUID; correlating on origination_uuid instead');
      return { jobUuid: job };
    }
    return { jobUuid: opts.jobUuid };
  }

  private checkUuid(uuid: string, what: string): void {
    if (!isUuid(uuid)) throw new EslError(`${what}: "${uuid.slice(0, 40)}" is not a uuid`);
  }

  /** `uuid_exists`: is the channel still up? */
  async uuidExists(uuid: string, timeoutMs = this.opts.apiTimeoutMs): Promise<boolean> {
    this.checkUuid(uuid, 'uuid_exists');
    const body = await this.api(`uuid_exists ${uuid}`, timeoutMs);
    return body.trim() === 'true';
  }

  /** `uuid_getvar`: the value, or null when unset (`_undef_`) or the channel is gone. */
  async uuidGetVar(uuid: string, name: string, timeoutMs = this.opts.apiTimeoutMs): Promise<string | null> {
    this.checkUuid(uuid, 'uuid_getvar');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new EslError('uuid_getvar: variable name must be a plain identifier');
    try {
      const body = await this.api(`uuid_getvar ${uuid} ${name}`, timeoutMs);
      return body === '_undef_' || body === '' ? null : body;
    } catch (err) {
      if (err instanceof EslCommandError && /no such channel/i.test(err.reply)) return null;
      throw err;
    }
  }

  /** `uuid_dump <uuid> json`: every header and variable of a live channel, or null when it is gone. */
  async uuidDump(uuid: string, timeoutMs = this.opts.apiTimeoutMs): Promise<EslHeaders | null> {
    this.checkUuid(uuid, 'uuid_dump');
    let body: string;
    try {
      body = await this.api(`uuid_dump ${uuid} json`, timeoutMs);
    } catch (err) {
      if (err instanceof EslCommandError && /no such channel/i.test(err.reply)) return null;
      throw err;
    }
    const parsed = parseJson(body);
    if (!parsed || typeof parsed !== 'object') return null;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
    return out;
  }

  /** `show channels as json` → rows (none → []). */
  async showChannels(timeoutMs = this.opts.apiTimeoutMs): Promise<ChannelRow[]> {
    const body = await this.api('show channels as json', timeoutMs);
    // With no calls FreeSWITCH answers `{"row_count": 0}` and no "rows" key at all.
    const parsed = parseJson(body) as { rows?: unknown } | undefined;
    if (!parsed || !Array.isArray(parsed.rows)) {
      if (parsed && typeof parsed === 'object') return [];
      throw new EslError('show channels: the reply is not JSON');
    }
    return parsed.rows.filter((r): r is ChannelRow => !!r && typeof r === 'object' && typeof (r as ChannelRow).uuid === 'string');
  }

  /** `uuid_kill <uuid> [CAUSE]`: true when FreeSWITCH hung it up, false when it was already gone. */
  async uuidKill(uuid: string, cause?: string, timeoutMs = this.opts.apiTimeoutMs): Promise<boolean> {
    this.checkUuid(uuid, 'uuid_kill');
    if (cause !== undefined && !/^[A-Z_]+$/.test(cause)) throw new EslError('uuid_kill: cause must be a FreeSWITCH cause name');
    try {
      await this.api(`uuid_kill ${uuid}${cause ? ` ${cause}` : ''}`, timeoutMs);
      return true;
    } catch (err) {
      if (err instanceof EslCommandError && /no such channel/i.test(err.reply)) return false;
      throw err;
    }
  }
}
