// Sending one signed webhook: JSON body, X-Faxbot-Signature over its raw bytes, a time limit, no redirects.
import { SIGNATURE_HEADER, signWebhook } from './signature.js';

export interface SignedPost {
  url: string;
  secret: string;
  body: string;
  event: string;
  eventId: string;
  userAgent: string;
  timeoutMs: number;
}

/** Null when the receiver answered 2xx; otherwise a short reason (for the record and the retry log). */
export async function postSigned(p: SignedPost, fetchImpl: typeof fetch = fetch): Promise<string | null> {
  try {
    const res = await fetchImpl(p.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': p.userAgent,
        [SIGNATURE_HEADER]: signWebhook(p.secret, p.body, Math.floor(Date.now() / 1000)),
        'X-Faxbot-Event': p.event,
        'X-Faxbot-Event-Id': p.eventId,
      },
      body: p.body,
      // A redirect is not a delivery: the receiver must answer at the URL it gave.
      redirect: 'manual',
      signal: AbortSignal.timeout(p.timeoutMs),
    });
    // Read (and drop) the answer so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status <= 299 ? null : `HTTP ${res.status}`;
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; code?: string };
    return e.name === 'TimeoutError' ? `no answer within ${p.timeoutMs} ms` : (e.cause?.code ?? e.code ?? e.name ?? 'request failed');
  }
}
