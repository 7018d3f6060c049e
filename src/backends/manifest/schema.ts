// The JSON manifest that describes an HTTP fax provider: its zod schema (strict: unknown keys are errors) and types.
import { z } from 'zod';

/** Backend names a manifest id may not take. */
export const BUILT_IN_BACKENDS = ['sandbox', 'sip', 'asterisk', 'freeswitch', 'phaxio', 'sinch', 'signalwire'] as const;

export const JOB_STATUSES = ['queued', 'in_progress', 'SUCCESS', 'FAILED'] as const;
export type MappedStatus = (typeof JOB_STATUSES)[number];

const template = z.string();
const selector = z.string();
const headers = z.record(z.string(), template);

const setting = z.strictObject({
  /** The environment variable holding the value. */
  env: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'expected an environment variable name in capitals, e.g. ACME_API_KEY'),
  /** Default when the variable is unset. */
  default: z.string().optional(),
  /** Default true (unless a default is given): the provider cannot be used without it. */
  required: z.boolean().optional(),
  /** Masked in admin views, never logged. */
  secret: z.boolean().optional(),
});

const auth = z.discriminatedUnion('scheme', [
  z.strictObject({ scheme: z.literal('none') }),
  z.strictObject({ scheme: z.literal('basic'), username: template, password: template }),
  z.strictObject({ scheme: z.literal('bearer'), token: template }),
  z.strictObject({ scheme: z.literal('header'), name: z.string().regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name'), value: template }),
  z.strictObject({ scheme: z.literal('query'), name: z.string().min(1), value: template }),
]);

/** JSON body values: templates in strings, other JSON kept as is. */
export type JsonTemplate = string | number | boolean | null | JsonTemplate[] | { [k: string]: JsonTemplate };
const jsonTemplate: z.ZodType<JsonTemplate> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonTemplate), z.record(z.string(), jsonTemplate)]),
);

const body = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('json'), fields: z.record(z.string(), jsonTemplate) }),
  z.strictObject({ type: z.literal('form'), fields: z.record(z.string(), template) }),
  z.strictObject({
    type: z.literal('multipart'),
    fields: z.record(z.string(), template),
    file: z.strictObject({
      field: z.string().min(1),
      filename: template.optional(),
      contentType: z.string().optional(),
    }).optional(),
  }),
]);

const method = z.enum(['GET', 'POST', 'PUT', 'PATCH']);

const send = z.strictObject({
  method,
  url: template,
  /** "url": the provider fetches {{document_url}}; "upload": we send the PDF (multipart file or {{document_base64}}). */
  document: z.enum(['url', 'upload']),
  headers: headers.optional(),
  body: body.optional(),
  timeoutSeconds: z.number().int().min(1).max(300).optional(),
  response: z.strictObject({
    providerId: selector,
    status: selector.optional(),
    error: selector.optional(),
  }),
});

const statusSection = z.strictObject({
  /** Provider status → queued | in_progress | SUCCESS | FAILED, or {status: FAILED, failureClass}. */
  map: z.record(z.string(), z.unknown()),
  /** Class of a FAILED status that names none (default permanent: never retried). */
  defaultFailureClass: z.string().optional(),
});

const poll = z.strictObject({
  method,
  url: template,
  headers: headers.optional(),
  intervalSeconds: z.number().int().min(5).max(86_400).optional(),
  timeoutSeconds: z.number().int().min(1).max(300).optional(),
  response: z.strictObject({
    status: selector,
    pages: selector.optional(),
    error: selector.optional(),
  }),
});

/** Optional: list the provider's faxes of a job, to find a send whose answer was lost (findExisting). */
const find = z.strictObject({
  method,
  url: template,
  headers: headers.optional(),
  timeoutSeconds: z.number().int().min(1).max(300).optional(),
  response: z.strictObject({
    /** The array of faxes in the answer. */
    items: selector,
    /** Within one item: */
    providerId: selector,
    attempt: selector,
    jobId: selector.optional(),
    status: selector.optional(),
  }),
});

const signature = z.strictObject({
  header: z.string().regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name'),
  algorithm: z.enum(['sha1', 'sha256', 'sha512']),
  encoding: z.enum(['hex', 'base64']),
  /** The setting (see settings) holding the secret. */
  secretSetting: z.string(),
  /** Text before the digest in the header, e.g. "sha256=". */
  prefix: z.string().optional(),
  /** What is signed: the raw body (default), or the callback URL followed by the raw body. */
  payload: z.enum(['body', 'url+body']).optional(),
});

const callback = z.strictObject({
  format: z.enum(['json', 'form']),
  /** Where our job id is; without it, the callback URL's job_id query parameter is used. */
  jobId: selector.optional(),
  attempt: selector.optional(),
  providerId: selector.optional(),
  status: selector,
  pages: selector.optional(),
  error: selector.optional(),
  signature: signature.optional(),
});

export const manifestSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected lower-case letters, digits, - and _ (at most 64), starting with a letter or digit'),
  name: z.string().min(1),
  description: z.string().optional(),
  settings: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'expected a setting name in capitals'), setting).optional(),
  auth,
  send,
  status: statusSection,
  poll: poll.optional(),
  find: find.optional(),
  callback: callback.optional(),
  /** Where a provider's error message is in its error bodies (default: $.message, $.error.message, $.error, $.detail). */
  errorMessage: selector.optional(),
});

export type ManifestJson = z.output<typeof manifestSchema>;
export type ManifestAuth = ManifestJson['auth'];
export type ManifestBody = NonNullable<ManifestJson['send']['body']>;
