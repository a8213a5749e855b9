/**
 * `environment:on_stop` as GitLab's YamlProcessor checks it (validate_on_stop_job!), on the
 * jobs of the configuration (before rules, `parallel:` expanded): the named job exists, has an
 * environment of the same name (as written) and `action: stop`. GitLab refuses the pipeline
 * otherwise. A job berth cannot read (a trigger job, one from a skipped include) is not checked.
 */
import type { JobConfig } from '../keywords/job-config.js';
import type { SkippedIncludes } from '../load/skipped-includes.js';
import { configError, locationPrefix } from '../load/source-positions.js';

export function checkOnStopJobs(
  jobs: readonly JobConfig[],
  unreadable: ReadonlySet<string>,
  skippedIncludes?: SkippedIncludes,
  warn: (m: string) => void = () => {},
): void {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  for (const job of jobs) {
    const env = job.environment;
    const onStop = env?.onStop;
    if (!env || !onStop || unreadable.has(onStop.job)) continue;
    const stopper = byName.get(onStop.job);
    if (!stopper && skippedIncludes?.any) {
      warn(`${locationPrefix(onStop.where)}job "${job.name}": environment:on_stop job "${onStop.job}" is not defined here (${skippedIncludes.hint()}); it is not checked`);
      continue;
    }
    const problem = onStopProblem(stopper, env.name);
    if (problem) throw configError(onStop.where, `job "${job.name}": environment:on_stop job "${onStop.job}" ${problem}`, 'environment');
  }
}

function onStopProblem(stopper: JobConfig | undefined, name: string): string | null {
  if (!stopper) return 'is not defined';
  if (!stopper.environment) return 'does not have environment defined';
  if (stopper.environment.name !== name) return `has a different environment name ("${stopper.environment.name}", not "${name}")`;
  if (stopper.environment.action !== 'stop') return 'needs to have action stop defined';
  return null;
}
