/**
 * One GitLab job, from payload to final update: the job log goes through the masker into the
 * TraceUploader (incremental PATCHes), the job runs through the same Docker executor and
 * runJob as `berth exec`, GitLab's `Job-Status` drives cancel (canceling) and abort
 * (canceled/failed/403), a runner shutdown aborts with runner_interrupted, and the final PUT
 * reports state, failure reason and exit code, while the job's containers are being removed.
 */
import { featureFlagOn } from '../job/feature-flags.js';
import { debugSettings } from '../job/debug-settings.js';
import type { EngineClient, Labels } from '../engine/engine-client.js';
import { DockerExecutor, type DockerExecutorDeps } from '../executor/docker/docker-executor.js';
import type { DockerSettings } from '../executor/docker/docker-settings.js';
import type { Executor } from '../executor/executor.js';
import type { ImagePuller } from '../executor/image-puller.js';
import type { OwnContainerFinder } from '../executor/docker/own-container.js';
import { runJob } from '../executor/run-job.js';
import type { JobFileTransports } from '../executor/job-files/stage-context.js';
import type { RunnerIdentity } from '../executor/runner-identity.js';
import type { SourceProvider } from '../executor/source-provider.js';
import type { JobResultsApi, UpdateJobResult } from '../gitlab/job-api.js';
import { TraceUploader, type FinishOutcome } from '../gitlab/trace-uploader.js';
import type { JobResult } from '../job/job-result.js';
import type { JobSpec } from '../job/job-spec.js';
import { JobLog } from '../log/job-log.js';
import { createMaskingFilter, maskPhrasesForJob } from '../log/masker.js';
import type { RunnerLog } from './runner-log.js';

/** Builds the executor of one job (default: the Docker executor; tests pass a fake). */
export type ExecutorFactory = (deps: DockerExecutorDeps, job: JobSpec, log: JobLog) => Executor;

const dockerExecutor: ExecutorFactory = (deps, job, log) => new DockerExecutor(deps, job, log);

export interface RemoteJobContext {
  url: string;
  api: JobResultsApi;
  engine: EngineClient;
  puller: ImagePuller;
  settings: DockerSettings;
  runner: RunnerIdentity;
  sources: SourceProvider;
  outputLimitBytes: number;
  finalUpdateRetryLimit: number;
  debugTraceDisabled: boolean;
  /** Aborts running jobs when the runner shuts down (reason: a runner_interrupted JobFailure). */
  shutdown: AbortSignal;
  log: RunnerLog;
  labels?: Labels;
  /** berth's own container, when it runs in one (found once per process). */
  ownContainer?: OwnContainerFinder;
  createExecutor?: ExecutorFactory;
  /** Where the job's artifacts and cache go (GitLab, the runner's cache); none: no such stages. */
  files?: (job: JobSpec) => JobFileTransports;
}

export interface RemoteJobOutcome {
  result: JobResult;
  finish: FinishOutcome;
}

