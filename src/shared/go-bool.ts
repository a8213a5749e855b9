import { parseGoInt64 } from './go-int.js';

/** Go's strconv.ParseBool, as gitlab-runner reads its boolean settings and variables. */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** The value, or null when Go would refuse it. */
export function parseGoBool(raw: string | undefined): boolean | null {
  if (raw === undefined) return null;
  if (GO_TRUE.has(raw)) return true;
  if (GO_FALSE.has(raw)) return false;
  return null;
}

/**
 * A variable read as gitlab-runner's Variables.Bool reads it (common/spec/variables.go): Go's
 * ParseBool of the lower-cased value, else a base-10 integer equal to 1; anything else (and a
 * missing variable) is false.
 */
export function goVariableBool(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  const parsed = parseGoBool(raw.toLowerCase());
  if (parsed !== null) return parsed;
  return parseGoInt64(raw) === 1;
}
