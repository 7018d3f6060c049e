// A small JSON-path-like selector for manifests: $ , $.a.b , $.items[0].id , $['odd key'].

export type Selector = readonly (string | number)[];

/** Parses `$`, `.name`, `[0]`, `['name']` / `["name"]` steps; returns an error message for anything else. */
export function parseSelector(s: string): Selector | string {
  if (!s.startsWith('$')) return `bad selector "${s}": must start with $`;
  const steps: (string | number)[] = [];
  let i = 1;
  while (i < s.length) {
    const rest = s.slice(i);
    let m = /^\.([A-Za-z_$][A-Za-z0-9_$-]*)/.exec(rest);
    if (m && m[1] !== undefined) {
      steps.push(m[1]);
      i += m[0].length;
      continue;
    }
    m = /^\[(\d+)\]/.exec(rest);
    if (m && m[1] !== undefined) {
      steps.push(Number(m[1]));
      i += m[0].length;
      continue;
    }
    m = /^\[(?:'([^']*)'|"([^"]*)")\]/.exec(rest);
    if (m) {
      steps.push((m[1] ?? m[2])!);
      i += m[0].length;
      continue;
    }
    return `bad selector "${s}" at "${rest.slice(0, 20)}"`;
  }
  return steps;
}

/** Follows a selector; undefined when any step is missing. */
export function select(value: unknown, sel: Selector): unknown {
  let cur: unknown = value;
  for (const step of sel) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[step];
    } else {
      if (!Object.prototype.hasOwnProperty.call(cur, step)) return undefined;
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return cur;
}

/** A selected scalar as text (ids are often numbers); null for missing, objects and empty strings. */
export function selectText(value: unknown, sel: Selector | undefined): string | null {
  if (!sel) return null;
  const v = select(value, sel);
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}
