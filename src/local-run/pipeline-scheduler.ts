/**
 * Runs a pipeline's jobs as GitLab would order them: a job with `needs` starts as soon as
 * those jobs are done; a job without waits for every job of the earlier stages. `when`
 * decides with the outcome of what it waited for; independent jobs run in parallel up to
 * `concurrency`. A job that cannot run (its image failed to pull, ...) fails alone; what
 * needed it is skipped and the rest of the pipeline goes on.
 *
 * Knowing the whole pipeline, the scheduler also names the jobs that will run next if what they
 * wait for succeeds (`prewarm`), so that their containers can be made while the jobs before them
 * run; a job it then settles without running (skipped, canceled, manual) is handed back
 * (`discard`), never run.
 */
import type { JobResult } from '../job/job-result.js';
import type { JobSpec } from '../job/job-spec.js';
import type { RetryPolicy } from '../pipeline/index.js';
import { shouldRetry } from './auto-retry.js';

export interface SchedulableJob {
  name: string;
  stage: string;
  when: 'on_success' | 'on_failure' | 'always' | 'manual' | 'delayed';
  allowFailure: boolean;
  allowFailureExitCodes: number[];
  needs: { job: string; optional: boolean }[] | null;
  /** `retry:`: a failed job runs again as GitLab would retry it (auto-retry.ts). */
  retry?: RetryPolicy;
  spec: JobSpec;
}

export type JobStatus = 'success' | 'failed' | 'skipped' | 'manual' | 'canceled';

export interface JobOutcome {
  job: SchedulableJob;
  status: JobStatus;
  /** The failure is allowed (allow_failure, or an allowed exit code). */
  allowedToFail: boolean;
  result: JobResult | null;
  /** How many times the job ran again after a failure (`retry:`); `result` is the last run's. */
  retries: number;
  /** Why a job with `needs` was skipped when nothing failed (a need was skipped, or is a manual job not named). */
  skipReason?: string;
}

export interface ScheduleOptions {
  stages: readonly string[];
  concurrency: number;
  /** Manual jobs run only when named explicitly. */
  runManual: ReadonlySet<string>;
  /** Stop starting jobs; running ones are left to their own cancel/abort signals. */
  stop?: AbortSignal;
  /** `retry`: 0 for the job's first run, then 1, 2 when `retry:` runs it again after a failure. */
  runJob: (job: SchedulableJob, retry: number) => Promise<JobResult>;
  onStatus?: (outcome: JobOutcome) => void;
  /** Prepares jobs ahead of their turn; at most `concurrency` are prepared and not yet started. */
  prewarm?: Prewarmer;
}

/** What prepares a job before its turn (berth exec: its build container, sources copied in). */
export interface Prewarmer {
  /**
   * The job runs next if every job it waits for succeeds: prepare it (never run anything).
   * False: it is not prepared ahead (e.g. it has services); it is not offered again.
   */
  prepare(job: SchedulableJob): boolean;
  /** The job was prepared but settles without running: remove what `prepare` made. */
  discard(job: SchedulableJob): void;
}

