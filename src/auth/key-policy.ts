// Who may mint, revoke and rotate which keys: `admin` may do anything; `keys:manage` only below itself.
import { isAdmin, type Principal } from './principal.js';

/** Scopes that only an `admin` key may hand out, or act on: holding them is holding the key service. */
export const PRIVILEGED_SCOPES: readonly string[] = ['admin', 'keys:manage'];

const privileged = (scopes: readonly string[]) => scopes.filter((s) => PRIVILEGED_SCOPES.includes(s));

/** Why `p` may not create a key with `scopes`, or null when it may. */
export function refuseGrant(p: Principal, scopes: readonly string[]): string | null {
  if (isAdmin(p)) return null;
  const bad = privileged(scopes);
  return bad.length > 0 ? `only an admin key may grant ${bad.map((s) => `"${s}"`).join(' and ')}` : null;
}

/**
 * Why `p` may not revoke or rotate the key `targetId` holding `targetScopes`, or null when it may.
 * A `keys:manage` key may act on itself (rotating its own token escalates nothing) but not on another
 * privileged key: rotating an admin key would hand it that admin's new token.
 */
export function refuseManage(p: Principal, targetId: string, targetScopes: readonly string[]): string | null {
  if (isAdmin(p) || p.keyId === targetId) return null;
  const bad = privileged(targetScopes);
  return bad.length > 0 ? `only an admin key may revoke or rotate a key holding ${bad.map((s) => `"${s}"`).join(' or ')}` : null;
}
