// A small typed ARI client: REST over node:http, events over one WebSocket that reconnects for as long as it takes.
//
// Why not the `ari-client` npm package (the design notes' first choice): it gives up reconnecting after
// ten tries (~43 s) and then stays silent, so an Asterisk restart longer than that would strand every
// fax; it loads Asterisk's Swagger declarations at connect (a fixed API built once, re-done on every
// reconnect by hand); and it pulls deprecated `request@2`, `swagger-client@2.0.26`, `uuid@3` and `ws@6`.
// We use a handful of endpoints, so a thin client is smaller than the wrapper it replaces.
//
// Why node:http rather than fetch for REST: the dispatcher must know whether a failed request may have
// reached Asterisk ("give the attempt back" versus "outcome unknown"). node:http tells us whether the TCP
// (or TLS) connection was established before the failure, and a fresh connection per request (no keep-alive
// pool) means a POST can never fail on a stale pooled socket that looks like "maybe sent".
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import WebSocket from 'ws';
import type { Logger } from '../../log.js';
import { waitConnected } from '../pbx/link.js';
import { AriHttpError, AriTimeoutError, AriUnavailableError } from './ari-errors.js';
import {
  parseAriEvent,
  type AriChannel,
  type AriDialplanTarget,
  type AriEvent,
  type AriOriginateParams,
  type AsteriskInfo,
} from './ari-types.js';
import { backoffDelay, type BackoffOptions } from '../../util/backoff.js';

export type AriConnectionState =
  | 'connecting'
  | 'connected'
  | 'disconnected'
  | 'auth_failed'
  | 'events_unavailable'
  | 'stopped';

export interface AriClientOptions {
  /** Asterisk's HTTP base, e.g. `http://127.0.0.1:8088` (a `prefix=` from http.conf goes in the path). No credentials in it. */
  url: string;
  username: string;
  password: string;
  /** The Stasis application name (ARI_APP). */
  app: string;
  logger?: Logger;
  /** Per REST request, connect included. Default 10 s. */
  requestTimeoutMs?: number;
  /** Reconnect backoff for the event WebSocket. Default 500 ms doubling to 30 s. */
  reconnect?: BackoffOptions;
  /** Retry delay after Asterisk refused our credentials or has no /ari/events: slow, not a storm. Default 60 s. */
  refusedRetryMs?: number;
  /** WebSocket handshake limit. Default 10 s. */
  connectTimeoutMs?: number;
  /** Ping interval; a socket that misses one pong is dropped and reconnected. Default 20 s, 0 = off. */
  pingIntervalMs?: number;
  /** A connection that stayed up this long resets the backoff. Default 10 s. */
  stableAfterMs?: number;
  /** Ask for every channel's events (heavy). Default false: originate with app= subscribes us to our own channels. */
  subscribeAll?: boolean;
  /** For tests: the jitter source. */
  random?: () => number;
}

export interface AriClientEvents {
  connected: [];
  disconnected: [info: { code: number; reason: string }];
  event: [event: AriEvent];
  state: [state: AriConnectionState, lastError: string | null];
  reconnecting: [info: { attempt: number; delayMs: number; state: AriConnectionState }];
}

interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  timeoutMs?: number;
}

interface RawResponse {
  status: number;
  body: unknown;
}

const EVENTS_UNAVAILABLE_HELP =
  'Asterisk answered 404 for the ARI event WebSocket (/ari/events): res_ari_events is not loaded. ' +
  'Check "module show like res_ari" on the Asterisk CLI. Asterisk 20.20.x ships a res_ari_events.so that fails ' +
  'to load with "undefined symbol: stasis_app_claim_channel" (the symbol sits in res_stasis_broadcast, which does ' +
  'not export it): use a release without that defect or a build that exports the stasis_app_* symbols, then ' +
  '"module load res_ari_events.so". Also check that ARI_URL points at Asterisk\'s HTTP server (and its prefix).';

function authHelp(status: number): string {
  return (
    `Asterisk refused the ARI credentials (HTTP ${status}): check ARI_USERNAME and ARI_PASSWORD against the user ` +
    'section in ari.conf (read_only=no), then "module reload res_ari.so". Retrying slowly.'
  );
}

/** Typed ARI client. Construct, call start(), listen to `event`; REST methods work whether or not the socket is up. */
export class AriClient extends EventEmitter<AriClientEvents> {
  private readonly base: URL;
  private readonly prefix: string;
  private readonly authHeader: string;
  private readonly agent: http.Agent;
  private readonly requestTimeoutMs: number;
  private readonly reconnectOpts: BackoffOptions;
  private readonly refusedRetryMs: number;
  private readonly connectTimeoutMs: number;
  private readonly pingIntervalMs: number;
  private readonly stableAfterMs: number;
  private readonly random: () => number;
  private readonly log: Logger | undefined;
  private readonly secretsToHide: string[];

