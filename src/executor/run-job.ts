/**
 * runJob: one job from start to result, on any Executor, with GitLab's semantics:
 *
 * - the job timeout (runner_info.timeout) aborts everything: job_execution_timeout, no after_script;
 * - RUNNER_SCRIPT_TIMEOUT / RUNNER_AFTER_SCRIPT_TIMEOUT (default 5m) bound the two script stages;
 * - `cancel` (GitLab "canceling", a first Ctrl-C) stops the script and still runs after_script
 *   with CI_JOB_STATUS=canceled; `abort` (GitLab "canceled", runner shutdown) stops everything;
 * - after_script runs whatever the script did, and its failure only warns;
 * - cleanup always runs, on its own deadline, before the result is returned (onResult hears the
 *   result before cleanup starts).
 *
 * Never throws: every failure becomes a JobResult in GitLab's vocabulary.
 */
import { JobFailure, type FailureReason, type JobResult } from '../job/job-result.js';
import { DEFAULT_JOB_TIMEOUT_SECONDS, type JobSpec, type JobStep } from '../job/job-spec.js';
import type { JobStatusForScript } from '../job/runner-variables.js';
import { variableValue } from '../job/variables.js';
import type { JobLog } from '../log/job-log.js';
import { formatGoDuration, parseGoDuration } from '../shared/go-duration.js';
import { sleep, timeoutSignal, withTimeout } from '../shared/abort.js';
import { EngineError } from '../engine/engine-error.js';
import { errorMessage } from '../shared/errors.js';
import type { Executor } from './executor.js';
import { artifactsToUpload, dependenciesToDownload, downloadArtifacts, uploadArtifacts } from './job-files/artifact-stages.js';
import { archiveCaches, cachesToArchive, cachesToRestore, checkCachePolicies, restoreCaches } from './job-files/cache-stages.js';
import { StageContext, type JobFileTransports, type JobRunFacts } from './job-files/stage-context.js';
import { stageAttempts, withStageAttempts } from './stage-attempts.js';
import type { RunnerIdentity } from './runner-identity.js';
import { cacheRequestTimeout } from '../job/cache-request-timeout.js';
import { transferMeterFrequency } from '../job/transfer-meter-frequency.js';

export interface RunJobOptions {
  job: JobSpec;
  executor: Executor;
  log: JobLog;
  runner: RunnerIdentity;
  /** Graceful cancel: stop the script, still run after_script. */
  cancel?: AbortSignal;
  /** Abort: stop everything, no after_script. A JobFailure reason sets the failure reason. */
  abort?: AbortSignal;
  /**
   * Called with the result as soon as it is known, before cleanup (which the returned promise
   * still waits for): lets `berth exec` start the next job while this one's containers go away.
   */
  onResult?: (result: JobResult) => void;
  /**
   * Where a cleanup problem goes (default: a WARNING line in the job log). `berth run` sends the
   * final update from onResult, before cleanup, so its cleanup problems go to the runner's log.
   */
  onCleanupProblem?: (problem: string) => void;
  /** Where cache and artifacts go; without it the job has no cache and artifact stages. */
  files?: JobFileTransports;
  /** The wait before the executor's prepare is tried again (default: gitlab-runner's 3 s). */
  preparationRetryMs?: number;
}

const AFTER_SCRIPT_DEFAULT_MS = 5 * 60_000;
const NEVER = new AbortController().signal;

export async function runJob(opts: RunJobOptions): Promise<JobResult> {
  const started = Date.now();
  const { job, log, runner } = opts;
  const timeoutSeconds = job.timeoutSeconds > 0 ? job.timeoutSeconds : DEFAULT_JOB_TIMEOUT_SECONDS;
  const jobTimer = new AbortController();
  const timer = setTimeout(
    () => jobTimer.abort(new JobFailure('job_execution_timeout', `execution took longer than ${formatGoDuration(timeoutSeconds * 1000)} seconds`)),
    timeoutSeconds * 1000,
  );
  const hard = AbortSignal.any([jobTimer.signal, opts.abort ?? NEVER]);
  const cancel = opts.cancel ?? NEVER;

  log.println(`Running with berth ${runner.version}`);
  log.println(`  on ${runner.name} ${runner.shortToken}, system ID: ${runner.systemId}`);
  warnPreGetSources(job, runner, log);
  const attempts = { cache: stageAttempts(job, 'RESTORE_CACHE_ATTEMPTS'), artifacts: stageAttempts(job, 'ARTIFACT_DOWNLOAD_ATTEMPTS') };
  // GET_SOURCES_ATTEMPTS is applied where the sources are fetched (SourcesInAdvance); its problem is told here with the others.
  for (const { problem } of [stageAttempts(job, 'GET_SOURCES_ATTEMPTS'), attempts.artifacts, attempts.cache, cacheRequestTimeout(job.variables), transferMeterFrequency(job.variables)]) if (problem) log.warning(problem);

  let outcome: Omit<JobResult, 'durationMs'>;
  try {
    const run: JobRunFacts = { runnerName: runner.name, runnerId: runner.runnerId, version: runner.version, startedAt: new Date(started) };
    outcome = await runStages(opts, run, hard, cancel, { cache: attempts.cache.attempts, artifacts: attempts.artifacts.attempts });
  } catch (err) {
    outcome = failureOutcome(hard.aborted ? hard.reason : err);
  } finally {
    clearTimeout(timer);
  }

  printOutcome(log, outcome);
  const result = { ...outcome, durationMs: Date.now() - started };
  opts.onResult?.(result);
  await cleanUp(opts);
  return result;
}

