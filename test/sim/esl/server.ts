// A FreeSWITCH Event Socket simulator: a real TCP server speaking ESL, running scripted fax calls.
//
// It fakes the PBX (never our code): auth, subscriptions, api/bgapi, BACKGROUND_JOB, channel and
// spandsp events with full channel headers, in the order and shape recorded from FreeSWITCH 1.10.12
// (fixtures/freeswitch). Time is scaled so a 25 s fax takes tens of milliseconds.
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aborted, CallFlows, type Call, type ReceiveFaxOptions, type SimEvent } from './calls.js';
import { baseHeaders, SimChannel, type Header, type SimContext } from './channel.js';
import { parseOriginateArgs, separateString } from './fs-strings.js';
import { SCENARIOS, type Scenario, type ScenarioName } from './scenarios.js';
import {
  apiResponse,
  authRequest,
  CommandReader,
  commandReply,
  disconnectNotice,
  eventJsonFrame,
  eventPlainFrame,
  type ClientCommand,
} from './wire.js';

export interface EslSimOptions {
  password?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Real milliseconds per simulated millisecond (default 0.001: a 20 s fax takes 20 ms). */
  timeScale?: number;
  /** Sofia gateways that exist (default ["faxbot"]); any other name gives -ERR INVALID_GATEWAY. */
  gateways?: string[];
  /** Gateways whose far end does not answer SIP at all (NORMAL_TEMPORARY_FAILURE, SIP 503). */
  deadGateways?: string[];
  /** Gateways FreeSWITCH marks down (-ERR GATEWAY_DOWN, no channel). */
  downGateways?: string[];
  /** The sofia profile the gateways live on (Channel-Name is sofia/<profile>/<number>). */
  profile?: string;
  /** Scenario for numbers that were not scripted (default "success"). */
  defaultScenario?: ScenarioName | Scenario;
  /** Where receiveFax() writes TIFFs when no file is given. */
  spoolDir?: string;
  /** Send each BACKGROUND_JOB before the bgapi's command/reply (a race FreeSWITCH can show). */
  jobBeforeReply?: boolean;
  /** Called as each event is sent (benchmarks stamp the event that decides a call). */
  onEvent?: (ev: { name: string; subclass?: string; uuid?: string }) => void;
}

export interface CommandLogEntry {
  conn: number;
  line: string;
  headers: Record<string, string>;
}

interface Client {
  id: number;
  socket: Socket;
  authed: boolean;
  format: 'json' | 'plain' | null;
  all: boolean;
  events: Set<string>;
  subclasses: Set<string>;
  filters: [string, string][];
  queue: Promise<void>;
}

export type { ReceiveFaxOptions };

export interface ReceivedFax {
  uuid: string;
  file: string;
  fileWritten: boolean;
}

const STATUS_BODY = (upMs: number) =>
  `UP 0 years, 0 days, ${Math.floor(upMs / 3_600_000)} hours, ${Math.floor(upMs / 60_000) % 60} minutes, ${Math.floor(upMs / 1000) % 60} seconds, ${upMs % 1000} milliseconds, 0 microseconds\n` +
  'FreeSWITCH (Version 1.10.12-release  64bit) is ready\n' +
  '0 session(s) since startup\n0 session(s) - peak 0, last 5min 0 \n0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n' +
  '1000 session(s) max\nmin idle cpu 0.00/99.00\nCurrent Stack Size/Max 240K/8192K\n';

export class EslSim {
  private server: Server;
  private password: string;
  private readonly clients = new Map<number, Client>();
  private readonly calls = new Map<string, Call>();
  private readonly scripts = new Map<string, Scenario>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextClient = 1;
  private seq = 400;
  private sessions = 0;
  /** When this FreeSWITCH (re)started: `status` reports the uptime since. */
  private startedAt = Date.now();
  private down = false;
  private refusing = false;
  /** Numbers whose calls wait after fax negotiation until release(); the value: calls waiting there now. */
  private readonly holds = new Map<string, { waiting: number; open: Promise<void>; release: () => void }>();
  private closed = false;
  readonly coreUuid = randomUUID();
  /** Every command received, in order (auth lines included). */
  readonly commands: CommandLogEntry[] = [];
  /** TCP connections accepted so far. */
  accepted = 0;
  /** The most channels up at once. */
  peakChannels = 0;
  /** Wrong passwords received so far. */
  authFailures = 0;
  /** While true, authenticated commands get no reply at all (a wedged FreeSWITCH); events still flow. */
  stalled = false;
  port = 0;
  readonly opts: Required<Omit<EslSimOptions, 'password' | 'port' | 'defaultScenario' | 'onEvent'>> & { defaultScenario: Scenario };
  private readonly onEvent: EslSimOptions['onEvent'];
  private readonly ctx: SimContext;
  private readonly flows: CallFlows;