  private _state: AriConnectionState = 'disconnected';
  private _lastError: string | null = null;
  private started = false;
  private stopped = false;
  private ws: WebSocket | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private openedAt = 0;

  constructor(private readonly opts: AriClientOptions) {
    super();
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new Error('ARI url is not a valid URL (expected e.g. http://127.0.0.1:8088)');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('ARI url must start with http:// or https://');
    if (url.username || url.password) throw new Error('ARI url must not contain credentials; set the username and password separately');
    if (!/^[A-Za-z0-9_.-]+$/.test(opts.app)) throw new Error('ARI app name may contain only letters, digits, "_", "-" and "."');
    this.base = url;
    // Accept "http://host:8088", "http://host:8088/" and "http://host:8088/ari" alike.
    this.prefix = url.pathname.replace(/\/+$/, '').replace(/\/ari$/, '');
    this.authHeader = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    this.agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.reconnectOpts = opts.reconnect ?? { initialMs: 500, maxMs: 30_000 };
    this.refusedRetryMs = opts.refusedRetryMs ?? 60_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.pingIntervalMs = opts.pingIntervalMs ?? 20_000;
    this.stableAfterMs = opts.stableAfterMs ?? 10_000;
    this.random = opts.random ?? Math.random;
    this.log = opts.logger?.child({ mod: 'ari' });
    this.secretsToHide = [opts.password, this.authHeader, Buffer.from(`${opts.username}:${opts.password}`).toString('base64')]
      .filter((s) => s.length >= 3);
  }

  get state(): AriConnectionState {
    return this._state;
  }

  /** Why the connection is not up, in words an admin can act on (null when connected). Never holds a credential. */
  get lastError(): string | null {
    return this._lastError;
  }

  get app(): string {
    return this.opts.app;
  }

  /** Opens the event WebSocket and keeps it open until stop(). Never throws for a PBX that is down. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopped = false;
    this.connect();
  }

  /** Closes the socket, cancels retries; REST calls fail with AriUnavailableError afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    this.setState('stopped', null);
    if (ws) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        t.unref();
        ws.once('close', done);
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'client stopping');
      });
    }
    this.agent.destroy();
  }

  /** Resolves once the event socket is open (at once if it is); rejects after `timeoutMs` or on stop(). */
  whenConnected(timeoutMs: number): Promise<void> {
    return waitConnected(this, timeoutMs, (why) =>
      why === 'stopped'
        ? new AriUnavailableError('ARI client stopped')
        : new AriUnavailableError(`ARI event connection not up after ${timeoutMs} ms (${this._state}${this._lastError ? `: ${this._lastError}` : ''})`),
    );
  }


  // ---------------------------------------------------------------- REST

  /**
   * Places the call (design A: into our Stasis app first). Refuses while the event socket is down:
   * Asterisk would dial anyway, and on answer the channel would find no app and hang up unseen.
   */
  async originate(p: AriOriginateParams): Promise<AriChannel> {
    if (this._state !== 'connected') {
      throw new AriUnavailableError(`not originating: the ARI event connection is ${this._state}, so the call could not be followed`);
    }
    for (const a of p.appArgs) {
      if (a.includes(',')) throw new Error('appArgs elements must not contain commas');
    }
    const res = await this.request('POST', '/channels', {
      query: {
        endpoint: p.endpoint,
        app: this.opts.app,
        appArgs: p.appArgs.join(','),
        channelId: p.channelId,
        callerId: p.callerId,
        timeout: p.timeoutSec,
      },
      body: { variables: { ...(p.variables ?? {}) } },
    });
    return res.body as AriChannel;
  }

  /** Moves a channel out of Stasis into the dialplan (404: gone, 409: not in Stasis). */
  async continueInDialplan(channelId: string, target: AriDialplanTarget): Promise<void> {
    await this.request('POST', `/channels/${encodeURIComponent(channelId)}/continue`, {
      query: { context: target.context, extension: target.extension, priority: target.priority },
    });
  }

  /** Hangs up; `reason` is ARI's (normal, busy, congestion, no_answer, …). 404 when already gone. */
  async hangup(channelId: string, reason?: string): Promise<void> {
    await this.request('DELETE', `/channels/${encodeURIComponent(channelId)}`, { query: { reason } });
  }

  /** The live channel, or null when Asterisk has no such channel. */
  async getChannel(channelId: string): Promise<AriChannel | null> {
    try {
      const res = await this.request('GET', `/channels/${encodeURIComponent(channelId)}`);
      return res.body as AriChannel;
    } catch (err) {
      if (err instanceof AriHttpError && err.status === 404) return null;
      throw err;
    }
  }

