// Loads and validates manifests: every error names the file and the field path; an invalid manifest is refused whole.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { FAILURE_CLASSES, type FailureClass } from '../types.js';
import { BUILT_IN_BACKENDS, JOB_STATUSES, manifestSchema, type JsonTemplate, type ManifestJson, type MappedStatus } from './schema.js';
import { parseSelector } from './select.js';
import { parseTemplate, REQUEST_VARS, refsOf } from './template.js';

export class ManifestError extends Error {
  /** One line per problem: "<file>: <field path>: <what is wrong>". */
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`Invalid manifest:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ManifestError';
    this.issues = issues;
  }
}

export interface StatusRule {
  status: MappedStatus;
  failureClass: FailureClass | null;
}

/** A manifest that passed every check, with its status map resolved. */
export interface Manifest {
  /** Where it came from (for messages). */
  source: string;
  json: ManifestJson;
  statusMap: ReadonlyMap<string, StatusRule>;
  defaultFailureClass: FailureClass;
}

function key(k: string | number): string {
  if (typeof k === 'number') return `[${k}]`;
  return /^[A-Za-z_$][\w$-]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

/** "send.body.fields.to", "settings.API_KEY.env", "status.map[\"no answer\"]". */
export function pathText(path: readonly PropertyKey[]): string {
  const s = path.map((p) => key(typeof p === 'symbol' ? String(p) : p)).join('');
  return s.startsWith('.') ? s.slice(1) : s === '' ? '(root)' : s;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** zod issues → "path: message" in the manifest's own words. */
function zodIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const i of issues) {
    const where = pathText(i.path);
    const input = (i as { input?: unknown }).input;
    switch (i.code) {
      case 'invalid_type': {
        if (input === undefined) out.push(`${where}: required`);
        else {
          const expected = i.expected === 'int' ? 'an integer' : i.expected;
          out.push(`${where}: expected ${expected}, got ${kind(input)}`);
        }
        break;
      }
      case 'unrecognized_keys':
        for (const k of i.keys) out.push(`${pathText([...i.path, k])}: unknown key`);
        break;
      case 'invalid_value':
        out.push(`${where}: expected one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(input)}`);
        break;
      case 'invalid_union': {
        // A discriminated union names its discriminator in the path (auth.scheme, send.body.type).
        const m = /Expected (.+)$/.exec(i.message);
        const got = i.path.length > 0 && input && typeof input === 'object' ? (input as Record<string, unknown>)[String(i.path[i.path.length - 1])] : undefined;
        if (m && m[1]) {
          const options = m[1].split('|').map((s) => `"${s.trim().replace(/^'|'$/g, '')}"`).join(', ');
          out.push(got === undefined ? `${where}: required (one of ${options})` : `${where}: expected one of ${options}, got ${JSON.stringify(got)}`);
        } else out.push(`${where}: not a valid value`);
        break;
      }
      case 'too_small':
        out.push(`${where}: ${i.origin === 'string' ? `at least ${String(i.minimum)} character(s)` : `at least ${String(i.minimum)}`}`);
        break;
      case 'too_big':
        out.push(`${where}: ${i.origin === 'string' ? `at most ${String(i.maximum)} character(s)` : `at most ${String(i.maximum)}`}`);
        break;
      case 'invalid_key':
        out.push(`${where}: bad key (${i.issues.map((x) => x.message).join('; ')})`);
        break;
      default:
        out.push(`${where}: ${i.message}`);
    }
  }
  return out;
}

type Ctx = 'auth' | 'send' | 'poll' | 'find';

const ALLOWED: Record<Ctx, readonly string[]> = {
  auth: [],
  send: REQUEST_VARS.filter((v) => v !== 'provider_id'),
  poll: ['provider_id', 'job_id', 'attempt', 'to'],
  find: ['job_id', 'attempt', 'to'],
};

/** The checks zod cannot express: placeholders, URL templates, selectors, the status map, cross-references. */
function semanticIssues(m: ManifestJson): string[] {
  const out: string[] = [];
  const settings = m.settings ?? {};

  if ((BUILT_IN_BACKENDS as readonly string[]).includes(m.id)) out.push(`id: "${m.id}" is a built-in backend name`);

  const sendRefs = new Set<string>();
  const checkTemplate = (where: string, s: string, ctx: Ctx): void => {
    const parts = parseTemplate(s);
    if (typeof parts === 'string') {
      out.push(`${where}: ${parts}`);
      return;
    }
    for (const ref of refsOf(parts)) {
      if (ctx === 'send') sendRefs.add(ref);
      if (ref.startsWith('settings.')) {
        const name = ref.slice('settings.'.length);
        if (!(name in settings)) out.push(`${where}: unknown setting "${name}" in {{${ref}}} (declare it under settings)`);
        continue;
      }
      if (!ALLOWED[ctx].includes(ref)) {
        out.push(`${where}: unknown placeholder {{${ref}}}${ctx === 'auth' ? ' (auth values may only use {{settings.NAME}})' : ''}`);
        continue;
      }
      if (ref === 'document_url' && m.send.document !== 'url') out.push(`${where}: {{document_url}} needs send.document "url"`);
      if (ref === 'document_base64' && m.send.document !== 'upload') out.push(`${where}: {{document_base64}} needs send.document "upload"`);
    }
  };

  const checkUrl = (where: string, s: string, ctx: Ctx): void => {
    const before = out.length;
    checkTemplate(where, s, ctx);
    if (out.length > before) return;
    const lead = /^\{\{\s*settings\.([A-Z][A-Z0-9_]*)\s*\}\}/.exec(s);
    if (!/^https?:\/\//i.test(s) && !lead) {
      out.push(`${where}: must be an absolute http(s) URL or start with {{settings.NAME}}`);
      return;
    }
    const sample = s.replace(/\{\{\s*settings\.([A-Z][A-Z0-9_]*)\s*\}\}/g, (_all, name: string) => settings[name]?.default ?? 'https://setting.example').replace(/\{\{[^}]*\}\}/g, 'x');
    try {
      const u = new URL(sample);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') out.push(`${where}: must be an http(s) URL`);
    } catch {
      out.push(`${where}: not a valid URL template ("${s.slice(0, 60)}")`);
    }
  };

  const checkJson = (where: string, v: JsonTemplate): void => {
    if (typeof v === 'string') checkTemplate(where, v, 'send');
    else if (Array.isArray(v)) v.forEach((x, i) => checkJson(`${where}[${i}]`, x));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) checkJson(`${where}${key(k)}`, x);
  };

  const checkSelector = (where: string, s: string | undefined): void => {
    if (s === undefined) return;
    const r = parseSelector(s);
    if (typeof r === 'string') out.push(`${where}: ${r}`);
  };

  // auth
  const a = m.auth;
  if (a.scheme === 'basic') {
    checkTemplate('auth.username', a.username, 'auth');
    checkTemplate('auth.password', a.password, 'auth');
  } else if (a.scheme === 'bearer') checkTemplate('auth.token', a.token, 'auth');
  else if (a.scheme === 'header' || a.scheme === 'query') checkTemplate('auth.value', a.value, 'auth');

  // send
  const s = m.send;
  checkUrl('send.url', s.url, 'send');
  for (const [h, v] of Object.entries(s.headers ?? {})) checkTemplate(`send.headers${key(h)}`, v, 'send');
  if (s.body) {
    if (s.method === 'GET') out.push('send.body: a GET request has no body');
    if (s.body.type === 'json') checkJson('send.body.fields', s.body.fields);
    else for (const [f, v] of Object.entries(s.body.fields)) checkTemplate(`send.body.fields${key(f)}`, v, 'send');
    if (s.body.type === 'multipart' && s.body.file) {
      if (s.document !== 'upload') out.push('send.body.file: only for send.document "upload"');
      if (s.body.file.filename !== undefined) checkTemplate('send.body.file.filename', s.body.file.filename, 'send');
    }
  }
  if (s.document === 'upload') {
    const usesBase64 = s.body?.type === 'json' && sendRefs.has('document_base64');
    const hasFile = s.body?.type === 'multipart' && s.body.file !== undefined;
    if (!usesBase64 && !hasFile) out.push('send.body: an uploaded document needs a multipart body with a file, or a json body using {{document_base64}}');
  } else if (!sendRefs.has('document_url')) {
    out.push('send: send.document is "url" but no template uses {{document_url}}');
  }
  checkSelector('send.response.providerId', s.response.providerId);
  checkSelector('send.response.status', s.response.status);
  checkSelector('send.response.error', s.response.error);
  checkSelector('errorMessage', m.errorMessage);

  // status map
  const entries = Object.entries(m.status.map);
  for (const [k, v] of entries) {
    const where = `status.map${key(k)}`;
    if (typeof v === 'string') {
      if (!(JOB_STATUSES as readonly string[]).includes(v)) out.push(`${where}: expected one of ${JOB_STATUSES.map((x) => `"${x}"`).join(', ')}, got ${JSON.stringify(v)}`);
    } else if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      for (const extra of Object.keys(o).filter((x) => x !== 'status' && x !== 'failureClass')) out.push(`${where}.${extra}: unknown key`);
      if (o.status === undefined) out.push(`${where}.status: required`);
      else if (!(JOB_STATUSES as readonly unknown[]).includes(o.status)) out.push(`${where}.status: expected one of ${JOB_STATUSES.map((x) => `"${x}"`).join(', ')}, got ${JSON.stringify(o.status)}`);
      if (o.failureClass !== undefined) {
        if (!(FAILURE_CLASSES as readonly unknown[]).includes(o.failureClass)) out.push(`${where}.failureClass: expected one of ${FAILURE_CLASSES.join(', ')}, got ${JSON.stringify(o.failureClass)}`);
        else if (o.status !== undefined && o.status !== 'FAILED') out.push(`${where}.failureClass: only a FAILED status has a failure class`);
      }
    } else {
      out.push(`${where}: expected a status string or {"status": …, "failureClass": …}, got ${kind(v)}`);
    }
  }
  const targets = entries.map(([, v]) => (typeof v === 'string' ? v : (v as { status?: unknown } | null)?.status));
  if (!targets.includes('SUCCESS') || !targets.includes('FAILED')) out.push('status.map: must map at least one provider status to SUCCESS and one to FAILED');
  const dfc = m.status.defaultFailureClass;
  if (dfc !== undefined && !(FAILURE_CLASSES as readonly string[]).includes(dfc)) {
    out.push(`status.defaultFailureClass: expected one of ${FAILURE_CLASSES.join(', ')}, got ${JSON.stringify(dfc)}`);
  }

  // poll
  if (m.poll) {
    checkUrl('poll.url', m.poll.url, 'poll');
    for (const [h, v] of Object.entries(m.poll.headers ?? {})) checkTemplate(`poll.headers${key(h)}`, v, 'poll');
    checkSelector('poll.response.status', m.poll.response.status);
    checkSelector('poll.response.pages', m.poll.response.pages);
    checkSelector('poll.response.error', m.poll.response.error);
  }

  // find
  if (m.find) {
    checkUrl('find.url', m.find.url, 'find');
    for (const [h, v] of Object.entries(m.find.headers ?? {})) checkTemplate(`find.headers${key(h)}`, v, 'find');
    for (const f of ['items', 'providerId', 'attempt', 'jobId', 'status'] as const) checkSelector(`find.response.${f}`, m.find.response[f]);
  }

  // callback
  if (m.callback) {
    const c = m.callback;
    for (const f of ['jobId', 'attempt', 'providerId', 'status', 'pages', 'error'] as const) checkSelector(`callback.${f}`, c[f]);
    if (c.signature && !(c.signature.secretSetting in settings)) {
      out.push(`callback.signature.secretSetting: unknown setting "${c.signature.secretSetting}" (declare it under settings)`);
    }
  }
  return out;
}

function compile(json: ManifestJson, source: string): Manifest {
  const statusMap = new Map<string, StatusRule>();
  for (const [k, v] of Object.entries(json.status.map)) {
    if (typeof v === 'string') statusMap.set(k, { status: v as MappedStatus, failureClass: null });
    else {
      const o = v as { status: MappedStatus; failureClass?: FailureClass };
      statusMap.set(k, { status: o.status, failureClass: o.failureClass ?? null });
    }
  }
  return { source, json, statusMap, defaultFailureClass: (json.status.defaultFailureClass as FailureClass | undefined) ?? 'permanent' };
}

/** Validates parsed JSON; throws ManifestError naming every problem ("<source>: <path>: <message>"). */
export function validateManifest(data: unknown, source: string): Manifest {
  const r = manifestSchema.safeParse(data, { reportInput: true });
  if (!r.success) throw new ManifestError(zodIssues(r.error.issues).map((i) => `${source}: ${i}`));
  const issues = semanticIssues(r.data);
  if (issues.length > 0) throw new ManifestError(issues.map((i) => `${source}: ${i}`));
  return compile(r.data, source);
}

/** Reads and validates one manifest file. */
export async function loadManifestFile(path: string, source: string = path): Promise<Manifest> {
  return parseManifestText(readManifestText(path, source), source);
}

/** A manifest file's text; a file that cannot be read is a ManifestError naming it. */
function readManifestText(path: string, source: string = path): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ManifestError([`${source}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
}

