// The audit event as sinks and the admin API show it, the syslog severity of each type, and the last line of PHI defence.
import { maskNumber } from '../log.js';
import type { StoredAuditEvent } from './audit.js';

export interface AuditEventOut {
  seq?: number;
  ts: string;
  type: string;
  actor: string | null;
  subject: string | null;
  instance_id: string | null;
  data: Record<string, unknown> | null;
}

export function eventOut(e: StoredAuditEvent, seq?: number): AuditEventOut {
  return {
    ...(seq !== undefined ? { seq } : {}),
    ts: e.ts,
    type: e.type,
    actor: e.actor ?? null,
    subject: e.subject ?? null,
    instance_id: e.instanceId,
    data: e.data ?? null,
  };
}

export function jsonLine(e: AuditEventOut): string {
  return JSON.stringify(e);
}

export function textLine(e: AuditEventOut): string {
  const kv = Object.entries(e.data ?? {}).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [e.ts, e.type, `actor=${e.actor ?? '-'}`, `subject=${e.subject ?? '-'}`, ...kv].join(' ');
}

/** Refusals and failures are warnings (auth.failed, *.refused, *.signature_invalid), admin changes notices, the rest info. */
export function severityOf(type: string): 'warning' | 'notice' | 'info' {
  if (type.startsWith('auth.') || /(refused|invalid|rejected|bad_signature)/.test(type)) return 'warning';
  if (/^(key|settings|plugin|admin)\./.test(type) && type !== 'admin.access') return 'notice';
  return 'info';
}

const SECRET_KEY = /(token|secret|password|passwd|api_?key|authorization|credential)/i;
const WHOLE_NUMBER = /^\+?[\d(][\d ().-]{5,}\d$/;
const NOT_A_NUMBER = /^(\d{1,3}(\.\d{1,3}){3}|\d{4}-\d\d-\d\d)$/; // an IPv4 address or a date

/**
 * A last line of defence applied to event data before it is stored: a value that is a whole phone number is
 * masked, and a field named like a credential is dropped to "[redacted]". Recorders must not rely on it.
 */
export function scrubData(data: Record<string, unknown>): Record<string, unknown> {
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') {
      const t = v.trim();
      return WHOLE_NUMBER.test(t) && !NOT_A_NUMBER.test(t) && t.replace(/\D/g, '').length >= 6 ? maskNumber(t) : v;
    }
    if (depth > 5 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = SECRET_KEY.test(k) && typeof x === 'string' ? '[redacted]' : walk(x, depth + 1);
    return out;
  };
  return walk(data, 0) as Record<string, unknown>;
}