async function runStages(
  opts: RunJobOptions,
  run: JobRunFacts,
  hard: AbortSignal,
  cancel: AbortSignal,
  attempts: { cache: number; artifacts: number },
): Promise<Omit<JobResult, 'durationMs'>> {
  const { job, executor, log, runner } = opts;
  // As gitlab-runner ("in early phases of build preparation a user-requested cancel is treated
  // as an abort"): a cancel stops the prepare (a pull that hangs), nothing of the job runs.
  const prepareTimer = prepareTimeout(runner.prepareTimeoutMs ?? 0, job);
  try {
    const preparing = AbortSignal.any([hard, cancel, ...(prepareTimer ? [prepareTimer.signal] : [])]);
    await prepareExecutor(opts, preparing, hard, cancel);
  } catch (err) {
    throwIfAborted(hard);
    if (prepareTimer?.signal.aborted) throw prepareTimer.signal.reason;
    throw err;
  } finally {
    prepareTimer?.clear();
  }
  throwIfAborted(hard);
  // RESTORE_CACHE_ATTEMPTS and ARTIFACT_DOWNLOAD_ATTEMPTS: each attempt runs the whole stage again, in its section.
  await withStageAttempts(attempts.cache, job, runner.featureFlags, log, hard, () =>
    fileStage(opts, run, 'running', hard, 'restore_cache', 'Restoring cache', (ctx) => {
      const caches = cachesToRestore(job.cache);
      if (!opts.files?.cache || caches.length === 0) return null;
      checkCachePolicies(ctx, caches, 'extraction');
      return () => restoreCaches(ctx);
    }),
  );
  await withStageAttempts(attempts.artifacts, job, runner.featureFlags, log, hard, () =>
    fileStage(opts, run, 'running', hard, 'download_artifacts', 'Downloading artifacts', (ctx) =>
      opts.files?.artifacts && dependenciesToDownload(job.dependencies).length > 0 ? () => downloadArtifacts(ctx) : null,
    ),
  );

  const scriptTimeout = timeoutFromVariable(job, 'RUNNER_SCRIPT_TIMEOUT');
  const scriptTimer = scriptTimeout ? timeoutSignal(scriptTimeout) : null;
  const scriptSignal = AbortSignal.any([hard, cancel, ...(scriptTimer ? [scriptTimer.signal] : [])]);
  let status: JobStatusForScript = 'running';
  let result: Omit<JobResult, 'durationMs'> = { state: 'success', failureReason: null, exitCode: 0, message: null };

  try {
    for (const step of job.steps.filter((s) => s.name !== 'after_script')) {
      const section = `step_${step.name}`;
      log.sectionStart(section, `Executing "${section}" stage of the job script`);
      const res = await executor.runStage({ name: section, commands: stepCommands(step, runner), jobStatus: status }, scriptSignal);
      warnIfJobTimedOut(log, hard, section);
      log.sectionEnd(section);
      if (hard.aborted) throw hard.reason;
      if (res.stopped && cancel.aborted) {
        log.warning('script canceled externally (UI, API)');
        status = 'canceled';
        result = { state: 'canceled', failureReason: 'job_canceled', exitCode: null, message: 'canceled' };
      } else if (res.stopped) {
        status = 'timedout';
        const message = `script timeout of ${formatGoDuration(scriptTimeout ?? 0)} exceeded`;
        result = { state: 'failed', failureReason: 'job_execution_timeout', exitCode: null, message };
      } else if (res.exitCode !== 0) {
        status = 'failed';
        result = { state: 'failed', failureReason: 'script_failure', exitCode: res.exitCode, message: `exit code ${res.exitCode}` };
      }
      if (status !== 'running') break;
    }
  } finally {
    scriptTimer?.clear();
  }
  if (status === 'running') status = 'success';

  const after = job.steps.find((s) => s.name === 'after_script');
  if (after?.script.length) await runAfterScript(opts, after, status, hard);
  // A graceful cancel stopped the script only (gitlab-runner cancels the script's context): the
  // on_failure cache and artifact stages still run, as executeScript runs them whatever the error.

  // gitlab-runner: archive_cache before upload_artifacts; a script error outranks an upload error.
  const ok = status === 'success';
  await fileStage(opts, run, status, hard, ok ? 'archive_cache' : 'archive_cache_on_failure', `Saving cache for ${ok ? 'successful' : 'failed'} job`, (ctx) => {
    const caches = cachesToArchive(job.cache, ok);
    if (!opts.files?.cache || caches.length === 0) return null;
    checkCachePolicies(ctx, caches, 'archiving');
    return () => archiveCaches(ctx, ok);
  });
  try {
    await fileStage(opts, run, status, hard, ok ? 'upload_artifacts_on_success' : 'upload_artifacts_on_failure', `Uploading artifacts for ${ok ? 'successful' : 'failed'} job`, (ctx) =>
      opts.files?.artifacts && artifactsToUpload(job.artifacts, ok).length > 0 ? () => uploadArtifacts(ctx, ok) : null,
    );
  } catch (err) {
    if (hard.aborted) throw hard.reason;
    return ok ? failureOutcome(err) : result;
  }
  return result;
}

