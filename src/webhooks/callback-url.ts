// Checks a client's callback_url: http(s), no credentials in it, not too long, and on the allowed hosts.

export type CallbackUrlCheck = { ok: true; url: string } | { ok: false; code: string; reason: string };

export function checkCallbackUrl(raw: string, allowedHosts: readonly string[], secretConfigured: boolean): CallbackUrlCheck {
  if (!secretConfigured) {
    return { ok: false, code: 'callbacks_not_configured', reason: 'status callbacks are not enabled on this server (FAX_CALLBACK_SECRET is not set)' };
  }
  const s = raw.trim();
  if (s.length > 2048) return { ok: false, code: 'invalid_callback_url', reason: 'callback_url is longer than 2048 characters' };
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return { ok: false, code: 'invalid_callback_url', reason: 'callback_url is not a URL' };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return { ok: false, code: 'invalid_callback_url', reason: 'callback_url must be http:// or https://' };
  if (u.username || u.password) return { ok: false, code: 'invalid_callback_url', reason: 'callback_url must not carry credentials' };
  const host = u.hostname.toLowerCase();
  if (allowedHosts.length > 0) {
    const allowed = allowedHosts.some((h) => {
      const a = h.toLowerCase();
      return a.startsWith('.') ? host === a.slice(1) || host.endsWith(a) : host === a;
    });
    // Callbacks are requests this server makes: without a limit a client could aim them at internal services.
    if (!allowed) return { ok: false, code: 'callback_host_not_allowed', reason: 'callback_url points to a host not in FAX_CALLBACK_ALLOWED_HOSTS' };
  }
  return { ok: true, url: u.toString() };
}
