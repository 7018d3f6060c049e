// ARI wire shapes as Asterisk 20.20.1 sends them: timestamps, channel snapshots, cause texts.

/** Asterisk's timestamp format: "2026-11-27T11:19:26.756+0000". */
export function astTime(d = new Date()): string {
  return d.toISOString().replace('Z', '+0000');
}

/** Q.850 cause → Asterisk's description text (main/channel.c causes table), as ChannelDestroyed.cause_txt. */
export const CAUSE_TXT: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'Unallocated (unassigned) number',
  16: 'Normal Clearing',
  17: 'User busy',
  19: 'User alerting, no answer',
  21: 'Call Rejected',
  34: 'Circuit/channel congestion',
  58: 'Bearer capability not available',
};

export interface SimChannelSnapshotSource {
  id: string;
  name: string;
  state: string;
  protocolId: string;
  caller: { name: string; number: string };
  connected: { name: string; number: string };
  dialplan: { context: string; exten: string; priority: number; app_name: string; app_data: string };
  creationtime: string;
}

/** A channel object exactly as ARI serialises it (field order included). */
export function channelJson(c: SimChannelSnapshotSource): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    state: c.state,
    protocol_id: c.protocolId,
    caller: { ...c.caller },
    connected: { ...c.connected },
    accountcode: '',
    dialplan: { ...c.dialplan },
    creationtime: c.creationtime,
    language: 'en',
  };
}

/** Parses `"Name" <number>` / `<number>` / `number` the way Asterisk's callerid parser does for our inputs. */
export function parseCallerId(s: string | undefined): { name: string; number: string } {
  if (!s) return { name: '', number: '' };
  const m = /^\s*(?:"([^"]*)"|([^<]*?))\s*<([^>]*)>\s*$/.exec(s);
  if (m) return { name: (m[1] ?? m[2] ?? '').trim(), number: m[3]!.trim() };
  return { name: '', number: s.trim() };
}

/** The dialled number in `PJSIP/<number>@trunk` or `PJSIP/trunk/sip:<number>@host`. */
export function numberFromEndpoint(endpoint: string): { tech: string; resource: string; number: string } | null {
  const slash = endpoint.indexOf('/');
  if (slash <= 0) return null;
  const tech = endpoint.slice(0, slash);
  const resource = endpoint.slice(slash + 1);
  if (resource === '') return null;
  const sip = /sip:([^@;]+)@/.exec(resource);
  const number = sip ? sip[1]! : resource.split('@')[0]!;
  return { tech, resource, number };
}
