// Rebuilds an object a provider posts inside a form: as JSON in one field, or flattened into one field per key.
import { BodyParseError, field, type FormField } from './body.js';

/** The field `name` parsed as JSON (`fax={"id":…}`); undefined when there is no such field. `what` opens the error. */
export function jsonField(fields: readonly FormField[], name: string, what: string): unknown {
  const json = field(fields, name);
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new BodyParseError(`${what}: the ${name} field is not JSON`);
  }
}

/**
 * The fields whose names `pattern` matches (`fax[id]=…`), keyed by the first group it captured: which
 * spellings count (brackets, dots, letter case) is the provider's, in its pattern. Empty when none match.
 */
export function flattenedFields(fields: readonly FormField[], pattern: RegExp): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const f of fields) {
    const key = pattern.exec(f.name)?.slice(1).find((g) => g !== undefined);
    if (key) flat[key] = f.value;
  }
  return flat;
}
