// FreeSWITCH's string splitting (switch_separate_string and friends) and originate parsing, for the simulator.
//
// A faithful port of switch_utils.c (separate_string_char_delim / _blank_delim /
// cleanup_separated_string / unescape_char, 1.10 era), so the simulator reads our originate command
// exactly as FreeSWITCH would: quotes toggled and stripped at each pass, backslash escapes, "^^X"
// to change the delimiter.

const ESC = '\\';

function unescapeChar(c: string): string {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 's':
      return ' ';
    default:
      return c;
  }
}

/** cleanup_separated_string: strips quotes, processes escapes, trims leading/trailing spaces. */
export function cleanup(str: string, delim: string | null): string {
  let i = 0;
  while (str[i] === ' ') i++;
  let out = '';
  let end: number | null = null;
  let inside = false;
  for (; i < str.length; i++) {
    let esc = false;
    if (str[i] === ESC) {
      const next = str[i + 1] ?? '';
      const un = unescapeChar(next);
      if (next !== '' && (next === "'" || next === '"' || (delim !== null && next === delim) || next === ESC || un !== next)) {
        i++;
        out += un;
        end = out.length;
        esc = true;
      }
    }
    if (!esc) {
      if (str[i] === "'" && (inside || str.indexOf("'", i + 1) >= 0)) {
        inside = !inside;
        if (inside) end = out.length;
      } else {
        out += str[i];
        if (str[i] !== ' ' || inside) end = out.length;
      }
    }
  }
  return end === null ? out : out.slice(0, end);
}

function splitCharDelim(buf: string, delim: string, max: number): string[] {
  const starts: number[] = [];
  const cuts: number[] = [];
  let state: 'start' | 'find' = 'start';
  let inside = false;
  let i = 0;
  while (i < buf.length && starts.length < max) {
    if (state === 'start') {
      starts.push(i);
      state = 'find';
      continue;
    }
    const c = buf[i];
    if (c === ESC) i++;
    else if (c === "'" && (inside || buf.indexOf("'", i + 1) >= 0)) inside = !inside;
    else if (c === delim && !inside) {
      cuts.push(i);
      state = 'start';
    }
    i++;
  }
  return starts.map((s, k) => cleanup(buf.slice(s, cuts[k] ?? buf.length), delim));
}

function splitBlank(buf: string, max: number): string[] {
  const starts: number[] = [];
  const cuts: number[] = [];
  let state: 'start' | 'skip_initial' | 'find' | 'skip_ending' = 'start';
  let inside = false;
  let i = 0;
  while (i < buf.length && starts.length < max) {
    const c = buf[i];
    switch (state) {
      case 'start':
        starts.push(i);
        state = 'skip_initial';
        break;
      case 'skip_initial':
        if (c === ' ') i++;
        else state = 'find';
        break;
      case 'find':
        if (c === ESC) i++;
        else if (c === "'") inside = !inside;
        else if (c === ' ' && !inside) {
          cuts.push(i);
          state = 'skip_ending';
        }
        i++;
        break;
      case 'skip_ending':
        if (c === ' ') i++;
        else state = 'start';
        break;
    }
  }
  return starts.map((s, k) => cleanup(buf.slice(s, cuts[k] ?? buf.length), null));
}

/** switch_separate_string(buf, delim, array, max). */
export function separateString(buf: string, delim: string, max = 1024): string[] {
  let b = buf;
  let d = delim;
  if (b.startsWith('^^') && b.length > 3) {
    d = b[2]!;
    b = b.slice(3);
  }
  return d === ' ' ? splitBlank(b, max) : splitCharDelim(b, d, max);
}

/** switch_find_end_paren: the index of the brace closing the one at `start`, or -1. */
function findEndParen(s: string, start: number, open: string, close: string): number {
  let depth = 0;
  for (let i = start; i < s.length; i++) {
    if (s[i] === open) depth++;
    else if (s[i] === close) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

export interface ParsedOriginate {
  vars: Record<string, string>;
  /** What follows the `{}` block, e.g. sofia/gateway/gw1/+15551234567. */
  dialString: string;
  /** `&app(arg)` split, or the extension when it is not an app. */
  app: string | null;
  appArg: string | null;
  exten: string;
}

export type OriginateParse = { ok: true; value: ParsedOriginate } | { ok: false; error: string };

/** The `originate` API's arguments → variables, dial string and application, as FreeSWITCH reads them. */
export function parseOriginateArgs(args: string): OriginateParse {
  const argv = separateString(args, ' ', 10);
  if (argv.length < 2 || argv.length > 7) {
    return { ok: false, error: '-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n' };
  }
  let url = argv[0]!;
  const exten = argv[1]!;
  const vars: Record<string, string> = {};
  if (url.startsWith('{')) {
    const end = findEndParen(url, 0, '{', '}');
    if (end < 0) return { ok: false, error: '-ERR INVALID_URL\n' };
    const block = url.slice(1, end);
    url = url.slice(end + 1);
    for (const item of separateString(block, ',')) {
      const kv = separateString(item, '=', 2);
      if (kv.length === 2) vars[kv[0]!] = kv[1]!;
    }
  }
  let app: string | null = null;
  let appArg: string | null = null;
  if (exten.startsWith('&') && exten.length > 1) {
    const body = exten.slice(1);
    const open = body.indexOf('(');
    if (open >= 0) {
      app = body.slice(0, open);
      const rest = body.slice(open + 1);
      const close = rest.indexOf(')');
      appArg = close >= 0 ? rest.slice(0, close) : rest;
    } else {
      app = body;
    }
  }
  return { ok: true, value: { vars, dialString: url, app, appArg, exten } };
}
