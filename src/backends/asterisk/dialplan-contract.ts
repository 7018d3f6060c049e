// The contract between this service and the dialplan we ship (asterisk-config/extensions.conf): names, variables, formats.
//
// Everything that varies per job travels as channel variables set at originate; the dialplan reads
// them, runs SendFAX, and reports from a hangup handler both as a UserEvent (live) and as a GLOBAL
// variable (read back over ARI after a lost WebSocket or a service restart). test/backends/asterisk/
// config.test.ts checks this file against the shipped dialplan, so a rename on either side fails a test.
import type { FaxLineParams } from '../pbx/ladder.js';
import type { AriDialplanTarget, AriOriginateParams } from './ari-types.js';

/** Where the service sends an answered call with /continue. */
export const OUTBOUND_TARGET: AriDialplanTarget = { context: 'faxbot-outbound', extension: 'send', priority: 1 };
/** The hangup handler the outbound context pushes before SendFAX. */
export const OUTBOUND_REPORT_CONTEXT = 'faxbot-outbound-report';
/** Inbound entry point (point a trunk's or DID's context here). */
export const INBOUND_CONTEXT = 'faxbot-inbound';
export const INBOUND_RECEIVE_CONTEXT = 'faxbot-inbound-receive';
export const INBOUND_REPORT_CONTEXT = 'faxbot-inbound-report';
/** Every context the service or the dialplan names. */
export const DIALPLAN_CONTEXTS = [
  OUTBOUND_TARGET.context, OUTBOUND_REPORT_CONTEXT, INBOUND_CONTEXT, INBOUND_RECEIVE_CONTEXT, INBOUND_REPORT_CONTEXT,
] as const;

/** The UserEvent name the hangup handler raises. */
export const FAX_RESULT_EVENT = 'FaxResult';

/** Channel variables the service sets at originate, all read by the outbound dialplan. */
export const CHANNEL_VARS = {
  /** TIFF path as the PBX sees it. */
  file: 'FAXFILE',
  job: 'FAXJOB',
  attempt: 'FAXATTEMPT',
  /** Page header line (FAXOPT(headerinfo)). */
  header: 'FAXHEADER',
  /** Our station id / TSI (FAXOPT(localstationid)). */
  stationId: 'FAXSTATIONID',
  /** yes | no (FAXOPT(ecm)). */
  ecm: 'FAXECM',
  /** 14400, 9600, 7200, 4800… (FAXOPT(maxrate)). */
  maxRate: 'FAXMAXRATE',
  /** yes: SendFAX(…,fz) asks for T.38 (audio fallback inside the call); no: SendFAX(…,F) forces audio. */
  t38: 'FAXT38',
} as const;

export const CHANNEL_VAR_NAMES: readonly string[] = Object.values(CHANNEL_VARS);

/** The res_fax result variables (set by SendFAX; never trust the first FAXSTATUS). */
export const FAX_RESULT_VARS = [
  'FAXSTATUS', 'FAXERROR', 'FAXSTATUSSTRING', 'REMOTESTATIONID', 'LOCALSTATIONID', 'FAXBITRATE', 'FAXRESOLUTION', 'FAXMODE', 'FAXPAGES',
] as const;

/** The fields of the GLOBAL record, in order, after the leading version tag `v1`. */
export const RECORD_FIELDS = [
  'status', 'pages', 'bitrate', 'resolution', 'mode', 'ecm', 'hangupcause', 'error64', 'statusstr64', 'remotestation64', 'epoch',
] as const;

/** The keys of the FaxResult UserEvent (besides `eventname`). */
export const USEREVENT_KEYS = [
  'v', 'job', 'attempt', 'status', 'pages', 'bitrate', 'resolution', 'mode', 'ecm', 'hangupcause', 'error64', 'statusstr64', 'remotestation64',
] as const;

const JOB_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const NUMBER_RE = /^\+?[0-9]{1,20}$/;
/** SendFAX splits its argument on "," and "&"; keep TIFF paths to characters that cannot break it. */
const PBX_PATH_RE = /^\/[A-Za-z0-9._/-]+$/;

export function isValidJobId(jobId: string): boolean {
  return JOB_ID_RE.test(jobId);
}

/** `faxbot-<jobId>-<attemptNo>`: deterministic, so a restarted service finds its calls, and a retried originate gets 409. */
export function channelIdFor(jobId: string, attemptNo: number): string {
  if (!isValidJobId(jobId)) throw new Error('job id must be 1-100 letters, digits, "_" or "-"');
  if (!Number.isInteger(attemptNo) || attemptNo < 1) throw new Error('attempt number must be a positive integer');
  return `faxbot-${jobId}-${attemptNo}`;
}

