/**
 * doublestar v4 pattern matching, as gitlab-runner uses it for `artifacts:exclude`
 * (commands/helpers/file_archiver.go isExcluded → doublestar.Match) and, one name at a time,
 * inside its globs (github.com/bmatcuk/doublestar/v4 match.go, utils.go, validate.go).
 *
 * The semantics, written from doublestar's documented rules and its matching algorithm:
 * - `*` matches any run of characters but `/`, leading dots included (no dotfile rule);
 * - `**` is a doublestar only as a whole segment: at the start of a segment and followed by `/`
 *   (zero or more directories) or by the end of the pattern (everything that is left); anywhere
 *   else it is a single `*` (`a/**.txt` = `a/*.txt`);
 * - `?` matches one character but `/`;
 * - `[abc]`, `[a-z]`, `[!x]`/`[^x]` match one character (the class itself does not exclude `/`,
 *   as in doublestar's code); an empty class `[]` is a syntax error;
 * - `{a,b}` alternatives (nestable, may hold `/`);
 * - `\x` matches `x` literally;
 * - when the name is used up, what is left of the pattern matches if it can match nothing:
 *   ``, `*`, `**`, `/**`, `**\/`, `/**\/` or alternatives of those (so `a/**` matches `a`).
 * A malformed pattern (unclosed `[` or `{`, stray `}`, trailing `\`) matches nothing.
 */

import { BerthError } from '../shared/errors.js';

const SEP = '/';

/** Thrown inside the matcher for a malformed pattern; never leaves this file (it matches nothing). */
class BadPattern extends BerthError {
  constructor() {
    super('input_error', 'The pattern is malformed (an unclosed [ or {, a stray } or a trailing \\); fix the path or exclude pattern');
  }
}

interface Backtrack {
  doublePat: number;
  doubleName: number;
  starPat: number;
  starName: number;
}

/** doublestar.Match: true when `name` matches `pattern` (`/`-separated, both relative or both absolute). */
export function matchDoublestar(pattern: string, name: string): boolean {
  return safeMatch(pattern, name, true);
}

/** doublestar.MatchUnvalidated: the pattern is known to be valid (validatePattern). */
export function matchDoublestarUnvalidated(pattern: string, name: string): boolean {
  return safeMatch(pattern, name, false);
}

function safeMatch(pattern: string, name: string, validate: boolean): boolean {
  try {
    return matchFrom(
      Array.from(pattern),
      Array.from(name),
      validate,
      { doublePat: -1, doubleName: -1, starPat: -1, starName: -1 },
      0,
      0,
    );
  } catch (e) {
    if (e instanceof BadPattern) return false;
    throw e;
  }
}

/**
 * Matches `name[ni:]` against `pat[pi:]`, with the backtrack points recorded so far. One `*`
 * and one `**\/` are remembered: on a mismatch the `*` first takes one more character (never a
 * `/`), else the `**\/` skips one more directory of the name.
 */
function matchFrom(pat: string[], name: string[], validate: boolean, bt0: Backtrack, pi0: number, ni0: number): boolean {
  const bt = { ...bt0 };
  let pi = pi0;
  let ni = ni0;
  let segmentStart = true;
  const plen = pat.length;
  const nlen = name.length;

  outer: while (ni < nlen) {
    step: if (pi < plen) {
      const c = pat[pi];
      if (c === '*') {
        pi++;
        if (pat[pi] === '*') {
          pi++;
          if (segmentStart) {
            if (pi >= plen) return true; // a trailing `/**` takes the rest of the name
            if (pat[pi] === SEP) {
              pi++;
              bt.doublePat = pi;
              bt.doubleName = ni;
              bt.starPat = -1;
              bt.starName = -1;
              continue;
            }
          }
        }
        segmentStart = false;
        bt.starPat = pi;
        bt.starName = ni;
        continue;
      }
      if (c === '?') {
        segmentStart = false;
        if (name[ni] === SEP) break step;
        pi++;
        ni++;
        continue;
      }
      if (c === '[') {
        segmentStart = false;
        const r = matchClass(pat, pi + 1, name[ni]!);
        if (r < 0) break step;
        pi = r;
        ni++;
        continue;
      }
      if (c === '{') {
        const open = pi;
        const close = indexClosingBrace(pat, open + 1);
        if (close === -1) throw new BadPattern();
        let from = open + 1;
        for (;;) {
          const comma = indexNextAlternative(pat, from, close);
          if (comma === -1) break;
          if (matchFrom(inline(pat, open, from, comma, close), name, validate, bt, open, ni)) return true;
          from = comma + 1;
        }
        return matchFrom(inline(pat, open, from, close, close), name, validate, bt, open, ni);
      }
      let lit = pi;
      if (c === '\\') {
        lit = pi + 1;
        if (lit >= plen) throw new BadPattern();
      }
      if (pat[lit] !== name[ni]) break step; // on a mismatch pi stays on the `\`
      segmentStart = pat[lit] === SEP;
      pi = lit + 1;
      ni++;
      continue;
    }

    // mismatch: widen the last `*` (not over a `/`), else let the last `**/` skip a directory
    if (bt.starPat >= 0 && name[bt.starName] !== SEP) {
      bt.starName++;
      pi = bt.starPat;
      ni = bt.starName;
      segmentStart = false;
      continue;
    }
    if (bt.doublePat >= 0) {
      ni = bt.doubleName;
      while (ni < nlen) {
        const ch = name[ni++];
        if (ch === SEP) {
          bt.doubleName = ni;
          pi = bt.doublePat;
          segmentStart = true;
          continue outer;
        }
      }
    }
    if (validate && pi < plen && !validatePattern(pat.slice(pi).join(''))) throw new BadPattern();
    return false;
  }
  return zeroLength(pat.slice(pi), validate);
}

