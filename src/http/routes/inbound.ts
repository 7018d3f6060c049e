// Inbound routes: the internal Asterisk hook, the inbound list and record, and the PDF by token or API key.
import { z } from 'zod';
import { can } from '../../auth/principal.js';
import { secretsEqual } from '../../auth/tokens.js';
import type { Audit } from '../../audit/audit.js';
import { ApiError } from '../../errors.js';
import { presentInbound } from '../../inbound/presenter.js';
import { AsteriskInboundBody, fromAsteriskBody } from '../../inbound/reports.js';
import type { InboundService } from '../../inbound/service.js';
import { INBOUND_STATUSES } from '../../inbound/types.js';
import { requireScope, routeLabel, type AuthDeps } from '../middleware/auth.js';
import type { Routes } from '../route.js';
import { IdParam, errors } from '../schemas.js';

export interface InboundRouteDeps {
  inbound: InboundService;
  audit: Audit;
  auth: AuthDeps;
  enabled: () => boolean;
  secret: () => string | undefined;
}

const HOOK_MAX_BYTES = 64 * 1024;

export const InboundFaxOutSchema = z.object({
  id: z.string().describe('Inbound fax id (UUID)'),
  fr: z.string().nullable().describe("Sender's number (masked for keys without inbound:read)"),
  to: z.string().nullable().describe('The number dialled (masked for keys without inbound:read)'),
  status: z.enum(INBOUND_STATUSES).describe('processing, received, or FAILED'),
  backend: z.string().describe('Where it came in: asterisk, freeswitch, phaxio, sinch…'),
  pages: z.number().int().nullable(),
  size_bytes: z.number().int().nullable().describe('Size of the stored PDF'),
  error: z.string().nullable().describe('Why the reception failed'),
  mailbox: z.string().nullable().describe('Mailbox from INBOUND_ROUTES'),
  remote_station_id: z.string().nullable().describe("The sender's fax station id"),
  note: z.string().nullable(),
  has_pdf: z.boolean(),
  documents_removed_at: z.string().nullable().describe('When retention removed the documents'),
  created_at: z.string(),
  received_at: z.string(),
  updated_at: z.string(),
  pdf_url: z.string().nullable().optional().describe('Tokenized PDF link (GET /inbound/{id} only), valid INBOUND_TOKEN_TTL_MINUTES'),
  pdf_url_expires_at: z.string().nullable().optional(),
});

const isoTime = z
  .string()
  .refine((s) => /^\d{4}-\d\d-\d\d([T ][\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(s) && !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date or time')
  .transform((s) => new Date(s).toISOString());

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(300).optional(),
  since: isoTime.optional().describe('received_at at or after (ISO 8601)'),
  until: isoTime.optional().describe('received_at before (ISO 8601)'),
  to_number: z.string().max(64).optional(),
  from_number: z.string().max(64).optional(),
  status: z.enum(INBOUND_STATUSES).optional(),
  mailbox: z.string().max(64).optional(),
});

const PdfQuery = z.object({ token: z.string().max(200).optional() });

function encodeCursor(receivedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([receivedAt, id]), 'utf8').toString('base64url');
}

