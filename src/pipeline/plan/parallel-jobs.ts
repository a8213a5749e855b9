/**
 * GitLab's normalizer (Gitlab::Ci::Config::Normalizer): each `parallel:` job becomes its
 * instances (`test 1/3`, `build: [linux, amd64]`), in the place of the job as written; then a
 * need on a parallel job means all of its instances, a need with `parallel: {matrix}` the
 * instances that matrix names, and a need naming one instance that instance. In the needs of a
 * matrix job, `$[[ matrix.VAR ]]` is that job's value of VAR (GitLab's MatrixInterpolator).
 * `dependencies:` naming a parallel job means all of its instances too.
 */
import type { JobConfig } from '../keywords/job-config.js';
import type { NeedConfig } from '../keywords/needs-config.js';
import { expandParallel } from '../keywords/parallel-config.js';
import type { CollectedJobs } from './job-collector.js';
import { configError } from '../load/source-positions.js';

export function expandParallelJobs(collected: CollectedJobs): CollectedJobs {
  const groups = new Map<string, string[]>();
  const jobs: JobConfig[] = [];
  const stageOf = new Map<string, string>();
  for (const [name, stage] of collected.stageOf) stageOf.set(name, stage);
  for (const job of collected.jobs) {
    if (!job.parallel) {
      jobs.push(job);
      continue;
    }
    const instances = expandParallel(job.name, job.parallel);
    groups.set(job.name, instances.map((i) => i.name));
    stageOf.delete(job.name);
    for (const instance of instances) {
      jobs.push({ ...job, name: instance.name, instance: { ...instance, origin: job.name } });
      stageOf.set(instance.name, job.stage);
    }
  }
  const skipped: CollectedJobs['skipped'] = [];
  for (const { parallelConfig, ...entry } of collected.skipped) {
    if (!parallelConfig) {
      skipped.push(entry);
      continue;
    }
    // A trigger job with parallel:matrix makes several (bridge) jobs in GitLab too.
    const instances = expandParallel(entry.name, parallelConfig);
    const stage = stageOf.get(entry.name) ?? 'test';
    groups.set(entry.name, instances.map((i) => i.name));
    stageOf.delete(entry.name);
    for (const i of instances) {
      skipped.push({ ...entry, name: i.name, parallel: { job: entry.name, index: i.index, total: i.total, matrix: i.variables ? Object.fromEntries(i.variables) : null } });
      stageOf.set(i.name, stage);
    }
  }
  if (!groups.size) return { ...collected, skipped };
  const expandNeeds = (needs: NeedConfig[] | null | undefined, job: JobConfig): NeedConfig[] | null | undefined =>
    needs?.map((need) => interpolateMatrix(need, job)).flatMap((need) => {
      const all = groups.get(need.job);
      if (!all) return [need];
      const names = need.matrix ? expandParallel(need.job, { kind: 'matrix', matrix: need.matrix }).map((i) => i.name) : all;
      return names.map((name) => ({ job: name, optional: need.optional, artifacts: need.artifacts, where: need.where }));
    });
  for (const job of jobs) {
    job.needs = expandNeeds(job.needs, job) ?? null;
    // GitLab's Normalizer#expand_parallelized_job_names: `dependencies: [x]` means all jobs of a parallel x.
    if (job.dependencies) job.dependencies = job.dependencies.flatMap((name) => groups.get(name) ?? [name]);
    if (job.rules) job.rules = job.rules.map((rule) => (rule.needs ? { ...rule, needs: expandNeeds(rule.needs, job) } : rule));
  }
  return { jobs, stageOf, skipped };
}

const MATRIX_EXPRESSION = /\$\[\[\s*matrix\.([a-zA-Z0-9_-]+)\s*\]\]/g;

function interpolateMatrix(need: NeedConfig, job: JobConfig): NeedConfig {
  const vars = job.instance?.variables;
  if (!vars) return need;
  const values = new Map(vars);
  const text = (s: string): string =>
    s.replace(MATRIX_EXPRESSION, (_, name: string) => {
      const value = values.get(name);
      if (value === undefined) {
        throw configError(need.where, `job "${job.instance!.origin}": needs: '${name}' does not exist in matrix configuration (it has ${[...values.keys()].join(', ')})`, 'needs');
      }
      return value;
    });
  const out: NeedConfig = { ...need, job: text(need.job) };
  if (need.matrix) out.matrix = need.matrix.map((entry) => entry.map(([key, list]): [string, string[]] => [key, list.map(text)]));
  return out;
}
