// Sinch settings, keyed by their environment names (a section for src/config), and the client config built from them.
import { envEnum, envInt, envString, envUrl } from '../../config/env-types.js';
import { SINCH_DEFAULT_TOKEN_URL } from './auth.js';
import { SINCH_DEFAULT_BASE_URL, type SinchClientConfig } from './client.js';

/** Add to the settings sections in src/config/index.ts. */
export const sinchEnvSchema = {
  SINCH_PROJECT_ID: envString(),
  /** Access key id (the username of Basic, the client id of OAuth). */
  SINCH_API_KEY: envString(),
  SINCH_API_SECRET: envString(),
  SINCH_BASE_URL: envUrl(SINCH_DEFAULT_BASE_URL),
  SINCH_AUTH_METHOD: envEnum(['basic', 'oauth'] as const, 'basic'),
  /** The OAuth2 token endpoint (full URL). */
  SINCH_AUTH_BASE_URL: envUrl(SINCH_DEFAULT_TOKEN_URL),
  SINCH_INBOUND_BASIC_USER: envString(),
  SINCH_INBOUND_BASIC_PASS: envString(),
  SINCH_INBOUND_HMAC_SECRET: envString(),
  /** How Sinch gets the PDF: upload (base64 in the JSON request) or url (Sinch fetches PUBLIC_API_URL/fax/{id}/pdf?token=…). */
  SINCH_DOCUMENT_MODE: envEnum(['upload', 'url'] as const, 'upload'),
  /** Faxes in flight at Sinch at most (per instance). */
  SINCH_MAX_CONCURRENT: envInt(10, 1, 1000),
  /** Ask Sinch for the status of each fax in flight every N seconds (0 = callbacks only; the deadline still applies). */
  SINCH_STATUS_POLL_SECONDS: envInt(300, 0, 86_400),
};

export const sinchSecrets = ['SINCH_API_SECRET', 'SINCH_INBOUND_BASIC_PASS', 'SINCH_INBOUND_HMAC_SECRET'] as const;

export interface SinchSettings {
  SINCH_PROJECT_ID?: string | undefined;
  SINCH_API_KEY?: string | undefined;
  SINCH_API_SECRET?: string | undefined;
  SINCH_BASE_URL?: string | undefined;
  SINCH_AUTH_METHOD: 'basic' | 'oauth';
  SINCH_AUTH_BASE_URL?: string | undefined;
  SINCH_INBOUND_BASIC_USER?: string | undefined;
  SINCH_INBOUND_BASIC_PASS?: string | undefined;
  SINCH_INBOUND_HMAC_SECRET?: string | undefined;
  SINCH_DOCUMENT_MODE?: 'upload' | 'url';
  SINCH_MAX_CONCURRENT?: number;
  SINCH_STATUS_POLL_SECONDS?: number;
}

export function sinchMissing(s: SinchSettings): string[] {
  const missing: string[] = [];
  if (!s.SINCH_PROJECT_ID) missing.push('SINCH_PROJECT_ID');
  if (!s.SINCH_API_KEY) missing.push('SINCH_API_KEY');
  if (!s.SINCH_API_SECRET) missing.push('SINCH_API_SECRET');
  // Half a Basic pair would silently disable the check.
  if (!!s.SINCH_INBOUND_BASIC_USER !== !!s.SINCH_INBOUND_BASIC_PASS) {
    missing.push(s.SINCH_INBOUND_BASIC_USER ? 'SINCH_INBOUND_BASIC_PASS' : 'SINCH_INBOUND_BASIC_USER');
  }
  return missing;
}

export function sinchClientConfig(s: SinchSettings, extra: Partial<SinchClientConfig> = {}): SinchClientConfig {
  return {
    projectId: s.SINCH_PROJECT_ID ?? '',
    baseUrl: s.SINCH_BASE_URL ?? SINCH_DEFAULT_BASE_URL,
    auth: {
      method: s.SINCH_AUTH_METHOD,
      keyId: s.SINCH_API_KEY ?? '',
      keySecret: s.SINCH_API_SECRET ?? '',
      tokenUrl: s.SINCH_AUTH_BASE_URL ?? SINCH_DEFAULT_TOKEN_URL,
    },
    ...extra,
  };
}
