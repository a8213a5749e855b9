/**
 * `coverage:` of a job (GitLab's Entry::Coverage): a regular expression written between slashes,
 * which GitLab runs over the job's log to find its code coverage. GitLab refuses a value that is
 * not `/.../` (optionally followed by flags i, s, m, U) with "coverage config must be a regular
 * expression with re2 syntax", and keeps what lies between the first and the last character.
 *
 * GitLab's regular expressions are RE2's; berth runs them as JavaScript ones (job-coverage.ts,
 * under a time limit), translated as the `=~` of rules are (rules/re2-regexp.ts). A pattern
 * JavaScript still cannot read is a warning (no coverage for that job), never a refused
 * pipeline: GitLab would accept it.
 */
import { configError, type Where } from '../load/source-positions.js';
import { describeType, type YamlValue } from '../load/yaml-value.js';
import { compileRe2, isRubyRegexpSyntax } from '../rules/re2-regexp.js';
import { errorMessage } from '../../shared/errors.js';

/** The pattern GitLab keeps (between the first and the last character), or null without `coverage:`. */
export function parseCoverage(value: YamlValue | undefined, owner: string, where: Where | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !isRubyRegexpSyntax(value) || value.length < 3) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : describeType(value);
    throw configError(where, `${owner}: coverage config must be a regular expression with re2 syntax, written between slashes (e.g. '/Coverage: \\d+\\.\\d+%/'), not ${shown}`, 'coverage');
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
  try {
    const re = compileRe2(pattern, '');
    return { source: re.source, flags: re.flags };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}
