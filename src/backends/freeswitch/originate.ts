// Builds the `originate {vars}<dial string> &txfax(<tiff>)` command for one fax attempt, safely quoted.
//
// FreeSWITCH parses that line three times: the API splits it on spaces (single quotes protect
// spaces and are stripped), the `{}` block is split on commas (a backslash protects one), then each
// item on the first `=`. Every pass also strips quotes and processes backslash escapes, and how it
// does so has varied between releases. So we only emit what survives all three passes the same way
// everywhere: plain tokens, values with spaces in single quotes, commas as `\,`. Anything else
// (quotes, backslashes, braces, `$` which would be expanded, control or non-ASCII characters) is
// refused with an OriginateError naming the variable, rather than sent and mangled.
import { createHash } from 'node:crypto';
import type { FaxLineParams } from '../pbx/ladder.js';
import { isUuid } from './esl-event.js';

/** Channel variables carrying our job on the call, so any instance can recognise its calls. */
export const JOB_ID_VAR = 'faxbot_job_id';
export const ATTEMPT_VAR = 'faxbot_attempt';

export class OriginateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OriginateError';
  }
}

// A fixed namespace for our name-based (v5) uuids; changing it would orphan calls across a restart.
const NAMESPACE = 'b8854749-c538-446b-95f3-b82106eb6ac2';

/** RFC 4122 version-5 uuid of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string = NAMESPACE): string {
  if (!isUuid(namespace)) throw new OriginateError(`namespace "${namespace}" is not a uuid`);
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The call uuid (`origination_uuid`) of one attempt. Deterministic, so a restarted service that only
 * knows the job id and attempt number can still ask FreeSWITCH about the call. `namespace` lets two
 * installations that share one FreeSWITCH (and could share job ids) stay apart.
 */
export function callUuidFor(jobId: string, attemptNo: number, namespace?: string): string {
  return uuidV5(`call:${jobId}:${attemptNo}`, namespace);
}

/** The bgapi Job-UUID of one attempt (BACKGROUND_JOB carries no call id, only this). */
export function jobUuidFor(jobId: string, attemptNo: number, namespace?: string): string {
  return uuidV5(`job:${jobId}:${attemptNo}`, namespace);
}

export interface OriginateParams {
  /** From callUuidFor(). */
  callUuid: string;
  jobId: string;
  attemptNo: number;
  /** Sofia gateway name (FREESWITCH_GATEWAY_NAME). */
  gateway: string;
  /** Destination: digits with an optional leading +. */
  number: string;
  /** Absolute path of the TIFF as FreeSWITCH sees it. */
  tiffPath: string;
  /** This attempt's rung of the fallback ladder (pbx/ladder.ts). */
  line: FaxLineParams;
  /** fax_ident (TSI): up to 20 of digits, + and space. */
  stationId?: string;
  /** fax_header: the line printed on top of each page (up to 50 characters). */
  header?: string;
  callerIdNumber?: string;
  callerIdName?: string;
  /** Seconds to ring before NO_ANSWER (default 60). */
  originateTimeoutSec?: number;
  /**
   * Replaces `sofia/gateway/<gw>/<number>`; `{gateway}` and `{number}` are substituted, e.g.
   * `sofia/external/{number}@sip.carrier.example`.
   */
  dialStringTemplate?: string;
  /** Codecs offered (default PCMU, PCMA: fax over G.711 needs no compression). */
  codecs?: readonly string[];
  /** Operator-supplied extra channel variables (same quoting rules). */
  extraVars?: Readonly<Record<string, string>>;
}

