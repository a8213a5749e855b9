/**
 * Small TOML writing pieces in gitlab-runner's layout: keys and headers indented two spaces per
 * table level, basic strings, inline arrays of scalars, sub-tables for maps.
 */

/** Lines of TOML being written. */
export class TomlLines {
  readonly lines: string[] = [];

  /** `key = value` inside a table `depth` levels deep. */
  keyValue(depth: number, key: string, value: string): void {
    this.lines.push(`${indent(depth)}${formatKey(key)} = ${value}`);
  }

  /** `[a.b]` or `[[a.b]]`; a blank line before top-level headers and before array elements. */
  header(names: readonly string[], array: boolean): void {
    if (this.lines.length && (names.length === 1 || array)) this.lines.push('');
    const text = names.map(formatKey).join('.');
    this.lines.push(`${indent(names.length - 1)}${array ? `[[${text}]]` : `[${text}]`}`);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function indent(depth: number): string {
  return '  '.repeat(Math.max(0, depth));
}

export function formatKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : formatString(key);
}

export function formatString(s: string): string {
  // eslint-disable-next-line no-control-regex -- TOML strings escape control characters
  const escaped = s.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `"${escaped}"`;
}

/** A scalar or an array of scalars. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return formatString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return formatDate(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (isTable(value)) return `{${Object.entries(value).map(([k, v]) => ` ${formatKey(k)} = ${formatValue(v)}`).join(',')} }`;
  throw new TypeError(`cannot write ${String(value)} as TOML`);
}

/** A TOML date-time as read (smol-toml's TomlDate keeps local dates and times); whole seconds without `.000`. */
function formatDate(value: Date): string {
  return value.toISOString().replace(/\.000(Z|[+-]\d\d:\d\d)?$/, '$1');
}

export function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

function isTableArray(value: unknown): value is Record<string, unknown>[] {
  return Array.isArray(value) && value.length > 0 && value.every(isTable);
}

/** Writes a table berth does not model (such as `[runners.cache]`) under `names`, keeping its shape. */
export function writeRawTable(out: TomlLines, names: readonly string[], table: Record<string, unknown>): void {
  const entries = Object.entries(table);
  for (const [k, v] of entries) if (!isTable(v) && !isTableArray(v)) out.keyValue(names.length, k, formatValue(v));
  for (const [k, v] of entries) {
    if (isTable(v)) {
      out.header([...names, k], false);
      writeRawTable(out, [...names, k], v);
    }
  }
  for (const [k, v] of entries) {
    if (!isTableArray(v)) continue;
    for (const item of v) {
      out.header([...names, k], true);
      writeRawTable(out, [...names, k], item);
    }
  }
}