/** Parses and validates a manifest's text. */
export function parseManifestText(text: string, source: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text) as unknown;
  } catch (err) {
    throw new ManifestError([`${source}: invalid JSON (${(err as Error).message})`]);
  }
  return validateManifest(data, source);
}

export interface LoadedManifests {
  /** Valid manifests by id. */
  manifests: Map<string, Manifest>;
  /** One line per problem; a manifest with any problem is absent from `manifests`. */
  errors: string[];
}

/**
 * Loads every *.json file of a directory (MANIFEST_DIR), in name order. An invalid file is refused
 * whole; a second manifest with an id already taken is refused too. A missing directory is an error.
 */
export async function loadManifestDir(dir: string): Promise<LoadedManifests> {
  // A manifest directory holds a handful of small files: the synchronous loader serves both.
  return loadManifestDirSync(dir);
}

/** loadManifestDir without awaiting: the backend is chosen while the service is built, before anything runs. */
export function loadManifestDirSync(dir: string): LoadedManifests {
  const manifests = new Map<string, Manifest>();
  const errors: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    return { manifests, errors: [`${dir}: cannot read the manifest directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`] };
  }
  for (const name of names) {
    const source = join(dir, name);
    try {
      const m = parseManifestText(readManifestText(source), source);
      const taken = manifests.get(m.json.id);
      if (taken) errors.push(`${source}: id: "${m.json.id}" is already used by ${taken.source}`);
      else manifests.set(m.json.id, m);
    } catch (err) {
      if (err instanceof ManifestError) errors.push(...err.issues);
      else throw err;
    }
  }
  return { manifests, errors };
}
