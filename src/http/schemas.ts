// Zod schemas shared by route declarations: error bodies and the API's models.
import { z } from 'zod';

export const ErrorBody = z.object({
  detail: z.string().describe('What went wrong, for a person'),
  code: z.string().describe('Stable machine-readable code'),
});

export const FaxJobOutSchema = z.object({
  id: z.string().describe('Job id (UUID)'),
  to: z.string().describe('Destination number as normalised'),
  status: z.enum(['queued', 'in_progress', 'SUCCESS', 'FAILED', 'disabled']),
  error: z.string().nullable().describe('Why the last attempt failed, or why the job failed'),
  pages: z.number().int().nullable(),
  backend: z.string().describe('sandbox, sip, freeswitch, phaxio, sinch, signalwire or a manifest id'),
  provider_sid: z.string().nullable().describe('The PBX channel or provider fax id of the current attempt'),
  created_at: z.string().describe('ISO 8601 UTC'),
  updated_at: z.string().describe('ISO 8601 UTC'),
});

/** The error responses most routes share. */
export function errors(...codes: (400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503)[]): Record<number, { description: string; schema: typeof ErrorBody }> {
  const text: Record<number, string> = {
    400: 'Invalid input',
    401: 'Missing or invalid API key',
    403: 'The API key lacks the scope',
    404: 'Not found',
    409: 'Conflict',
    413: 'Body too large',
    415: 'Unsupported media type',
    429: 'Rate limit exceeded (see Retry-After)',
    503: 'Not ready',
  };
  return Object.fromEntries(codes.map((c) => [c, { description: text[c]!, schema: ErrorBody }]));
}

export const IdParam = z.object({ id: z.string().min(1).max(200) });