export interface BuiltOriginate {
  /** The API command to send with `bgapi` (without the `bgapi ` prefix). */
  command: string;
  /** The channel variables as FreeSWITCH will store them (unescaped). */
  vars: Readonly<Record<string, string>>;
  dialString: string;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TOKEN_RE = /^[A-Za-z0-9+_.:@/=-]+$/;
// Characters no pass of FreeSWITCH's parser treats specially once spaces and commas are handled.
const TEXT_OK = /^[A-Za-z0-9 +_.:@/=!#%&()*,;?~-]*$/;
const NUMBER_RE = /^\+?[0-9]{1,20}$/;
const GATEWAY_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** One `name=value` item of the `{}` block, escaped; empty values are dropped (FreeSWITCH ignores `x=`). */
function encodeVar(name: string, value: string): string | null {
  if (!NAME_RE.test(name)) throw new OriginateError(`channel variable name "${name}" is not a plain identifier`);
  const v = value.trim();
  if (v === '') return null;
  // ":_:" anywhere in the line turns originate into an "enterprise" originate (parallel groups).
  if (v.includes(':_:')) throw new OriginateError(`${name}: the sequence ":_:" cannot be passed to FreeSWITCH`);
  if (TOKEN_RE.test(v)) return `${name}=${v}`;
  if (!TEXT_OK.test(v)) {
    const bad = [...v].find((c) => !TEXT_OK.test(c)) ?? '?';
    const shown = bad < ' ' || bad > '~' ? `U+${bad.codePointAt(0)!.toString(16).padStart(4, '0')}` : `"${bad}"`;
    throw new OriginateError(
      `${name}: character ${shown} cannot be passed safely to FreeSWITCH (quotes, backslashes, braces, brackets, $ and non-ASCII are refused)`,
    );
  }
  const escaped = v.replace(/,/g, '\\,');
  return /\s/.test(escaped) ? `${name}='${escaped}'` : `${name}=${escaped}`;
}

/** Refuses a TIFF path FreeSWITCH would cut or misread: txfax's argument ends at the first `)`. */
export function validateTiffPath(path: string): string {
  if (!path.startsWith('/')) throw new OriginateError(`TIFF path must be absolute, got "${path}"`);
  if (/\s/.test(path)) throw new OriginateError('TIFF path contains a space: FreeSWITCH splits the originate command on spaces');
  if (path.includes(')') || path.includes('(')) {
    throw new OriginateError('TIFF path contains "(" or ")": txfax\'s argument is cut at the first ")"');
  }
  if (!/^\/[A-Za-z0-9._/+=:@,-]+$/.test(path)) {
    throw new OriginateError('TIFF path may only contain letters, digits and . _ / + = : @ , - (no quotes, $, backslashes or braces)');
  }
  if (path.split('/').includes('..')) throw new OriginateError('TIFF path must not contain ".."');
  return path;
}

function dialString(p: OriginateParams): string {
  if (!NUMBER_RE.test(p.number)) throw new OriginateError('destination must be digits with an optional leading +');
  const tpl = p.dialStringTemplate?.trim() || 'sofia/gateway/{gateway}/{number}';
  if (!tpl.includes('{number}')) throw new OriginateError('dial string template must contain {number}');
  // A template without {gateway} needs no gateway name.
  if (tpl.includes('{gateway}') && !GATEWAY_RE.test(p.gateway)) {
    throw new OriginateError(`gateway name "${p.gateway}" may only contain letters, digits, _ . -`);
  }
  const s = tpl.replaceAll('{gateway}', p.gateway).replaceAll('{number}', p.number);
  // After the `{}` block FreeSWITCH splits the dial string on "|" (failover) and "," (parallel legs).
  if (!/^[A-Za-z0-9_.:@/+=;#-]+$/.test(s) || s.includes(':_:')) {
    throw new OriginateError('dial string may only contain letters, digits and _ . : @ / + = ; # - (no spaces, commas, | or braces)');
  }
  return s;
}

function bool(b: boolean): string {
  return b ? 'true' : 'false';
}

/** Builds the originate command; throws OriginateError on anything that cannot be sent as it is. */
export function buildOriginate(p: OriginateParams): BuiltOriginate {
  if (!isUuid(p.callUuid)) throw new OriginateError('callUuid must be a uuid');
  if (!Number.isInteger(p.attemptNo) || p.attemptNo < 1) throw new OriginateError('attemptNo must be a positive integer');
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(p.jobId)) throw new OriginateError('job id may only contain letters, digits and . _ : -');
  const tiff = validateTiffPath(p.tiffPath);
  const dial = dialString(p);
  const timeout = p.originateTimeoutSec ?? 60;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 600) throw new OriginateError('originate timeout must be 1..600 seconds');
  if (p.stationId !== undefined && !/^[0-9+ ]{0,20}$/.test(p.stationId)) {
    throw new OriginateError('station id (fax_ident) may only hold up to 20 digits, + and spaces');
  }
  if (p.header !== undefined && p.header.length > 50) throw new OriginateError('fax header is limited to 50 characters');
  if (p.callerIdNumber !== undefined && p.callerIdNumber !== '' && !NUMBER_RE.test(p.callerIdNumber)) {
    throw new OriginateError('caller id number must be digits with an optional leading +');
  }
  const codecs = p.codecs ?? ['PCMU', 'PCMA'];
  if (codecs.length === 0 || codecs.some((c) => !/^[A-Za-z0-9.@-]+$/.test(c))) throw new OriginateError('codec names must be plain tokens');

  // Order matters only for reading; FreeSWITCH stores each as a channel variable.
  const vars: [string, string][] = [
    ['origination_uuid', p.callUuid],
    [JOB_ID_VAR, p.jobId],
    [ATTEMPT_VAR, String(p.attemptNo)],
    ['ignore_early_media', 'true'],
    ['originate_timeout', String(timeout)],
    // "^^:" switches the separator for this value, so the codec list's own commas don't split the block.
    ['absolute_codec_string', `^^:${codecs.join(':')}`],
    // Must be true on the sending leg too: otherwise a T.38 re-INVITE from the far end is refused
    // (488, INCOMPATIBLE_DESTINATION) and the fax drops. Whether *we* ask for T.38 is the ladder's call.
    ['fax_enable_t38', 'true'],
    ['fax_enable_t38_request', bool(p.line.t38)],
    ['fax_use_ecm', bool(p.line.ecm)],
    // spandsp's only speed knob: V.17 (up to 14400) on or off. 9600 and below all mean "no V.17";
    // training then falls back from 9600 to 7200/4800 by itself.
    ['fax_disable_v17', bool(p.line.maxRate < 12000)],
  ];
  if (p.stationId) vars.push(['fax_ident', p.stationId]);
  if (p.header !== undefined) vars.push(['fax_header', p.header]);
  if (p.callerIdNumber) vars.push(['origination_caller_id_number', p.callerIdNumber]);
  if (p.callerIdName) vars.push(['origination_caller_id_name', p.callerIdName]);
  const reserved = new Set(vars.map(([k]) => k));
  for (const [k, v] of Object.entries(p.extraVars ?? {})) {
    if (reserved.has(k)) throw new OriginateError(`extra variable "${k}" would override one the gateway sets itself`);
    vars.push([k, v]);
  }

  const items: string[] = [];
  const stored: Record<string, string> = {};
  for (const [k, v] of vars) {
    // Built above from checked codec names; "^" is otherwise refused.
    const item = k === 'absolute_codec_string' ? `${k}=${v}` : encodeVar(k, v);
    if (item === null) continue;
    items.push(item);
    stored[k] = v.trim();
  }
  return { command: `originate {${items.join(',')}}${dial} &txfax(${tiff})`, vars: stored, dialString: dial };
}

/**
 * Correlation data from a BACKGROUND_JOB's `Job-Command-Arg` (the originate arguments as sent):
 * used when the Job-UUID is not one we chose (e.g. a job started by an older version).
 */
export function parseJobCommandArg(arg: string | undefined): { callUuid?: string; jobId?: string; attemptNo?: number } {
  if (!arg) return {};
  const block = /^\s*\{([^}]*)\}/.exec(arg)?.[1] ?? '';
  const get = (name: string) => new RegExp(`(?:^|,)${name}=([^,]*)`).exec(block)?.[1];
  const out: { callUuid?: string; jobId?: string; attemptNo?: number } = {};
  const uuid = get('origination_uuid');
  if (uuid && isUuid(uuid)) out.callUuid = uuid.toLowerCase();
  const job = get(JOB_ID_VAR);
  if (job) out.jobId = job;
  const attempt = get(ATTEMPT_VAR);
  if (attempt && /^\d+$/.test(attempt)) out.attemptNo = Number(attempt);
  return out;
}
