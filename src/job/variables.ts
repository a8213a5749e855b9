/**
 * Job variables: lookup, precedence and `$VAR` / `${VAR}` expansion as the runner does it.
 * `$$` is an escaped `$`. Unknown variables expand to the empty string. Raw variables are
 * never expanded; a value that refers to itself (directly or in a cycle) stops expanding there.
 */
import { InputError } from '../shared/errors.js';
import type { JobVariable } from './job-spec.js';
import { expandString } from '../shared/expand-string.js';

/**
 * Characters one variable may expand to. Values refer to each other, so 8 levels of a value
 * naming the previous one 10 times is 10^8 characters from a few hundred bytes of YAML: a
 * variable expansion bomb, bounded here like YAML aliases and `!reference`.
 */
export const MAX_EXPANDED_VARIABLE_CHARS = 4 * 1024 * 1024;

/** Last definition of a key wins (the order is the precedence order). */
export function lastByKey(vars: readonly JobVariable[]): Map<string, JobVariable> {
  const map = new Map<string, JobVariable>();
  for (const v of vars) map.set(v.key, v);
  return map;
}

/** Returns the variables with duplicates removed (last wins), keeping the first position of each key. */
export function dedupeVariables(vars: readonly JobVariable[]): JobVariable[] {
  const last = lastByKey(vars);
  const seen = new Set<string>();
  const out: JobVariable[] = [];
  for (const v of vars) {
    if (seen.has(v.key)) continue;
    seen.add(v.key);
    out.push(last.get(v.key)!);
  }
  return out;
}

/**
 * Expands every non-raw variable value against the whole set, recursively, so that
 * `B: "$A/b"` and `C: "$B/c"` both resolve. Returns a new list in the same order.
 */
export function expandVariables(vars: readonly JobVariable[]): JobVariable[] {
  const byKey = lastByKey(vars);
  const done = new Map<string, string>();
  const inProgress = new Set<string>();

  const resolve = (key: string): string | undefined => {
    const v = byKey.get(key);
    if (!v) return undefined;
    const cached = done.get(key);
    if (cached !== undefined) return cached;
    if (v.raw || v.file) return v.value;
    // A cycle: keep the reference text as it is.
    if (inProgress.has(key)) return `$${key}`;
    inProgress.add(key);
    let length = 0;
    const value = expandString(v.value, (k) => {
      const part = resolve(k);
      length += part?.length ?? 0;
      if (length > MAX_EXPANDED_VARIABLE_CHARS) {
        throw new InputError(
          `variable ${key}: its value expands to more than ${MAX_EXPANDED_VARIABLE_CHARS} characters (through $${k}); it looks like a variable expansion bomb`,
          { key },
        );
      }
      return part;
    });
    inProgress.delete(key);
    done.set(key, value);
    return value;
  };

  return vars.map((v) => (v.raw || v.file ? v : { ...v, value: resolve(v.key) ?? v.value }));
}

/** Expands `text` (an image name, an alias, ...) against a variable list. */
export function expandWith(text: string, vars: readonly JobVariable[]): string {
  const byKey = lastByKey(vars);
  return expandString(text, (k) => byKey.get(k)?.value);
}

/** The value of `key`, last definition winning. */
export function variableValue(vars: readonly JobVariable[], key: string): string | undefined {
  let value: string | undefined;
  for (const v of vars) if (v.key === key) value = v.value;
  return value;
}
