/**
 * `parallel:` (GitLab's Entry::Product::Parallel): a whole number from 1 to 200, or
 * `{matrix: [{VAR: value or [values]}, ...]}` generating at most 200 jobs in all. Matrix values
 * are taken as strings (Ruby's to_s). Also `needs: [{job, parallel: {matrix}}]`.
 */
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { describeType, isMap, type YamlValue } from '../load/yaml-value.js';
import { rubyNumber } from './variables-config.js';

/** GitLab's PARALLEL_LIMIT. */
export const PARALLEL_LIMIT = 200;

/** One matrix entry: each variable with its values, in the order written. */
export type MatrixEntry = [string, string[]][];

export type ParallelConfig = { kind: 'number'; total: number } | { kind: 'matrix'; matrix: MatrixEntry[] };

export function parseParallel(value: YamlValue | undefined, owner: string, positions: SourcePositions, where: Where | undefined): ParallelConfig | null {
  if (value === undefined || value === null) return null;
  const what = `${owner}: parallel`;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw configError(where, `${what} config must be an integer`, 'parallel');
    if (value < 1) throw configError(where, `${what} config must be greater than or equal to 1`, 'parallel');
    if (value > PARALLEL_LIMIT) throw configError(where, `${what} config must be less than or equal to ${PARALLEL_LIMIT}`, 'parallel');
    return { kind: 'number', total: value };
  }
  if (!isMap(value)) throw configError(where, `${what} config should be an integer or a hash, not ${describeType(value)}`, 'parallel');
  const unknown = Object.keys(value).filter((k) => k !== 'matrix');
  if (unknown.length) throw configError(positions.key(value, unknown[0]!), `${what} config contains unknown keys: ${unknown.join(', ')}`, 'parallel');
  if (value.matrix === undefined) throw configError(where, `${what} config missing required keys: matrix`, 'parallel');
  const matrix = parseMatrix(value.matrix, `${what}:matrix`, positions, positions.key(value, 'matrix') ?? where);
  const jobs = matrix.reduce((sum, entry) => sum + entry.reduce((n, [, values]) => n * values.length, 1), 0);
  if (jobs > PARALLEL_LIMIT) {
    throw configError(positions.key(value, 'matrix') ?? where, `${what}:matrix config generates too many jobs (maximum is ${PARALLEL_LIMIT}; this matrix makes ${jobs})`, 'parallel');
  }
  return { kind: 'matrix', matrix };
}

export function parseMatrix(value: YamlValue | undefined, what: string, positions: SourcePositions, where: Where | undefined): MatrixEntry[] {
  if (!Array.isArray(value) || !value.every(isMap)) throw configError(where, `${what} config should be an array of hashes`, 'parallel');
  return value.map((entry, i) => {
    const at = positions.item(value, i) ?? where;
    const pairs = Object.entries(entry);
    if (pairs.length < 1) throw configError(at, `${what} config requires at least 1 items`, 'parallel');
    return pairs.map(([key, v]): [string, string[]] => {
      const list = Array.isArray(v) ? v : [v];
      if (!/^[A-Za-z0-9_]+$/.test(key) || list.length === 0 || !list.every((x) => typeof x === 'string' || typeof x === 'number')) {
        throw configError(positions.key(entry, key) ?? at, `${what} config should be a hash of key value pairs, value can be an array (variable "${key}")`, 'parallel');
      }
      // Ruby's to_s: a float written 1.0 stays "1.0".
      const isFloat = (j: number): boolean => (Array.isArray(v) ? positions.item(v, j) : positions.key(entry, key))?.float === true;
      return [key, list.map((x, j) => (typeof x === 'number' ? rubyNumber(x, isFloat(j)) : x))];
    });
  });
}

/** One job of an expansion: GitLab's name, CI_NODE_INDEX (1-based), CI_NODE_TOTAL and the matrix variables. */
export interface ParallelInstance {
  name: string;
  index: number;
  total: number;
  /** null for `parallel: N`. */
  variables: [string, string][] | null;
}

/** The jobs GitLab's normalizer makes of `name` (NumberStrategy / MatrixStrategy), in its order. */
export function expandParallel(name: string, config: ParallelConfig): ParallelInstance[] {
  if (config.kind === 'number') {
    return Array.from({ length: config.total }, (_, i) => ({ name: `${name} ${i + 1}/${config.total}`, index: i + 1, total: config.total, variables: null }));
  }
  const combos = config.matrix.flatMap((entry) =>
    entry.reduce<[string, string][][]>((acc, [key, values]) => acc.flatMap((prefix) => values.map((v) => [...prefix, [key, v] as [string, string]])), [[]]),
  );
  return combos.map((variables, i) => ({
    name: `${name}: [${variables.map(([, v]) => v).join(', ')}]`,
    index: i + 1,
    total: combos.length,
    variables,
  }));
}
