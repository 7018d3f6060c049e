// A FreeSWITCH Event Socket simulator: a real TCP server speaking ESL, running scripted fax calls.
//
// It fakes the PBX (never our code): auth, subscriptions, api/bgapi, BACKGROUND_JOB, channel and
// spandsp events with full channel headers, in the order and shape recorded from FreeSWITCH 1.10.12
// (fixtures/freeswitch). Time is scaled so a 25 s fax takes tens of milliseconds.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseHeaders, fsStamp, SimChannel, type Header, type SimContext } from './channel.js';
import { parseOriginateArgs, separateString } from './fs-strings.js';
import { Q850, SCENARIOS, T30_TEXT, TIMING, type Scenario, type ScenarioName } from './scenarios.js';
import { countTiffPages, writeBlankFaxTiff } from './tiff.js';
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

interface SimEvent {
  name: string;
  subclass?: string;
  headers: Header[];
  body?: string;
}

class Aborted extends Error {}

interface Call {
  ch: SimChannel;
  abort: AbortController;
  killCause: string | null;
  wake: (() => void) | null;
  done: Promise<void>;
}

export interface ReceiveFaxOptions {
  to: string;
  from: string;
  pages: number;
  /** Where rxfax writes the TIFF (default <spoolDir>/<uuid>.tif). */
  file?: string;
  /** False: the sender hangs up after `pages` pages (code 49); with 0 pages no file is left. */
  success?: boolean;
  remoteStationId?: string;
}

export interface ReceivedFax {
  uuid: string;
  file: string;
  fileWritten: boolean;
}

