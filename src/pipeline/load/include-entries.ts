/**
 * The entries of one `include:` (a string, a map or a list of them) as typed targets: local,
 * remote, project, component, or skipped (template, artifact), each with its rules, inputs and
 * where it was written.
 */
import { expectString } from '../keywords/keyword-values.js';
import { flattenList } from '../keywords/flatten-list.js';
import { INCLUDE_RULES, parseRules } from '../rules/rules.js';
import { configError, type SourcePositions, type Where } from './source-positions.js';
import { describeType, hasKey, isMap, type YamlMap, type YamlValue } from './yaml-value.js';

const SKIPPED = ['template', 'artifact'];
const EXTERNAL = ['remote', 'project', 'component'];

export type IncludeTarget =
  | { kind: 'local'; local: string }
  | { kind: 'remote'; url: string; integrity: string | null }
  | { kind: 'project'; project: string; ref: string | null; files: string[] }
  | { kind: 'component'; address: string }
  | { kind: 'skip' };

export interface IncludeEntry {
  target: IncludeTarget;
  /** `include:template "x"`, `include:remote "https://..."`: for messages. */
  what: string;
  where: Where | undefined;
  rules: ReturnType<typeof parseRules>;
  /** `include:inputs` for the included file's `spec:inputs`. */
  inputs: YamlMap | null;
}

export function parseEntries(value: YamlValue, display: string, positions: SourcePositions, where: Where | undefined, warn: (m: string) => void): IncludeEntry[] {
  // Nested lists (a YAML alias of a list of includes) are flattened, as GitLab's Entry::Includes does.
  const list = Array.isArray(value) ? flattenList(value, positions, where) : [{ value, where }];
  return list.map(({ value: item, where: at }) => {
    if (typeof item === 'string') {
      if (/^https?:\/\//i.test(item)) return entry({ kind: 'remote', url: item, integrity: null }, describeInclude('remote', item), at, null, null);
      return entry({ kind: 'local', local: item }, `include:local "${item}"`, at, null, null);
    }
    if (!isMap(item)) throw configError(at, `include must be a path or a map such as {local: path}, not ${describeType(item)}`, 'include');
    const kind = [...SKIPPED, ...EXTERNAL, 'local'].find((k) => hasKey(item, k));
    if (!kind) {
      throw configError(at, `include has none of local, remote, project, template, component (keys: ${Object.keys(item).join(', ')})`, 'include');
    }
    const keyWhere = positions.key(item, kind) ?? at;
    const what = describeInclude(kind, item[kind]);
    const rules = parseRules(item.rules, kind === 'local' ? `include "${typeof item.local === 'string' ? item.local : ''}"` : `include:${kind}`, INCLUDE_RULES, positions, positions.key(item, 'rules'), warn);
    const inputs = item.inputs === undefined || item.inputs === null ? null : item.inputs;
    if (inputs !== null && !isMap(inputs)) throw configError(positions.key(item, 'inputs') ?? at, `include:inputs must be a map of input names and values, not ${describeType(inputs)}`, 'include');
    if (SKIPPED.includes(kind)) return entry({ kind: 'skip' }, what, at, rules, null);
    const str = (key: string): string => expectString(item[key], `include:${key}`, positions.key(item, key) ?? at, 'include');
    switch (kind) {
      case 'remote':
        return entry({ kind: 'remote', url: str('remote'), integrity: item.integrity === undefined ? null : str('integrity') }, what, keyWhere, rules, inputs);
      case 'project': {
        if (!hasKey(item, 'file')) throw configError(keyWhere, `${what} needs file: the path (or list of paths) of the files to include from that project`, 'include');
        const files = Array.isArray(item.file) ? item.file.map((f) => expectString(f, 'include:file', positions.of(f) ?? at, 'include')) : [str('file')];
        const ref = item.ref === undefined || item.ref === null ? null : str('ref');
        return entry({ kind: 'project', project: str('project'), ref, files }, what, keyWhere, rules, inputs);
      }
      case 'component':
        return entry({ kind: 'component', address: str('component') }, what, keyWhere, rules, inputs);
      default: {
        const local = str('local');
        return entry({ kind: 'local', local }, `include:local "${local}"`, keyWhere, rules, inputs);
      }
    }
  });
}

function entry(target: IncludeTarget, what: string, where: Where | undefined, rules: IncludeEntry['rules'], inputs: YamlMap | null): IncludeEntry {
  return { target, what, where, rules, inputs };
}

function describeInclude(kind: string, value: YamlValue | undefined): string {
  return `include:${kind}${typeof value === 'string' ? ` "${kind === 'remote' ? withoutUserinfo(value) : value}"` : ''}`;
}

/** `https://user:token@host/x` → `https://host/x`: what messages may show. */
export function withoutUserinfo(url: string): string {
  return url.replace(/^(https?:\/\/)[^/@]*@/i, '$1');
}