export async function schedulePipeline(jobs: readonly SchedulableJob[], opts: ScheduleOptions): Promise<JobOutcome[]> {
  const stageIndex = new Map(opts.stages.map((s, i) => [s, i]));
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const deps = new Map(jobs.map((j) => [j.name, dependenciesOf(j, jobs, byName, stageIndex)]));
  const outcomes = new Map<string, JobOutcome>();
  const running = new Map<string, Promise<void>>();
  /** Jobs prepared by the prewarmer, not yet started nor settled. */
  const warm = new Set<string>();
  /** Jobs offered to the prewarmer, prepared or not. */
  const offered = new Set<string>();

  const settle = (outcome: JobOutcome): void => {
    outcomes.set(outcome.job.name, outcome);
    if (warm.delete(outcome.job.name)) opts.prewarm?.discard(outcome.job);
    opts.onStatus?.(outcome);
  };

  for (;;) {
    let progressed = false;
    for (const job of jobs) {
      if (outcomes.has(job.name) || running.has(job.name)) continue;
      const waitFor = deps.get(job.name)!;
      if (waitFor.some((d) => !outcomes.has(d))) continue;
      if (opts.stop?.aborted) {
        settle({ job, status: 'canceled', allowedToFail: false, result: null, retries: 0 });
        progressed = true;
        continue;
      }
      const before = waitFor.map((d) => outcomes.get(d)!);
      const decision = decide(job, before, opts.runManual);
      if (decision !== 'run') {
        const skipReason = decision === 'skipped' ? blockedBy(job, before, opts.runManual) : undefined;
        settle({ job, status: decision, allowedToFail: decision === 'manual', result: null, retries: 0, ...(skipReason ? { skipReason } : {}) });
        progressed = true;
        continue;
      }
      if (running.size >= opts.concurrency) continue;
      progressed = true;
      warm.delete(job.name);
      running.set(
        job.name,
        runWithRetries(job).then(({ result, retries }) => {
          running.delete(job.name);
          settle({ ...outcomeOf(job, result), retries });
        }),
      );
    }
    if (outcomes.size === jobs.length) break;
    if (opts.prewarm && !opts.stop?.aborted) prewarmNext(opts.prewarm);
    if (!progressed) {
      if (!running.size) throw new Error('pipeline scheduler is stuck: a dependency can never finish');
      await Promise.race(running.values());
    }
  }
  return jobs.map((j) => outcomes.get(j.name)!);

  /** The job, and again while `retry:` says GitLab would retry it (never once berth is stopping). */
  async function runWithRetries(job: SchedulableJob): Promise<{ result: JobResult; retries: number }> {
    for (let retries = 0; ; retries++) {
      const result = await opts.runJob(job, retries);
      if (opts.stop?.aborted || !job.retry || !shouldRetry(job.retry, result, retries)) return { result, retries };
    }
  }

  /**
   * Jobs waiting only for running, prepared or finished jobs, that would run if the running and
   * prepared ones succeed, in the order they would start; as many as `concurrency`, counting
   * those already prepared. A chain thus gets its next two jobs ready while one runs: a
   * container's start takes longer than a short job.
   */
  function prewarmNext(prewarmer: Prewarmer): void {
    for (const job of jobs) {
      if (warm.size >= opts.concurrency) return;
      if (outcomes.has(job.name) || running.has(job.name) || offered.has(job.name)) continue;
      const waitFor = deps.get(job.name)!;
      if (waitFor.some((d) => !outcomes.has(d) && !running.has(d) && !warm.has(d))) continue;
      const assumed = waitFor.map((d) => outcomes.get(d) ?? { job: byName.get(d)!, status: 'success' as const, allowedToFail: false, result: null, retries: 0 });
      if (decide(job, assumed, opts.runManual) !== 'run') continue;
      offered.add(job.name);
      if (prewarmer.prepare(job)) warm.add(job.name);
    }
  }
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
    // berth exec does not wait start_in: a delayed job runs as soon as on_success would.
    case 'delayed':
    case 'on_success':
      return failed || blocked ? 'skipped' : 'run';
  }
}

/** The need that kept an on_success job from running when nothing before it failed. */
function blockedBy(job: SchedulableJob, before: JobOutcome[], runManual: ReadonlySet<string>): string | undefined {
  if (job.needs === null || (job.when !== 'on_success' && job.when !== 'delayed')) return undefined;
  if (before.some((o) => (o.status === 'failed' && !o.allowedToFail) || o.status === 'canceled')) return undefined;
  const manual = before.find((o) => o.status === 'manual' && !runManual.has(o.job.name));
  if (manual) return `needs the manual job "${manual.job.name}", which did not run (name it to run it)`;
  const skipped = before.find((o) => o.status === 'skipped');
  return skipped ? `needs "${skipped.job.name}", which was skipped` : undefined;
}

function outcomeOf(job: SchedulableJob, result: JobResult): Omit<JobOutcome, 'retries'> {
  if (result.state === 'success') return { job, status: 'success', allowedToFail: false, result };
  if (result.state === 'canceled') return { job, status: 'canceled', allowedToFail: false, result };
  const byCode = result.exitCode !== null && job.allowFailureExitCodes.includes(result.exitCode);
  return { job, status: 'failed', allowedToFail: job.allowFailure || byCode, result };
}
