/**
 * Whether doublestar v4's Glob (with WithNoFollow, as gitlab-runner calls FilepathGlob in
 * commands/helpers/file_archiver.go processPath) returns a given path, decided from the path
 * alone: berth never lists directories, it sees the entries of a tar stream one at a time.
 *
 * Glob walks the pattern segment by segment (doublestar glob.go doGlob/globDir/globDoubleStar,
 * globwalk.go for a `**` mid-pattern), which is not quite Match: a path is found only when every
 * directory above it was found by the pattern's directory part, so
 * - `dir/**` returns `dir` itself only when it is a directory (a file `dir` is not returned),
 *   `a*\/**` returns the directory `ab` although Match(`a*\/**`, `ab`) is false;
 * - `*` never returns the root `.`, `**` does;
 * - in `{a,b}` the alternatives are tried in turn and an empty last alternative (`{a,}`) is not.
 * With WithNoFollow a link is never entered: berth's entries never hold anything under a link.
 * Only the matches' paths are in question here; the caller knows they exist.
 */
import {
  escapeMeta,
  indexMeta,
  indexNextAlternative,
  matchDoublestarUnvalidated,
  unescapeMeta,
  validatePattern,
} from './doublestar.js';

/**
 * True when Glob(pattern) over the directory would return `path` (relative to that directory,
 * `/`-separated, `.` for the directory itself). `isDir`: `path` is a directory (not a link to one).
 * Every component above `path` is a directory (it has `path` under it).
 */
export function globIncludes(pattern: string, path: string, isDir: boolean): boolean {
  if (!validatePattern(pattern)) return false;
  return inGlob(pattern, path, isDir, true);
}

function inGlob(pattern: string, path: string, isDir: boolean, canMatchFiles: boolean): boolean {
  const meta = indexMeta(pattern);
  if (meta === -1) return path === unescapeMeta(pattern);

  let dir = '.';
  let last = pattern;
  let split = lastIndexSlashOrBrace(pattern);
  if (split !== -1) {
    if (pattern[split] === '}') {
      const open = indexOpeningBrace(pattern, split);
      if (open !== -1) return inAlternatives(pattern, open, split, path, isDir, canMatchFiles);
      // an unmatched `}` is an ordinary character
      split = lastIndexSlash(pattern, split);
    }
    if (split !== -1) {
      dir = pattern.slice(0, split);
      last = pattern.slice(split + 1);
    }
  }
  if (split <= meta) return inDir(unescapeMeta(dir), last, path, isDir, canMatchFiles);

  // the directory part has meta characters: the directories it finds, then `last` in each
  return candidateDirs(last, path).some(
    (d) => inGlob(dir, d, d === path ? isDir : true, false) && inDir(d, last, path, isDir, canMatchFiles),
  );
}

/** Which directory `d` could hold `path` as a match of `last` in d. */
function candidateDirs(last: string, path: string): string[] {
  if (last === '') return [path];
  if (last === '**') return ancestorsOrSelf(path);
  return path === '.' ? [] : [parentOf(path)];
}

/** doublestar globDir: `last` (one segment, `**` or empty) matched in the directory `dir`. */
function inDir(dir: string, last: string, path: string, isDir: boolean, canMatchFiles: boolean): boolean {
  if (last === '') return path === dir && isDir;
  if (last === '**') {
    if (path === dir) return isDir; // `**` returns the directory itself
    return isUnder(path, dir) && (canMatchFiles || isDir);
  }
  if (path === '.' || parentOf(path) !== dir) return false;
  return matchDoublestarUnvalidated(last, baseName(path)) && (canMatchFiles || isDir);
}

/** doublestar globAlts: `{...}` at open..close tried one alternative at a time. */
function inAlternatives(
  pattern: string,
  open: number,
  close: number,
  path: string,
  isDir: boolean,
  canMatchFiles: boolean,
): boolean {
  const alternatives: string[] = [];
  let from = open + 1;
  while (from < close) {
    let next = indexNextAlternative(pattern, from, close);
    if (next === -1) next = close;
    alternatives.push(pattern.slice(from, next));
    from = next + 1;
  }
  const after = pattern.slice(close + 1);
  const split = lastIndexSlashOrBrace(pattern.slice(0, open));
  if (split === -1 || pattern[split] === '}') {
    const before = pattern.slice(0, open);
    return alternatives.some((alt) => inGlob(before + alt + after, path, isDir, canMatchFiles));
  }
  // a common directory part first, then each alternative under each directory it finds
  const prefix = pattern.slice(0, split);
  const before = pattern.slice(split + 1, open);
  return ancestorsOrSelf(path).some((d) => {
    if (!inGlob(prefix, d, d === path ? isDir : true, false)) return false;
    // doublestar pastes the found directory into the pattern as is; berth escapes it
    const head = d === '.' ? '' : `${escapeMeta(d)}/`;
    return alternatives.some((alt) => inGlob(head + before + alt + after, path, isDir, canMatchFiles));
  });
}

function lastIndexSlashOrBrace(s: string): number {
  for (let i = s.length - 1; i >= 0; i--) {
    if ((s[i] === '/' || s[i] === '}') && (i === 0 || s[i - 1] !== '\\')) return i;
  }
  return -1;
}

function lastIndexSlash(s: string, end: number): number {
  for (let i = end - 1; i >= 0; i--) {
    if (s[i] === '/' && (i === 0 || s[i - 1] !== '\\')) return i;
  }
  return -1;
}

/** The `{` matching the `}` at `close`, skipping nested pairs; -1 if none. */
function indexOpeningBrace(s: string, close: number): number {
  let depth = 1;
  for (let i = close - 1; i >= 0; i--) {
    const escaped = i > 0 && s[i - 1] === '\\';
    if (s[i] === '}' && !escaped) depth++;
    else if (s[i] === '{' && !escaped && --depth === 0) return i;
  }
  return -1;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? '.' : path.slice(0, i);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** True when `path` is strictly below `dir` (`.` is the top). */
export function isUnder(path: string, dir: string): boolean {
  if (dir === '.') return path !== '.';
  return path.startsWith(`${dir}/`);
}

/** `.`, then each directory down to `path` itself: `a/b` → [`.`, `a`, `a/b`]. */
function ancestorsOrSelf(path: string): string[] {
  if (path === '.') return ['.'];
  const out = ['.'];
  let i = path.indexOf('/');
  while (i !== -1) {
    out.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  out.push(path);
  return out;
}
