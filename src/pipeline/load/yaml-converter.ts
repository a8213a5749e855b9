/**
 * Turns a parsed YAML document (the `yaml` package's node tree) into plain values, recording
 * each map key's and list item's line. Follows Psych (what GitLab parses with): YAML 1.1
 * scalars, merge keys `<<` applied in order (later keys win), `!reference` kept as a tag.
 * Guards against bombs: aliases are converted once and shared, and the expanded size and
 * depth are computed from that, so a billion-laughs document is rejected in linear time.
 */
import { isAlias, isMap, isScalar, isSeq, visit, type Alias, type Document, type LineCounter, type Node } from 'yaml';
import { configError, type SourcePositions, type Where } from './source-positions.js';
import { newMap, ReferenceTag, isMap as isValueMap, type YamlMap, type YamlValue } from './yaml-value.js';

export interface YamlLimits {
  /** Bytes of one file. */
  maxBytes: number;
  /** Nesting depth of the expanded document. */
  maxDepth: number;
  /** Alias uses in one file. */
  maxAliases: number;
  /** Values in the expanded document (aliases counted each time they are used). */
  maxNodes: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = {
  maxBytes: 4 * 1024 * 1024,
  maxDepth: 100,
  maxAliases: 10_000,
  maxNodes: 1_000_000,
};

interface Converted {
  value: YamlValue;
  /** Values in the expanded subtree. */
  size: number;
  /** Depth of the expanded subtree (1 for a scalar). */
  height: number;
}

export interface ConvertContext {
  doc: Document;
  lineCounter: LineCounter;
  file: string;
  display: string;
  positions: SourcePositions;
  limits: YamlLimits;
  /** Non-fatal notes (a key written twice), prefixed with `file:line:`. */
  warnings?: string[];
}

export function convertDocument(ctx: ConvertContext): YamlValue {
  const state = new ConvertState(ctx);
  const root = ctx.doc.contents;
  if (!root) return null;
  return state.convert(root, 1).value;
}

class ConvertState {
  private readonly done = new Map<Node, Converted>();
  private readonly inProgress = new Set<Node>();
  private aliases = 0;
  /** The document's anchored and alias nodes in document order, listed on the first alias. */
  private anchorsAndAliases: Node[] | undefined;

  constructor(private readonly ctx: ConvertContext) {}

  /**
   * The node an alias refers to: the last node before it with its anchor, as Alias#resolve
   * finds it, but with the document walked once per file rather than once per alias.
   */
  private resolveAlias(alias: Alias): Node | undefined {
    if (!this.anchorsAndAliases) {
      const nodes: Node[] = [];
      visit(this.ctx.doc, {
        Node: (_key, node) => {
          if (isAlias(node) || node.anchor) nodes.push(node);
        },
      });
      this.anchorsAndAliases = nodes;
    }
    let found: Node | undefined;
    for (const node of this.anchorsAndAliases) {
      if (node === alias) break;
      if (!isAlias(node) && node.anchor === alias.source) found = node;
    }
    return found;
  }

  where(node: { range?: [number, number, number] | null } | null | undefined, float?: boolean): Where {
    const offset = node?.range?.[0] ?? 0;
    const where: Where = { file: this.ctx.file, display: this.ctx.display, line: this.ctx.lineCounter.linePos(offset).line };
    if (float) where.float = true;
    return where;
  }

  fail(node: Node | null | undefined, message: string): never {
    throw configError(this.where(node), message);
  }

  convert(node: Node, depth: number): Converted {
    if (depth > this.ctx.limits.maxDepth) {
      this.fail(node, `YAML nesting is deeper than ${this.ctx.limits.maxDepth} levels; flatten the configuration`);
    }
    if (isAlias(node)) {
      if (++this.aliases > this.ctx.limits.maxAliases) {
        this.fail(node, `more than ${this.ctx.limits.maxAliases} YAML aliases; the document looks like an alias bomb`);
      }
      const target = this.resolveAlias(node);
      if (!target) this.fail(node, `YAML alias *${node.source} refers to an unknown anchor`);
      return this.convert(target, depth);
    }
    const cached = this.done.get(node);
    if (cached) {
      if (depth + cached.height - 1 > this.ctx.limits.maxDepth) {
        this.fail(node, `YAML nesting is deeper than ${this.ctx.limits.maxDepth} levels (through aliases)`);
      }
      return cached;
    }
    if (this.inProgress.has(node)) this.fail(node, 'a YAML alias refers to the node that contains it');
    this.inProgress.add(node);
    const result = this.convertNode(node, depth);
    this.inProgress.delete(node);
    if (result.size > this.ctx.limits.maxNodes) {
      this.fail(node, `the YAML document expands to more than ${this.ctx.limits.maxNodes} values; it looks like an alias bomb`);
    }
    this.done.set(node, result);
    return result;
  }

