// API key scopes. `admin` grants every scope and lets a key see every job.
export const SCOPES = ['fax:send', 'fax:read', 'inbound:list', 'inbound:read', 'keys:manage', 'metrics:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

export function hasScope(granted: readonly string[], needed: Scope): boolean {
  return granted.includes('admin') || granted.includes(needed);
}
