// Builds the OpenAPI 3.1 document from the route declarations: the schemas that validate requests describe them.
import { z, type ZodType } from 'zod';
import type { RouteDoc } from './route.js';

type Json = Record<string, unknown>;

function schemaOf(s: ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

/** /fax/:id → /fax/{id} */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(doc: RouteDoc): Json[] {
  const params: Json[] = [];
  const add = (where: 'path' | 'query', s: ZodType | undefined) => {
    if (!s) return;
    const js = schemaOf(s, 'input');
    const props = (js.properties ?? {}) as Record<string, Json>;
    const required = new Set((js.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(props)) {
      params.push({ name, in: where, required: where === 'path' || required.has(name), schema, ...(schema.description ? { description: schema.description } : {}) });
    }
  };
  add('path', doc.params);
  add('query', doc.query);
  for (const [name, description] of Object.entries(doc.headers ?? {})) params.push({ name, in: 'header', required: false, description, schema: { type: 'string' } });
  return params;
}

function requestBody(doc: RouteDoc): Json | undefined {
  const b = doc.body;
  if (!b) return undefined;
  if (b.kind === 'json') return { required: true, content: { 'application/json': { schema: schemaOf(b.schema, 'input') } } };
  if (b.kind === 'multipart') {
    const js = schemaOf(b.fields, 'input');
    const props = (js.properties ?? {}) as Record<string, Json>;
    if (props.file) props.file = { ...props.file, type: 'string', format: 'binary' };
    return { required: true, description: b.description, content: { 'multipart/form-data': { schema: js } } };
  }
  return { required: true, description: b.description, content: Object.fromEntries(b.contentTypes.map((t) => [t, { schema: {} }])) };
}

export function buildOpenApi(docs: readonly RouteDoc[], info: { title: string; version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const d of docs) {
    const p = (paths[openApiPath(d.path)] ??= {});
    const responses: Record<string, Json> = {};
    for (const [status, r] of Object.entries(d.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema ? { content: { [r.contentType ?? 'application/json']: { schema: schemaOf(r.schema, 'output') } } } : r.contentType ? { content: { [r.contentType]: {} } } : {}),
      };
    }
    const body = requestBody(d);
    p[d.method.toLowerCase()] = {
      summary: d.summary,
      ...(d.description ? { description: d.description } : {}),
      tags: d.tags,
      operationId: `${d.method.toLowerCase()}${openApiPath(d.path).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(d.auth === 'public' || d.auth === 'custom' ? { security: [] } : { security: [{ apiKey: [] }], 'x-required-scope': d.auth }),
      ...(d.auth === 'custom' ? { 'x-authentication': 'route-specific (shared secret or provider signature)' } : {}),
      parameters: parameters(d),
      ...(body ? { requestBody: body } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { ...info, description: 'Faxbot fax gateway API' },
    components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
    security: [{ apiKey: [] }],
    paths,
  };
}
