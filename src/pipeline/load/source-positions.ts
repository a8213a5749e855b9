/**
 * Where each part of the loaded configuration came from (file and line), kept beside the
 * plain values so that every error can name `file:line`. One instance per compilation.
 */
import { InputError } from '../../shared/errors.js';

export interface Where {
  /** Absolute path of the YAML file. */
  file: string;
  /** The path as shown in messages (relative to the project root). */
  display: string;
  line: number;
  /** The scalar was a float with an integral value (`1.0`): Ruby prints it as "1.0". */
  float?: boolean;
}

interface NodeInfo {
  where: Where;
  keys?: Map<string, Where>;
  items?: (Where | undefined)[];
}

export class SourcePositions {
  private readonly nodes = new WeakMap<object, NodeInfo>();

  set(node: object, where: Where, keys?: Map<string, Where>, items?: (Where | undefined)[]): void {
    this.nodes.set(node, { where, keys, items });
  }

  /** Where a map or list starts. */
  of(node: unknown): Where | undefined {
    return typeof node === 'object' && node !== null ? this.nodes.get(node)?.where : undefined;
  }

  /** Where `key` of `map` is written; the map's own position when unknown. */
  key(map: object, key: string): Where | undefined {
    const info = this.nodes.get(map);
    return info?.keys?.get(key) ?? info?.where;
  }

  keys(map: object): Map<string, Where> | undefined {
    return this.nodes.get(map)?.keys;
  }

  /** Where item `index` of `list` is written; the list's own position when unknown. */
  item(list: object, index: number): Where | undefined {
    const info = this.nodes.get(list);
    return info?.items?.[index] ?? info?.where;
  }
}

/** `file:line: ` or nothing. */
export function locationPrefix(where: Where | undefined): string {
  return where ? `${where.display}:${where.line}: ` : '';
}

/** An InputError whose message starts with `file:line:`. */
export function configError(where: Where | undefined, message: string, key?: string): InputError {
  return new InputError(`${locationPrefix(where)}${message}`, {
    file: where?.file,
    line: where?.line,
    key,
  });
}
