// Who is calling: the API key behind a request (or the anonymous caller when keys are not required).
import { hasScope, type Scope } from './scopes.js';

export interface Principal {
  /** Key id; 'env' for the bootstrap API_KEY; null for an anonymous caller (REQUIRE_API_KEY=false, no key sent). */
  keyId: string | null;
  name: string;
  scopes: readonly string[];
  /** Requests per minute for this key; 0 = unlimited. */
  rateLimitPerMinute: number;
}

export const isAdmin = (p: Principal): boolean => p.scopes.includes('admin');
export const can = (p: Principal, s: Scope): boolean => hasScope(p.scopes, s);

/** The owner id stored on jobs and idempotency keys ('' for anonymous). */
export const ownerId = (p: Principal): string => p.keyId ?? '';