/**
 * A character class starting after its `[` at `at`, tested on `ch`. Returns the index after
 * the closing `]` when `ch` matches, -1 when it does not.
 */
function matchClass(pat: string[], at: number, ch: string): number {
  const plen = pat.length;
  let i = at;
  if (i >= plen) throw new BadPattern();
  const negate = pat[i] === '!' || pat[i] === '^';
  if (negate) i++;
  if (i >= plen || pat[i] === ']') throw new BadPattern(); // unclosed or empty class
  const code = ch.codePointAt(0)!;
  let matched = false;
  let last: number | null = null;
  while (i < plen && pat[i] !== ']') {
    let r = pat[i++]!;
    if (last !== null && r === '-' && i < plen && pat[i] !== ']') {
      if (pat[i] === '\\') i++;
      const hi = pat[i++];
      if (hi !== undefined && last <= code && code <= hi.codePointAt(0)!) {
        matched = true;
        break;
      }
      last = null;
      continue;
    }
    if (r === '\\') {
      const esc = pat[i++];
      if (esc === undefined) break;
      r = esc;
    }
    if (r === ch) {
      matched = true;
      break;
    }
    last = r.codePointAt(0)!;
  }
  if (matched === negate) {
    if (i >= plen) throw new BadPattern();
    return -1;
  }
  const close = indexUnescaped(pat, i, ']');
  if (close === -1) throw new BadPattern();
  return close + 1;
}

/** The pattern with the `{...}` at open..close replaced by the alternative pat[from:to]. */
function inline(pat: string[], open: number, from: number, to: number, close: number): string[] {
  return [...pat.slice(0, open), ...pat.slice(from, to), ...pat.slice(close + 1)];
}

function zeroLength(rest: string[], validate: boolean): boolean {
  const s = rest.join('');
  if (s === '' || s === '*' || s === '**' || s === '/**' || s === '**/' || s === '/**/') return true;
  if (s.startsWith('{')) {
    const close = indexClosingBrace(rest, 1);
    if (close === -1) throw new BadPattern();
    let from = 1;
    for (;;) {
      const comma = indexNextAlternative(rest, from, close);
      if (comma === -1) break;
      if (zeroLength([...rest.slice(from, comma), ...rest.slice(close + 1)], validate)) return true;
      from = comma + 1;
    }
    return zeroLength([...rest.slice(from, close), ...rest.slice(close + 1)], validate);
  }
  if (validate && !validatePattern(s)) throw new BadPattern();
  return false;
}

function indexUnescaped(pat: readonly string[], from: number, c: string): number {
  for (let i = from; i < pat.length; i++) {
    if (pat[i] === '\\') i++;
    else if (pat[i] === c) return i;
  }
  return -1;
}

/** The `}` closing the `{` just before `from`, skipping nested braces and escapes; -1 if none. */
export function indexClosingBrace(pat: readonly string[] | string, from: number): number {
  let depth = 1;
  for (let i = from; i < pat.length; i++) {
    const c = pat[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** The next top-level `,` in pat[from:to] (inside one `{...}`); -1 if none. */
export function indexNextAlternative(pat: readonly string[] | string, from: number, to: number): number {
  let depth = 1;
  for (let i = from; i < to; i++) {
    const c = pat[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 1) return i;
  }
  return -1;
}

/** doublestar.ValidatePattern: closed classes (not empty), balanced braces, no trailing `\`. */
export function validatePattern(s: string): boolean {
  let depth = 0;
  const l = s.length;
  outer: for (let i = 0; i < l; i++) {
    switch (s[i]) {
      case '\\':
        if (++i >= l) return false;
        break;
      case '[': {
        if (++i >= l) return false;
        if (s[i] === '^' || s[i] === '!') i++;
        if (i >= l || s[i] === ']') return false;
        for (; i < l; i++) {
          if (s[i] === '\\') i++;
          else if (s[i] === ']') continue outer;
        }
        return false;
      }
      case '{':
        depth++;
        break;
      case '}':
        if (depth === 0) return false;
        depth--;
        break;
      default:
        break;
    }
  }
  return depth === 0;
}

/** Index of the first unescaped `*`, `?`, `[` or `{`; -1 when there is none. */
export function indexMeta(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[' || c === '{') return i;
  }
  return -1;
}

/** Removes the `\` in front of `*?[]{}` (doublestar's unescapeMeta). */
export function unescapeMeta(s: string): string {
  return s.includes('\\') ? s.replace(/\\([*?[\]{}])/g, '$1') : s;
}

/** Puts a `\` in front of `*?[]{}` and `\`, so that the string matches itself literally. */
export function escapeMeta(s: string): string {
  return s.replace(/[*?[\]{}\\]/g, '\\$&');
}

/**
 * doublestar.SplitPattern: `base` is everything before the last `/` that comes before the first
 * unescaped meta character (unescaped), `pattern` the rest; `.` and the whole pattern when there
 * is no such `/`; `/` when it is the first character.
 */
export function splitPattern(p: string): { base: string; pattern: string } {
  let split = -1;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '/') split = i;
    else if (c === '*' || c === '?' || c === '[' || c === '{') break;
  }
  if (split === 0) return { base: '/', pattern: p.slice(1) };
  if (split > 0) return { base: unescapeMeta(p.slice(0, split)), pattern: p.slice(split + 1) };
  return { base: '.', pattern: p };
}