  private convertNode(node: Node, depth: number): Converted {
    if (isScalar(node)) {
      if (node.tag === '!reference') this.fail(node, '!reference must be followed by a list, e.g. !reference [.job, script]');
      return { value: this.scalarValue(node.value, node.source, node), size: 1, height: 1 };
    }
    if (isSeq(node)) {
      if (node.tag === '!reference') return this.reference(node);
      const list: YamlValue[] = [];
      const items: Where[] = [];
      let size = 1;
      let height = 1;
      for (const item of node.items) {
        const c = item === null ? { value: null, size: 1, height: 1 } : this.convert(item as Node, depth + 1);
        list.push(c.value);
        const isFloat = isScalar(item) && typeof item.value === 'number' && Number.isInteger(item.value) && /[.eE]/.test(item.source ?? '');
        items.push(this.where(item as Node | null, isFloat));
        size += c.size;
        height = Math.max(height, c.height + 1);
      }
      this.ctx.positions.set(list, this.where(node), undefined, items);
      return { value: list, size, height };
    }
    if (isMap(node)) {
      if (node.tag === '!reference') this.fail(node, '!reference must be followed by a list, e.g. !reference [.job, script]');
      return this.map(node, depth);
    }
    return this.fail(node, 'unsupported YAML node');
  }

  private map(node: import('yaml').YAMLMap, depth: number): Converted {
    const map = newMap();
    const keys = new Map<string, Where>();
    const written = new Set<string>();
    let size = 1;
    let height = 1;
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const valueNode = pair.value as Node | null;
      const c = valueNode === null ? { value: null, size: 1, height: 1 } : this.convert(valueNode, depth + 1);
      size += c.size;
      height = Math.max(height, c.height + 1);
      if (isScalar(keyNode) && (typeof keyNode.value === 'symbol' || (keyNode.value === '<<' && keyNode.type === 'PLAIN'))) {
        this.mergeInto(map, keys, valueNode, c.value);
        continue;
      }
      const key = this.keyString(keyNode);
      if (written.has(key)) this.duplicate(keyNode ?? valueNode, key);
      written.add(key);
      const isFloat = isScalar(valueNode) && typeof valueNode.value === 'number' && Number.isInteger(valueNode.value)
        && /[.eE]/.test(valueNode.source ?? '');
      map[key] = c.value;
      keys.delete(key);
      keys.set(key, this.where(keyNode ?? valueNode, isFloat));
    }
    this.ctx.positions.set(map, this.where(node), keys);
    return { value: map, size, height };
  }

  /** Psych keeps the last value of a key written twice; GitLab accepts such files. */
  private duplicate(node: Node | null, key: string): void {
    const at = this.where(node);
    this.ctx.warnings?.push(`${at.display}:${at.line}: key "${key}" is written twice in the same map; the last value is used`);
  }

  /** Psych: `<<: *a` merges a's keys at this point; `<<: [*a, *b]` lets a win over b. */
  private mergeInto(map: YamlMap, keys: Map<string, Where>, valueNode: Node | null, value: YamlValue): void {
    const sources = Array.isArray(value) ? [...value].reverse() : [value];
    const merged = newMap();
    const mergedKeys = new Map<string, Where>();
    for (const source of sources) {
      if (!isValueMap(source)) this.fail(valueNode, 'the merge key << needs a map or a list of maps (e.g. <<: *defaults)');
      for (const [k, v] of Object.entries(source)) {
        merged[k] = v;
        const w = this.ctx.positions.key(source, k);
        if (w) mergedKeys.set(k, w);
      }
    }
    for (const [k, v] of Object.entries(merged)) {
      map[k] = v;
      const w = mergedKeys.get(k);
      if (w) keys.set(k, w);
    }
  }

  private keyString(keyNode: Node | null): string {
    if (keyNode === null) return '';
    if (!isScalar(keyNode)) this.fail(keyNode, 'map keys must be plain values, not lists or maps');
    const v = psychScalar(keyNode.value, keyNode.source);
    if (v === null || v === undefined) return '';
    if (v instanceof Date) return keyNode.source ?? v.toISOString();
    return scalarText(v);
  }

  private scalarValue(raw: unknown, source: string | undefined, node: Node): YamlValue {
    const value = psychScalar(raw, source);
    if (value === null || value === undefined) return null;
    if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
    if (typeof value === 'bigint') return Number(value);
    if (value instanceof Date) return source ?? value.toISOString();
    return this.fail(node, 'unsupported YAML value (binary data, sets and ordered maps are not allowed here)');
  }

  private reference(node: import('yaml').YAMLSeq): Converted {
    const path: string[] = [];
    for (const item of node.items) {
      if (!isScalar(item) || (typeof item.value !== 'string' && typeof item.value !== 'number')) {
        this.fail(node, '!reference must be a list of keys, e.g. !reference [.job, script]');
      }
      path.push(String(item.value));
    }
    if (path.length === 0) this.fail(node, '!reference needs at least one key, e.g. !reference [.job, script]');
    return { value: new ReferenceTag(path, this.where(node)), size: 1, height: 1 };
  }
}

/** YAML 1.1 as Psych reads it: `y` and `n` stay strings (the yaml package makes them booleans). */
function psychScalar(value: unknown, source: string | undefined): unknown {
  return typeof value === 'boolean' && source !== undefined && /^[yYnN]$/.test(source) ? source : value;
}

/** A map key's scalar as text (a key is looked up by its text, as GitLab's Ruby does). */
function scalarText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    default:
      return JSON.stringify(v) ?? '';
  }
}
