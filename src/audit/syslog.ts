// Syslog for audit events, written here rather than pulled in: RFC 5424 / RFC 3164 framing is a few lines, and the
// npm syslog clients either lack unix datagram sockets or need the same native addon we use directly (unix-dgram).
import { createRequire } from 'node:module';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { hostname } from 'node:os';
import type { SYSLOG_FACILITIES } from '../admin/config.js';

export type SyslogFacility = (typeof SYSLOG_FACILITIES)[number];
export type SyslogFormat = 'rfc5424' | 'rfc3164';
/** RFC 5424 severities used here. */
export type Severity = 'warning' | 'notice' | 'info';
const SEVERITY: Record<Severity, number> = { warning: 4, notice: 5, info: 6 };
const FACILITY_CODE: Record<SyslogFacility, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface SyslogMessage {
  facility: SyslogFacility;
  severity: Severity;
  appName: string;
  /** RFC 5424 MSGID (the event type): printable ASCII, at most 32. */
  msgId: string;
  message: string;
  date?: Date;
  pid?: number;
  /** RFC 3164 over a local socket leaves the host out, as syslog(3) does. */
  host?: string | null;
}

const printable = (s: string, max: number) => (s.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || '-');

export function formatRfc5424(m: SyslogMessage): string {
  const pri = FACILITY_CODE[m.facility] * 8 + SEVERITY[m.severity];
  const ts = (m.date ?? new Date()).toISOString();
  const host = m.host === null ? '-' : printable(m.host ?? hostname(), 255);
  return `<${pri}>1 ${ts} ${host} ${printable(m.appName, 48)} ${m.pid ?? process.pid} ${printable(m.msgId, 32)} - ${m.message}`;
}

export function formatRfc3164(m: SyslogMessage): string {
  const pri = FACILITY_CODE[m.facility] * 8 + SEVERITY[m.severity];
  const d = m.date ?? new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  const ts = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const host = m.host === null ? '' : `${printable(m.host ?? hostname(), 255)} `;
  return `<${pri}>${ts} ${host}${printable(m.appName, 32)}[${m.pid ?? process.pid}]: ${m.message}`;
}

export type SyslogTarget = { kind: 'unix'; path: string } | { kind: 'udp'; host: string; port: number };

/** "/dev/log" → unix; "udp://host:514", "host:514", "[::1]:514" → UDP. */
export function parseSyslogAddress(address: string): SyslogTarget | string {
  const a = address.trim();
  if (a.startsWith('/')) return { kind: 'unix', path: a };
  const rest = a.replace(/^udp:\/\//i, '');
  if (/^[a-z]+:\/\//i.test(rest)) return `unsupported syslog address "${a}" (use a socket path, udp://host:port or host:port)`;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(rest);
  if (!m) return `cannot read syslog address "${a}" (use a socket path, udp://host:port or host:port)`;
  const port = m[2] === undefined ? 514 : Number(m[2]);
  if (port < 1 || port > 65535) return `syslog port out of range in "${a}"`;
  return { kind: 'udp', host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  close(): void;
}
interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

let unixDgram: UnixDgramModule | null | undefined;
/** The optional native addon for unix datagram sockets (Node has none of its own); null when it is not installed. */
function loadUnixDgram(): UnixDgramModule | null {
  if (unixDgram === undefined) {
    try {
      unixDgram = createRequire(import.meta.url)('unix-dgram') as UnixDgramModule;
    } catch {
      unixDgram = null;
    }
  }
  return unixDgram;
}

/** Sends one datagram per message; never throws: failures go to `onError` (the caller rate-limits its warnings). */
export class SyslogTransport {
  private udp: UdpSocket | null = null;
  private unix: UnixDgramSocket | null = null;

  constructor(
    readonly target: SyslogTarget,
    private readonly onError: (err: Error) => void,
  ) {}

  send(line: string): void {
    const buf = Buffer.from(line, 'utf8');
    try {
      if (this.target.kind === 'udp') {
        if (!this.udp) {
          this.udp = createSocket(this.target.host.includes(':') ? 'udp6' : 'udp4');
          this.udp.on('error', (e) => this.onError(e));
          this.udp.unref();
        }
        this.udp.send(buf, this.target.port, this.target.host, (err) => {
          if (err) this.onError(err);
        });
        return;
      }
      if (!this.unix) {
        const mod = loadUnixDgram();
        if (!mod) throw new Error('unix datagram sockets need the optional unix-dgram package (npm install unix-dgram), or use udp://host:port');
        this.unix = mod.createSocket('unix_dgram');
        this.unix.on('error', (e) => this.onError(e));
      }
      this.unix.send(buf, 0, buf.length, this.target.path, (err) => {
        if (err) this.onError(err);
      });
    } catch (err) {
      this.onError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  close(): void {
    try {
      this.udp?.close();
    } catch {
      // already closed
    }
    try {
      this.unix?.close();
    } catch {
      // already closed
    }
    this.udp = null;
    this.unix = null;
  }
}
