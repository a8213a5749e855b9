/**
 * Ruby's `File.fnmatch?(glob, path, FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB)`, the matcher of
 * GitLab's `rules:changes` and `only/except:changes` (Clause::Changes): the whole path must match;
 * `*` and `?` never cross `/`; `**` followed by `/` at the start of a segment matches zero or
 * more directories (any other `**` is `*`); dot files and dot folders match like any other
 * name; `[...]` / `[!...]` / `[^...]` classes (never `/`); `\` escapes; `{a,b}` braces, nested,
 * expanded first. Case-sensitive.
 */

/** A matcher for `glob`: built once, used for many paths. */
export function rubyFnmatch(glob: string): (path: string) => boolean {
  const regexps = expandBraces(glob).map((g) => new RegExp(`^${globToRegExpSource(g)}$`, 's'));
  return (path) => regexps.some((r) => r.test(path));
}

/** `{a,b}` alternatives, nested and in sequence; an unclosed `{` is literal (as Ruby's brace expansion). */
export function expandBraces(glob: string): string[] {
  let open = -1;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') {
      open = i;
      break;
    }
  }
  if (open < 0) return [glob];
  let depth = 0;
  const commas: number[] = [];
  let close = -1;
  for (let i = open; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  if (close < 0) return [glob];
  const head = glob.slice(0, open);
  const tail = glob.slice(close + 1);
  const bounds = [open, ...commas, close];
  const out: string[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const alternative = glob.slice(bounds[k]! + 1, bounds[k + 1]);
    out.push(...expandBraces(`${head}${alternative}${tail}`));
  }
  return out;
}

function globToRegExpSource(glob: string): string {
  let src = '';
  let i = 0;
  const atSegmentStart = () => i === 0 || glob[i - 1] === '/';
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*' && glob[i + 2] === '/' && atSegmentStart()) {
      src += '(?:[^/]*/)*';
      i += 3;
      continue;
    }
    if (c === '*') {
      src += '[^/]*';
      i++;
    } else if (c === '?') {
      src += '[^/]';
      i++;
    } else if (c === '[') {
      const cls = bracket(glob, i);
      if (cls) {
        src += cls.source;
        i = cls.end;
      } else {
        src += '\\[';
        i++;
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      src += escapeRegExp(glob[i + 1]!);
      i += 2;
    } else {
      src += escapeRegExp(c);
      i++;
    }
  }
  return src;
}

/** A `[...]` class starting at `start`, as a RegExp class that never matches `/`; null when unclosed. */
function bracket(glob: string, start: number): { source: string; end: number } | null {
  let i = start + 1;
  let negate = false;
  if (glob[i] === '!' || glob[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  let first = true;
  while (i < glob.length && (first || glob[i] !== ']')) {
    first = false;
    let lo = glob[i]!;
    if (lo === '\\' && i + 1 < glob.length) lo = glob[++i]!;
    i++;
    if (glob[i] === '-' && i + 1 < glob.length && glob[i + 1] !== ']') {
      let hi = glob[i + 1]!;
      i += 2;
      if (hi === '\\' && i < glob.length) hi = glob[i++]!;
      if (lo <= hi) body += `${escapeClass(lo)}-${escapeClass(hi)}`;
      continue;
    }
    body += escapeClass(lo);
  }
  if (i >= glob.length) return null;
  // FNM_PATHNAME: a class never matches '/'.
  return { source: negate ? `[^/${body}]` : `(?!/)[${body || '^\\s\\S'}]`, end: i + 1 };
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function escapeClass(c: string): string {
  return /[\\\]^-]/.test(c) ? `\\${c}` : c;
}