  constructor(options: EslSimOptions = {}) {
    this.password = options.password ?? 'ClueCon';
    const def = options.defaultScenario ?? 'success';
    this.opts = {
      timeScale: options.timeScale ?? 0.001,
      gateways: options.gateways ?? ['faxbot'],
      deadGateways: options.deadGateways ?? [],
      downGateways: options.downGateways ?? [],
      profile: options.profile ?? 'external',
      spoolDir: options.spoolDir ?? tmpdir(),
      jobBeforeReply: options.jobBeforeReply ?? false,
      defaultScenario: typeof def === 'string' ? SCENARIOS[def] : def,
    };
    this.port = options.port ?? 0;
    this.onEvent = options.onEvent;
    this.ctx = {
      coreUuid: this.coreUuid,
      hostname: 'faxsim',
      ipv4: '127.0.0.1',
      nextSeq: () => ++this.seq,
      nowUs: () => Date.now() * 1000 + (this.seq % 1000),
    };
    this.flows = new CallFlows({
      ctx: this.ctx,
      timeScale: this.opts.timeScale,
      timers: this.timers,
      calls: this.calls,
      fire: (ev) => this.fire(ev),
      sessionNo: () => ++this.sessions,
      gate: (number) => this.gate(number),
    });
    this.server = this.makeServer();
  }

