// One fetch wrapper for every cloud provider: timeouts, error classification, and no secrets or documents in errors.
import { maskNumber } from '../../log.js';
import { AttemptFailedError, NotSentError, type FailureClass } from '../types.js';

/**
 * A provider call that did not succeed, classified for the dispatcher.
 *
 * - `sent: false`: certainly nothing reached the provider (connection refused, DNS, TLS, 429);
 *   the attempt can be given back without using it up.
 * - `maybeCreated: true`: the request left and no clear answer came back (timeout, reset, 5xx):
 *   the provider may have created the fax, so look for it (`findExisting`) before sending again.
 */
export class ProviderError extends Error {
  readonly provider: string;
  /** HTTP status when the provider answered, else null. */
  readonly status: number | null;
  readonly failureClass: FailureClass;
  /** The provider's own words (already trimmed to a sane length), or null. */
  readonly providerMessage: string | null;
  /** From Retry-After (429/503), in milliseconds. */
  readonly retryAfterMs: number | null;
  readonly sent: boolean;
  readonly maybeCreated: boolean;
  /** Short machine code: ECONNREFUSED, timeout, http_422, invalid_response, ... */
  readonly code: string;

  constructor(init: {
    provider: string;
    message: string;
    status?: number | null;
    failureClass: FailureClass;
    providerMessage?: string | null;
    retryAfterMs?: number | null;
    sent: boolean;
    maybeCreated: boolean;
    code: string;
  }) {
    super(init.message);
    this.name = 'ProviderError';
    this.provider = init.provider;
    this.status = init.status ?? null;
    this.failureClass = init.failureClass;
    this.providerMessage = init.providerMessage ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.sent = init.sent;
    this.maybeCreated = init.maybeCreated;
    this.code = init.code;
  }
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer | FormData | URLSearchParams;
  /** Milliseconds before the request is aborted; the provider default applies when omitted. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The body as text (JSON providers) — binary downloads use `bytes`. */
  text: string;
  bytes: Buffer;
}

export interface HttpClientOptions {
  provider: string;
  /** Default per-request timeout. */
  timeoutMs?: number;
  /** For tests: a fake clock for Retry-After dates. */
  now?: () => number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_MESSAGE = 300;

/** Connection errors that prove nothing reached the provider. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_INVALID_URL', 'ERR_BAD_PORT',
]);

/** Sends one request. Resolves with any HTTP status; rejects only with a ProviderError (no answer at all). */
export async function providerFetch(opts: HttpClientOptions, req: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = req.timeoutMs ?? opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw networkError(opts.provider, err, timeoutMs);
  }
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    // The provider answered with a status but the body broke off: the request was received.
    throw networkError(opts.provider, err, timeoutMs, true);
  }
  return { status: res.status, headers: res.headers, bytes, text: bytes.toString('utf8') };
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function networkError(provider: string, err: unknown, timeoutMs: number, answered = false): ProviderError {
  const name = (err as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new ProviderError({
      provider,
      message: `${provider}: no answer within ${Math.round(timeoutMs / 100) / 10} s (the request may have been received)`,
      failureClass: 'transient',
      sent: true,
      maybeCreated: true,
      code: 'timeout',
    });
  }
  // fetch refuses some ports (the fetch spec's "bad port" list) before opening any connection.
  const badPort = (err as { cause?: { message?: unknown } } | null)?.cause?.message === 'bad port';
  const code = errorCode(err) ?? (badPort ? 'ERR_BAD_PORT' : 'network_error');
  if (!answered && NOT_SENT_CODES.has(code)) {
    return new ProviderError({
      provider,
      message: `${provider}: cannot reach the provider (${code})`,
      failureClass: 'transient',
      sent: false,
      maybeCreated: false,
      code,
    });
  }
  return new ProviderError({
    provider,
    message: `${provider}: connection broke off after the request was sent (${code})`,
    failureClass: 'transient',
    sent: true,
    maybeCreated: true,
    code,
  });
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+$/.test(v)) return Math.min(Number(v), 86_400) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.min(at - now, 86_400_000));
}

