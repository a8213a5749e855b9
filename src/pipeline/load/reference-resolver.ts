/**
 * `!reference [job, key, ...]`: replaced by the value at that path of the configuration
 * after include and extends (as GitLab does). References inside the referenced value are
 * resolved too, up to 10 levels; a missing path or a cycle is an error naming the tag's line.
 * When includes were skipped, a missing path is a warning instead: the tag becomes an empty
 * list inside a list (so a script loses only those lines) and null elsewhere (as if unset).
 * Guards against reference bombs (N levels of M references each expand to M^N lines): resolved
 * values are shared, their expanded sizes memoised, and the values all tags put into the
 * configuration together are bounded like YAML aliases (MAX_REFERENCE_VALUES), in linear time.
 */
import type { SkippedIncludes } from './skipped-includes.js';
import { configError, locationPrefix, type SourcePositions, type Where } from './source-positions.js';
import { hasKey, isMap, newMap, ReferenceTag, type YamlMap, type YamlValue } from './yaml-value.js';

export const MAX_REFERENCE_LEVELS = 10;
/** Values all `!reference` tags together may put into the configuration (as the YAML alias limit). */
export const MAX_REFERENCE_VALUES = 1_000_000;

export function resolveReferences(
  config: YamlMap,
  positions: SourcePositions,
  skipped?: SkippedIncludes,
  warn: (m: string) => void = () => {},
  maxValues: number = MAX_REFERENCE_VALUES,
): YamlMap {
  const resolver = new ReferenceResolver(config, positions, skipped, warn, maxValues);
  return resolver.resolve(config, []) as YamlMap;
}

/** Marks a reference that was forgiven: its target is in an include berth exec skipped. */
const MISSING = Symbol('missing reference');

class ReferenceResolver {
  private readonly cache = new Map<ReferenceTag, YamlValue | typeof MISSING>();
  private readonly hasRef = new WeakMap<object, boolean>();
  /** Expanded size (values, shared ones counted at each use) of resolved lists and maps. */
  private readonly sizes = new WeakMap<object, number>();
  /** Values the tags met so far put into the configuration. */
  private expanded = 0;

  constructor(
    private readonly config: YamlMap,
    private readonly positions: SourcePositions,
    private readonly skipped: SkippedIncludes | undefined,
    private readonly warn: (m: string) => void,
    private readonly maxValues: number,
  ) {}

  resolve(value: YamlValue, chain: ReferenceTag[]): YamlValue {
    if (value instanceof ReferenceTag) {
      const target = this.use(value, chain);
      return target === MISSING ? null : target;
    }
    if (Array.isArray(value)) {
      if (!this.containsReference(value)) return value;
      const out = value.map((v) => {
        const target = v instanceof ReferenceTag ? this.use(v, chain) : this.resolve(v, chain);
        return target === MISSING ? [] : target;
      });
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

  /**
   * A tag met while walking: its target, counted against the limit. Only tags met outside any
   * target (an empty chain) add to the total; the ones inside are counted in their target's size.
   */
  private use(tag: ReferenceTag, chain: ReferenceTag[]): YamlValue | typeof MISSING {
    const target = this.follow(tag, chain);
    const size = target === MISSING ? 0 : this.sizeOf(target);
    if (size > this.maxValues || (chain.length === 0 && (this.expanded += size) > this.maxValues)) {
      throw configError(
        tag.where,
        `${tag.toString()}: the !reference tags expand the configuration to more than ${this.maxValues} values; it looks like a reference bomb`,
      );
    }
    return target;
  }

  private sizeOf(value: YamlValue): number {
    if (value === null || typeof value !== 'object' || value instanceof ReferenceTag) return 1;
    const known = this.sizes.get(value);
    if (known !== undefined) return known;
    let size = 1;
    for (const v of Array.isArray(value) ? value : Object.values(value)) size += this.sizeOf(v);
    this.sizes.set(value, size);
    return size;
  }

  private follow(tag: ReferenceTag, chain: ReferenceTag[]): YamlValue | typeof MISSING {
    const cached = this.cache.get(tag);
    if (cached !== undefined) return cached;
    if (chain.includes(tag)) {
      throw configError(tag.where, `${tag.toString()} is part of a circular chain of references`);
    }
    if (chain.length >= MAX_REFERENCE_LEVELS) {
      throw configError(tag.where, `${tag.toString()}: references are nested more than ${MAX_REFERENCE_LEVELS} levels deep`);
    }
    const target = this.lookup(tag);
    const value = target === MISSING ? MISSING : this.resolve(target, [...chain, tag]);
    this.cache.set(tag, value);
    return value;
  }

  private lookup(tag: ReferenceTag): YamlValue | typeof MISSING {
    let node: YamlValue = this.config;
    for (const key of tag.path) {
      if (!isMap(node) || !hasKey(node, key)) return this.forgive(tag);
      node = node[key]!;
    }
    if (node === null || node === false) return this.forgive(tag);
    return node;
  }

  private forgive(tag: ReferenceTag): typeof MISSING {
    if (!this.skipped?.any) throw missing(tag);
    this.warn(`${locationPrefix(tag.where)}${tag.toString()} could not be found (${this.skipped.hint()}); it is left empty`);
    return MISSING;
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

