// Event Socket framing for the simulator: reading client commands, writing FreeSWITCH's frames.
//
// Frame shapes as recorded: auth/request and command/reply have no body; api/response and
// text/disconnect-notice put Content-Type first, then Content-Length; event frames put
// Content-Length first. Lengths are in bytes.
import type { Header } from './channel.js';

export interface ClientCommand {
  /** The first line, e.g. "api status". */
  line: string;
  /** Following header lines (e.g. Job-UUID for bgapi). */
  headers: Record<string, string>;
  body: string;
}

/** Splits an incoming byte stream into commands: lines, blank line, optional Content-Length body. */
export class CommandReader {
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): ClientCommand[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: ClientCommand[] = [];
    for (;;) {
      const text = this.buf.toString('latin1');
      const lf = text.indexOf('\n\n');
      const crlf = text.indexOf('\r\n\r\n');
      let end = -1;
      let sep = 0;
      if (lf >= 0 && (crlf < 0 || lf < crlf)) {
        end = lf;
        sep = 2;
      } else if (crlf >= 0) {
        end = crlf;
        sep = 4;
      }
      if (end < 0) break;
      const lines = this.buf.subarray(0, end).toString('utf8').split(/\r?\n/);
      const line = (lines.shift() ?? '').trim();
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim()] = l.slice(i + 1).trim();
      }
      const len = Number(headers['Content-Length'] ?? 0);
      const total = end + sep + (Number.isFinite(len) && len > 0 ? len : 0);
      if (this.buf.length < total) break;
      const body = this.buf.subarray(end + sep, total).toString('utf8');
      this.buf = this.buf.subarray(total);
      if (line !== '' || Object.keys(headers).length > 0) out.push({ line, headers, body });
    }
    return out;
  }
}

export function authRequest(): string {
  return 'Content-Type: auth/request\n\n';
}

export function commandReply(replyText: string, extra: Header[] = []): string {
  return `Content-Type: command/reply\nReply-Text: ${replyText}\n${extra.map(([k, v]) => `${k}: ${v}\n`).join('')}\n`;
}

export function apiResponse(body: string): string {
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

export const DISCONNECT_BODY = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

export function disconnectNotice(): string {
  return `Content-Type: text/disconnect-notice\nContent-Length: ${Buffer.byteLength(DISCONNECT_BODY)}\n\n${DISCONNECT_BODY}`;
}

export function rudeRejection(): string {
  const body = 'Access Denied, go away.\n';
  return `Content-Type: text/rude-rejection\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

/** An event as `text/event-json`: every value a string, `_body` (with its Content-Length key) last. */
export function eventJsonFrame(headers: Header[], body?: string): string {
  const obj: Record<string, string> = {};
  for (const [k, v] of headers) obj[k] = v;
  if (body !== undefined) {
    obj['Content-Length'] = String(Buffer.byteLength(body));
    obj['_body'] = body;
  }
  const json = JSON.stringify(obj);
  return `Content-Length: ${Buffer.byteLength(json)}\nContent-Type: text/event-json\n\n${json}`;
}

// switch_url_encode's unsafe set, plus control and non-ASCII bytes.
const UNSAFE = new Set('\r\n #%&+:;<=>?@[\\]^`{|}"'.split(''));

export function fsUrlEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 32 || byte > 126 || UNSAFE.has(c) ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : c;
  }
  return out;
}

/** An event as `text/event-plain` (switch_event_serialize with URL-encoded values). */
export function eventPlainFrame(headers: Header[], body?: string): string {
  let text = headers.map(([k, v]) => `${k}: ${fsUrlEncode(v)}\n`).join('');
  text += body !== undefined && body.length > 0 ? `Content-Length: ${Buffer.byteLength(body)}\n\n${body}` : '\n';
  return `Content-Length: ${Buffer.byteLength(text)}\nContent-Type: text/event-plain\n\n${text}`;
}
