/**
 * Runs a pipeline's jobs as GitLab would order them: a job with `needs` starts as soon as
 * those jobs are done; a job without waits for every job of the earlier stages. `when`
 * decides with the outcome of what it waited for; independent jobs run in parallel up to
 * `concurrency`. A job that cannot run (its image failed to pull, ...) fails alone; what
 * needed it is skipped and the rest of the pipeline goes on.
 */
import type { JobResult } from '../job/job-result.js';
import type { JobSpec } from '../job/job-spec.js';

export interface SchedulableJob {
  name: string;
  stage: string;
  when: 'on_success' | 'on_failure' | 'always' | 'manual';
  allowFailure: boolean;
  allowFailureExitCodes: number[];
  needs: { job: string; optional: boolean }[] | null;
  spec: JobSpec;
}

export type JobStatus = 'success' | 'failed' | 'skipped' | 'manual' | 'canceled';

export interface JobOutcome {
  job: SchedulableJob;
  status: JobStatus;
  /** The failure is allowed (allow_failure, or an allowed exit code). */
  allowedToFail: boolean;
  result: JobResult | null;
}

export interface ScheduleOptions {
  stages: readonly string[];
  concurrency: number;
  /** Manual jobs run only when named explicitly. */
  runManual: ReadonlySet<string>;
  /** Stop starting jobs; running ones are left to their own cancel/abort signals. */
  stop?: AbortSignal;
  runJob: (job: SchedulableJob) => Promise<JobResult>;
  onStatus?: (outcome: JobOutcome) => void;
}

export async function schedulePipeline(jobs: readonly SchedulableJob[], opts: ScheduleOptions): Promise<JobOutcome[]> {
  const stageIndex = new Map(opts.stages.map((s, i) => [s, i]));
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const deps = new Map(jobs.map((j) => [j.name, dependenciesOf(j, jobs, byName, stageIndex)]));
  const outcomes = new Map<string, JobOutcome>();
  const running = new Map<string, Promise<void>>();

  const settle = (outcome: JobOutcome): void => {
    outcomes.set(outcome.job.name, outcome);
    opts.onStatus?.(outcome);
  };

  for (;;) {
    let progressed = false;
    for (const job of jobs) {
      if (outcomes.has(job.name) || running.has(job.name)) continue;
      const waitFor = deps.get(job.name)!;
      if (waitFor.some((d) => !outcomes.has(d))) continue;
      if (opts.stop?.aborted) {
        settle({ job, status: 'canceled', allowedToFail: false, result: null });
        progressed = true;
        continue;
      }
      const decision = decide(job, waitFor.map((d) => outcomes.get(d)!), opts.runManual);
      if (decision !== 'run') {
        settle({ job, status: decision, allowedToFail: decision === 'manual', result: null });
        progressed = true;
        continue;
      }
      if (running.size >= opts.concurrency) continue;
      progressed = true;
      running.set(
        job.name,
        opts.runJob(job).then((result) => {
          running.delete(job.name);
          settle(outcomeOf(job, result));
        }),
      );
    }
    if (outcomes.size === jobs.length) break;
    if (!progressed) {
      if (!running.size) throw new Error('pipeline scheduler is stuck: a dependency can never finish');
      await Promise.race(running.values());
    }
  }
  return jobs.map((j) => outcomes.get(j.name)!);
}

function dependenciesOf(
  job: SchedulableJob,
  all: readonly SchedulableJob[],
  byName: Map<string, SchedulableJob>,
  stageIndex: Map<string, number>,
): string[] {
  if (job.needs) return job.needs.map((n) => n.job).filter((n) => byName.has(n));
  const mine = stageIndex.get(job.stage) ?? 0;
  return all.filter((o) => (stageIndex.get(o.stage) ?? 0) < mine).map((o) => o.name);
}

function decide(job: SchedulableJob, before: JobOutcome[], runManual: ReadonlySet<string>): 'run' | JobStatus {
  const failed = before.some((o) => (o.status === 'failed' && !o.allowedToFail) || o.status === 'canceled');
  const blocked = job.needs !== null && before.some((o) => o.status === 'skipped' || (o.status === 'manual' && !runManual.has(o.job.name)));
  switch (job.when) {
    case 'manual':
      return runManual.has(job.name) && !failed && !blocked ? 'run' : 'manual';
    case 'always':
      return 'run';
    case 'on_failure':
      return failed ? 'run' : 'skipped';
    case 'on_success':
      return failed || blocked ? 'skipped' : 'run';
  }
}

function outcomeOf(job: SchedulableJob, result: JobResult): JobOutcome {
  if (result.state === 'success') return { job, status: 'success', allowedToFail: false, result };
  if (result.state === 'canceled') return { job, status: 'canceled', allowedToFail: false, result };
  const byCode = result.exitCode !== null && job.allowFailureExitCodes.includes(result.exitCode);
  return { job, status: 'failed', allowedToFail: job.allowFailure || byCode, result };
}