/** The job and attempt a channel id of ours stands for, or null for any other channel. */
export function parseChannelId(id: string): { jobId: string; attemptNo: number } | null {
  const m = /^faxbot-([A-Za-z0-9][A-Za-z0-9_-]{0,99})-([1-9][0-9]{0,8})$/.exec(id);
  if (!m) return null;
  return { jobId: m[1]!, attemptNo: Number(m[2]) };
}

/** The GLOBAL variable the hangup handler writes: `FAXBOT_RESULT_<jobId>_<attemptNo>`. */
export function resultVarName(jobId: string, attemptNo: number): string {
  if (!isValidJobId(jobId)) throw new Error('invalid job id');
  return `FAXBOT_RESULT_${jobId}_${attemptNo}`;
}

export interface DialTarget {
  /** PJSIP endpoint name of the trunk (ASTERISK_TRUNK_ENDPOINT): dials `PJSIP/<number>@<trunk>`. */
  trunk?: string;
  /** Or a template with `{number}`, e.g. `PJSIP/{number}@carrier` or `PJSIP/carrier/sip:{number}@sip.example.net`. */
  template?: string;
}

/** The dial string for a number. The number must be digits with an optional leading "+": nothing else can reach the dial string. */
export function buildEndpoint(number: string, target: DialTarget): string {
  if (!NUMBER_RE.test(number)) throw new Error('fax number must be digits with an optional leading +');
  if (target.template) {
    if (!target.template.includes('{number}')) throw new Error('dial template must contain {number}');
    if (/[,&\s]/.test(target.template)) throw new Error('dial template must not contain commas, "&" or spaces');
    return target.template.split('{number}').join(number);
  }
  if (!target.trunk || !/^[A-Za-z0-9_.-]+$/.test(target.trunk)) throw new Error('trunk endpoint name missing or invalid');
  return `PJSIP/${number}@${target.trunk}`;
}

/** Printable ASCII only, at most `max` characters: these values reach the PBX and the far fax machine. */
function printable(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, '').slice(0, max);
}

export interface OutboundCall {
  jobId: string;
  attemptNo: number;
  /** Destination, E.164 or digits. */
  number: string;
  /** The TIFF path as the PBX sees it (ASTERISK_FAX_DIR_PBX mapping already applied). */
  pbxTiffPath: string;
  /** This attempt's rung of the fallback ladder (pbx/ladder.ts). */
  line: FaxLineParams;
  /** Page header (FAX_HEADER); spandsp shows at most 50 characters. */
  header?: string;
  /** Our station id (FAX_LOCAL_STATION_ID); T.30 allows 20 characters. */
  stationId?: string;
  callerIdName?: string;
  callerIdNumber?: string;
  dial: DialTarget;
  /** Ring time before giving up, seconds. */
  timeoutSec?: number;
}

