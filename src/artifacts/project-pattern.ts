/**
 * A path or pattern of `artifacts:paths`, `artifacts:exclude` or `cache:paths` made relative to
 * the project directory, as gitlab-runner's commands/helpers/file_archiver.go
 * (findRelativePathInProject, processPath) and doublestar's FilepathGlob do it, lexically:
 * berth resolves nothing in the container.
 */
import { posix } from 'node:path';
import { indexMeta, splitPattern, unescapeMeta, validatePattern } from './doublestar.js';

/** Go's path.Clean: no empty, `.` or inner `..` components, no trailing `/`; `.` when empty. */
export function cleanPath(p: string): string {
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** `path` relative to the project, or why it is refused (the text after `WARNING: <where>: `). */
export type RelativePattern = { ok: true; rel: string } | { ok: false; error: string };

/**
 * findRelativePathInProject: the project directory itself is `.`; a path with glob characters
 * (`*?[{`) is split (doublestar SplitPattern) and only its base is resolved against the project
 * directory; a base at or above `..` is refused; the pattern part is joined back (Go
 * filepath.Join, which cleans).
 */
export function relativeToProject(path: string, projectDir: string): RelativePattern {
  const wd = cleanPath(projectDir);
  if (cleanPath(path) === wd) return { ok: true, rel: '.' };
  let base = path;
  let rest = '';
  if (/[*?[{]/.test(path)) ({ base, pattern: rest } = splitPattern(path));
  const abs = base.startsWith('/') ? cleanPath(base) : cleanPath(`${wd}/${base}`);
  const rel = posix.relative(wd, abs) || '.';
  if (rel === '..' || rel.startsWith('../')) {
    return { ok: false, error: `artifact path is not a subpath of project directory: ${path}` };
  }
  return { ok: true, rel: cleanPath(rest === '' ? rel : `${rel}/${rest}`) };
}

/** What a path rule selects, relative to the project directory. */
export type PathRule =
  /** One path (`.` is the project directory) and everything under it. */
  | { kind: 'literal'; path: string }
  /** doublestar Glob of `pattern` inside the directory `base` (`.` or a relative path). */
  | { kind: 'glob'; base: string; pattern: string }
  /** After cleaning, the pattern starts with `..`: gitlab-runner would glob outside the project. */
  | { kind: 'outside'; rel: string }
  /** doublestar.ErrBadPattern. */
  | { kind: 'bad-pattern' };

/**
 * FilepathGlob's view of a relative pattern: split again at the last `/` before a meta
 * character; a part without meta characters is a plain path (unescaped), else a glob in `base`.
 */
export function pathRuleOf(rel: string): PathRule {
  if (rel === '..' || rel.startsWith('../')) return { kind: 'outside', rel };
  if (rel === '.') return { kind: 'literal', path: '.' };
  const { base, pattern } = splitPattern(rel);
  if (!validatePattern(pattern)) return { kind: 'bad-pattern' };
  if (indexMeta(pattern) === -1) {
    const last = unescapeMeta(pattern);
    return { kind: 'literal', path: base === '.' ? last : `${base}/${last}` };
  }
  return { kind: 'glob', base, pattern };
}