  async listChannels(): Promise<AriChannel[]> {
    const res = await this.request('GET', '/channels');
    return Array.isArray(res.body) ? (res.body as AriChannel[]) : [];
  }

  /** A channel variable, or null when the channel or the variable does not exist (404). */
  async getChannelVar(channelId: string, variable: string): Promise<string | null> {
    try {
      const res = await this.request('GET', `/channels/${encodeURIComponent(channelId)}/variable`, { query: { variable } });
      return readValue(res.body);
    } catch (err) {
      if (err instanceof AriHttpError && err.status === 404) return null;
      throw err;
    }
  }

  /**
   * A global variable; "" when unset (Asterisk answers 200 with an empty value). Note: this endpoint does
   * NOT evaluate dialplan functions (Asterisk reads it with ast_str_retrieve_variable), so DB(...) reads "".
   */
  async getGlobalVar(variable: string): Promise<string> {
    const res = await this.request('GET', '/asterisk/variable', { query: { variable } });
    return readValue(res.body) ?? '';
  }

  /** Sets a global variable; null deletes it (Asterisk removes a global set without a value). */
  async setGlobalVar(variable: string, value: string | null): Promise<void> {
    await this.request('POST', '/asterisk/variable', { query: { variable, value: value ?? undefined } });
  }

  /** Subscribes our app to an event source such as `channel:<id>` (e.g. again after a reconnect). */
  async subscribe(eventSource: string): Promise<void> {
    await this.request('POST', `/applications/${encodeURIComponent(this.opts.app)}/subscription`, { query: { eventSource } });
  }

  /** `GET /ari/asterisk/info`: version, entity id, and status.startup_time (tells whether Asterisk restarted). */
  async info(): Promise<AsteriskInfo> {
    const res = await this.request('GET', '/asterisk/info');
    return (res.body ?? {}) as AsteriskInfo;
  }

  private request(method: string, path: string, o: RequestOptions = {}): Promise<RawResponse> {
    if (this.stopped) return Promise.reject(new AriUnavailableError('ARI client is stopped'));
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) search.set(k, String(v));
    const qs = search.toString();
    const fullPath = `${this.prefix}/ari${path}${qs ? `?${qs}` : ''}`;
    const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const timeoutMs = o.timeoutMs ?? this.requestTimeoutMs;
    const secure = this.base.protocol === 'https:';
    const mod = secure ? https : http;

    return new Promise<RawResponse>((resolve, reject) => {
      let connected = false;
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        this.log?.debug({ method, path, err: err.message }, 'ARI request failed');
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(connected
          ? new AriTimeoutError(`ARI ${method} ${path}: no answer within ${timeoutMs} ms (Asterisk may have acted on it)`, 'ETIMEDOUT')
          : new AriUnavailableError(`ARI ${method} ${path}: could not connect within ${timeoutMs} ms`, 'ECONNTIMEOUT'));
      }, timeoutMs);

