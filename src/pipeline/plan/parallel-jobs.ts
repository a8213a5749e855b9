/**
 * GitLab's normalizer (Gitlab::Ci::Config::Normalizer): each `parallel:` job becomes its
 * instances (`test 1/3`, `build: [linux, amd64]`), in the place of the job as written; then a
 * need on a parallel job means all of its instances, a need with `parallel: {matrix}` the
 * instances that matrix names, and a need naming one instance that instance.
 */
import type { JobConfig } from '../keywords/job-config.js';
import type { NeedConfig } from '../keywords/needs-config.js';
import { expandParallel } from '../keywords/parallel-config.js';
import type { CollectedJobs } from './job-collector.js';

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
  if (!groups.size) return collected;
  const expandNeeds = (needs: NeedConfig[] | null | undefined): NeedConfig[] | null | undefined =>
    needs?.flatMap((need) => {
      const all = groups.get(need.job);
      if (!all) return [need];
      const names = need.matrix ? expandParallel(need.job, { kind: 'matrix', matrix: need.matrix }).map((i) => i.name) : all;
      return names.map((name) => ({ job: name, optional: need.optional, where: need.where }));
    });
  for (const job of jobs) {
    job.needs = expandNeeds(job.needs) ?? null;
    if (job.rules) job.rules = job.rules.map((rule) => (rule.needs ? { ...rule, needs: expandNeeds(rule.needs) } : rule));
  }
  return { jobs, stageOf, skipped: collected.skipped };
}
