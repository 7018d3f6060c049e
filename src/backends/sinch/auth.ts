// Sinch credentials: Basic keyId:keySecret, or OAuth2 client credentials with the token cached until shortly before expiry.
import { basicAuth, httpError, invalidResponse, providerFetch, ProviderError, tryJson } from '../cloud/http.js';

export const SINCH_DEFAULT_TOKEN_URL = 'https://auth.sinch.com/oauth2/token';

export interface SinchAuthConfig {
  /** SINCH_AUTH_METHOD: basic (default) or oauth. */
  method: 'basic' | 'oauth';
  /** Access key id and secret (SINCH_API_KEY, SINCH_API_SECRET). */
  keyId: string;
  keySecret: string;
  /** SINCH_AUTH_BASE_URL: the full token endpoint; default https://auth.sinch.com/oauth2/token. */
  tokenUrl?: string;
  timeoutMs?: number;
  now?: () => number;
}

export class SinchAuth {
  private token: { value: string; refreshAt: number } | null = null;
  private pending: Promise<string> | null = null;
  /** Token requests made (for tests and metrics). */
  tokenRequests = 0;

  constructor(private readonly cfg: SinchAuthConfig) {}

  get method(): 'basic' | 'oauth' {
    return this.cfg.method;
  }

  /** The Authorization header value for the next API call. */
  async header(): Promise<string> {
    if (this.cfg.method === 'basic') return basicAuth(this.cfg.keyId, this.cfg.keySecret);
    const now = (this.cfg.now ?? Date.now)();
    if (this.token && now < this.token.refreshAt) return `Bearer ${this.token.value}`;
    // One token request at a time: concurrent sends share it.
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = null;
    });
    return `Bearer ${await this.pending}`;
  }

  /** Forgets the cached token (after a 401 with it). */
  invalidate(): void {
    this.token = null;
  }

  private async fetchToken(): Promise<string> {
    this.tokenRequests++;
    const url = this.cfg.tokenUrl ?? SINCH_DEFAULT_TOKEN_URL;
    let res;
    try {
      res = await providerFetch({ provider: 'sinch-auth', timeoutMs: this.cfg.timeoutMs }, {
        method: 'POST',
        url,
        headers: {
          authorization: basicAuth(this.cfg.keyId, this.cfg.keySecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: 'grant_type=client_credentials',
      });
    } catch (err) {
      // No token, so no fax request went out: whatever happened, nothing was sent.
      if (err instanceof ProviderError) throw notSent(err);
      throw err;
    }
    if (res.status < 200 || res.status >= 300) {
      const body = tryJson(res.text) as { error_description?: unknown; error?: unknown; message?: unknown } | undefined;
      const msg = [body?.error_description, body?.message, body?.error].find((x) => typeof x === 'string') as string | undefined;
      const err = httpError('sinch-auth', res.status, res.headers, msg ?? null);
      // Refused credentials fail the attempt with a clear message; a token service in trouble sent nothing.
      throw res.status >= 500 || res.status === 429 ? notSent(err) : err;
    }
    const body = tryJson(res.text) as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (typeof body?.access_token !== 'string' || body.access_token === '') throw notSent(invalidResponse('sinch-auth', res.status, 'no access_token'));
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    // Refresh a minute early (or at 90% of a short lifetime) so a token never expires mid-request.
    const margin = Math.min(60, expiresIn * 0.1);
    this.token = { value: body.access_token, refreshAt: (this.cfg.now ?? Date.now)() + (expiresIn - margin) * 1000 };
    return body.access_token;
  }
}

function notSent(err: ProviderError): ProviderError {
  return new ProviderError({
    provider: 'sinch', status: err.status, providerMessage: err.providerMessage, retryAfterMs: err.retryAfterMs,
    message: `sinch: cannot get an OAuth token: ${err.message}`, failureClass: 'transient', sent: false, maybeCreated: false, code: err.code,
  });
}
