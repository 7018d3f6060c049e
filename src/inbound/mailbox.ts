// Routing a received fax to a mailbox by the number it was sent to (INBOUND_ROUTES).

export interface MailboxRoute {
  /** Digits only; empty for the catch-all. */
  digits: string;
  /** True for `<prefix>*` and the catch-all `*`. */
  prefix: boolean;
  mailbox: string;
}

const MAILBOX_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * `+15551230000=billing,+1555123*=clinic,*=frontdesk`: an exact number, a prefix ending in `*`, or `*`
 * alone (the default). Numbers compare by their digits, so `+1555…` and `1555…` are the same number.
 */
export function parseRoutes(v: string): MailboxRoute[] | string {
  const out: MailboxRoute[] = [];
  for (const raw of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const i = raw.lastIndexOf('=');
    const pattern = i < 0 ? '' : raw.slice(0, i).trim();
    const mailbox = i < 0 ? '' : raw.slice(i + 1).trim();
    if (!MAILBOX_RE.test(mailbox)) return `"${raw}": the mailbox after "=" must be 1-64 letters, digits, ".", "_" or "-"`;
    const m = /^\+?([0-9][0-9 .()-]*)?(\*)?$/.exec(pattern);
    if (pattern === '' || !m || (m[1] === undefined && m[2] === undefined)) {
      return `"${raw}": expected <number>=<mailbox>, <prefix>*=<mailbox> or *=<mailbox>`;
    }
    out.push({ digits: (m[1] ?? '').replace(/\D/g, ''), prefix: m[2] !== undefined, mailbox });
  }
  return out;
}

/** The mailbox for a dialled number: an exact match, else the longest matching prefix, else the catch-all; null if none. */
export function routeMailbox(routes: readonly MailboxRoute[], toNumber: string | null | undefined): string | null {
  const digits = (toNumber ?? '').replace(/\D/g, '');
  let best: MailboxRoute | null = null;
  for (const r of routes) {
    if (!r.prefix) {
      if (digits !== '' && r.digits === digits) return r.mailbox;
      continue;
    }
    if (!digits.startsWith(r.digits)) continue;
    if (r.digits === '' && digits === '' && best !== null) continue;
    if (best === null || r.digits.length > best.digits.length) best = r;
  }
  return best?.mailbox ?? null;
}
