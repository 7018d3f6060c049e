// Settings for the status webhooks API clients ask for with callback_url on POST /fax.
import { envInt, envList, envString } from '../config/env-types.js';

export const webhookEnvSchema = {
  /** Key of X-Faxbot-Signature on status callbacks; without it callback_url is refused. */
  FAX_CALLBACK_SECRET: envString(),
  /** Hosts callbacks may go to (exact, or ".example.org" for a domain and its subdomains); empty = any. */
  FAX_CALLBACK_ALLOWED_HOSTS: envList(),
  FAX_CALLBACK_TIMEOUT_SECONDS: envInt(10, 1, 300),
  FAX_CALLBACK_MAX_ATTEMPTS: envInt(15, 1, 100),
  FAX_CALLBACK_BACKOFF_SECONDS: envInt(5, 1, 3600),
  FAX_CALLBACK_BACKOFF_MAX_SECONDS: envInt(1800, 1, 86_400),
  FAX_CALLBACK_POLL_MS: envInt(1000, 20, 60_000),
};

export const webhookSecrets = ['FAX_CALLBACK_SECRET'] as const;
