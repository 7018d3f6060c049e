// A protocol-faithful ARI simulator: real HTTP + WebSocket on loopback, the REST subset and events Faxbot uses.
//
// It plays Asterisk 20.20.1 running our shipped dialplan (asterisk-config/extensions.conf): a /continue
// into a context or extension that file does not define fails the call, as it would on a PBX.
// Events go only to the app's open WebSocket; while none is open they are lost and a call that reaches
// Stasis() hangs up, as in Asterisk. Time is scaled: `msPerSecond` real ms per simulated second.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseDialplan } from '../../backends/asterisk/conf-parser.js';
import { runCall, SimCall, type CallHost, type EmitOptions } from './call-script.js';
import type { SimScenario } from './scenarios.js';
import { astTime, numberFromEndpoint, parseCallerId } from './wire.js';

export interface AriSimOptions {
  username?: string;
  password?: string;
  /** Real milliseconds per simulated second. Default 1 (a 30 s fax takes 30 ms). */
  msPerSecond?: number;
  /** What numbers without a script do. Default: a one-page audio success. */
  defaultScenario?: SimScenario;
  /**
   * Simulated seconds an answered call waits in Stasis for /continue before the far end hangs up.
   * Default 2000: scaled time makes a real REST round trip last "seconds", so the realistic ~60 s would
   * make a busy test machine look like a far end giving up.
   */
  stasisTimeoutSec?: number;
  /** The dialplan Asterisk "has loaded". Default: the repository's asterisk-config/extensions.conf. */
  dialplanPath?: string;
  version?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Query parameters; api_key is replaced by "[redacted]". */
  query: Record<string, string>;
  body: unknown;
  status: number;
  /** How the request authenticated. */
  auth: 'basic' | 'api_key' | 'none';
}

export interface WsAttempt {
  status: number;
  app: string | null;
  subscribeAll: boolean;
}

