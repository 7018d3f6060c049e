// SignalWire settings, keyed by their environment names (a section for src/config), and the client config built from them.
import { envInt, envString } from '../../config/env-types.js';
import type { SignalWireClientConfig } from './client.js';

/** Add to the settings sections in src/config/index.ts. Names follow the reference implementation. */
export const signalWireEnvSchema = {
  /** The space host, e.g. example.signalwire.com (a full https:// URL is accepted too). */
  SIGNALWIRE_SPACE_URL: envString(),
  SIGNALWIRE_PROJECT_ID: envString(),
  SIGNALWIRE_API_TOKEN: envString(),
  /** The sending number (E.164). */
  SIGNALWIRE_FAX_FROM_E164: envString(),
  /** Key of X-SignalWire-Signature (Dashboard → API Credentials → Signing Key). */
  SIGNALWIRE_WEBHOOK_SIGNING_KEY: envString(),
  /** Ask SignalWire for the status of each fax in flight every N seconds (0 = callbacks only; the deadline still applies). */
  SIGNALWIRE_STATUS_POLL_SECONDS: envInt(300, 0, 86_400),
  /** Faxes in flight at SignalWire at most (per instance). */
  SIGNALWIRE_MAX_CONCURRENT: envInt(10, 1, 1000),
};

export const signalWireSecrets = ['SIGNALWIRE_API_TOKEN', 'SIGNALWIRE_WEBHOOK_SIGNING_KEY'] as const;

export interface SignalWireSettings {
  SIGNALWIRE_SPACE_URL?: string | undefined;
  SIGNALWIRE_PROJECT_ID?: string | undefined;
  SIGNALWIRE_API_TOKEN?: string | undefined;
  SIGNALWIRE_FAX_FROM_E164?: string | undefined;
  SIGNALWIRE_WEBHOOK_SIGNING_KEY?: string | undefined;
  SIGNALWIRE_STATUS_POLL_SECONDS: number;
  SIGNALWIRE_MAX_CONCURRENT?: number;
}

export function signalWireMissing(s: SignalWireSettings): string[] {
  return (['SIGNALWIRE_SPACE_URL', 'SIGNALWIRE_PROJECT_ID', 'SIGNALWIRE_API_TOKEN', 'SIGNALWIRE_FAX_FROM_E164'] as const).filter((k) => !s[k]);
}

export function signalWireClientConfig(s: SignalWireSettings, extra: Partial<SignalWireClientConfig> = {}): SignalWireClientConfig {
  return {
    spaceUrl: s.SIGNALWIRE_SPACE_URL ?? '',
    projectId: s.SIGNALWIRE_PROJECT_ID ?? '',
    apiToken: s.SIGNALWIRE_API_TOKEN ?? '',
    from: s.SIGNALWIRE_FAX_FROM_E164 ?? '',
    ...extra,
  };
}

/** The keys a callback may be signed with: the Signing Key, then the API token (older setups). */
export function signalWireSigningKeys(s: SignalWireSettings): (string | undefined)[] {
  return [s.SIGNALWIRE_WEBHOOK_SIGNING_KEY, s.SIGNALWIRE_API_TOKEN];
}
