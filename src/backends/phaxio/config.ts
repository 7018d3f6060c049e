// Phaxio settings, keyed by their environment names (a section for src/config), and the client config built from them.
import { envBool, envEnum, envInt, envString, envUrl } from '../../config/env-types.js';
import { PHAXIO_DEFAULT_BASE_URL, type PhaxioClientConfig } from './client.js';

/** Add to the settings sections in src/config/index.ts. */
export const phaxioEnvSchema = {
  PHAXIO_API_KEY: envString(),
  PHAXIO_API_SECRET: envString(),
  /** The webhook token from the Phaxio console: key of Phaxio's own HMAC-SHA1 callback signature. */
  PHAXIO_CALLBACK_TOKEN: envString(),
  PHAXIO_BASE_URL: envUrl(PHAXIO_DEFAULT_BASE_URL),
  /** Verify X-Phaxio-Signature on /phaxio-callback. */
  PHAXIO_VERIFY_SIGNATURE: envBool(true),
  /** Verify X-Phaxio-Signature on /phaxio-inbound. */
  PHAXIO_INBOUND_VERIFY_SIGNATURE: envBool(true),
  /** How Phaxio gets the PDF: upload (a file part; works behind NAT) or url (Phaxio fetches PUBLIC_API_URL/fax/{id}/pdf?token=…). */
  PHAXIO_DOCUMENT_MODE: envEnum(['upload', 'url'] as const, 'upload'),
  /** Faxes in flight at Phaxio at most (per instance). */
  PHAXIO_MAX_CONCURRENT: envInt(10, 1, 1000),
  /** Ask Phaxio for the status of each fax in flight every N seconds (0 = callbacks only; the deadline still applies). */
  PHAXIO_STATUS_POLL_SECONDS: envInt(300, 0, 86_400),
};

export const phaxioSecrets = ['PHAXIO_API_KEY', 'PHAXIO_API_SECRET', 'PHAXIO_CALLBACK_TOKEN'] as const;

export interface PhaxioSettings {
  PHAXIO_API_KEY?: string | undefined;
  PHAXIO_API_SECRET?: string | undefined;
  PHAXIO_CALLBACK_TOKEN?: string | undefined;
  PHAXIO_BASE_URL?: string | undefined;
  PHAXIO_VERIFY_SIGNATURE: boolean;
  PHAXIO_INBOUND_VERIFY_SIGNATURE: boolean;
  PHAXIO_DOCUMENT_MODE?: 'upload' | 'url';
  PHAXIO_MAX_CONCURRENT?: number;
  PHAXIO_STATUS_POLL_SECONDS?: number;
}

/** Names of settings the Phaxio backend cannot start without (for a start-up error or readiness). */
export function phaxioMissing(s: PhaxioSettings): string[] {
  const missing: string[] = [];
  if (!s.PHAXIO_API_KEY) missing.push('PHAXIO_API_KEY');
  if (!s.PHAXIO_API_SECRET) missing.push('PHAXIO_API_SECRET');
  if ((s.PHAXIO_VERIFY_SIGNATURE || s.PHAXIO_INBOUND_VERIFY_SIGNATURE) && !s.PHAXIO_CALLBACK_TOKEN && !s.PHAXIO_API_SECRET) {
    missing.push('PHAXIO_CALLBACK_TOKEN');
  }
  return missing;
}

export function phaxioClientConfig(s: PhaxioSettings, extra: Partial<PhaxioClientConfig> = {}): PhaxioClientConfig {
  return {
    apiKey: s.PHAXIO_API_KEY ?? '',
    apiSecret: s.PHAXIO_API_SECRET ?? '',
    baseUrl: s.PHAXIO_BASE_URL ?? PHAXIO_DEFAULT_BASE_URL,
    ...extra,
  };
}