/** The originate request for one attempt: endpoint, channel id, app args and every per-job channel variable. */
export function buildOriginate(call: OutboundCall): AriOriginateParams {
  const channelId = channelIdFor(call.jobId, call.attemptNo);
  if (!PBX_PATH_RE.test(call.pbxTiffPath)) {
    throw new Error('TIFF path for the PBX must be absolute and use only letters, digits, ".", "_", "-" and "/"');
  }
  let callerId: string | undefined;
  if (call.callerIdNumber !== undefined && call.callerIdNumber !== '') {
    if (!NUMBER_RE.test(call.callerIdNumber)) throw new Error('caller id number must be digits with an optional leading +');
    const name = printable(call.callerIdName ?? '', 40).replace(/["<>]/g, '');
    callerId = name ? `"${name}" <${call.callerIdNumber}>` : `<${call.callerIdNumber}>`;
  }
  return {
    endpoint: buildEndpoint(call.number, call.dial),
    channelId,
    appArgs: [call.jobId, String(call.attemptNo)],
    callerId,
    timeoutSec: call.timeoutSec ?? 60,
    variables: {
      [CHANNEL_VARS.file]: call.pbxTiffPath,
      [CHANNEL_VARS.job]: call.jobId,
      [CHANNEL_VARS.attempt]: String(call.attemptNo),
      [CHANNEL_VARS.header]: printable(call.header ?? '', 50),
      [CHANNEL_VARS.stationId]: printable(call.stationId ?? '', 20),
      [CHANNEL_VARS.ecm]: call.line.ecm ? 'yes' : 'no',
      [CHANNEL_VARS.maxRate]: String(call.line.maxRate),
      [CHANNEL_VARS.t38]: call.line.t38 ? 'yes' : 'no',
    },
  };
}

/** What the hangup handler reports, decoded (from the UserEvent or the GLOBAL record). */
export interface FaxReport {
  /** SUCCESS, FAILED, or "" when SendFAX never ran. */
  status: string;
  pages: number | null;
  bitRate: number | null;
  resolution: string;
  mode: string;
  ecm: boolean | null;
  hangupCause: number | null;
  /** FAXERROR: a res_fax code (HANGUP, FILE_ERROR, T38_NEG_ERROR…) or a spandsp T.30 text. */
  error: string;
  statusString: string;
  remoteStationId: string;
}

function intOrNull(s: string | undefined): number | null {
  if (s === undefined || !/^-?[0-9]+$/.test(s.trim())) return null;
  return Number(s.trim());
}

/** Decodes a `~`-prefixed base64 value (the prefix keeps BASE64_ENCODE's argument non-empty). */
export function decodeB64Field(s: string | undefined): string {
  if (!s) return '';
  const text = Buffer.from(s.trim(), 'base64').toString('utf8');
  // Printable only: these texts come from the far fax machine (station id) and end up in logs and the API.
  return (text.startsWith('~') ? text.slice(1) : text).replace(/[^\x20-\x7e\u00a0-\uffff]/g, '').slice(0, 200);
}

function yesNo(s: string | undefined): boolean | null {
  if (s === 'yes') return true;
  if (s === 'no') return false;
  return null;
}

/**
 * Decodes the FaxResult UserEvent. Also accepts the plain keys of a hand-written dialplan like the one
 * the fixtures were recorded with (`faxstatus`, `faxerror`, `faxpages`…), so an admin's own report still works.
 */
export function parseFaxResultEvent(userevent: Readonly<Record<string, string>>): FaxReport | null {
  const u = userevent;
  if (u.v === '1') {
    return {
      status: u.status ?? '',
      pages: intOrNull(u.pages),
      bitRate: intOrNull(u.bitrate),
      resolution: u.resolution ?? '',
      mode: u.mode ?? '',
      ecm: yesNo(u.ecm),
      hangupCause: intOrNull(u.hangupcause),
      error: decodeB64Field(u.error64),
      statusString: decodeB64Field(u.statusstr64),
      remoteStationId: decodeB64Field(u.remotestation64),
    };
  }
  if (u.faxstatus !== undefined) {
    return {
      status: u.faxstatus,
      pages: intOrNull(u.faxpages),
      bitRate: intOrNull(u.faxbitrate),
      resolution: u.faxresolution ?? '',
      mode: u.faxmode ?? '',
      ecm: null,
      hangupCause: intOrNull(u.hangupcause),
      error: u.faxerror ?? '',
      statusString: u.faxstatusstring ?? '',
      remoteStationId: u.remotestationid ?? '',
    };
  }
  return null;
}

export type ResultRecord =
  /** The variable is unset: the call never reached our dialplan, or Asterisk restarted since. */
  | { kind: 'none' }
  /** Our context started (SendFAX about to run) but the hangup handler never wrote the result. */
  | { kind: 'started' }
  | { kind: 'final'; report: FaxReport; epoch: number | null }
  | { kind: 'invalid' };

/** Parses `v1|status|pages|bitrate|resolution|mode|ecm|hangupcause|error64|statusstr64|remotestation64|epoch`. */
export function parseResultRecord(value: string): ResultRecord {
  const v = value.trim();
  if (v === '') return { kind: 'none' };
  const parts = v.split('|');
  if (parts[0] !== 'v1') return { kind: 'invalid' };
  if (parts[1] === 'STARTED') return { kind: 'started' };
  if (parts.length !== RECORD_FIELDS.length + 1) return { kind: 'invalid' };
  const f = Object.fromEntries(RECORD_FIELDS.map((name, i) => [name, parts[i + 1] ?? ''])) as Record<(typeof RECORD_FIELDS)[number], string>;
  return {
    kind: 'final',
    epoch: intOrNull(f.epoch),
    report: {
      status: f.status,
      pages: intOrNull(f.pages),
      bitRate: intOrNull(f.bitrate),
      resolution: f.resolution,
      mode: f.mode,
      ecm: yesNo(f.ecm),
      hangupCause: intOrNull(f.hangupcause),
      error: decodeB64Field(f.error64),
      statusString: decodeB64Field(f.statusstr64),
      remoteStationId: decodeB64Field(f.remotestation64),
    },
  };
}