/**
 * `prepare_timeout` (gitlab-runner Build.GetPrepareTimeout): the executor's prepare, its tries
 * included, ends at it as job_execution_timeout with `prepare timeout: exceeded timeout of <d>`.
 * Unset, 0 or more than the job timeout: none (the job timeout bounds it). berth fetches the
 * sources during the prepare, so it bounds that fetch too.
 */
function prepareTimeout(ms: number, job: JobSpec): { signal: AbortSignal; clear(): void } | null {
  const jobMs = (job.timeoutSeconds > 0 ? job.timeoutSeconds : DEFAULT_JOB_TIMEOUT_SECONDS) * 1000;
  if (!(ms > 0) || ms >= jobMs) return null;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new JobFailure('job_execution_timeout', `prepare timeout: exceeded timeout of ${formatGoDuration(ms)}`)), ms);
  return { signal: ctl.signal, clear: () => clearTimeout(timer) };
}

/** gitlab-runner common/consts.go: PreparationRetries (tries in all) and PreparationRetryInterval. */
const PREPARATION_TRIES = 3;
const PREPARATION_RETRY_MS = 3000;

/**
 * The executor's prepare, tried up to 3 times 3 s apart as gitlab-runner's retryCreateExecutor
 * does: after a failure that is no BuildError there (an engine call that failed, a service that
 * could not start), the executor is cleaned up, `ERROR: Preparation failed: <error>` and
 * `Will be retried in 3s ...` are printed, and it is prepared afresh. A failure of the job's own
 * making (an image that cannot be pulled, a configuration error) fails at once.
 */
async function prepareExecutor(opts: RunJobOptions, preparing: AbortSignal, hard: AbortSignal, cancel: AbortSignal): Promise<void> {
  const waitMs = opts.preparationRetryMs ?? PREPARATION_RETRY_MS;
  for (let tries = 1; ; tries++) {
    try {
      await opts.executor.prepare(preparing);
      return;
    } catch (err) {
      throwIfAborted(hard);
      if (cancel.aborted) throw new JobFailure('job_canceled', 'canceled');
      // prepare_timeout: the caller says so.
      if (preparing.aborted || tries >= PREPARATION_TRIES || !preparationRetryable(err)) throw err;
      await cleanUp(opts);
      opts.log.error(`Preparation failed: ${errorMessage(err)}`);
      opts.log.info(`Will be retried in ${formatGoDuration(waitMs)} ...`);
      await sleep(waitMs, preparing).catch(() => undefined);
      throwIfAborted(hard);
      if (cancel.aborted) throw new JobFailure('job_canceled', 'canceled');
      if (preparing.aborted) throw err;
    }
  }
}

/** The executor's cleanup; what it could not remove goes to onCleanupProblem (default: a warning in the job log). */
async function cleanUp(opts: RunJobOptions): Promise<void> {
  const problem = opts.onCleanupProblem ?? ((text: string) => opts.log.warning(`Cleanup: ${text}`));
  for (const text of await opts.executor.cleanup()) problem(text);
}

function preparationRetryable(err: unknown): boolean {
  if (err instanceof JobFailure) return err.preparationRetryable;
  return err instanceof EngineError;
}

