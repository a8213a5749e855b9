/**
 * Keys that mean nothing for a local run (IGNORED_JOB_KEYS) are still checked as GitLab's
 * Processable and Job entries check them, so that berth refuses what GitLab refuses:
 * `resource_group` is a string, `interruptible` true or false, and the job's name at most
 * 255 characters (`coverage` is checked by coverage-config.ts). Also a job cannot have both `script` and `trigger`, nor `run` and `trigger`.
 */
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { describeType, type YamlMap } from '../load/yaml-value.js';

export const MAX_JOB_NAME_LENGTH = 255;

export function checkJobShape(name: string, job: YamlMap, where: Where | undefined, positions: SourcePositions): void {
  const owner = `job "${name.length > 60 ? `${name.slice(0, 60)}…` : name}"`;
  const at = (key: string): Where | undefined => positions.key(job, key) ?? where;
  if (name.length > MAX_JOB_NAME_LENGTH) {
    throw configError(where, `${owner}: the job name has ${name.length} characters; GitLab allows at most ${MAX_JOB_NAME_LENGTH}`);
  }
  for (const other of ['script', 'run']) {
    if (job.trigger !== undefined && job[other] !== undefined) {
      throw configError(at('trigger'), `${owner}: ${other} and trigger cannot be used together (a trigger job starts a downstream pipeline; it has no script or run)`, 'trigger');
    }
  }
  const group = job.resource_group;
  if (group !== undefined && group !== null && typeof group !== 'string') {
    throw configError(at('resource_group'), `${owner}: resource_group must be a string, not ${describeType(group)}`, 'resource_group');
  }
  const interruptible = job.interruptible;
  if (interruptible !== undefined && interruptible !== null && typeof interruptible !== 'boolean') {
    throw configError(at('interruptible'), `${owner}: interruptible must be true or false, not ${describeType(interruptible)}`, 'interruptible');
  }
}
