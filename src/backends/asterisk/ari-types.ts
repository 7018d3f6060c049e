// The ARI wire shapes we use (channels, originate, events), and a parser that turns raw JSON into a typed event.
//
// Shapes follow Asterisk 20.20.1 as recorded (fixtures/asterisk): every value Asterisk sends is kept
// under its own name, so a log line or a test can be compared with a recording field by field.

export type AriChannelState =
  | 'Down' | 'Rsrved' | 'OffHook' | 'Dialing' | 'Ring' | 'Ringing' | 'Up' | 'Busy'
  | 'Dialing Offhook' | 'Pre-ring' | 'Unknown';

export interface AriCallerId {
  name: string;
  number: string;
}

export interface AriDialplanCep {
  context: string;
  exten: string;
  priority: number;
  app_name?: string;
  app_data?: string;
}

export interface AriChannel {
  id: string;
  name: string;
  /** One of AriChannelState; kept as string so a newer Asterisk's state does not break parsing. */
  state: string;
  protocol_id?: string;
  caller: AriCallerId;
  connected: AriCallerId;
  accountcode: string;
  dialplan: AriDialplanCep;
  creationtime: string;
  language: string;
  channelvars?: Record<string, string>;
}

/** `POST /ari/channels` parameters as this service uses them (design A: app first, then /continue). */
export interface AriOriginateParams {
  /** Dial string, e.g. `PJSIP/+15551234567@trunk`. */
  endpoint: string;
  /** Our own deterministic id (≤ 149 chars); a duplicate answers 409. */
  channelId: string;
  /** Becomes `StasisStart.args`. Joined with commas on the wire, so no element may contain one. */
  appArgs: readonly string[];
  /** `"Name" <number>`. */
  callerId?: string;
  /** Dial timeout in seconds (Asterisk's default is 30). */
  timeoutSec?: number;
  /** Channel variables set before dialling. */
  variables?: Readonly<Record<string, string>>;
}

export interface AriDialplanTarget {
  context: string;
  extension: string;
  priority: number;
}

export interface AsteriskInfo {
  build?: { os?: string; kernel?: string; machine?: string; options?: string; date?: string; user?: string };
  system?: { version?: string; entity_id?: string };
  config?: Record<string, unknown>;
  status?: { startup_time?: string; last_reload_time?: string };
}

/** Fields every ARI event carries. */
export interface AriEventBase {
  type: string;
  application: string;
  timestamp: string;
  asterisk_id?: string;
}

export interface StasisStartEvent extends AriEventBase {
  type: 'StasisStart';
  args: string[];
  channel: AriChannel;
  replace_channel?: AriChannel;
}

export interface StasisEndEvent extends AriEventBase {
  type: 'StasisEnd';
  channel: AriChannel;
}

export interface ChannelCreatedEvent extends AriEventBase {
  type: 'ChannelCreated';
  channel: AriChannel;
}

export interface DialEvent extends AriEventBase {
  type: 'Dial';
  /** The channel being dialled: for an originate, our own channel. */
  peer: AriChannel;
  caller?: AriChannel;
  /** "" when the dial starts, then RINGING, PROGRESS, ANSWER, BUSY, CONGESTION, NOANSWER, CHANUNAVAIL, CANCEL… */
  dialstatus: string;
  dialstring?: string;
  forward?: string;
}

export interface ChannelStateChangeEvent extends AriEventBase {
  type: 'ChannelStateChange';
  channel: AriChannel;
}

export interface ChannelVarsetEvent extends AriEventBase {
  type: 'ChannelVarset';
  variable: string;
  value: string;
  /** Absent for a global variable. */
  channel?: AriChannel;
}

export interface ChannelUsereventEvent extends AriEventBase {
  type: 'ChannelUserevent';
  eventname: string;
  /** Every value is a string; `eventname` is repeated inside. */
  userevent: Record<string, string>;
  channel?: AriChannel;
}

export interface ChannelHangupRequestEvent extends AriEventBase {
  type: 'ChannelHangupRequest';
  /** Missing after a CLI `channel request hangup` on the far side. */
  cause?: number;
  soft?: boolean;
  tech_cause?: number;
  channel: AriChannel;
}