function decodeCursor(c: string): { receivedAt: string; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return { receivedAt: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw new ApiError(400, 'invalid_cursor', 'cursor is not one this API returned (use X-Next-Cursor from the previous page)');
}

export function inboundRoutes(routes: Routes, d: InboundRouteDeps): void {
  const mustBeEnabled = () => {
    if (!d.enabled()) throw new ApiError(404, 'inbound_disabled', 'inbound faxing is not enabled on this gateway (INBOUND_ENABLED=false)');
  };

  routes.add({
    method: 'POST',
    path: '/_internal/asterisk/inbound',
    summary: 'Internal hook: Asterisk reports a received fax',
    description:
      'Posted by the shipped dialplan (asterisk-config) after ReceiveFAX. Header X-Internal-Secret must equal ASTERISK_INBOUND_SECRET ' +
      '(no secret configured: every call is refused). Every value is a string, possibly empty, as CURL() posts it. tiff_path must lie inside ' +
      'INBOUND_SPOOL_DIRS once INBOUND_SPOOL_MAP is applied and symlinks are followed. 201: this call created the record; 200: the uniqueid ' +
      'was already known and the existing record is returned (with what this call added).',
    tags: ['inbound'],
    auth: 'custom',
    headers: { 'X-Internal-Secret': 'ASTERISK_INBOUND_SECRET' },
    body: { kind: 'raw', contentTypes: ['application/json'], maxBytes: HOOK_MAX_BYTES, description: 'JSON {tiff_path, to_number, from_number, faxstatus, faxpages, uniqueid}' },
    responses: {
      201: { description: 'Recorded (received, FAILED, or processing)', schema: InboundFaxOutSchema },
      200: { description: 'Already recorded: the same record', schema: InboundFaxOutSchema },
      ...errors(400, 401, 403, 404, 413, 503),
    },
    before: [
      async (ctx, next) => {
        mustBeEnabled();
        const expected = d.secret();
        const given = ctx.get('X-Internal-Secret');
        let refusal: [number, string, string] | null = null;
        if (!expected) refusal = [403, 'internal_secret_not_configured', 'ASTERISK_INBOUND_SECRET is not set on this gateway: the hook refuses every call'];
        else if (given === '') refusal = [401, 'missing_internal_secret', 'the X-Internal-Secret header is required'];
        else if (!secretsEqual(given, expected)) refusal = [401, 'invalid_internal_secret', 'X-Internal-Secret does not match ASTERISK_INBOUND_SECRET'];
        if (refusal) {
          await d.audit.record({ type: 'inbound.hook_refused', actor: 'inbound:hook', data: { code: refusal[1], ip: ctx.ip, path: routeLabel(ctx) } });
          throw new ApiError(refusal[0], refusal[1], refusal[2]);
        }
        await next();
      },
    ],
    handler: async (ctx, { raw }) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse((raw ?? Buffer.alloc(0)).toString('utf8'));
      } catch {
        throw new ApiError(400, 'invalid_json', 'the request body is not valid JSON');
      }
      const body = AsteriskInboundBody.safeParse(parsed);
      if (!body.success) {
        const detail = body.error.issues
          .slice(0, 5)
          .map((i) => `${['body', ...i.path.map(String)].join('.')}: ${i.message}`)
          .join('; ');
        throw new ApiError(400, 'validation_error', detail);
      }
      const { fax, created } = await d.inbound.asteriskHook(fromAsteriskBody(body.data));
      ctx.status = created ? 201 : 200;
      if (!created) ctx.set('Idempotent-Replayed', 'true');
      ctx.body = presentInbound(fax, { mask: false });
    },
  });

  routes.add({
    method: 'GET',
    path: '/inbound',
    summary: 'List inbound faxes, newest first',
    description:
      'Filters: since/until (received_at), to_number, from_number (with or without +), status, mailbox. Pages by `limit` and the ' +
      'opaque `cursor` from the X-Next-Cursor header (also in Link rel="next"); ordering is stable (received_at, id). ' +
      'Numbers are masked unless the key also has inbound:read.',
    tags: ['inbound'],
    auth: 'inbound:list',
    query: ListQuery,
    headers: { 'X-Next-Cursor': 'Response: cursor of the next page (absent on the last page)' },
    responses: { 200: { description: 'Inbound faxes', schema: z.array(InboundFaxOutSchema) }, ...errors(400, 401, 403, 404, 429) },
    handler: async (ctx, { query }) => {
      mustBeEnabled();
      const rows = await d.inbound.store.list({
        since: query.since,
        until: query.until,
        toNumber: query.to_number,
        fromNumber: query.from_number,
        status: query.status,
        mailbox: query.mailbox,
        after: query.cursor ? decodeCursor(query.cursor) : undefined,
        limit: query.limit + 1,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      if (rows.length > query.limit && last) {
        const cursor = encodeCursor(last.received_at, last.id);
        ctx.set('X-Next-Cursor', cursor);
        const u = new URL(ctx.originalUrl, 'http://x');
        u.searchParams.set('cursor', cursor);
        ctx.set('Link', `<${u.pathname}${u.search}>; rel="next"`);
      }
      const mask = !can(ctx.state.principal!, 'inbound:read');
      ctx.body = page.map((f) => presentInbound(f, { mask }));
    },
  });

  routes.add({
    method: 'GET',
    path: '/inbound/:id',
    summary: 'Get one inbound fax, with a short-lived tokenized PDF link',
    tags: ['inbound'],
    auth: 'inbound:read',
    params: IdParam,
    responses: { 200: { description: 'The inbound fax', schema: InboundFaxOutSchema }, ...errors(401, 403, 404, 429) },
    handler: async (ctx, { params }) => {
      mustBeEnabled();
      const fax = await d.inbound.store.get(params.id);
      if (!fax) throw new ApiError(404, 'not_found', 'inbound fax not found');
      ctx.body = presentInbound(fax, { mask: false, pdf: await d.inbound.pdfLink(fax) });
    },
  });

  routes.add({
    method: 'GET',
    path: '/inbound/:id/pdf',
    summary: 'Download the PDF of an inbound fax (token from pdf_url, or an API key with inbound:read)',
    tags: ['inbound'],
    auth: 'custom',
    params: IdParam,
    query: PdfQuery,
    responses: {
      200: { description: 'The PDF', contentType: 'application/pdf' },
      ...errors(401, 403, 404, 429),
      410: { description: 'Removed by retention (INBOUND_RETENTION_DAYS)' },
    },
    handler: async (ctx, { params, query }) => {
      mustBeEnabled();
      let method: 'token' | 'api_key';
      if (query.token !== undefined) {
        const exists = await d.inbound.store.get(params.id);
        if (!exists) throw new ApiError(404, 'not_found', 'inbound fax not found');
        const check = await d.inbound.store.checkToken(params.id, query.token);
        if (check !== 'ok') {
          await d.audit.record({ type: 'inbound.pdf_refused', actor: null, subject: params.id, data: { reason: check, ip: ctx.ip } });
          if (check === 'expired') throw new ApiError(403, 'token_expired', 'this PDF link has expired; fetch GET /inbound/{id} for a new one');
          throw new ApiError(403, 'invalid_token', 'invalid PDF token');
        }
        method = 'token';
      } else {
        await requireScope(d.auth, 'inbound:read')(ctx, async () => undefined);
        method = 'api_key';
      }
      const fax = await d.inbound.store.get(params.id);
      if (!fax) throw new ApiError(404, 'not_found', 'inbound fax not found');
      if (!fax.pdf_path) {
        if (fax.documents_removed_at) throw new ApiError(410, 'document_removed', `the documents were removed on ${fax.documents_removed_at} (INBOUND_RETENTION_DAYS)`);
        throw new ApiError(404, 'no_document', fax.status === 'processing' ? 'the fax is still being processed' : 'this fax has no document (no page was received or the file was unreadable)');
      }
      const bytes = await readPdf(d, fax.pdf_path);
      await d.audit.record({ type: 'inbound.pdf_served', actor: ctx.state.principal?.keyId ?? null, subject: fax.id, data: { method } });
      ctx.set('Content-Disposition', `attachment; filename="inbound_${fax.id}.pdf"`);
      ctx.type = 'application/pdf';
      ctx.body = bytes;
    },
  });
}

async function readPdf(d: InboundRouteDeps, key: string): Promise<Buffer> {
  try {
    return await d.inbound.files.read(key);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ApiError(404, 'no_document', 'the stored PDF is missing');
    throw err;
  }
}
