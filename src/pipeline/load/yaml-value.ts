/**
 * The plain value model of a loaded .gitlab-ci.yml: what the YAML parser gives, before any
 * keyword is interpreted. `!reference [job, key]` stays a `ReferenceTag` leaf until the
 * references are resolved (after include and extends, as GitLab does).
 */
import type { Where } from './source-positions.js';

export type YamlScalar = string | number | boolean | null;
export type YamlValue = YamlScalar | YamlValue[] | YamlMap | ReferenceTag;
export interface YamlMap {
  [key: string]: YamlValue;
}

export class ReferenceTag {
  constructor(
    readonly path: readonly string[],
    readonly where: Where,
  ) {}

  /** `!reference ["job", "key"]`, the form GitLab uses in its messages. */
  toString(): string {
    return `!reference [${this.path.map((p) => JSON.stringify(p)).join(', ')}]`;
  }
}

/** A map without a prototype, so that keys such as `__proto__` are plain keys. */
export function newMap(): YamlMap {
  return Object.create(null) as YamlMap;
}

export function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof ReferenceTag);
}

export function hasKey(map: YamlMap, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(map, key);
}

/** A short description of a value's type for error messages. */
export function describeType(value: YamlValue | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof ReferenceTag) return 'an unresolved !reference';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value}`;
}