export interface ChannelDestroyedEvent extends AriEventBase {
  type: 'ChannelDestroyed';
  cause: number;
  /** The description ("User busy"), not the constant name. */
  cause_txt: string;
  /** The SIP status for PJSIP channels (486, 403, 480…), when Asterisk has one. */
  tech_cause?: number;
  channel: AriChannel;
}

export interface ChannelDialplanEvent extends AriEventBase {
  type: 'ChannelDialplan';
  dialplan_app: string;
  dialplan_app_data: string;
  channel: AriChannel;
}

/** Any event we do not model (DeviceStateChanged, ChannelCallerId, ApplicationReplaced…), kept raw. */
export interface OtherAriEvent {
  type: 'Other';
  /** The `type` Asterisk sent. */
  eventType: string;
  raw: Readonly<Record<string, unknown>>;
}

export type KnownAriEvent =
  | StasisStartEvent
  | StasisEndEvent
  | ChannelCreatedEvent
  | DialEvent
  | ChannelStateChangeEvent
  | ChannelVarsetEvent
  | ChannelUsereventEvent
  | ChannelHangupRequestEvent
  | ChannelDestroyedEvent
  | ChannelDialplanEvent;

export type AriEvent = KnownAriEvent | OtherAriEvent;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isChannel(v: unknown): v is AriChannel {
  return isObject(v) && typeof v.id === 'string' && typeof v.name === 'string' && typeof v.state === 'string';
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every((x) => typeof x === 'string');
}

const optNumber = (v: unknown): boolean => v === undefined || typeof v === 'number';

/**
 * Types one decoded WebSocket message. A known type missing a field we rely on becomes `Other`
 * rather than a half-typed object, so the state machine never reads `undefined` where it expects a channel.
 */
export function parseAriEvent(msg: unknown): AriEvent | null {
  if (!isObject(msg) || typeof msg.type !== 'string') return null;
  const m = msg;
  const other: OtherAriEvent = { type: 'Other', eventType: m.type as string, raw: m };
  switch (m.type) {
    case 'StasisStart':
      return isChannel(m.channel) && Array.isArray(m.args) && m.args.every((a) => typeof a === 'string')
        ? (m as unknown as StasisStartEvent) : other;
    case 'StasisEnd':
    case 'ChannelCreated':
    case 'ChannelStateChange':
      return isChannel(m.channel) ? (m as unknown as KnownAriEvent) : other;
    case 'Dial':
      return isChannel(m.peer) && typeof m.dialstatus === 'string' ? (m as unknown as DialEvent) : other;
    case 'ChannelVarset':
      return typeof m.variable === 'string' && typeof m.value === 'string' && (m.channel === undefined || isChannel(m.channel))
        ? (m as unknown as ChannelVarsetEvent) : other;
    case 'ChannelUserevent':
      return typeof m.eventname === 'string' && isStringRecord(m.userevent) && (m.channel === undefined || isChannel(m.channel))
        ? (m as unknown as ChannelUsereventEvent) : other;
    case 'ChannelHangupRequest':
      return isChannel(m.channel) && optNumber(m.cause) && optNumber(m.tech_cause)
        ? (m as unknown as ChannelHangupRequestEvent) : other;
    case 'ChannelDestroyed':
      return isChannel(m.channel) && typeof m.cause === 'number' && optNumber(m.tech_cause)
        ? (m as unknown as ChannelDestroyedEvent) : other;
    case 'ChannelDialplan':
      return isChannel(m.channel) ? (m as unknown as ChannelDialplanEvent) : other;
    default:
      return other;
  }
}

/** The channel an event is about (Dial names it `peer`), or null for global and non-channel events. */
export function eventChannelId(ev: AriEvent): string | null {
  switch (ev.type) {
    case 'Other': return null;
    case 'Dial': return ev.peer.id;
    case 'ChannelVarset':
    case 'ChannelUserevent':
      return ev.channel?.id ?? null;
    default: return ev.channel.id;
  }
}
