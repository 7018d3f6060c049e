// Parses callback bodies from their raw bytes (multipart, urlencoded, JSON) so signatures see exactly what was sent.

export interface FormField {
  name: string;
  /** The part's bytes as UTF-8, untouched (no trimming, no JSON re-encoding). */
  value: string;
}

export interface FormFile {
  name: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface ParsedForm {
  /** In the order received; repeated names are kept. */
  fields: FormField[];
  files: FormFile[];
}

export class BodyParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodyParseError';
  }
}

export interface MultipartLimits {
  /** Parts at most (fields + files). */
  maxParts?: number;
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A parameter of a header value such as `multipart/form-data; boundary="abc"`. */
function headerParam(value: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i');
  const m = re.exec(value);
  if (!m) return undefined;
  if (m[1] !== undefined) return m[1].replace(/\\(.)/g, '$1');
  return m[2]?.trim();
}

/** Parses multipart/form-data from the raw body. Throws BodyParseError on anything malformed. */
export function parseMultipart(raw: Buffer, contentType: string, limits: MultipartLimits = {}): ParsedForm {
  if (mediaType(contentType) !== 'multipart/form-data') throw new BodyParseError('not multipart/form-data');
  const boundary = headerParam(contentType, 'boundary');
  if (!boundary || boundary.length > 200) throw new BodyParseError('multipart boundary missing or too long');
  const maxParts = limits.maxParts ?? 1000;
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const out: ParsedForm = { fields: [], files: [] };

  let pos = raw.indexOf(delimiter);
  if (pos < 0) throw new BodyParseError('multipart body has no boundary');
  let parts = 0;
  for (;;) {
    pos += delimiter.length;
    // "--" after a delimiter ends the body; otherwise a line break starts the next part.
    if (raw[pos] === 0x2d && raw[pos + 1] === 0x2d) return out;
    if (raw[pos] === 0x0d && raw[pos + 1] === 0x0a) pos += 2;
    else if (raw[pos] === 0x0a) pos += 1;
    else throw new BodyParseError('malformed multipart delimiter line');

    const headerEnd = raw.indexOf('\r\n\r\n', pos, 'latin1');
    if (headerEnd < 0) throw new BodyParseError('multipart part without a header end');
    const headers = raw.subarray(pos, headerEnd).toString('utf8');
    const contentStart = headerEnd + 4;
    const next = raw.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delimiter]), contentStart);
    if (next < 0) throw new BodyParseError('multipart body ends inside a part');
    const data = raw.subarray(contentStart, next);
    pos = next + 2;

    if (++parts > maxParts) throw new BodyParseError(`more than ${maxParts} multipart parts`);
    let disposition: string | undefined;
    let partType = 'application/octet-stream';
    for (const line of headers.split(/\r\n/)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === 'content-disposition') disposition = value;
      else if (key === 'content-type') partType = value;
    }
    if (!disposition || !/^form-data\b/i.test(disposition)) throw new BodyParseError('multipart part without form-data disposition');
    const name = headerParam(disposition, 'name');
    if (name === undefined) throw new BodyParseError('multipart part without a name');
    const filename = headerParam(disposition, 'filename');
    if (filename !== undefined) {
      out.files.push({ name, filename, contentType: partType, data: Buffer.from(data) });
    } else {
      out.fields.push({ name, value: data.toString('utf8') });
    }
  }
}

/** Parses application/x-www-form-urlencoded into ordered pairs (`+` is a space, percent-escapes decoded). */
export function parseUrlEncoded(raw: Buffer): FormField[] {
  const out: FormField[] = [];
  for (const [name, value] of new URLSearchParams(raw.toString('utf8'))) out.push({ name, value });
  return out;
}

export type CallbackBody =
  | { kind: 'form'; fields: FormField[]; files: FormFile[] }
  | { kind: 'json'; json: unknown };

/** Parses a callback body by its Content-Type (multipart, urlencoded or JSON). */
export function parseCallbackBody(raw: Buffer, contentType: string | undefined, limits?: MultipartLimits): CallbackBody {
  const type = mediaType(contentType);
  if (type === 'multipart/form-data') {
    const form = parseMultipart(raw, contentType ?? '', limits);
    return { kind: 'form', fields: form.fields, files: form.files };
  }
  if (type === 'application/x-www-form-urlencoded') return { kind: 'form', fields: parseUrlEncoded(raw), files: [] };
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return { kind: 'json', json: JSON.parse(raw.toString('utf8')) as unknown };
    } catch {
      throw new BodyParseError('invalid JSON body');
    }
  }
  throw new BodyParseError(`unsupported content type "${type || '(none)'}"`);
}

/** The first value of a field, or undefined. */
export function field(fields: readonly FormField[], name: string): string | undefined {
  return fields.find((f) => f.name === name)?.value;
}
