/**
 * `needs:`: job names or `{job, optional, artifacts}`. Cross-pipeline and cross-project
 * needs (`pipeline:`, `project:`) cannot be met locally and are dropped with a warning.
 */
import { flattenList } from './flatten-list.js';
import { expectBoolean, expectString } from './keyword-values.js';
import { parseMatrix, type MatrixEntry } from './parallel-config.js';
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { describeType, isMap, type YamlValue } from '../load/yaml-value.js';

export interface NeedConfig {
  job: string;
  optional: boolean;
  /** `artifacts:` (default true): whether this job downloads the needed job's artifacts (GitLab lib/gitlab/ci/config/entry/need.rb). */
  artifacts: boolean;
  where: Where | undefined;
  /** `parallel: {matrix}`: only these jobs of a parallel:matrix job. */
  matrix?: MatrixEntry[];
}

const NEED_KEYS = ['job', 'optional', 'artifacts', 'pipeline', 'project', 'ref', 'parallel'];

export function parseNeeds(
  value: YamlValue | undefined,
  owner: string,
  positions: SourcePositions,
  where: Where | undefined,
  warn: (message: string) => void,
): NeedConfig[] | null {
  if (value === undefined) return null;
  if (value === null) return [];
  // Nested lists (`- !reference [.x, needs]`) are flattened, as GitLab's Entry::Needs does.
  const list = Array.isArray(value) ? flattenList(value, positions, where) : [{ value, where }];
  const needs: NeedConfig[] = [];
  list.forEach(({ value: item, where: at }) => {
    if (typeof item === 'string') {
      needs.push({ job: item, optional: false, artifacts: true, where: at });
      return;
    }
    if (!isMap(item)) throw configError(at, `${owner}: needs must list job names or {job: name}, not ${describeType(item)}`, 'needs');
    for (const k of Object.keys(item)) {
      if (!NEED_KEYS.includes(k)) throw configError(positions.key(item, k), `${owner}: needs has unknown key "${k}"`, 'needs');
    }
    if (item.pipeline !== undefined || item.project !== undefined) {
      warn(`${at ? `${at.display}:${at.line}: ` : ''}${owner}: needs on another pipeline or project cannot be met by berth exec; ignored`);
      return;
    }
    const job = expectString(item.job, `${owner}: needs job`, positions.key(item, 'job') ?? at, 'needs');
    const optional = item.optional === undefined ? false : expectBoolean(item.optional, `${owner}: needs optional`, positions.key(item, 'optional'), 'needs');
    const artifacts = item.artifacts === undefined ? true : expectBoolean(item.artifacts, `${owner}: needs artifacts`, positions.key(item, 'artifacts'), 'needs');
    const need: NeedConfig = { job, optional, artifacts, where: at };
    if (item.parallel !== undefined && item.parallel !== null) need.matrix = needMatrix(item.parallel, `${owner}: needs "${job}": parallel`, positions, positions.key(item, 'parallel') ?? at);
    needs.push(need);
  });
  const seen = new Set<string>();
  for (const need of needs) {
    if (need.matrix) continue;
    if (seen.has(need.job)) throw configError(need.where, `${owner}: needs "${need.job}" more than once`, 'needs');
    seen.add(need.job);
  }
  return needs;
}

function needMatrix(value: YamlValue, what: string, positions: SourcePositions, where: Where | undefined): MatrixEntry[] {
  if (!isMap(value) || value.matrix === undefined || Object.keys(value).some((k) => k !== 'matrix')) {
    throw configError(where, `${what} must be a map with matrix: [{VAR: value or [values]}, ...]`, 'needs');
  }
  return parseMatrix(value.matrix, `${what}:matrix`, positions, positions.key(value, 'matrix') ?? where);
}
