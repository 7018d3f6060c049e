// {{placeholder}} templates in manifests: parsed once at load (errors name the bad placeholder), rendered per request.

export type TemplatePart = { text: string } | { ref: string };

/** Placeholders a request template may use, besides {{settings.NAME}}. */
export const REQUEST_VARS = ['to', 'document_url', 'document_base64', 'job_id', 'attempt', 'callback_url', 'provider_id'] as const;

const PLACEHOLDER = /^\s*([a-z][a-z0-9_]*|settings\.[A-Z][A-Z0-9_]*)\s*$/;

/** Splits a template into text and placeholder references; returns an error message for malformed ones. */
export function parseTemplate(s: string): TemplatePart[] | string {
  const parts: TemplatePart[] = [];
  let pos = 0;
  for (;;) {
    const open = s.indexOf('{{', pos);
    if (open < 0) {
      if (pos < s.length) parts.push({ text: s.slice(pos) });
      return parts;
    }
    if (open > pos) parts.push({ text: s.slice(pos, open) });
    const close = s.indexOf('}}', open + 2);
    if (close < 0) return `unclosed placeholder "${s.slice(open, open + 30)}"`;
    const inner = s.slice(open + 2, close);
    const m = PLACEHOLDER.exec(inner);
    if (!m || m[1] === undefined) return `bad placeholder "{{${inner}}}"`;
    parts.push({ ref: m[1] });
    pos = close + 2;
  }
}

/** The references a parsed template uses. */
export function refsOf(parts: readonly TemplatePart[]): string[] {
  return parts.flatMap((p) => ('ref' in p ? [p.ref] : []));
}

/**
 * Renders a template. `encode` escapes placeholder values for their context (URL components in URLs);
 * settings are inserted as they are so that a base URL setting can start a URL.
 */
export function renderTemplate(parts: readonly TemplatePart[], values: ReadonlyMap<string, string>, encode?: (v: string) => string): string {
  let out = '';
  for (const p of parts) {
    if ('text' in p) {
      out += p.text;
      continue;
    }
    const v = values.get(p.ref);
    if (v === undefined) throw new Error(`no value for {{${p.ref}}}`);
    out += encode && !p.ref.startsWith('settings.') ? encode(v) : v;
  }
  return out;
}
