// Writing .env text that node's parseEnv reads back exactly (files are written with util/atomic-write, mode 0600).

const PLAIN = /^[A-Za-z0-9_.,:/@+=%-]*$/;

/** Why `value` cannot be written to an env file, or null. */
export function unrepresentable(value: string): string | null {
  if (/[\r\n\0]/.test(value)) return 'may not contain line breaks or NUL characters';
  if (value.includes("'") && value.includes('"') && value.includes('`')) return 'may not contain all three quote characters';
  return null;
}

/** One NAME=value line; quoted so that parseEnv gives back exactly `value`. */
export function envLine(name: string, value: string): string {
  const bad = unrepresentable(value);
  if (bad) throw new Error(`${name}: ${bad}`);
  if (PLAIN.test(value)) return `${name}=${value}`;
  // Single quotes are literal; double quotes would expand "\n", so they are only used without a backslash-n.
  if (!value.includes("'")) return `${name}='${value}'`;
  if (!value.includes('"') && !value.includes('\\n')) return `${name}="${value}"`;
  return `${name}=\`${value}\``;
}

