/**
 * `stages:` (or the deprecated `types:`): the declared order, default build, test, deploy;
 * `.pre` is always first and `.post` always last. A job's stage must be declared.
 */
import { expectStringList } from './keyword-values.js';
import { configError, type SourcePositions } from '../load/source-positions.js';
import type { JobConfig } from './job-config.js';
import type { YamlMap } from '../load/yaml-value.js';

export const DEFAULT_STAGES = ['build', 'test', 'deploy'];

export function parseStages(config: YamlMap, positions: SourcePositions): string[] {
  const key = config.stages !== undefined ? 'stages' : 'types';
  const value = config[key];
  const declared = value === undefined || value === null
    ? DEFAULT_STAGES
    : expectStringList(value, 'stages', positions.key(config, key), { key: 'stages' });
  const middle = [...new Set(declared)].filter((s) => s !== '.pre' && s !== '.post');
  return ['.pre', ...middle, '.post'];
}

export function checkJobStage(job: JobConfig, stages: string[]): void {
  if (stages.includes(job.stage)) return;
  throw configError(
    job.stageWhere ?? job.where,
    `job "${job.name}": stage "${job.stage}" is not declared in stages (declared: ${stages.join(', ')}); add it to stages: or fix the name`,
    'stage',
  );
}