export interface AriSim {
  /** http://127.0.0.1:<port>, stable across restart(). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly wsAttempts: WsAttempt[];
  /** Every event sent to any socket, in order, with the app it went to. */
  readonly sentEvents: { app: string; event: Record<string, unknown> }[];
  /** Live channels (ARI JSON). */
  channels(): Record<string, unknown>[];
  readonly globals: ReadonlyMap<string, string>;
  script(number: string, scenario: SimScenario): void;
  /** Open event sockets. */
  socketCount(): number;
  /** Cuts every event WebSocket abruptly; calls go on, their events are lost until a socket returns. */
  dropWebSocket(): void;
  /** Asterisk stops (sockets cut, REST refused, channels and GLOBALs gone) and comes back after downMs real ms. */
  restart(opts: { downMs: number }): Promise<void>;
  /** The first half of restart(): Asterisk is down until start(). */
  stop(): Promise<void>;
  /** Asterisk is back (same port, a new startup time). */
  start(): Promise<void>;
  setCredentials(username: string, password: string): void;
  /** 404 on /ari/events, as when res_ari_events failed to load (Asterisk 20.20.x). */
  setEventsUnavailable(on: boolean): void;
  /**
   * Holds calls to `number` once their fax session started (no page goes, the channel stays up) until
   * release(number): lets a test see exactly which calls are up at once, whatever the machine's speed.
   */
  hold(number: string): void;
  release(number: string): void;
  /** Most channels up at once since start (or since resetPeak()). */
  readonly peakChannels: number;
  resetPeak(): void;
  /** Resolves once no channel is up. */
  idle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface SimSocket {
  ws: WebSocket;
  apps: string[];
  subscribeAll: boolean;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

class Sim implements AriSim, CallHost {
  url = '';
  readonly requests: RecordedRequest[] = [];
  readonly wsAttempts: WsAttempt[] = [];
  readonly sentEvents: { app: string; event: Record<string, unknown> }[] = [];
  readonly globals = new Map<string, string>();
  readonly stasisTimeoutSec: number;
  private readonly calls = new Map<string, SimCall>();
  private readonly scripts = new Map<string, SimScenario>();
  /** app → channel ids it is subscribed to (kept across socket drops, lost on restart). */
  private readonly subscriptions = new Map<string, Set<string>>();
  /** app → its current socket. */
  private readonly appSockets = new Map<string, SimSocket>();
  private readonly sockets = new Set<SimSocket>();
  private readonly conns = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly extensions: Set<string>;
  private readonly wss = new WebSocketServer({ noServer: true });
  private server: http.Server;
  private port = 0;
  private username: string;
  private password: string;
  private eventsUnavailable = false;
  private down = false;
  private closed = false;
  private startupTime = astTime();
  private chanSeq = 0;
  peakChannels = 0;
  private readonly msPerSecond: number;
  private readonly defaultScenario: SimScenario;
  private readonly version: string;

  constructor(opts: AriSimOptions) {
    this.username = opts.username ?? 'faxbot';
    this.password = opts.password ?? 'faxbot-secret';
    this.msPerSecond = opts.msPerSecond ?? 1;
    this.defaultScenario = opts.defaultScenario ?? { kind: 'success', pages: 1 };
    this.stasisTimeoutSec = opts.stasisTimeoutSec ?? 2000;
    this.version = opts.version ?? '20.20.1';
    const path = opts.dialplanPath ?? resolve(import.meta.dirname, '../../../asterisk-config/extensions.conf');
    const dp = parseDialplan(readFileSync(path, 'utf8'));
    this.extensions = new Set();
    for (const [ctx, steps] of dp.contexts) for (const s of steps) if (/^[0-9]+$/.test(s.priority)) this.extensions.add(`${ctx},${s.exten},${s.priority}`);
    this.server = this.makeServer();
  }

  // ------------------------------------------------------------------ lifecycle

  async listen(port = 0): Promise<void> {
    await new Promise<void>((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', rej);
        res();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  private makeServer(): http.Server {
    const server = http.createServer((req, res) => void this.onRequest(req, res));
    server.on('connection', (s: Socket) => {
      this.conns.add(s);
      s.on('close', () => this.conns.delete(s));
    });
    server.on('upgrade', (req, socket: Socket, head) => this.onUpgrade(req, socket, head));
    return server;
  }

  private async stopServer(): Promise<void> {
    for (const s of this.sockets) s.ws.terminate();
    this.sockets.clear();
    this.appSockets.clear();
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const c of this.conns) c.destroy();
    await closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const n of [...this.held.keys()]) this.release(n);
    for (const c of this.calls.values()) c.kill();
    this.calls.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.stopServer();
    this.wss.close();
  }

  async restart(opts: { downMs: number }): Promise<void> {
    await this.stop();
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        r();
      }, opts.downMs);
      this.timers.add(t);
    });
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.down) return;
    this.down = true;
    for (const c of [...this.calls.values()]) c.kill();
    this.calls.clear();
    this.globals.clear();
    this.subscriptions.clear();
    await this.stopServer();
  }

  async start(): Promise<void> {
    if (this.closed || !this.down) return;
    this.server = this.makeServer();
    await this.listen(this.port);
    this.startupTime = astTime();
    this.down = false;
  }

  // ------------------------------------------------------------------ controls

  script(number: string, scenario: SimScenario): void {
    this.scripts.set(number, scenario);
  }

  channels(): Record<string, unknown>[] {
    return [...this.calls.values()].map((c) => c.snapshot());
  }

  socketCount(): number {
    return this.sockets.size;
  }

  dropWebSocket(): void {
    for (const s of this.sockets) s.ws.terminate();
    this.sockets.clear();
    this.appSockets.clear();
  }

  setCredentials(username: string, password: string): void {
    this.username = username;
    this.password = password;
  }

  private readonly held = new Map<string, { released: Promise<void>; release: () => void }>();

  hold(number: string): void {
    if (this.held.has(number)) return;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    this.held.set(number, { released, release });
  }

  release(number: string): void {
    this.held.get(number)?.release();
    this.held.delete(number);
  }

  gate(number: string, signal: AbortSignal): Promise<void> {
    const h = this.held.get(number);
    if (!h) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new Error('aborted'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void h.released.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  resetPeak(): void {
    this.peakChannels = this.calls.size;
  }

  setEventsUnavailable(on: boolean): void {
    this.eventsUnavailable = on;
  }

  async idle(timeoutMs = 5000): Promise<void> {
    const start = Date.now();
    while (this.calls.size > 0) {
      if (Date.now() - start > timeoutMs) throw new Error(`simulator still has ${this.calls.size} channel(s) up`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  // ------------------------------------------------------------------ CallHost

  emit(call: SimCall, event: Record<string, unknown>, opts: EmitOptions = {}): void {
    const subscribed = this.subscriptions.get(call.app)?.has(call.id) ?? false;
    for (const s of this.sockets) {
      const owner = this.appSockets.get(s.apps[0]!) === s;
      if (!owner) continue;
      let app: string | null = null;
      if (s.subscribeAll) app = s.apps.includes(call.app) ? call.app : s.apps[0]!;
      else if (!opts.early && !opts.allOnly && subscribed && s.apps.includes(call.app)) app = call.app;
      if (app === null) continue;
      const full = { ...event, asterisk_id: '02:fc:00:00:00:01', application: app };
      this.sentEvents.push({ app, event: full });
      s.ws.send(JSON.stringify(full));
    }
  }

  sleep(sec: number, signal: AbortSignal): Promise<void> {
    return new Promise((res, rej) => {
      if (signal.aborted) {
        rej(new Error('aborted'));
        return;
      }
      const t = setTimeout(() => {
        this.timers.delete(t);
        signal.removeEventListener('abort', onAbort);
        res();
      }, Math.max(0, sec * this.msPerSecond));
      this.timers.add(t);
      const onAbort = (): void => {
        clearTimeout(t);
        this.timers.delete(t);
        rej(new Error('aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  appActive(app: string): boolean {
    return this.appSockets.has(app);
  }

  setGlobal(name: string, value: string): void {
    if (value === '') this.globals.delete(name);
    else this.globals.set(name, value);
  }

  hasExtension(context: string, exten: string, priority: number): boolean {
    return this.extensions.has(`${context},${exten},${priority}`);
  }

  removed(call: SimCall): void {
    if (this.calls.get(call.id) === call) this.calls.delete(call.id);
    for (const subs of this.subscriptions.values()) subs.delete(call.id);
  }

  // ------------------------------------------------------------------ HTTP

  private authenticate(req: http.IncomingMessage, url: URL): RecordedRequest['auth'] | null {
    const h = req.headers.authorization;
    if (h?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':');
      return safeEqual(u ?? '', this.username) && safeEqual(p.join(':'), this.password) ? 'basic' : null;
    }
    const key = url.searchParams.get('api_key');
    if (key !== null) {
      const [u, ...p] = key.split(':');
      return safeEqual(u ?? '', this.username) && safeEqual(p.join(':'), this.password) ? 'api_key' : null;
    }
    return null;
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
    }
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = k === 'api_key' ? '[redacted]' : v;
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, body, status: 0, auth: 'none' };
    this.requests.push(record);
    const send = (status: number, payload?: unknown, after?: () => void): void => {
      record.status = status;
      if (payload === undefined) {
        res.writeHead(status);
        res.end(after);
      } else {
        const text = JSON.stringify(payload);
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text, after);
      }
    };
    const auth = this.authenticate(req, url);
    if (!auth) {
      // Asterisk answers 401 with a WWW-Authenticate challenge.
      res.setHeader('WWW-Authenticate', 'Basic realm="Asterisk REST Interface"');
      return send(401, { error: 'Authentication required' });
    }
    record.auth = auth;
    if (body === undefined) return send(400, { message: 'Invalid JSON body' });
    const m = req.method ?? 'GET';
    const p = url.pathname.replace(/\/+$/, '');
    const param = (name: string): string | undefined => {
      const q = url.searchParams.get(name);
      if (q !== null) return q;
      const b = body as Record<string, unknown> | null;
      const v = b && typeof b === 'object' ? b[name] : undefined;
      return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
    };

    if (m === 'GET' && p === '/ari/asterisk/info') return send(200, this.info(url.searchParams.get('only')));
    if (p === '/ari/asterisk/variable') {
      const name = param('variable');
      if (!name) return send(400, { message: 'Variable name is required' });
      if (m === 'GET') return send(200, { value: this.globals.get(name) ?? '' });
      if (m === 'POST') {
        this.setGlobal(name, param('value') ?? '');
        return send(204);
      }
    }
    if (m === 'GET' && p === '/ari/channels') return send(200, this.channels());
    if (m === 'POST' && p === '/ari/channels') return this.originate(param, body, send);

    const ch = /^\/ari\/channels\/([^/]+)(\/[a-z]+)?$/.exec(p);
    if (ch) {
      const id = decodeURIComponent(ch[1]!);
      const call = this.calls.get(id);
      const sub = ch[2] ?? '';
      if (m === 'GET' && sub === '') return call ? send(200, call.snapshot()) : send(404, { message: 'Channel not found' });
      if (m === 'DELETE' && sub === '') {
        const reason = param('reason') ?? 'normal';
        const causes: Record<string, number> = { normal: 16, busy: 17, congestion: 34, no_answer: 19, timeout: 19, rejected: 21, unallocated: 1 };
        if (!(reason in causes)) return send(400, { message: 'Invalid reason for hangup provided' });
        if (!call) return send(404, { message: 'Channel not found' });
        return send(204, undefined, () => call.requestHangup(causes[reason]!));
      }
      if (m === 'POST' && sub === '/continue') {
        if (!call) return send(404, { message: 'Channel not found' });
        const priority = Number(param('priority') ?? '1');
        const target = { context: param('context') ?? call.dialplan.context, extension: param('extension') ?? call.dialplan.exten, priority };
        if (!call.continueTo(target)) return send(409, { message: 'Channel not in Stasis application' });
        return send(204);
      }
      if (m === 'GET' && sub === '/variable') {
        const name = param('variable');
        if (!name) return send(400, { message: 'Variable name is required' });
        if (!call) return send(404, { message: 'Channel not found' });
        const value = call.vars.get(name);
        return value === undefined ? send(404, { message: 'Provided variable was not found' }) : send(200, { value });
      }
    }
    const subm = /^\/ari\/applications\/([^/]+)\/subscription$/.exec(p);
    if (subm && m === 'POST') {
      const app = decodeURIComponent(subm[1]!);
      if (!this.appSockets.has(app)) return send(404, { message: 'Application not found' });
      const source = param('eventSource');
      if (!source) return send(400, { message: 'Missing parameter eventSource' });
      const cm = /^channel:(.+)$/.exec(source);
      if (!cm || !this.calls.has(cm[1]!)) return send(422, { message: 'Event source does not exist' });
      this.subs(app).add(cm[1]!);
      return send(200, { name: app, channel_ids: [...this.subs(app)], bridge_ids: [], endpoint_ids: [], device_names: [], events_allowed: [], events_disallowed: [] });
    }
    return send(404, { message: 'Resource not found' });
  }

  private subs(app: string): Set<string> {
    let s = this.subscriptions.get(app);
    if (!s) {
      s = new Set();
      this.subscriptions.set(app, s);
    }
    return s;
  }

  private info(only: string | null): Record<string, unknown> {
    const all: Record<string, unknown> = {
      build: { os: 'Linux', kernel: '6.1.0', machine: 'x86_64', options: '', date: '2026-11-27 11:04:35 UTC', user: 'root' },
      system: { version: this.version, entity_id: '02:fc:00:00:00:01' },
      config: { name: '', default_language: 'en', setid: { user: '', group: '' } },
      status: { startup_time: this.startupTime, last_reload_time: this.startupTime },
    };
    if (!only) return all;
    const want = only.split(',');
    return Object.fromEntries(Object.entries(all).filter(([k]) => want.includes(k)));
  }

  private originate(
    param: (n: string) => string | undefined,
    body: unknown,
    send: (status: number, payload?: unknown, after?: () => void) => void,
  ): void {
    const endpoint = param('endpoint');
    if (!endpoint) return send(400, { message: 'Endpoint must be specified' });
    const parsed = numberFromEndpoint(endpoint);
    if (!parsed) return send(400, { message: 'Endpoint must be in the format technology/resource' });
    if (parsed.tech !== 'PJSIP') return send(400, { message: `Invalid technology ${parsed.tech}` });
    const app = param('app');
    if (!app) return send(400, { message: 'Simulator: only originate into a Stasis app (app=) is supported' });
    if (param('context') || param('extension')) return send(400, { message: "'context', 'extension' and 'app' cannot be used together" });
    const id = param('channelId') ?? randomUUID();
    if (id.length > 149) return send(400, { message: 'channelId too long' });
    if (this.calls.has(id)) return send(409, { message: 'Channel with given unique ID already exists' });
    const variables: Record<string, string> = {};
    const bv = (body as { variables?: unknown } | null)?.variables;
    if (bv !== undefined) {
      if (typeof bv !== 'object' || bv === null || Array.isArray(bv)) return send(400, { message: 'Variables must be a JSON object' });
      for (const [k, v] of Object.entries(bv)) {
        if (typeof v !== 'string') return send(400, { message: `Variable ${k} must be a string` });
        variables[k] = v;
      }
    }
    const timeoutRaw = param('timeout');
    const timeout = timeoutRaw === undefined ? 30 : Number(timeoutRaw);
    if (!Number.isFinite(timeout)) return send(400, { message: 'timeout must be a number' });
    const trunk = parsed.resource.includes('@') ? parsed.resource.split('@')[1]! : parsed.resource.split('/')[0]!;
    this.chanSeq += 1;
    const call = new SimCall(
      id,
      `PJSIP/${trunk}-${this.chanSeq.toString(16).padStart(8, '0')}`,
      randomUUID(),
      app,
      (param('appArgs') ?? '').split(',').filter((a) => a !== ''),
      parsed.resource,
      parseCallerId(param('callerId')),
      timeout < 0 ? 86_400 : timeout,
      variables,
    );
    call.number = parsed.number;
    this.calls.set(id, call);
    this.peakChannels = Math.max(this.peakChannels, this.calls.size);
    this.subs(app).add(id); // originate with app= subscribes the app to the channel
    const scenario = this.scripts.get(parsed.number) ?? this.defaultScenario;
    // The 200 answer goes out before ChannelCreated, as recorded.
    send(200, call.snapshot(), () => {
      if (this.calls.get(id) === call) void runCall(this, call, scenario);
    });
  }

  // ------------------------------------------------------------------ WebSocket

  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const apps = (url.searchParams.get('app') ?? '').split(',').filter((a) => a !== '');
    const subscribeAll = url.searchParams.get('subscribeAll') === 'true';
    const reject = (status: number, text: string, message: string): void => {
      this.wsAttempts.push({ status, app: apps[0] ?? null, subscribeAll });
      const b = JSON.stringify({ message });
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\nConnection: close\r\n\r\n${b}`);
    };
    if (url.pathname !== '/ari/events' || this.eventsUnavailable) return reject(404, 'Not Found', 'Resource not found');
    if (!this.authenticate(req, url)) return reject(401, 'Unauthorized', 'Authentication required');
    if (apps.length === 0) return reject(400, 'Bad Request', "Missing param 'app'");
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wsAttempts.push({ status: 101, app: apps[0]!, subscribeAll });
      const s: SimSocket = { ws, apps, subscribeAll };
      for (const app of apps) {
        const old = this.appSockets.get(app);
        if (old) old.ws.send(JSON.stringify({ type: 'ApplicationReplaced', application: app, timestamp: astTime(), asterisk_id: '02:fc:00:00:00:01' }));
        this.appSockets.set(app, s);
      }
      this.sockets.add(s);
      ws.on('close', () => {
        this.sockets.delete(s);
        for (const app of apps) if (this.appSockets.get(app) === s) this.appSockets.delete(app);
      });
      ws.on('error', () => undefined);
    });
  }
}

/** Starts the simulator on a free loopback port. */
export async function startAriSim(opts: AriSimOptions = {}): Promise<AriSim> {
  const sim = new Sim(opts);
  await sim.listen();
  return sim;
}
