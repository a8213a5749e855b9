/**
 * GitLab's merge for `include` and `extends` (ActiveSupport `Hash#deep_merge`): maps are merged
 * key by key, recursively; anything else (lists included) from `over` replaces what `base` had.
 * Never mutates its inputs; positions of the merged keys follow the value that won.
 */
import type { SourcePositions, Where } from './source-positions.js';
import { hasKey, isMap, newMap, type YamlMap } from './yaml-value.js';

export function mergeMaps(base: YamlMap, over: YamlMap, positions: SourcePositions): YamlMap {
  const out = newMap();
  const keys = new Map<string, Where>();
  for (const [k, v] of Object.entries(base)) {
    out[k] = v;
    const w = positions.key(base, k);
    if (w) keys.set(k, w);
  }
  for (const [k, v] of Object.entries(over)) {
    const old = hasKey(out, k) ? out[k] : undefined;
    out[k] = isMap(old) && isMap(v) ? mergeMaps(old, v, positions) : v;
    const w = positions.key(over, k);
    if (w) keys.set(k, w);
  }
  const where = positions.of(over) ?? positions.of(base);
  if (where) positions.set(out, where, keys);
  return out;
}

/** A shallow copy of `map` without `drop`, keeping positions. */
export function withoutKeys(map: YamlMap, drop: readonly string[], positions: SourcePositions): YamlMap {
  const out = newMap();
  const keys = new Map<string, Where>();
  for (const [k, v] of Object.entries(map)) {
    if (drop.includes(k)) continue;
    out[k] = v;
    const w = positions.key(map, k);
    if (w) keys.set(k, w);
  }
  const where = positions.of(map);
  if (where) positions.set(out, where, keys);
  return out;
}
