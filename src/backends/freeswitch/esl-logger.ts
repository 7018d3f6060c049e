// Adapts pino to the `esl` package's logger, quietly and without leaking what esl puts in its messages.
//
// esl logs every frame at debug and many ordinary things (a socket closing while a command waits)
// at error. Its messages and data carry the raw commands: `auth <password>` and originate strings
// with phone numbers. So: debug/info go to trace, error to debug, the data objects are dropped
// (only an error code survives), the password is blanked and long digit runs are masked.
import type { Logger } from '../../log.js';

export interface EslLogSink {
  debug(msg: string, data?: unknown): void;
  info(msg: string, data?: unknown): void;
  error(msg: string, data?: unknown): void;
}

export interface EslLoggerOptions {
  /** Strings that must never reach the log (the ESL password). */
  secrets?: readonly string[];
  /** Called with the errno code (ECONNREFUSED, ...) when esl reports a socket error: esl emits no event for it. */
  onSocketError?: (code: string) => void;
}

function errorCode(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const d = data as { code?: unknown; error?: { code?: unknown } };
  if (typeof d.code === 'string') return d.code;
  if (d.error && typeof d.error === 'object' && typeof d.error.code === 'string') return d.error.code;
  return undefined;
}

/** Blanks secrets and masks phone-number-like digit runs (7+ digits keep their last 4). */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  out = out.replace(/\+?\d{7,}/g, (m) => `${m.startsWith('+') ? '+' : ''}***${m.slice(-4)}`);
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}

export function eslLogger(log: Logger, opts: EslLoggerOptions = {}): EslLogSink {
  const secrets = opts.secrets ?? [];
  const emit = (level: 'trace' | 'debug', msg: string, data: unknown) => {
    if (!log.isLevelEnabled(level)) return;
    const code = errorCode(data);
    log[level]({ esl: true, ...(code ? { code } : {}) }, scrub(String(msg), secrets));
  };
  return {
    debug: (msg, data) => emit('trace', msg, data),
    info: (msg, data) => emit('trace', msg, data),
    error: (msg, data) => {
      const code = errorCode(data);
      if (code && opts.onSocketError && msg.includes('client received `error` event')) opts.onSocketError(code);
      emit('debug', msg, data);
    },
  };
}
