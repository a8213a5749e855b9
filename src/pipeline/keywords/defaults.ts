/**
 * `default:` (and the deprecated top-level image, services, before_script, after_script,
 * cache): a job gets each default key it does not set itself, unless `inherit:default`
 * says otherwise (`false`, or the list of keys to inherit). `inherit:variables` does the same
 * for global variables.
 */
import { withoutKeys } from '../load/deep-merge.js';
import { DEFAULT_KEYWORDS, LEGACY_DEFAULT_KEYWORDS } from './job-keywords.js';
import { expectStringList } from './keyword-values.js';
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { describeType, hasKey, isMap, newMap, type YamlMap, type YamlValue } from '../load/yaml-value.js';

export interface Inherit {
  default: boolean | string[];
  variables: boolean | string[];
}

export function readDefaults(config: YamlMap, positions: SourcePositions): YamlMap {
  const out = newMap();
  const keys = new Map<string, Where>();
  for (const key of LEGACY_DEFAULT_KEYWORDS) {
    if (!hasKey(config, key)) continue;
    out[key] = config[key]!;
    const w = positions.key(config, key);
    if (w) keys.set(key, w);
  }
  const section = config.default;
  if (section !== undefined && section !== null) {
    if (!isMap(section)) throw configError(positions.key(config, 'default'), `default must be a map of keywords, not ${describeType(section)}`, 'default');
    for (const [key, value] of Object.entries(section)) {
      const w = positions.key(section, key);
      if (!(DEFAULT_KEYWORDS as readonly string[]).includes(key)) {
        // GitLab refuses the file ("default config contains unknown keys"): so does berth, so that a
        // file that passes here does not fail on push. `variables` belongs at the top level.
        const hint = key === 'variables' ? '; global variables go in the top-level variables:, not under default:' : '';
        throw configError(w ?? positions.key(config, 'default'), `default config contains unknown keys: ${key} (allowed: ${DEFAULT_KEYWORDS.join(', ')})${hint}`, 'default');
      }
      out[key] = value;
      if (w) keys.set(key, w);
    }
  }
  positions.set(out, positions.of(config) ?? { file: '', display: '', line: 1 }, keys);
  return out;
}

export function parseInherit(value: YamlValue | undefined, owner: string, positions: SourcePositions, where: Where | undefined): Inherit {
  const inherit: Inherit = { default: true, variables: true };
  if (value === undefined || value === null) return inherit;
  if (!isMap(value)) throw configError(where, `${owner}: inherit must be a map with default and/or variables`, 'inherit');
  for (const [key, v] of Object.entries(value)) {
    const at = positions.key(value, key);
    if (key !== 'default' && key !== 'variables') throw configError(at, `${owner}: inherit has unknown key "${key}" (allowed: default, variables)`, 'inherit');
    inherit[key] = typeof v === 'boolean' ? v : expectStringList(v, `${owner}: inherit:${key}`, at, { key: 'inherit' });
  }
  return inherit;
}

export function inherits(setting: boolean | string[], key: string): boolean {
  return setting === true || (Array.isArray(setting) && setting.includes(key));
}

/** The job's map with the inherited default keys added (the job's own keys win). */
export function applyDefaults(job: YamlMap, defaults: YamlMap, inherit: Inherit, positions: SourcePositions): YamlMap {
  const out = withoutKeys(job, [], positions);
  const keys = new Map(positions.keys(out) ?? []);
  for (const [key, value] of Object.entries(defaults)) {
    if (hasKey(out, key) || !inherits(inherit.default, key)) continue;
    out[key] = value;
    const w = positions.key(defaults, key);
    if (w) keys.set(key, w);
  }
  const where = positions.of(job);
  if (where) positions.set(out, where, keys);
  return out;
}