      const req = mod.request({
        protocol: this.base.protocol,
        hostname: this.base.hostname.replace(/^\[|\]$/g, ''),
        port: this.base.port || (secure ? 443 : 80),
        path: fullPath,
        method,
        agent: this.agent,
        headers: {
          Authorization: this.authHeader,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
        },
      });
      req.on('socket', (socket) => {
        const ready = secure ? 'secureConnect' : 'connect';
        if (!socket.connecting && !secure) connected = true;
        else socket.once(ready, () => { connected = true; });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const msg = this.redact(err.message);
        fail(connected
          ? new AriTimeoutError(`ARI ${method} ${path}: connection lost after sending (${msg}); Asterisk may have acted on it`, err.code)
          : new AriUnavailableError(`ARI ${method} ${path}: Asterisk not reachable (${msg})`, err.code));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 8 * 1024 * 1024) {
            fail(new AriTimeoutError(`ARI ${method} ${path}: answer too large`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => fail(new AriTimeoutError(`ARI ${method} ${path}: answer interrupted (${this.redact(err.message)})`)));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = null;
          if (text.length > 0) {
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve({ status, body });
            return;
          }
          const message = errorMessage(body);
          this.log?.debug({ method, path, status }, 'ARI request refused');
          reject(new AriHttpError(status, method, path.split('?')[0] ?? path, message === null ? null : this.redact(message)));
        });
      });
      req.end(payload);
    });
  }

  // ---------------------------------------------------------------- WebSocket

  private get wsUrl(): string {
    const u = new URL(this.base.toString());
    u.protocol = this.base.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = `${this.prefix}/ari/events`;
    u.search = new URLSearchParams({ app: this.opts.app, subscribeAll: this.opts.subscribeAll ? 'true' : 'false' }).toString();
    return u.toString();
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState('connecting', this._lastError);
    let refused: 'auth' | 'events' | null = null;
    let downHandled = false;
    const ws = new WebSocket(this.wsUrl, {
      headers: { Authorization: this.authHeader },
      handshakeTimeout: this.connectTimeoutMs,
      perMessageDeflate: false,
      maxPayload: 16 * 1024 * 1024,
    });
    this.ws = ws;

    const down = (code: number, reason: string): void => {
      if (downHandled) return;
      downHandled = true;
      this.onDown(ws, code, reason, refused);
    };

    ws.on('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      if (status === 401 || status === 403) {
        refused = 'auth';
        this._lastError = authHelp(status);
      } else if (status === 404) {
        refused = 'events';
        this._lastError = EVENTS_UNAVAILABLE_HELP;
      } else {
        this._lastError = `the ARI event WebSocket upgrade was answered with HTTP ${status}`;
      }
      res.resume();
      req.destroy();
      down(1006, `HTTP ${status}`);
    });
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.openedAt = Date.now();
      this.setState('connected', null);
      this.startPing(ws);
      this.log?.info({ app: this.opts.app }, 'ARI event connection up');
      this.safeEmit('connected');
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        this.log?.warn('ARI sent a message that is not JSON; ignored');
        return;
      }
      const ev = parseAriEvent(msg);
      if (ev) this.safeEmit('event', ev);
    });
    ws.on('pong', () => {
      (ws as WebSocket & { faxbotAlive?: boolean }).faxbotAlive = true;
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (refused === null) this._lastError = `ARI event connection: ${this.redact(err.message)}`;
      // 'close' follows; if the socket never opened, ws may only emit 'error' then 'close'.
    });
    ws.on('close', (code, reason) => down(code, reason.toString()));
  }

  private onDown(ws: WebSocket, code: number, reason: string, refused: 'auth' | 'events' | null): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.stopPing();
    if (this.stopped) return;
    const wasConnected = this._state === 'connected';
    if (wasConnected && Date.now() - this.openedAt >= this.stableAfterMs) this.failures = 0;
    if (wasConnected && this._lastError === null) this._lastError = `ARI event connection closed (code ${code})`;
    const next: AriConnectionState = refused === 'auth' ? 'auth_failed' : refused === 'events' ? 'events_unavailable' : 'disconnected';
    this.setState(next, this._lastError);
    if (wasConnected) {
      this.log?.warn({ code }, 'ARI event connection lost; reconnecting');
      this.safeEmit('disconnected', { code, reason: this.redact(reason) });
    } else if (refused) {
      this.log?.error({ state: next }, this._lastError ?? 'ARI refused the event connection');
    }
    const attempt = this.failures++;
    const delayMs = refused ? this.refusedRetryMs : backoffDelay(attempt, this.reconnectOpts, this.random);
    this.safeEmit('reconnecting', { attempt, delayMs, state: next });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delayMs);
  }

  private startPing(ws: WebSocket): void {
    if (this.pingIntervalMs <= 0) return;
    const tagged = ws as WebSocket & { faxbotAlive?: boolean };
    tagged.faxbotAlive = true;
    this.pingTimer = setInterval(() => {
      if (!tagged.faxbotAlive) {
        this._lastError = 'ARI event connection missed a ping; reconnecting';
        ws.terminate();
        return;
      }
      tagged.faxbotAlive = false;
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }, this.pingIntervalMs);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopPing();
  }

  private setState(state: AriConnectionState, lastError: string | null): void {
    const changed = state !== this._state || lastError !== this._lastError;
    this._state = state;
    this._lastError = lastError;
    if (changed) this.safeEmit('state', state, lastError);
  }

  /** A listener that throws must not kill the socket handler (or the process). */
  private safeEmit<K extends keyof AriClientEvents>(name: K, ...args: AriClientEvents[K]): void {
    try {
      (this.emit as (n: K, ...a: AriClientEvents[K]) => boolean)(name, ...args);
    } catch (err) {
      this.log?.error({ err: err instanceof Error ? err.message : String(err), listener: name }, 'ARI listener threw');
    }
  }

  /** Removes anything credential-shaped from a message before it is stored or logged. */
  private redact(text: string): string {
    let out = text.replace(/api_key=[^&\s]*/gi, 'api_key=[redacted]');
    for (const s of this.secretsToHide) out = out.split(s).join('[redacted]');
    return out;
  }
}

function readValue(body: unknown): string | null {
  if (typeof body === 'object' && body !== null && 'value' in body) {
    const v = (body as { value: unknown }).value;
    return typeof v === 'string' ? v : null;
  }
  return null;
}

function errorMessage(body: unknown): string | null {
  if (typeof body === 'object' && body !== null) {
    const b = body as { message?: unknown; error?: unknown };
    if (typeof b.message === 'string') return b.message;
    if (typeof b.error === 'string') return b.error;
  }
  if (typeof body === 'string' && body.length > 0) return body.slice(0, 200);
  return null;
}
