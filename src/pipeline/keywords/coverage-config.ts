/**
 * `coverage:` of a job (GitLab's Entry::Coverage): a regular expression written between slashes,
 * which GitLab runs over the job's log to find its code coverage. GitLab refuses a value that is
 * not `/.../` (optionally followed by flags i, s, m, U) with "coverage config must be a regular
 * expression with re2 syntax", and keeps what lies between the first and the last character.
 *
 * GitLab's regular expressions are RE2's; berth runs them as JavaScript ones (job-coverage.ts,
 * under a time limit). `toJsRegExp` carries over what RE2 writes differently: `(?P<name>`, flags
 * at the very start (`(?i)`, `(?s)`, `(?m)`), `\A` and `\z`. A pattern JavaScript still cannot
 * read is a warning (no coverage for that job), never a refused pipeline: GitLab would accept it.
 */
import { configError, type Where } from '../load/source-positions.js';
import type { YamlValue } from '../load/yaml-value.js';
import { errorMessage } from '../../shared/errors.js';

/** GitLab's Gitlab::UntrustedRegexp::RubySyntax::PATTERN. */
const RUBY_SYNTAX = /^\/(.+)\/([ismU]*)$/s;

/** The pattern GitLab keeps (between the first and the last character), or null without `coverage:`. */
export function parseCoverage(value: YamlValue | undefined, owner: string, where: Where | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !RUBY_SYNTAX.test(value)) {
    throw configError(where, `${owner}: coverage config must be a regular expression with re2 syntax, written between slashes (e.g. '/Coverage: \\d+\\.\\d+%/')`, 'coverage');
  }
  return value.slice(1, -1);
}

export interface JsCoverageRegExp {
  source: string;
  /** Flags for `new RegExp` (without `g`, which the scan adds). */
  flags: string;
}

/** The RE2 pattern as a JavaScript one, or why JavaScript cannot read it. */
export function toJsRegExp(pattern: string): JsCoverageRegExp | { error: string } {
  let source = pattern;
  let flags = '';
  const leading = /^\(\?([imsU]+)\)/.exec(source);
  if (leading) {
    if (leading[1]!.includes('U')) return { error: 'the ungreedy flag (?U) has no JavaScript equivalent' };
    flags = [...new Set(leading[1])].join('');
    source = source.slice(leading[0].length);
  }
  source = translateSyntax(source);
  // Without `u` first: coverage patterns often escape characters that need no escape (`\%`),
  // which the `u` flag refuses. With `u` first for `\p{...}` classes: without it they would
  // match the letters `p{...}` themselves.
  const order = /\\[pP]\{/.test(source) ? [`${flags}u`, flags] : [flags, `${flags}u`];
  let firstError: unknown;
  for (const f of order) {
    try {
      new RegExp(source, f);
      return { source, flags: f };
    } catch (err) {
      firstError ??= err;
    }
  }
  return { error: errorMessage(firstError) };
}

/** `\A` → `^`, `\z` → `$`, `(?P<name>` → `(?<name>`; an escaped backslash stays as it is. */
function translateSyntax(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      const next = pattern[i + 1]!;
      out += next === 'A' ? '^' : next === 'z' ? '$' : c + next;
      i++;
    } else if (pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else {
      out += c;
    }
  }
  return out;
}
