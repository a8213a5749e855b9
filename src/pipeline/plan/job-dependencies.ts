/**
 * `dependencies:` and the jobs whose artifacts a job receives, as GitLab decides them.
 *
 * On the whole file (GitLab's YamlProcessor#validate_job_dependency!): every name in
 * `dependencies:` is a job of the configuration, in the same or an earlier stage.
 *
 * On the pipeline (GitLab's Ci::BuildDependencies#local): a job with `needs:` (GitLab's DAG
 * scheduling, `needs: []` included) gets the needed jobs whose need has `artifacts: true`; a job
 * without gets every job of the earlier stages; then `dependencies: [names]` keeps those names,
 * and `dependencies: []` means none. Only jobs that are in the pipeline count.
 */
import type { DependencySpec } from '../../job/job-spec.js';
import type { JobConfig } from '../keywords/job-config.js';
import type { NeedConfig } from '../keywords/needs-config.js';
import type { SkippedIncludes } from '../load/skipped-includes.js';
import { configError, locationPrefix } from '../load/source-positions.js';

/**
 * Throws on a dependency that is not a job, or is in a later stage. When includes were skipped,
 * a name that is not defined here may be defined there: it is dropped with a warning instead.
 */
export function checkDependencies(
  jobs: JobConfig[],
  stageOf: ReadonlyMap<string, string>,
  stages: readonly string[],
  skippedIncludes?: SkippedIncludes,
  warn: (m: string) => void = () => {},
): void {
  for (const job of jobs) {
    if (!job.dependencies) continue;
    const where = job.dependenciesWhere;
    const kept: string[] = [];
    for (const name of job.dependencies) {
      const stage = stageOf.get(name);
      if (stage === undefined) {
        if (skippedIncludes?.any) {
          warn(`${locationPrefix(where)}job "${job.name}": dependency "${name}" is not defined here (${skippedIncludes.hint()}); it is ignored`);
          continue;
        }
        throw configError(where, `job "${job.name}": undefined dependency: ${name} (dependencies must name jobs of this configuration)`, 'dependencies');
      }
      if (stages.indexOf(stage) > stages.indexOf(job.stage)) {
        throw configError(where, `job "${job.name}": dependency ${name} is not defined in current or prior stages ("${stage}" comes after "${job.stage}")`, 'dependencies');
      }
      kept.push(name);
    }
    job.dependencies = kept.length === job.dependencies.length ? job.dependencies : kept;
  }
}

export interface PlannedJob {
  job: JobConfig;
  /** The job's needs in this pipeline (its own or its matching rule's); null without `needs:`. */
  needs: NeedConfig[] | null;
  /** The job's id in this pipeline. */
  id: number;
}

/**
 * The payload's `dependencies[]` of `target` among the `planned` jobs (given in id order, which
 * is the order of the result). Tokens stay empty and `artifactsFile` null: berth exec fills them
 * at run time from the jobs that produced artifacts.
 */
export function jobDependencies(target: PlannedJob, planned: readonly PlannedJob[], stages: readonly string[]): DependencySpec[] {
  const filter = target.job.dependencies;
  if (filter && filter.length === 0) return [];
  let candidates = planned.filter((p) => p !== target);
  if (target.needs !== null) {
    const names = new Set(target.needs.filter((n) => n.artifacts).map((n) => n.job));
    candidates = candidates.filter((p) => names.has(p.job.name));
  } else {
    const stage = stages.indexOf(target.job.stage);
    candidates = candidates.filter((p) => stages.indexOf(p.job.stage) < stage);
  }
  if (filter) candidates = candidates.filter((p) => filter.includes(p.job.name));
  return candidates.map((p) => ({ id: p.id, name: p.job.name, token: '', artifactsFile: null }));
}