/** Runs one cache or artifact stage in its section, when the job has something for it. */
async function fileStage(
  opts: RunJobOptions,
  run: JobRunFacts,
  status: JobStatusForScript,
  hard: AbortSignal,
  section: string,
  header: string,
  plan: (ctx: StageContext) => (() => Promise<void>) | null,
): Promise<void> {
  const files = opts.executor.projectFiles();
  if (!opts.files || !files) return;
  const ctx = new StageContext(opts.job, files, opts.executor.variables(status), opts.files, opts.log, hard, opts.runner.featureFlags, run);
  const work = plan(ctx);
  if (!work) return;
  opts.log.sectionStart(section, header);
  try {
    await work();
  } finally {
    warnIfJobTimedOut(opts.log, hard, section);
    opts.log.sectionEnd(section);
    await ctx.dispose();
  }
  throwIfAborted(hard);
}

/** gitlab-runner's warning for the stage the job timeout stopped (common/build.go warnTimeoutExceeded). */
function warnIfJobTimedOut(log: JobLog, hard: AbortSignal, stage: string): void {
  if (!hard.aborted || !(hard.reason instanceof JobFailure) || hard.reason.reason !== 'job_execution_timeout') return;
  log.warning(
    `${stage} could not run to completion because the timeout was exceeded. ` +
      'For more control over job and script timeouts see: https://docs.gitlab.com/ci/runners/configure_runners/#set-script-and-after_script-timeouts',
  );
}

async function runAfterScript(opts: RunJobOptions, step: JobStep, status: JobStatusForScript, hard: AbortSignal): Promise<void> {
  const { job, executor, log } = opts;
  const limit = timeoutFromVariable(job, 'RUNNER_AFTER_SCRIPT_TIMEOUT') ?? AFTER_SCRIPT_DEFAULT_MS;
  const { signal, clear } = withTimeout(hard, limit);
  log.sectionStart('after_script', 'Running after_script');
  const res = await executor.runStage({ name: 'after_script', commands: step.script, jobStatus: status }, signal).finally(clear);
  log.sectionEnd('after_script');
  if (hard.aborted) throw hard.reason;
  if (res.stopped) log.warning(`after_script could not run to completion: timeout of ${formatGoDuration(limit)} exceeded`);
  else if (res.exitCode !== 0) log.warning(`after_script failed, but job will continue unaffected: exit code ${res.exitCode}`);
}

function stepCommands(step: JobStep, runner: RunnerIdentity): string[] {
  if (step.name !== 'script') return step.script;
  const lines = (s: string): string[] => (s.trim() ? [s.trim()] : []);
  return [...lines(runner.postGetSourcesScript), ...lines(runner.preBuildScript), ...step.script, ...lines(runner.postBuildScript)];
}

/**
 * gitlab-runner runs pre_get_sources_script (the runner's, then the job's hook) in its helper
 * container before `git fetch`; berth fetches on its own host, where it never runs what a job
 * names. So the script does not run, and the job log says so.
 */
function warnPreGetSources(job: JobSpec, runner: RunnerIdentity, log: JobLog): void {
  const from = [
    ...(runner.preGetSourcesScript.trim() ? ['the runner\'s pre_get_sources_script'] : []),
    ...(job.hooks ?? []).filter((h) => h.name === 'pre_get_sources_script').map(() => 'the job\'s hooks:pre_get_sources_script'),
  ];
  for (const what of from) {
    log.warning(`${what} is not run: berth fetches the sources on the runner's host, not in a helper container. Move the commands to before_script, or to the runner's post_get_sources_script (run in the build container before the job script)`);
  }
}

function timeoutFromVariable(job: JobSpec, key: string): number | null {
  const raw = variableValue(job.variables, key);
  if (!raw) return null;
  const ms = parseGoDuration(raw);
  return ms && ms > 0 ? ms : null;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

function failureOutcome(err: unknown): Omit<JobResult, 'durationMs'> {
  if (err instanceof JobFailure) {
    const state = err.reason === 'job_canceled' ? 'canceled' : 'failed';
    return { state, failureReason: err.reason, exitCode: err.exitCode, message: err.message };
  }
  const reason: FailureReason = 'runner_system_failure';
  return { state: 'failed', failureReason: reason, exitCode: null, message: errorMessage(err) };
}

const SYSTEM_FAILURES: (FailureReason | null)[] = ['runner_system_failure', 'unknown_failure', 'runner_interrupted'];

function printOutcome(log: JobLog, o: Omit<JobResult, 'durationMs'>): void {
  log.println();
  if (o.state === 'success') log.info('Job succeeded');
  else if (SYSTEM_FAILURES.includes(o.failureReason)) log.error(`Job failed (system failure): ${o.message}`);
  else log.error(`Job failed: ${o.message}`);
}
