/**
 * Where each key of a TOML document is: a light line scanner that follows table headers
 * (`[a.b]`, `[[a]]` with their element index) and `key = value` lines, so that errors and
 * warnings about a parsed value can name its line. It only runs on text smol-toml has already
 * accepted, so it can stay simple; anything it cannot place falls back to the nearest parent.
 */

/** A key path: table names, keys and array indexes (`['runners', 0, 'docker', 'image']`). */
export type KeyPath = readonly (string | number)[];

export class TomlLineIndex {
  private readonly lines = new Map<string, number>();

  constructor(text: string) {
    this.scan(text.split(/\r?\n/));
  }

  /** 1-based line of `path`, or of its closest parent that has one. */
  lineOf(path: KeyPath): number | undefined {
    for (let n = path.length; n >= 0; n--) {
      const line = this.lines.get(keyOf(path.slice(0, n)));
      if (line !== undefined) return line;
    }
    return undefined;
  }

  private scan(lines: string[]): void {
    const counts = new Map<string, number>();
    const arrays = new Set<string>();
    let table: KeyPath = [];
    let closing: string | undefined; // inside a multi-line string: its delimiter

    const resolve = (names: string[]): (string | number)[] => {
      const out: (string | number)[] = [];
      names.forEach((name, i) => {
        out.push(name);
        if (arrays.has(names.slice(0, i + 1).join('.'))) out.push((counts.get(keyOf(out)) ?? 1) - 1);
      });
      return out;
    };

    lines.forEach((raw, i) => {
      const lineNo = i + 1;
      if (closing !== undefined) {
        if (raw.includes(closing)) closing = undefined;
        return;
      }
      const line = raw.trim();
      if (line.startsWith('[[')) {
        const names = splitKeys(line.slice(2, line.indexOf(']]')));
        const parent = resolve(names.slice(0, -1));
        const arrayPath = [...parent, names[names.length - 1]!];
        arrays.add(names.join('.'));
        const index = counts.get(keyOf(arrayPath)) ?? 0;
        counts.set(keyOf(arrayPath), index + 1);
        table = [...arrayPath, index];
        this.record(table, lineNo);
        this.record(arrayPath, lineNo);
      } else if (line.startsWith('[')) {
        table = resolve(splitKeys(line.slice(1, line.indexOf(']'))));
        this.record(table, lineNo);
      } else {
        const m = /^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=\s*(.*)$/.exec(line);
        if (!m) return;
        this.record([...table, ...splitKeys(m[1]!)], lineNo);
        closing = openMultiline(m[2]!);
      }
    });
  }

  private record(path: KeyPath, line: number): void {
    const key = keyOf(path);
    if (!this.lines.has(key)) this.lines.set(key, line);
  }
}

function keyOf(path: KeyPath): string {
  return JSON.stringify(path);
}

/** Splits `a."b.c".d` into its keys. */
function splitKeys(text: string): string[] {
  const keys: string[] = [];
  const re = /\s*(?:"([^"]*)"|'([^']*)'|([^.\s]+))\s*(?:\.|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) keys.push(m[1] ?? m[2] ?? m[3]!);
  return keys;
}

/** The closing delimiter when `value` opens a multi-line string it does not close on the same line. */
function openMultiline(value: string): string | undefined {
  for (const delim of ['"""', "'''"]) {
    if (value.startsWith(delim) && !value.slice(3).includes(delim)) return delim;
  }
  return undefined;
}
