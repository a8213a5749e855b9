/**
 * doublestar-style globs as gitlab-runner's allow-lists use them (`*` stays within one path
 * segment, `**` crosses `/`, a leading `!` is literal). An empty pattern list means
 * "everything" when `emptyAllows`.
 */
import { globMatches } from '../../image/allowed-images.js';

export function matchesAnyGlob(value: string, patterns: readonly string[], emptyAllows: boolean): boolean {
  if (!patterns.length) return emptyAllows;
  return patterns.some((p) => globMatches(value, p));
}