const STATUS_BODY = (upSec: number) =>
  `UP 0 years, 0 days, 0 hours, ${Math.floor(upSec / 60)} minutes, ${upSec % 60} seconds, 0 milliseconds, 0 microseconds\n` +
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
  private readonly startedAt = Date.now();
  private down = false;
  private closed = false;
  readonly coreUuid = randomUUID();
  /** Every command received, in order (auth lines included). */
  readonly commands: CommandLogEntry[] = [];
  /** TCP connections accepted so far. */
  accepted = 0;
  /** Wrong passwords received so far. */
  authFailures = 0;
  /** While true, authenticated commands get no reply at all (a wedged FreeSWITCH); events still flow. */
  stalled = false;
  port = 0;
  readonly opts: Required<Omit<EslSimOptions, 'password' | 'port' | 'defaultScenario'>> & { defaultScenario: Scenario };
  private readonly ctx: SimContext;

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
    this.ctx = {
      coreUuid: this.coreUuid,
      hostname: 'faxsim',
      ipv4: '127.0.0.1',
      nextSeq: () => ++this.seq,
      nowUs: () => Date.now() * 1000 + (this.seq % 1000),
    };
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

  /** Connected sockets right now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Channels up right now. */
  channels(): SimChannel[] {
    return [...this.calls.values()].map((c) => c.ch);
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
    if (this.down || this.closed) {
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
    const call = argv[0] ? this.calls.get(argv[0].toLowerCase()) : undefined;
    switch (name) {
      case 'status':
        return STATUS_BODY(Math.floor((Date.now() - this.startedAt) / 1000));
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
        const rows = [...this.calls.values()].map((c) => c.ch.row());
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

  /** Waits simulated ms; true if uuid_kill interrupted; throws Aborted on restart/close. */
  private sleep(call: Call, ms: number): Promise<boolean> {
    if (call.abort.signal.aborted) return Promise.reject(new Aborted());
    if (call.killCause) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(t);
        this.timers.delete(t);
        reject(new Aborted());
      };
      const t = setTimeout(() => {
        this.timers.delete(t);
        call.wake = null;
        call.abort.signal.removeEventListener('abort', onAbort);
        resolve(false);
      }, Math.max(0, ms * this.opts.timeScale));
      this.timers.add(t);
      call.abort.signal.addEventListener('abort', onAbort, { once: true });
      call.wake = () => {
        clearTimeout(t);
        this.timers.delete(t);
        call.wake = null;
        call.abort.signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
    });
  }

  /** Lets queued work (a BACKGROUND_JOB being fired) go out before the next event; ignores uuid_kill. */
  private tick(call: Call): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (call.abort.signal.aborted) reject(new Aborted());
        else resolve();
      }, 1);
      this.timers.add(t);
    });
  }

  private emit(call: Call, name: string, extra: Header[] = [], subclass?: string): void {
    if (call.abort.signal.aborted) throw new Aborted();
    this.fire({ name: subclass ? 'CUSTOM' : name, ...(subclass ? { subclass } : {}), headers: call.ch.event(this.ctx, name, extra, subclass) });
  }

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
    this.sessions++;
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
    call.done = this.runOutbound(call, { vars, gateway, number, app, appArg, scenario }, answer)
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

  private createVars(ch: SimChannel, gateway: string, number: string, vars: Record<string, string>): void {
    ch.set('direction', 'outbound');
    ch.set('is_outbound', 'true');
    ch.set('uuid', ch.uuid);
    ch.set('call_uuid', ch.uuid);
    ch.set('session_id', String(this.sessions));
    ch.set('sip_gateway_name', gateway);
    ch.set('sip_local_network_addr', '127.0.0.1');
    ch.set('sip_profile_name', 'gateway');
    ch.set('video_media_flow', 'disabled');
    ch.set('text_media_flow', 'disabled');
    ch.set('channel_name', ch.channelName);
    ch.set('sip_destination_url', `sip:${number}@${gateway}.invalid:5060`);
    for (const [k, v] of Object.entries(vars)) ch.set(k, v);
    ch.set('originate_early_media', 'false');
    ch.set('originate_endpoint', 'sofia');
    ch.set('rtp_use_codec_string', 'PCMU,PCMA');
    ch.set('local_media_ip', '127.0.0.1');
    ch.set('local_media_port', '16056');
    ch.set('advertised_media_ip', '127.0.0.1');
    ch.set('audio_media_flow', 'sendrecv');
    ch.set('rtp_local_sdp_str', 'v=0\r\no=FreeSWITCH 1795764142 1795764143 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 16056 RTP/AVP 0 8 101 13\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=rtpmap:13 CN/8000\r\na=ptime:20\r\na=sendrecv\r\n');
    ch.set('sip_outgoing_contact_uri', `<sip:gw+${gateway}@127.0.0.1:5080;transport=udp;gw=${gateway}>`);
    ch.set('sip_req_uri', `${number}@${gateway}.invalid:5060`);
    ch.set('sip_to_host', `${gateway}.invalid:5060`);
    ch.set('sip_from_host', '127.0.0.1');
    ch.set('sofia_profile_name', this.opts.profile);
    ch.set('recovery_profile_name', this.opts.profile);
    ch.set('sofia_profile_url', 'sip:mod_sofia@127.0.0.1:5080');
  }

  private sipDialogVars(ch: SimChannel, number: string): void {
    ch.set('sip_local_network_addr', '127.0.0.1');
    ch.set('sip_reply_host', '127.0.0.1');
    ch.set('sip_reply_port', '5060');
    ch.set('sip_network_ip', '127.0.0.1');
    ch.set('sip_network_port', '5060');
    ch.set('sip_user_agent', 'FreeSWITCH-mod_sofia/1.10.12-release~64bit');
    ch.set('sip_from_user', ch.callerIdNumber);
    ch.set('sip_to_user', number);
    ch.set('sip_call_id', randomUUID());
  }

  private endStamps(ch: SimChannel): void {
    const end = this.ctx.nowUs();
    const dur = Math.max(0, Math.round((end - ch.createdUs) / 1e6));
    const bill = ch.answeredUs ? Math.max(0, Math.round((end - ch.answeredUs) / 1e6)) : 0;
    ch.set('digits_dialed', 'none');
    ch.set('start_stamp', fsStamp(ch.createdUs));
    ch.set('profile_start_stamp', fsStamp(ch.createdUs));
    if (ch.answeredUs) ch.set('answer_stamp', fsStamp(ch.answeredUs));
    ch.set('end_stamp', fsStamp(end));
    ch.set('start_epoch', String(Math.floor(ch.createdUs / 1e6)));
    ch.set('start_uepoch', String(ch.createdUs));
    ch.set('answer_epoch', String(Math.floor(ch.answeredUs / 1e6)));
    ch.set('answer_uepoch', String(ch.answeredUs));
    ch.set('end_epoch', String(Math.floor(end / 1e6)));
    ch.set('end_uepoch', String(end));
    if (ch.get('current_application')) {
      ch.set('last_app', ch.get('current_application')!);
      ch.set('last_arg', ch.get('current_application_data') ?? '');
    }
    ch.set('caller_id', `"${ch.callerIdName}" <${ch.callerIdNumber}>`);
    ch.set('duration', String(dur));
    ch.set('billsec', String(bill));
    ch.set('mduration', String(dur * 1000));
    ch.set('billmsec', String(bill * 1000));
    ch.set('uduration', String(dur * 1e6));
    ch.set('billusec', String(bill * 1e6));
  }

  private hangup(call: Call, cause: string, disposition: string, sip?: { status: number; phrase?: string }): void {
    const ch = call.ch;
    ch.hangupCause = cause;
    ch.answerState = 'hangup';
    ch.hangupUs = this.ctx.nowUs();
    ch.stateNumber = 10;
    if (sip) {
      ch.set('sip_hangup_disposition', disposition);
      if (!ch.answeredUs) {
        ch.set('sip_invite_failure_status', String(sip.status));
        if (sip.phrase) ch.set('sip_invite_failure_phrase', sip.phrase);
      }
      ch.set('sip_term_status', String(sip.status));
      ch.set('proto_specific_hangup_cause', `sip:${sip.status}`);
      ch.set('sip_term_cause', String(Q850[cause] ?? 16));
    }
    this.emit(call, 'CHANNEL_HANGUP');
    if (!sip) ch.set('sip_hangup_disposition', disposition);
  }

  private hangupComplete(call: Call): void {
    const ch = call.ch;
    ch.set('hangup_cause', ch.hangupCause ?? 'NORMAL_CLEARING');
    ch.set('hangup_cause_q850', String(Q850[ch.hangupCause ?? 'NORMAL_CLEARING'] ?? 16));
    this.endStamps(ch);
    ch.setState('CS_REPORTING', 11, 'HANGUP');
    this.emit(call, 'CHANNEL_HANGUP_COMPLETE');
    this.calls.delete(ch.uuid);
  }

  private async runOutbound(
    call: Call,
    p: { vars: Record<string, string>; gateway: string; number: string; app: string | null; appArg: string | null; scenario: Scenario },
    originateDone: (body: string) => void,
  ): Promise<void> {
    const { ch } = call;
    const s = p.scenario;
    const timeoutMs = Number(p.vars['originate_timeout'] ?? 60) * 1000;
    if (await this.sleep(call, TIMING.createAfterReply)) return this.cancelBeforeCreate(call, originateDone);
    this.createVars(ch, p.gateway, p.number, p.vars);
    this.emit(call, 'CHANNEL_CREATE');
    ch.setState('CS_CONSUME_MEDIA', 7, 'DOWN');

    // Before answer.
    if (s.reject) {
      const killed = await this.sleep(call, TIMING.rejectAfter);
      this.sipDialogVars(ch, p.number);
      const cause = killed ? call.killCause! : s.reject.cause;
      this.hangup(call, cause, killed ? 'send_cancel' : 'recv_refuse', killed ? undefined : { status: s.reject.sip ?? 500, phrase: s.reject.phrase });
      this.hangupComplete(call);
      await this.sleep(call, TIMING.jobAfterHangupComplete);
      originateDone(`-ERR ${cause}\n`);
      return;
    }
    const ring = s.noAnswer ? Infinity : (s.ringMs ?? TIMING.ring);
    if (ring >= timeoutMs || (await this.sleep(call, ring))) {
      const killed = ring < timeoutMs || (await this.sleep(call, timeoutMs));
      ch.setState('CS_CONSUME_MEDIA', 10, 'RINGING');
      this.sipDialogVars(ch, p.number);
      const cause = killed ? call.killCause! : 'NO_ANSWER';
      ch.set('sip_invite_failure_status', '487');
      this.hangup(call, cause, 'send_cancel');
      originateDone(`-ERR ${cause}\n`);
      await this.tick(call); // recorded: HANGUP, BACKGROUND_JOB, then HANGUP_COMPLETE
      this.hangupComplete(call);
      return;
    }

    // Answered.
    this.sipDialogVars(ch, p.number);
    ch.codecsKnown = true;
    ch.answeredUs = this.ctx.nowUs();
    ch.answerState = 'answered';
    ch.set('endpoint_disposition', 'ANSWER');
    ch.set('remote_media_ip', '127.0.0.1');
    ch.set('remote_media_port', '17040');
    ch.set('read_codec', 'PCMU');
    ch.set('write_codec', 'PCMU');
    this.emit(call, 'CHANNEL_ANSWER');
    await this.sleep(call, TIMING.jobAfterAnswer);
    originateDone(`+OK ${ch.uuid}\n`);
    await this.tick(call); // recorded: BACKGROUND_JOB before CHANNEL_EXECUTE
    ch.flipped = true;
    ch.hitDialplan = true;
    ch.set('pre_transfer_caller_id_number', ch.callerIdNumber);
    ch.set('channel_cid_flipped', 'yes');
    ch.set('call_uuid', ch.uuid);
    ch.setState('CS_EXECUTE', 4, 'ACTIVE');
    if (p.app !== 'txfax') {
      // Only &txfax() is simulated; anything else just hangs up.
      this.hangup(call, 'NORMAL_CLEARING', 'send_bye');
      this.hangupComplete(call);
      return;
    }
    await this.runTxfax(call, p.appArg ?? '', p.vars, s);
  }

  private cancelBeforeCreate(call: Call, originateDone: (body: string) => void): void {
    this.calls.delete(call.ch.uuid);
    originateDone(`-ERR ${call.killCause ?? 'ORIGINATOR_CANCEL'}\n`);
  }

  private async runTxfax(call: Call, path: string, vars: Record<string, string>, s: Scenario): Promise<void> {
    const { ch } = call;
    const appUuid = randomUUID();
    ch.set('current_application_data', path);
    ch.set('current_application', 'txfax');
    const appHeaders = (response?: string): Header[] => [
      ['Application', 'txfax'],
      ['Application-Data', path],
      ...(response !== undefined ? ([['Application-Response', response]] as Header[]) : []),
      ['Application-UUID', appUuid],
    ];
    this.emit(call, 'CHANNEL_EXECUTE', appHeaders());

    // Like mod_spandsp: a missing file ends txfax at once, without a fax session or result event.
    if (!existsSync(path)) {
      const resp = 'Cannot send non-existant fax file';
      ch.set('current_application_response', resp);
      this.emit(call, 'CHANNEL_EXECUTE_COMPLETE', appHeaders(resp));
      this.hangup(call, 'NORMAL_CLEARING', 'send_bye');
      this.hangupComplete(call);
      return;
    }
    let total: number | null = null;
    try {
      total = countTiffPages(readFileSync(path));
    } catch {
      total = null;
    }
    const ecm = vars['fax_use_ecm'] !== 'false';
    const v17 = vars['fax_disable_v17'] !== 'true';
    const rate = v17 ? 14400 : 9600;
    const ident = vars['fax_ident'] ?? 'SpanDSP Fax Ident';
    const remoteId = s.remoteStationId ?? '+15550000002';
    ch.set('fax_v17_disabled', v17 ? '0' : '1');
    ch.set('fax_ecm_requested', ecm ? '1' : '0');
    ch.set('fax_filename', path);
    ch.set('read_codec', 'L16');
    ch.readCodec = 'L16';
    let sent = 0;
    let negotiated = false;
    let t38 = 'off';

    const phaseE = (code: number) => {
      const success = code === 0;
      const known = negotiated;
      ch.set('fax_success', success ? '1' : '0');
      ch.set('fax_result_code', String(code));
      ch.set('fax_result_text', T30_TEXT[code] ?? `T.30 error ${code}`);
      ch.set('fax_ecm_used', known && ecm ? 'on' : 'off');
      ch.set('fax_t38_status', t38);
      ch.set('fax_local_station_id', ident);
      if (known) ch.set('fax_remote_station_id', remoteId);
      ch.set('fax_document_transferred_pages', String(sent));
      ch.set('fax_document_total_pages', String(known ? (total ?? 0) : 0));
      ch.set('fax_image_resolution', sent > 0 ? '8040x7700' : '0x0');
      ch.set('fax_image_size', String(sent * 855));
      ch.set('fax_bad_rows', '0');
      ch.set('fax_transfer_rate', String(rate));
      const h: Header[] = [
        ['fax-success', success ? '1' : '0'],
        ['fax-result-code', String(code)],
        ['fax-result-text', T30_TEXT[code] ?? `T.30 error ${code}`],
        ['fax-document-transferred-pages', String(sent)],
        ['fax-document-total-pages', String(known ? (total ?? 0) : 0)],
        ['fax-image-resolution', sent > 0 ? '8040x7700' : '0x0'],
        ['fax-image-size', String(sent * 855)],
        ['fax-bad-rows', '0'],
        ['fax-transfer-rate', String(rate)],
        ['fax-ecm-used', known && ecm ? 'on' : 'off'],
        ['fax-t38-status', t38],
        ['fax-local-station-id', ident],
      ];
      if (known) h.push(['fax-remote-station-id', remoteId]);
      this.emit(call, 'spandsp::txfaxresult', h, 'spandsp::txfaxresult');
    };
    const finish = () => {
      ch.set('read_codec', 'PCMU');
      ch.readCodec = 'PCMU';
      this.emit(call, 'CHANNEL_EXECUTE_COMPLETE', appHeaders('_none_'));
    };
    // Someone hangs up while the fax runs: HANGUP, then phase E with code 49, then the app ends.
    const dropped = async (cause: string, disposition: string, code = 49) => {
      this.hangup(call, cause, disposition, disposition === 'recv_bye' ? { status: 200 } : undefined);
      phaseE(code);
      finish();
      await this.sleep(call, TIMING.hangupCompleteAfterDrop).catch(() => undefined);
      this.hangupComplete(call);
    };
    const killedNow = () => dropped(call.killCause ?? 'NORMAL_CLEARING', 'send_bye');

    if (total === null) {
      // Assumption (not recorded): spandsp cannot open a non-TIFF file and reports T.30 code 41.
      phaseE(41);
      finish();
      this.hangup(call, 'NORMAL_CLEARING', 'send_bye');
      this.hangupComplete(call);
      return;
    }
    if (s.remoteHangupAfterMs !== undefined) {
      if (await this.sleep(call, s.remoteHangupAfterMs)) return killedNow();
      return dropped('NORMAL_CLEARING', 'recv_bye');
    }
    if (s.silent) {
      if (await this.sleep(call, TIMING.silentGiveUp)) return killedNow();
      // spandsp gives up by itself: result first (still answered, no Hangup-Cause), then FS hangs up.
      phaseE(2);
      finish();
      this.hangup(call, 'NORMAL_CLEARING', 'send_bye');
      this.hangupComplete(call);
      return;
    }
    const ourEnable = vars['fax_enable_t38'] !== 'false';
    const ourRequest = vars['fax_enable_t38_request'] === 'true';
    if (s.t38 === 'request') {
      if (!ourEnable) {
        // Our leg refuses the far end's T.38 re-INVITE (488): the far end gives up on the call.
        if (await this.sleep(call, TIMING.negotiateAudio)) return killedNow();
        return dropped('INCOMPATIBLE_DESTINATION', 'recv_bye');
      }
      t38 = 'negotiated';
    } else if (ourRequest) {
      t38 = s.t38 === 'accept' ? 'negotiated' : 'refused';
    }
    if (await this.sleep(call, t38 === 'negotiated' ? TIMING.negotiateT38 : TIMING.negotiateAudio)) return killedNow();
    negotiated = true;
    ch.set('fax_transfer_rate', String(rate));
    ch.set('fax_document_total_pages', '0');
    ch.set('fax_ecm_used', ecm ? 'on' : 'off');
    ch.set('fax_t38_status', t38);
    ch.set('fax_local_station_id', ident);
    ch.set('fax_remote_station_id', remoteId);
    this.emit(
      call,
      'spandsp::txfaxnegociateresult',
      [
        ['uuid', ch.uuid],
        ['fax-transfer-rate', String(rate)],
        ['fax-ecm-used', ecm ? 'on' : 'off'],
        ['fax-t38-status', t38],
        ['fax-local-station-id', ident],
        ['fax-remote-station-id', remoteId],
        ['fax-document-total-pages', '0'],
      ],
      'spandsp::txfaxnegociateresult',
    );
    if (s.failCode !== undefined) {
      phaseE(s.failCode);
      finish();
      this.hangup(call, 'NORMAL_CLEARING', 'send_bye');
      this.hangupComplete(call);
      return;
    }
    for (let page = 1; page <= total; page++) {
      if (s.dropAfterPages !== undefined && sent >= s.dropAfterPages) {
        if (await this.sleep(call, TIMING.dropAfterLastPage)) return killedNow();
        return dropped('NORMAL_CLEARING', 'recv_bye', s.dropCode ?? 49);
      }
      if (await this.sleep(call, page === 1 ? TIMING.firstPage : TIMING.nextPage)) return killedNow();
      sent = page;
      const pageVars: Header[] = [
        ['fax-image-resolution', '8040x7700'],
        ['fax-file-image-resolution', '8031x7716'],
        ['fax-image-size', '2349'],
        ['fax-image-pixel-size', '1728x2200'],
        ['fax-file-image-pixel-size', '1728x2200'],
        ['fax-bad-rows', '0'],
        ['fax-longest-bad-row-run', '0'],
        ['fax-encoding', '32'],
        ['fax-encoding-name', 'T.85(L0)'],
      ];
      for (const [k, v] of pageVars) ch.set(k.replace(/-/g, '_'), v);
      ch.set('fax_document_transferred_pages', String(sent));
      ch.set('fax_document_total_pages', String(total));
      this.emit(
        call,
        'spandsp::txfaxpageresult',
        [['uuid', ch.uuid], ['fax-document-transferred-pages', String(sent)], ['fax-document-total-pages', String(total)], ...pageVars],
        'spandsp::txfaxpageresult',
      );
    }
    if (await this.sleep(call, TIMING.byeAfterLastPage)) return killedNow();
    // The receiver hangs up after the last page: HANGUP, then the result, then the app ends.
    ch.set('sip_reason', 'Q.850;cause=16;text="NORMAL_CLEARING"');
    this.hangup(call, 'NORMAL_CLEARING', 'recv_bye', { status: 200 });
    phaseE(0);
    finish();
    this.hangupComplete(call);
  }

  // ---- inbound ---------------------------------------------------------------------------------

  /** A fax arrives on the PBX: an inbound leg runs rxfax, emits the rx* events and writes the TIFF. */
  async receiveFax(o: ReceiveFaxOptions): Promise<ReceivedFax> {
    const uuid = randomUUID();
    const file = o.file ?? join(this.opts.spoolDir, `${uuid}.tif`);
    const ch = new SimChannel(uuid, 'inbound', `sofia/${this.opts.profile}/${o.from}@127.0.0.1`, o.from, o.from, o.to, 'public', this.ctx.nowUs());
    const call: Call = { ch, abort: new AbortController(), killCause: null, wake: null, done: Promise.resolve() };
    this.calls.set(uuid, call);
    const success = o.success ?? true;
    let written = false;
    const run = async () => {
      ch.hitDialplan = true;
      ch.codecsKnown = true; // an inbound leg has its codecs from the INVITE's SDP already
      ch.set('direction', 'inbound');
      ch.set('uuid', uuid);
      ch.set('session_id', String(++this.sessions));
      ch.set('sip_from_user', o.from);
      ch.set('sip_to_user', o.to);
      ch.set('sip_req_user', o.to);
      ch.set('channel_name', ch.channelName);
      this.emit(call, 'CHANNEL_CREATE');
      ch.setState('CS_EXECUTE', 4, 'RINGING');
      ch.set('faxbot_rx', 'true');
      ch.set('fax_enable_t38', 'true');
      ch.set('fax_ident', '+15550009999');
      const app = (name: string, data: string, fn: () => Promise<void> | void) => async () => {
        const id = randomUUID();
        ch.set('current_application_data', data);
        ch.set('current_application', name);
        this.emit(call, 'CHANNEL_EXECUTE', [['Application', name], ['Application-Data', data], ['Application-UUID', id]]);
        await fn();
        this.emit(call, 'CHANNEL_EXECUTE_COMPLETE', [
          ['Application', name],
          ['Application-Data', data],
          ['Application-Response', '_none_'],
          ['Application-UUID', id],
        ]);
      };
      await app('answer', '', () => {
        ch.codecsKnown = true;
        ch.answeredUs = this.ctx.nowUs();
        ch.answerState = 'answered';
        ch.setState('CS_EXECUTE', 4, 'ACTIVE');
        ch.set('endpoint_disposition', 'ANSWER');
        this.emit(call, 'CHANNEL_ANSWER');
      })();
      let got = 0;
      await app('rxfax', file, async () => {
        ch.set('fax_filename', file);
        await this.sleep(call, TIMING.negotiateAudio);
        const remoteId = o.remoteStationId ?? '+15550001111';
        this.emit(
          call,
          'spandsp::rxfaxnegociateresult',
          [['uuid', uuid], ['fax-transfer-rate', '14400'], ['fax-ecm-used', 'on'], ['fax-t38-status', 'off'], ['fax-local-station-id', '+15550009999'], ['fax-remote-station-id', remoteId]],
          'spandsp::rxfaxnegociateresult',
        );
        for (let p = 1; p <= o.pages; p++) {
          await this.sleep(call, p === 1 ? TIMING.firstPage : TIMING.nextPage);
          got = p;
          this.emit(call, 'spandsp::rxfaxpageresult', [['uuid', uuid], ['fax-document-transferred-pages', String(p)], ['fax-image-resolution', '8040x7700']], 'spandsp::rxfaxpageresult');
        }
        if (got > 0) {
          writeBlankFaxTiff(file, got);
          written = true;
        }
        const code = success ? 0 : 49;
        if (!success) this.hangup(call, 'NORMAL_CLEARING', 'recv_bye', { status: 200 });
        const res: [string, string][] = [
          ['fax_success', success ? '1' : '0'],
          ['fax_result_code', String(code)],
          ['fax_result_text', T30_TEXT[code]!],
          ['fax_document_transferred_pages', String(got)],
          ['fax_document_total_pages', String(got)],
          ['fax_image_resolution', got > 0 ? '8040x7700' : '0x0'],
          ['fax_image_size', '0'],
          ['fax_bad_rows', '0'],
          ['fax_transfer_rate', '14400'],
          ['fax_ecm_used', 'on'],
          ['fax_t38_status', 'off'],
          ['fax_local_station_id', '+15550009999'],
          ['fax_remote_station_id', remoteId],
        ];
        for (const [k, v] of res) ch.set(k, v);
        this.emit(call, 'spandsp::rxfaxresult', res.map(([k, v]) => [k.replace(/_/g, '-'), v] as Header), 'spandsp::rxfaxresult');
      })();
      if (success) {
        await app('hangup', '', () => this.hangup(call, 'NORMAL_CLEARING', 'send_bye'))();
      }
      this.hangupComplete(call);
    };
    call.done = run().catch((err) => {
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
