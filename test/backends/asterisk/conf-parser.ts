// A small parser for Asterisk's ini-like .conf files and extensions.conf dialplan lines, for tests and the ARI simulator.
//
// Covers what our shipped files use: `[section]` (with template suffixes), `key = value`, `key => value`,
// `exten => name,prio,App(args)`, `same => n(label),App(args)`, `;` comments (`\;` is a literal),
// `;-- … --;` block comments and `#include`.

export interface ConfEntry {
  key: string;
  value: string;
  line: number;
}

export interface ConfSection {
  name: string;
  entries: ConfEntry[];
  line: number;
}

export interface ConfFile {
  sections: ConfSection[];
  includes: string[];
}

/** Strips comments, honouring `\;` and block comments; returns lines with their 1-based numbers. */
function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let inBlock = false;
  text.split(/\r?\n/).forEach((raw, i) => {
    let s = '';
    for (let j = 0; j < raw.length; j++) {
      if (inBlock) {
        if (raw.startsWith('--;', j)) {
          inBlock = false;
          j += 2;
        }
        continue;
      }
      const c = raw[j]!;
      if (c === '\\' && raw[j + 1] === ';') {
        s += ';';
        j++;
        continue;
      }
      if (c === ';') {
        if (raw.startsWith(';--', j)) {
          inBlock = true;
          j += 2;
          continue;
        }
        break;
      }
      s += c;
    }
    const t = s.trim();
    if (t !== '') out.push({ text: t, line: i + 1 });
  });
  return out;
}

export function parseConf(text: string): ConfFile {
  const sections: ConfSection[] = [];
  const includes: string[] = [];
  let current: ConfSection | null = null;
  for (const { text: t, line } of logicalLines(text)) {
    if (t.startsWith('#include') || t.startsWith('#tryinclude')) {
      includes.push(t.replace(/^#(try)?include\s+/, '').replace(/^["<]|[">]$/g, ''));
      continue;
    }
    const sec = /^\[([^\]]+)\](\([^)]*\))?$/.exec(t);
    if (sec) {
      current = { name: sec[1]!.trim(), entries: [], line };
      sections.push(current);
      continue;
    }
    const kv = /^([^=]+?)\s*=>?\s*(.*)$/.exec(t);
    if (!kv) throw new Error(`line ${line}: cannot parse "${t}"`);
    if (!current) throw new Error(`line ${line}: entry outside any [section]`);
    current.entries.push({ key: kv[1]!.trim(), value: kv[2]!, line });
  }
  return { sections, includes };
}

export interface DialplanStep {
  context: string;
  exten: string;
  /** The number as written, or "n". */
  priority: string;
  label: string | null;
  app: string;
  /** Everything between the application's first "(" and last ")". */
  args: string;
  line: number;
}

export interface Dialplan {
  /** context → steps in file order. */
  contexts: Map<string, DialplanStep[]>;
}

export function parseDialplan(text: string): Dialplan {
  const conf = parseConf(text);
  const contexts = new Map<string, DialplanStep[]>();
  for (const section of conf.sections) {
    const steps = contexts.get(section.name) ?? [];
    contexts.set(section.name, steps);
    let lastExten: string | null = null;
    for (const e of section.entries) {
      if (e.key !== 'exten' && e.key !== 'same') continue;
      let rest = e.value;
      let exten: string;
      if (e.key === 'exten') {
        const c = rest.indexOf(',');
        if (c < 0) throw new Error(`line ${e.line}: exten without priority`);
        exten = rest.slice(0, c).trim();
        rest = rest.slice(c + 1);
      } else {
        if (lastExten === null) throw new Error(`line ${e.line}: same => before any exten`);
        exten = lastExten;
      }
      lastExten = exten;
      const c2 = rest.indexOf(',');
      if (c2 < 0) throw new Error(`line ${e.line}: priority without application`);
      const prioRaw = rest.slice(0, c2).trim();
      const appRaw = rest.slice(c2 + 1).trim();
      const pm = /^([0-9]+|n)(?:\(([^)]+)\))?$/.exec(prioRaw);
      if (!pm) throw new Error(`line ${e.line}: bad priority "${prioRaw}"`);
      const open = appRaw.indexOf('(');
      const app = (open < 0 ? appRaw : appRaw.slice(0, open)).trim();
      const args = open < 0 ? '' : appRaw.slice(open + 1, appRaw.lastIndexOf(')'));
      steps.push({ context: section.name, exten, priority: pm[1]!, label: pm[2] ?? null, app, args, line: e.line });
    }
  }
  return { contexts };
}

/** Names read with ${NAME} (not functions: `${NAME(...)}` is skipped, but variables inside its arguments count). */
export function variablesRead(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(\(|\}|:)/g)) {
    if (m[2] !== '(') names.add(m[1]!);
  }
  return names;
}

/** Channel variables a step assigns with Set(NAME=...) (functions such as GLOBAL(...) or FAXOPT(...) excluded). */
export function variableSet(step: DialplanStep): string | null {
  if (step.app !== 'Set') return null;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(step.args);
  return m ? m[1]! : null;
}