export async function runRemoteJob(job: JobSpec, ctx: RemoteJobContext): Promise<RemoteJobOutcome> {
  const fields = { job: job.id, project: job.jobInfo.projectId, runner: ctx.runner.shortToken };
  const uploader = new TraceUploader({
    api: ctx.api,
    job: { url: ctx.url, id: job.id, token: job.token },
    outputLimitKiB: Math.ceil(ctx.outputLimitBytes / 1024),
    supportedFailureReasons: job.features.failureReasons,
    finalUpdateRetryLimit: ctx.finalUpdateRetryLimit,
    debugTrace: debugSettings(job.variables, ctx.debugTraceDisabled).debugMode,
    onCancelRequested: () => ctx.log.warn('Job cancel requested by GitLab: stopping the script, after_script still runs', fields),
    onAbort: (reason) => ctx.log.warn(`Job aborted: ${reason.message}`, fields),
    log: ctx.log,
  });
  const log = new JobLog(uploader, {
    traceSections: job.features.traceSections,
    // FF_TIMESTAMPS, on by default as in gitlab-runner 17+: GitLab shows the time of each line.
    timestamps: featureFlagOn('FF_TIMESTAMPS', true, ctx.runner.featureFlags, job.variables) ? {} : false,
    filter: createMaskingFilter({ phrases: maskPhrasesForJob(job), tokenPrefixes: job.features.tokenMaskPrefixes }),
  });
  // As gitlab-runner: tell GitLab the job runs before running it; a job GitLab already
  // canceled, failed or forgot is not run.
  const announced = await uploader.announceRunning(ctx.shutdown);
  if (announced.outcome === 'abort' || announced.cancelRequested) {
    return notRun(job, uploader, announced, ctx, fields, () => log.end());
  }
  uploader.start();
  const executor = (ctx.createExecutor ?? dockerExecutor)(
    { engine: ctx.engine, puller: ctx.puller, settings: ctx.settings, runner: ctx.runner, sources: ctx.sources, labels: ctx.labels, ownContainer: ctx.ownContainer },
    job,
    log,
  );
  // The final update goes out as soon as the result is known; the job's containers are removed
  // meanwhile (the slot stays taken until they are gone). gitlab-runner removes them first, so
  // GitLab learns of every job's end later by the time a removal takes.
  let finishing: Promise<FinishOutcome> | undefined;
  const sendFinal = (r: JobResult): Promise<FinishOutcome> => {
    log.end();
    return (finishing ??= uploader.finish(r));
  };
  const result = await runJob({
    job,
    executor,
    log,
    runner: ctx.runner,
    cancel: uploader.cancelSignal,
    abort: AbortSignal.any([uploader.abortSignal, ctx.shutdown]),
    files: ctx.files?.(job),
    onResult: (r) => void sendFinal(r),
    onCleanupProblem: (problem) => ctx.log.warn(`Cleanup: ${problem}`, fields),
  });
  const finish = await sendFinal(result);
  uploader.close();
  const level = result.state === 'success' ? 'info' : 'warn';
  ctx.log[level](result.state === 'success' ? 'Job succeeded' : `Job failed: ${result.failureReason}`, {
    ...fields,
    duration_s: (result.durationMs / 1000).toFixed(3),
    exit_code: result.exitCode ?? undefined,
    final_update: finish.status,
  });
  return { result, finish };
}

/**
 * A job GitLab took back before it ran: an abort (403, 404, Job-Status canceled|failed) ends it
 * without a final update; a cancel (Job-Status canceling) is reported failed with job_canceled
 * (gitlab-runner: trace.Finish() and trace.Fail(ErrJobCanceled) in commands/multi.go).
 */
async function notRun(
  job: JobSpec,
  uploader: TraceUploader,
  announced: UpdateJobResult,
  ctx: RemoteJobContext,
  fields: Record<string, string | number>,
  endLog: () => void,
): Promise<RemoteJobOutcome> {
  endLog();
  const aborted = announced.outcome === 'abort';
  const canceled = announced.cancelRequested || announced.jobStatus === 'canceled';
  const result: JobResult = {
    state: canceled ? 'canceled' : 'failed',
    failureReason: canceled ? 'job_canceled' : 'runner_system_failure',
    exitCode: null,
    durationMs: 0,
    message: aborted ? `GitLab answered ${announced.status}${announced.jobStatus ? ` (Job-Status: ${announced.jobStatus})` : ''} to the job's start` : 'canceled',
  };
  let finish: FinishOutcome;
  if (aborted) {
    finish = { status: 'aborted', attempts: 0, checksum: uploader.checksum(), bytesize: uploader.bytesize, traceError: null };
  } else {
    finish = await uploader.finish(result);
  }
  uploader.close();
  ctx.log.warn(`Job not run: ${result.message}`, { ...fields, final_update: finish.status });
  return { result, finish };
}
