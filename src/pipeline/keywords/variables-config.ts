/**
 * `variables:` maps (global, job, rules, workflow rules): `KEY: value` with string, number or
 * boolean values (printed as Ruby prints them; no value is ""), or the map form
 * `{value, description, options, expand}` where `expand: false` makes the variable raw.
 */
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { describeType, isMap, type YamlValue } from '../load/yaml-value.js';

export interface ConfigVariable {
  key: string;
  value: string;
  raw: boolean;
}

const MAP_FORM_KEYS = ['value', 'description', 'options', 'expand'];
/** GitLab's Processable (a job's variables: allowed_value_data value, expand): description and options are for global variables. */
export const JOB_VARIABLE_KEYS: readonly string[] = ['value', 'expand'];

/** `owner` names the place in messages, e.g. `job "build"` or `global variables`; `mapKeys`: the keys of the map form allowed there. */
export function parseVariables(
  value: YamlValue | undefined,
  owner: string,
  positions: SourcePositions,
  where: Where | undefined,
  mapKeys: readonly string[] = MAP_FORM_KEYS,
): ConfigVariable[] {
  if (value === undefined || value === null) return [];
  if (!isMap(value)) throw configError(where, `${owner}: variables must be a map of KEY: value, not ${describeType(value)}`, 'variables');
  const out: ConfigVariable[] = [];
  for (const [key, v] of Object.entries(value)) {
    const at = positions.key(value, key);
    if (!/^[A-Za-z0-9_]+$/.test(key)) {
      throw configError(at, `${owner}: variable name "${key}" may only contain letters, digits and _`, 'variables');
    }
    if (isMap(v)) {
      out.push(mapForm(key, v, owner, positions, at, mapKeys));
      continue;
    }
    out.push({ key, value: scalarText(v, `${owner}: variable "${key}"`, at), raw: false });
  }
  return out;
}

function mapForm(key: string, v: Record<string, YamlValue>, owner: string, positions: SourcePositions, at: Where | undefined, mapKeys: readonly string[]): ConfigVariable {
  for (const k of Object.keys(v)) {
    if (MAP_FORM_KEYS.includes(k) && !mapKeys.includes(k)) {
      throw configError(positions.key(v, k), `${owner}: variable "${key}": ${k} is only allowed in the global variables (here: ${mapKeys.join(', ')})`, 'variables');
    }
    if (!mapKeys.includes(k)) {
      throw configError(positions.key(v, k), `${owner}: variable "${key}" has unknown key "${k}" (allowed: ${mapKeys.join(', ')})`, 'variables');
    }
  }
  const valueAt = positions.key(v, 'value') ?? at;
  const value = v.value === undefined ? '' : scalarText(v.value, `${owner}: variable "${key}" value`, valueAt);
  if (v.expand !== undefined && typeof v.expand !== 'boolean') {
    throw configError(positions.key(v, 'expand'), `${owner}: variable "${key}": expand must be true or false`, 'variables');
  }
  if (v.options !== undefined) {
    const options = v.options;
    if (!Array.isArray(options) || !options.every((o) => typeof o === 'string' || typeof o === 'number')) {
      throw configError(positions.key(v, 'options'), `${owner}: variable "${key}": options must be a list of strings`, 'variables');
    }
    if (!options.map(String).includes(value)) {
      throw configError(valueAt, `${owner}: variable "${key}": value "${value}" is not one of its options (${options.join(', ')})`, 'variables');
    }
  }
  return { key, value, raw: v.expand === false };
}

/** GitLab takes a variable's value with Ruby's to_s: `true` is "true", no value (`X:`) is "". */
function scalarText(v: YamlValue, what: string, at: Where | undefined): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return rubyNumber(v, at?.float === true);
  if (typeof v === 'boolean') return String(v);
  if (v === null) return '';
  throw configError(at, `${what} must be a string, a number or a boolean, not ${describeType(v)}`, 'variables');
}

/** Ruby's Integer#to_s / Float#to_s for the values YAML gives. */
export function rubyNumber(n: number, isFloat: boolean): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (isFloat && Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  return String(n);
}