/**
 * Clips a provider message for errors and logs: one line, bounded, with phone numbers masked and URLs
 * cut to scheme, host and path (providers quote our document URL back, token and all).
 */
export function clipMessage(s: string | null | undefined): string | null {
  if (s === null || s === undefined) return null;
  const one = s
    .replace(/\s+/g, ' ')
    .replace(/https?:\/\/[^\s"'<>]+/gi, (u) => redactUrl(u))
    .replace(/\+\d[\d\s().-]{3,}\d|\b\d{10,15}\b/g, (n) => maskNumber(n))
    .trim();
  if (one === '') return null;
  return one.length > MAX_MESSAGE ? `${one.slice(0, MAX_MESSAGE)}…` : one;
}

/** Heuristic for 4xx messages: problems with the document rather than the request. */
const DOCUMENT_HINT = /\b(file|document|pdf|mime ?type|content[_ ]?url|media ?url|convert|conversion|page count|too large)\b/i;

/**
 * Classifies a non-2xx answer. 5xx and 408 are transient (maybe created), 429 is "not sent"
 * and honours Retry-After, other 4xx fail with the provider's own message.
 */
export function httpError(
  provider: string,
  status: number,
  headers: Headers,
  providerMessage: string | null,
  now: number = Date.now(),
): ProviderError {
  const msg = clipMessage(providerMessage);
  const suffix = msg ? `: ${msg}` : '';
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), now);
  if (status === 429) {
    return new ProviderError({
      provider, status, providerMessage: msg, retryAfterMs,
      message: `${provider}: rate limited (HTTP 429)${suffix}`,
      failureClass: 'transient', sent: false, maybeCreated: false, code: 'http_429',
    });
  }
  if (status >= 500 || status === 408) {
    return new ProviderError({
      provider, status, providerMessage: msg, retryAfterMs,
      message: `${provider}: provider error (HTTP ${status})${suffix}`,
      failureClass: 'transient', sent: true, maybeCreated: true, code: `http_${status}`,
    });
  }
  let failureClass: FailureClass = 'permanent';
  let what = 'request refused';
  if (status === 401 || status === 403) what = 'credentials refused';
  else if (status === 413 || status === 415 || (msg !== null && DOCUMENT_HINT.test(msg))) {
    failureClass = 'document';
    what = 'document refused';
  }
  return new ProviderError({
    provider, status, providerMessage: msg, retryAfterMs,
    message: `${provider}: ${what} (HTTP ${status})${suffix}`,
    failureClass, sent: true, maybeCreated: false, code: `http_${status}`,
  });
}

/** A 2xx answer whose body is not what the provider documents: the request was taken, the outcome unknown. */
export function invalidResponse(provider: string, status: number, what: string): ProviderError {
  return new ProviderError({
    provider, status,
    message: `${provider}: unexpected answer (HTTP ${status}): ${what}`,
    failureClass: 'transient', sent: true, maybeCreated: true, code: 'invalid_response',
  });
}

/** Parses a JSON body, or returns undefined (providers sometimes answer errors with HTML or nothing). */
export function tryJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `Authorization: Basic …` value. */
export function basicAuth(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
}

export interface FilePart {
  /** Form field name, e.g. "file". */
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

/** A multipart body (Node's FormData; fetch sets the boundary). Fields keep their order; repeated names allowed. */
export function multipartBody(fields: readonly (readonly [string, string])[], files: readonly FilePart[] = []): FormData {
  const fd = new FormData();
  for (const [name, value] of fields) fd.append(name, value);
  for (const f of files) fd.append(f.field, new Blob([new Uint8Array(f.data)], { type: f.contentType }), f.filename);
  return fd;
}

/** A URL fit for logs and errors: no credentials, no query (tokens live there), no fragment. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Turns a ProviderError into what the dispatcher understands: NotSentError when nothing reached the
 * provider (or it said 429: nothing was accepted), AttemptFailedError with the class otherwise.
 */
export function toAttemptError(err: ProviderError, defaultRetryMs = 5000): NotSentError | AttemptFailedError {
  if (!err.sent) return new NotSentError(err.message, err.retryAfterMs ?? defaultRetryMs);
  return new AttemptFailedError(err.failureClass, err.message, err.code);
}