  // ---- controls --------------------------------------------------------------------------------

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        resolve();
      });
    });
  }

  /** What the far end does when this number is dialled. */
  script(number: string, scenario: ScenarioName | Scenario): void {
    this.scripts.set(number, typeof scenario === 'string' ? SCENARIOS[scenario] : scenario);
  }

  setPassword(pw: string): void {
    this.password = pw;
  }

  /** Calls to this number stop after fax negotiation (the fax has started) until release(number). */
  hold(number: string): void {
    if (this.holds.has(number)) return;
    let release!: () => void;
    const open = new Promise<void>((r) => (release = r));
    this.holds.set(number, { waiting: 0, open, release });
  }

  release(number: string): void {
    const h = this.holds.get(number);
    this.holds.delete(number);
    h?.release();
  }

  /** True while a call to this held number waits at the hold (its fax started). */
  isHeld(number: string): boolean {
    return (this.holds.get(number)?.waiting ?? 0) > 0;
  }

  private gate(number: string): { open: Promise<void>; left: () => void } | null {
    const h = this.holds.get(number);
    if (!h) return null;
    h.waiting++;
    return { open: h.open, left: () => h.waiting-- };
  }

  /**
   * While on, every new ESL connection is closed at once (like an ACL refusal) and existing ones stay:
   * with dropSockets() it keeps this service away while calls go on.
   */
  refuseConnections(on: boolean): void {
    this.refusing = on;
  }

  /** Connected sockets right now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Channels up right now (created, not yet hung up completely). */
  channels(): SimChannel[] {
    return [...this.calls.values()].filter((c) => c.ch.created).map((c) => c.ch);
  }

  /** Resolves when every call in progress has ended. */
  async idle(): Promise<void> {
    while (this.calls.size > 0) await Promise.all([...this.calls.values()].map((c) => c.done));
  }

  /** Closes every ESL socket; calls go on and their events are lost to the dropped clients. */
  dropSockets(): void {
    for (const c of this.clients.values()) c.socket.destroy();
    this.clients.clear();
  }

  /**
   * FreeSWITCH restarts: every socket closed (with the disconnect notice of a clean shutdown, none
   * when `crash`), connections refused for downMs, every channel forgotten.
   */
  async restart(opts: { downMs: number; crash?: boolean }): Promise<void> {
    this.down = true;
    for (const call of this.calls.values()) call.abort.abort();
    this.calls.clear();
    if (opts.crash) this.dropSockets();
    else this.shutdownSockets();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, opts.downMs);
      this.timers.add(t);
    });
    if (this.closed) return;
    this.server = this.makeServer();
    await this.listen();
    this.startedAt = Date.now();
    this.down = false;
  }

  /** A clean shutdown: the disconnect notice to each client, then close. */
  private shutdownSockets(): void {
    for (const c of this.clients.values()) {
      this.write(c, disconnectNotice());
      c.socket.destroySoon();
    }
    this.clients.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const call of this.calls.values()) call.abort.abort();
    this.calls.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.shutdownSockets();
    if (!this.down) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- sockets ---------------------------------------------------------------------------------

  private makeServer(): Server {
    // Half-open allowed: when a client closes its side, FreeSWITCH still sends the disconnect notice.
    return createServer({ allowHalfOpen: true }, (socket) => this.onConnection(socket));
  }

  private onConnection(socket: Socket): void {
    if (this.down || this.closed || this.refusing) {
      socket.destroy();
      return;
    }
    this.accepted++;
    const client: Client = {
      id: this.nextClient++,
      socket,
      authed: false,
      format: null,
      all: false,
      events: new Set(),
      subclasses: new Set(),
      filters: [],
      queue: Promise.resolve(),
    };
    this.clients.set(client.id, client);
    socket.setNoDelay(true);
    const reader = new CommandReader();
    socket.on('data', (chunk: Buffer) => {
      for (const cmd of reader.push(chunk)) {
        this.commands.push({ conn: client.id, line: cmd.line, headers: cmd.headers });
        // FreeSWITCH handles one command at a time per connection.
        client.queue = client.queue.then(() => this.onCommand(client, cmd)).catch(() => undefined);
      }
    });
    socket.on('error', () => undefined);
    socket.on('end', () => {
      if (this.clients.has(client.id)) this.hangUpOn(client);
      else socket.destroySoon();
    });
    socket.on('close', () => this.clients.delete(client.id));
    this.write(client, authRequest());
  }

  private write(client: Client, frame: string): void {
    if (!client.socket.destroyed && client.socket.writable) client.socket.write(frame);
  }

  private hangUpOn(client: Client): void {
    this.write(client, disconnectNotice());
    this.clients.delete(client.id);
    client.socket.destroySoon();
  }

  private async onCommand(client: Client, cmd: ClientCommand): Promise<void> {
    const line = cmd.line;
    const [word = '', ...rest] = line.split(' ');
    const arg = rest.join(' ');
    if (!client.authed) {
      if (word === 'auth') {
        if (arg === this.password) {
          client.authed = true;
          this.write(client, commandReply('+OK accepted'));
        } else {
          this.authFailures++;
          this.write(client, commandReply('-ERR invalid'));
          this.hangUpOn(client);
        }
      } else {
        // Recorded: a command before auth gets this reply and the socket stays open.
        this.write(client, commandReply('-ERR command not found'));
      }
      return;
    }
    if (this.stalled) return;
    switch (word) {
      case 'auth':
        this.write(client, commandReply('+OK accepted'));
        return;
      case 'exit':
        this.write(client, commandReply('+OK bye'));
        this.hangUpOn(client);
        return;
      case 'event':
        this.subscribe(client, rest);
        return;
      case 'nixevent':
        for (const n of rest) client.events.delete(n);
        this.write(client, commandReply('+OK events nixed'));
        return;
      case 'noevents':
        client.format = null;
        client.all = false;
        client.events.clear();
        client.subclasses.clear();
        this.write(client, commandReply('+OK no longer listening for events'));
        return;
      case 'filter':
        if (rest[0] === 'delete') {
          client.filters = client.filters.filter(([h, v]) => !(h === rest[1] && (rest[2] === undefined || v === rest.slice(2).join(' '))));
          this.write(client, commandReply(`+OK filter deleted. [${rest[1] ?? ''}]`));
        } else if (rest.length >= 2) {
          client.filters.push([rest[0]!, rest.slice(1).join(' ')]);
          this.write(client, commandReply(`+OK filter added. [${rest[0]}]=[${rest.slice(1).join(' ')}]`));
        } else {
          this.write(client, commandReply('-ERR invalid syntax'));
        }
        return;
      case 'log':
      case 'nolog':
      case 'linger':
      case 'nolinger':
        this.write(client, commandReply('+OK'));
        return;
      case 'api': {
        const body = await this.runApi(arg);
        this.write(client, apiResponse(body));
        return;
      }
      case 'bgapi': {
        const jobUuid = cmd.headers['Job-UUID'] ?? cmd.headers['job-uuid'] ?? randomUUID();
        const reply = commandReply(`+OK Job-UUID: ${jobUuid}`, [['Job-UUID', jobUuid]]);
        const [name = '', ...args] = arg.split(' ');
        const argText = args.join(' ');
        const run = () => this.runApi(arg, (body) => this.backgroundJob(jobUuid, name, argText, body));
        if (this.opts.jobBeforeReply) {
          // A job that ends at once (unknown gateway, a quick api) fires its BACKGROUND_JOB before the
          // reply; the next command waits, so replies stay in order.
          await Promise.race([run(), new Promise((r) => setTimeout(r, 5))]);
          this.write(client, reply);
        } else {
          // FreeSWITCH runs the job in its own thread, normally after the reply went out.
          this.write(client, reply);
          void run();
        }
        return;
      }
      default:
        this.write(client, commandReply('-ERR command not found'));
    }
  }

  private subscribe(client: Client, tokens: string[]): void {
    const [format, ...names] = tokens;
    if (format !== 'json' && format !== 'plain') {
      this.write(client, commandReply('-ERR the simulator supports event json and event plain only'));
      return;
    }
    if (names.length === 0) {
      this.write(client, commandReply('-ERR no keywords supplied'));
      return;
    }
    let custom = false;
    for (const n of names) {
      if (custom) client.subclasses.add(n);
      else if (n === 'ALL') client.all = true;
      else if (/^[A-Z_]+$/.test(n)) {
        client.events.add(n);
        if (n === 'CUSTOM') custom = true;
      }
    }
    client.format = format;
    this.write(client, commandReply(`+OK event listener enabled ${format}`));
  }

  private wants(client: Client, ev: SimEvent): boolean {
    if (!client.authed || client.format === null) return false;
    let send = client.all;
    if (!send && client.events.has(ev.name)) send = ev.name !== 'CUSTOM' || !ev.subclass || client.subclasses.has(ev.subclass);
    if (!send) return false;
    if (client.filters.length === 0) return true;
    return client.filters.some(([h, v]) => ev.headers.some(([k, x]) => k === h && x === v));
  }

  private fire(ev: SimEvent): void {
    if (ev.name === 'CHANNEL_CREATE') this.peakChannels = Math.max(this.peakChannels, this.channels().length);
    if (this.onEvent) {
      const uuid = ev.headers.find(([k]) => k === 'Unique-ID')?.[1];
      this.onEvent({ name: ev.name, ...(ev.subclass ? { subclass: ev.subclass } : {}), ...(uuid ? { uuid } : {}) });
    }
    let json: string | null = null;
    let plain: string | null = null;
    for (const c of this.clients.values()) {
      if (!this.wants(c, ev)) continue;
      if (c.format === 'json') this.write(c, (json ??= eventJsonFrame(ev.headers, ev.body)));
      else this.write(c, (plain ??= eventPlainFrame(ev.headers, ev.body)));
    }
  }

  private backgroundJob(jobUuid: string, command: string, arg: string, body: string): void {
    const headers: Header[] = [...baseHeaders(this.ctx, 'BACKGROUND_JOB'), ['Job-UUID', jobUuid], ['Job-Command', command]];
    if (arg) headers.push(['Job-Command-Arg', arg]);
    this.fire({ name: 'BACKGROUND_JOB', headers, body });
  }

  // ---- api commands ----------------------------------------------------------------------------

  /** Runs an API command; `onDone` gets the body (for bgapi) when the command finishes. */
  private async runApi(text: string, onDone?: (body: string) => void): Promise<string> {
    const space = text.indexOf(' ');
    const name = space < 0 ? text : text.slice(0, space);
    const arg = space < 0 ? '' : text.slice(space + 1).trim();
    let body: string;
    if (name === 'originate') {
      body = await this.originate(arg);
    } else {
      body = this.runSync(name, arg);
    }
    onDone?.(body);
    return body;
  }

  private runSync(name: string, arg: string): string {
    const argv = arg === '' ? [] : separateString(arg, ' ');
    const found = argv[0] ? this.calls.get(argv[0].toLowerCase()) : undefined;
    // Before CHANNEL_CREATE the API does not know the channel yet.
    const call = found?.ch.created ? found : undefined;
    switch (name) {
      case 'status':
        return STATUS_BODY(Date.now() - this.startedAt);
      case 'version':
        return 'FreeSWITCH Version 1.10.12-release~64bit (-release 64bit)\n';
      case 'uuid_exists':
        return call ? 'true' : 'false';
      case 'uuid_getvar': {
        if (argv.length < 2) return '-USAGE: <uuid> <var>\n';
        if (!call) return '-ERR No such channel!\n';
        return call.ch.get(argv[1]!) ?? '_undef_';
      }
      case 'uuid_dump': {
        if (!call) return '-ERR No such channel!\n';
        const headers = [...baseHeaders(this.ctx, 'CHANNEL_DATA'), ...call.ch.channelHeaders()];
        if (argv[1] === 'json') return JSON.stringify(Object.fromEntries(headers));
        return headers.map(([k, v]) => `${k}: ${encodeURIComponent(v)}\n`).join('');
      }
      case 'uuid_kill': {
        if (!call) return '-ERR No such channel!\n';
        this.kill(call, argv[1] ?? 'NORMAL_CLEARING');
        return '+OK\n';
      }
      case 'show': {
        const rows = this.channels().map((ch) => ch.row());
        if (arg === 'channels as json') {
          return rows.length === 0 ? '{"row_count": 0}\n' : JSON.stringify({ row_count: rows.length, rows });
        }
        if (arg === 'channels') {
          const cols = 'uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,application_data';
          const lines = rows.map((r) => cols.split(',').map((k) => r[k] ?? '').join(','));
          return `${cols}\n${lines.join('\n')}${lines.length ? '\n' : ''}\n${rows.length} total.\n`;
        }
        return '-USAGE: show channels [as json]\n';
      }
      default:
        return `-ERR ${name} Command not found!\n`;
    }
  }

  private kill(call: Call, cause: string): void {
    if (call.killCause) return;
    call.killCause = /^[A-Z_]+$/.test(cause) ? cause : 'NORMAL_CLEARING';
    call.wake?.();
  }

  // ---- outbound calls --------------------------------------------------------------------------

  private async originate(arg: string): Promise<string> {
    const parsed = parseOriginateArgs(arg);
    if (!parsed.ok) return parsed.error;
    const { vars, dialString, app, appArg } = parsed.value;
    const m = /^sofia\/gateway\/([^/]+)\/(.+)$/.exec(dialString);
    if (!m) {
      if (!dialString.startsWith('sofia/')) return '-ERR CHAN_NOT_IMPLEMENTED\n';
      return '-ERR DESTINATION_OUT_OF_ORDER\n';
    }
    const gateway = m[1]!;
    const number = m[2]!;
    const known = [...this.opts.gateways, ...this.opts.deadGateways, ...this.opts.downGateways];
    if (!known.includes(gateway)) return '-ERR INVALID_GATEWAY\n';
    if (this.opts.downGateways.includes(gateway)) return '-ERR GATEWAY_DOWN\n';
    const uuid = (vars['origination_uuid'] ?? randomUUID()).toLowerCase();
    if (this.calls.has(uuid)) return '-ERR DESTINATION_OUT_OF_ORDER\n';
    const scenario = this.opts.deadGateways.includes(gateway) ? SCENARIOS.unreachable : (this.scripts.get(number) ?? this.opts.defaultScenario);
    const cidNum = vars['origination_caller_id_number'] ?? '0000000000';
    const cidName = vars['origination_caller_id_name'] ?? cidNum;
    const ch = new SimChannel(uuid, 'outbound', `sofia/${this.opts.profile}/${number}`, cidNum, cidName, number, 'default', this.ctx.nowUs());
    const call: Call = { ch, abort: new AbortController(), killCause: null, wake: null, done: Promise.resolve() };
    this.calls.set(uuid, call);
    let settle!: (body: string) => void;
    const result = new Promise<string>((resolve) => (settle = resolve));
    let settled = false;
    const answer = (body: string) => {
      if (!settled) {
        settled = true;
        settle(body);
      }
    };
    call.done = this.flows
      .runOutbound(call, { vars, gateway, number, app, appArg, scenario, profile: this.opts.profile }, answer)
      .catch((err) => {
        if (!(err instanceof Aborted)) throw err;
      })
      .finally(() => {
        if (this.calls.get(uuid) === call) this.calls.delete(uuid);
        // FreeSWITCH went away mid-originate: a bgapi never reports.
        if (call.abort.signal.aborted) settled = true;
        else answer('-ERR NORMAL_CLEARING\n');
      });
    return result;
  }

  // ---- inbound ---------------------------------------------------------------------------------

  /** A fax arrives on the PBX: an inbound leg runs rxfax, emits the rx* events and writes the TIFF. */
  async receiveFax(o: ReceiveFaxOptions): Promise<ReceivedFax> {
    const uuid = randomUUID();
    const file = o.file ?? join(this.opts.spoolDir, `${uuid}.tif`);
    const ch = new SimChannel(uuid, 'inbound', `sofia/${this.opts.profile}/${o.from}@127.0.0.1`, o.from, o.from, o.to, 'public', this.ctx.nowUs());
    const call: Call = { ch, abort: new AbortController(), killCause: null, wake: null, done: Promise.resolve() };
    this.calls.set(uuid, call);
    let written = false;
    call.done = this.flows
      .runInbound(call, o, file)
      .then((w) => {
        written = w;
      })
      .catch((err) => {
        if (!(err instanceof Aborted)) throw err;
      });
    await call.done;
    this.calls.delete(uuid);
    return { uuid, file, fileWritten: written };
  }
}

export async function startEslSim(opts: EslSimOptions = {}): Promise<EslSim> {
  const sim = new EslSim(opts);
  await sim.listen();
  return sim;
}
