/**
 * `!reference [job, key, ...]`: replaced by the value at that path of the configuration
 * after include and extends (as GitLab does). References inside the referenced value are
 * resolved too, up to 10 levels; a missing path or a cycle is an error naming the tag's line.
 */
import { configError, type SourcePositions, type Where } from './source-positions.js';
import { hasKey, isMap, newMap, ReferenceTag, type YamlMap, type YamlValue } from './yaml-value.js';

export const MAX_REFERENCE_LEVELS = 10;

export function resolveReferences(config: YamlMap, positions: SourcePositions): YamlMap {
  const resolver = new ReferenceResolver(config, positions);
  return resolver.resolve(config, []) as YamlMap;
}

class ReferenceResolver {
  private readonly cache = new Map<ReferenceTag, YamlValue>();
  private readonly hasRef = new WeakMap<object, boolean>();

  constructor(
    private readonly config: YamlMap,
    private readonly positions: SourcePositions,
  ) {}

  resolve(value: YamlValue, chain: ReferenceTag[]): YamlValue {
    if (value instanceof ReferenceTag) return this.follow(value, chain);
    if (Array.isArray(value)) {
      if (!this.containsReference(value)) return value;
      const out = value.map((v) => this.resolve(v, chain));
      const where = this.positions.of(value);
      if (where) this.positions.set(out, where, undefined, value.map((_, i) => this.positions.item(value, i)));
      return out;
    }
    if (isMap(value)) {
      if (!this.containsReference(value)) return value;
      const out = newMap();
      for (const [k, v] of Object.entries(value)) out[k] = this.resolve(v, chain);
      const where = this.positions.of(value);
      const keys = this.positions.keys(value);
      if (where) this.positions.set(out, where, keys ? new Map(keys) : undefined);
      return out;
    }
    return value;
  }

  private follow(tag: ReferenceTag, chain: ReferenceTag[]): YamlValue {
    const cached = this.cache.get(tag);
    if (cached !== undefined) return cached;
    if (chain.includes(tag)) {
      throw configError(tag.where, `${tag.toString()} is part of a circular chain of references`);
    }
    if (chain.length >= MAX_REFERENCE_LEVELS) {
      throw configError(tag.where, `${tag.toString()}: references are nested more than ${MAX_REFERENCE_LEVELS} levels deep`);
    }
    const target = this.lookup(tag);
    const value = this.resolve(target, [...chain, tag]);
    this.cache.set(tag, value);
    return value;
  }

  private lookup(tag: ReferenceTag): YamlValue {
    let node: YamlValue = this.config;
    for (const key of tag.path) {
      if (!isMap(node) || !hasKey(node, key)) throw missing(tag);
      node = node[key]!;
    }
    if (node === null || node === false) throw missing(tag);
    return node;
  }

  private containsReference(value: YamlValue): boolean {
    if (value instanceof ReferenceTag) return true;
    if (value === null || typeof value !== 'object') return false;
    const known = this.hasRef.get(value);
    if (known !== undefined) return known;
    const children: YamlValue[] = Array.isArray(value) ? value : Object.values(value);
    const result = children.some((v) => this.containsReference(v));
    this.hasRef.set(value, result);
    return result;
  }
}

function missing(tag: ReferenceTag): Error {
  const where: Where = tag.where;
  return configError(where, `${tag.toString()} could not be found; check the job name and the key path`);
}

