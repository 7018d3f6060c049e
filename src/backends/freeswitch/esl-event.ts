// One FreeSWITCH event as the backend sees it (flat string headers), and the exact set we subscribe to.

/** Event headers, all strings, exactly as FreeSWITCH named them (`variable_*`, `fax-*`, `_body`, ...). */
export type EslHeaders = Readonly<Record<string, string>>;

export interface EslEvent {
  /** `Event-Name`, e.g. `CHANNEL_HANGUP_COMPLETE` or `CUSTOM`. */
  readonly name: string;
  /** `Event-Subclass` for CUSTOM events, e.g. `spandsp::txfaxresult`. */
  readonly subclass?: string;
  readonly headers: EslHeaders;
}

/**
 * What every (re)connection subscribes to, and why each is needed:
 * - BACKGROUND_JOB: the originate's answer (+OK at answer, -ERR <CAUSE> on failure); for an unknown
 *   gateway it is the only signal at all.
 * - CHANNEL_EXECUTE_COMPLETE: a missing TIFF shows only here (Application-Response), no txfaxresult.
 *   The `esl` package subscribes to it (and BACKGROUND_JOB) by itself anyway.
 * - CHANNEL_HANGUP_COMPLETE: fires for every call; carries the cause, SIP status and `variable_fax_*`,
 *   so a missed CUSTOM event can be recovered from it.
 * - spandsp::txfaxresult: the fax outcome (phase E).
 * - spandsp::txfaxpageresult: pages sent so far, reported as progress during long faxes.
 * - spandsp::rxfaxresult: inbound faxes (ingest).
 * Left out on purpose: CHANNEL_CREATE/ANSWER/HANGUP/EXECUTE (BACKGROUND_JOB +OK already means
 * answered, HANGUP_COMPLETE follows HANGUP within milliseconds) and txfaxnegociateresult (everything
 * it says is repeated on txfaxresult). Every channel on the PBX produces these events, so each
 * extra name costs traffic for every call on a shared FreeSWITCH.
 */
export const SUBSCRIBED_EVENTS = ['BACKGROUND_JOB', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP_COMPLETE'] as const;
export const SUBSCRIBED_SUBCLASSES = ['spandsp::txfaxresult', 'spandsp::txfaxpageresult', 'spandsp::rxfaxresult'] as const;

export type SubscribedEventName = (typeof SUBSCRIBED_EVENTS)[number];
export type SubscribedSubclass = (typeof SUBSCRIBED_SUBCLASSES)[number];

/** The one subscription command; CUSTOM subclasses must be named after CUSTOM or they are not delivered. */
export const SUBSCRIBE_COMMAND = `event json ${[...SUBSCRIBED_EVENTS, 'CUSTOM', ...SUBSCRIBED_SUBCLASSES].join(' ')}`;

/** `CHANNEL_HANGUP_COMPLETE`, or `spandsp::txfaxresult` for a CUSTOM event. */
export function eventKey(ev: EslEvent): string {
  return ev.name === 'CUSTOM' && ev.subclass ? ev.subclass : ev.name;
}

/**
 * A parsed `text/event-json` body → EslEvent. In JSON events every value is a string, except that a
 * repeated header becomes an array (joined here with ","). Returns null when there is no Event-Name.
 */
export function toEslEvent(body: Readonly<Record<string, unknown>>): EslEvent | null {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') headers[k] = v;
    else if (Array.isArray(v)) headers[k] = v.map(String).join(',');
    else if (v !== undefined && v !== null) headers[k] = String(v);
  }
  const name = headers['Event-Name'];
  if (!name) return null;
  const subclass = headers['Event-Subclass'];
  return subclass ? { name, subclass, headers } : { name, headers };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical 8-4-4-4-12 hex uuid (the only form we ever interpolate into a command). */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
