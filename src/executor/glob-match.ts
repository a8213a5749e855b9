/**
 * doublestar-style globs as gitlab-runner's allow-lists use them: `*` stays within one path
 * segment, `**` crosses `/`. An empty pattern list means "everything" when `emptyAllows`.
 */
import picomatch from 'picomatch';

export function matchesAnyGlob(value: string, patterns: readonly string[], emptyAllows: boolean): boolean {
  if (!patterns.length) return emptyAllows;
  return patterns.some((p) => picomatch.isMatch(value, p, { dot: true, nonegate: true }));
}
