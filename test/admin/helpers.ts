// Small helpers for the admin tests: JSON requests, keys with given scopes, stored audit events.
import type { TestApp } from '../helpers/app.js';

export interface JsonResponse {
  status: number;
  body: Record<string, unknown>;
  text: string;
  headers: Headers;
}

export async function call(app: TestApp, method: string, path: string, body?: unknown, key?: string | null): Promise<JsonResponse> {
  const init: RequestInit & { key?: string | null } = { method };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  if (key !== undefined) init.key = key;
  const res = await app.req(path, init);
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = {};
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Mints a key through the API with the admin key; returns its token and id. */
export async function mintKey(app: TestApp, scopes: string[], name = 'test key'): Promise<{ token: string; id: string }> {
  const r = await call(app, 'POST', '/admin/api-keys', { name, scopes });
  if (r.status !== 201) throw new Error(`could not mint a key: ${r.status} ${r.text}`);
  return { token: String(r.body.token), id: String(r.body.key_id) };
}

export async function events(app: TestApp, type?: string): Promise<{ type: string; actor: string | null; subject: string | null; data: Record<string, unknown> | null }[]> {
  let q = app.services.db.k.selectFrom('audit_events').selectAll().orderBy('seq');
  if (type) q = q.where('type', '=', type);
  const rows = await q.execute();
  return rows.map((r) => ({ type: r.type, actor: r.actor, subject: r.subject, data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null }));
}
