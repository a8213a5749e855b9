/**
 * runJob on the fake executor: GitLab's job semantics (timeouts, cancel vs abort,
 * after_script, cleanup) without Docker. The Docker executor under the same driver:
 * docker-executor.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FakeExecutor, type FakeExecutorOptions } from '../../test/support/fake-executor.js';
import { testJob, testRunner } from '../../test/support/job-fixtures.js';
import { JobFailure, type JobResult } from '../job/job-result.js';
import { plainVariable, type JobSpec } from '../job/job-spec.js';
import { stripAnsi } from '../shared/ansi.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { runJob, type RunJobOptions } from './run-job.js';
import { EngineError } from '../engine/engine-error.js';

function start(executorOpts: FakeExecutorOptions, job: Partial<JobSpec> & { script?: string[]; afterScript?: string[] } = {}, over: Partial<RunJobOptions> = {}) {
  const executor = new FakeExecutor(executorOpts);
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink, { traceSections: false });
  const order: string[] = [];
  const result = runJob({
    job: testJob({ afterScript: ['echo after'], ...job }),
    executor,
    log,
    runner: testRunner(),
    onResult: () => order.push(`result (cleanup called: ${executor.cleanedUp})`),
    ...over,
  }).then((r) => {
    order.push(`returned (cleanup called: ${executor.cleanedUp})`);
    return r;
  });
  return { executor, result, order, text: () => stripAnsi(sink.text) };
}

const withoutDuration = ({ durationMs: _, ...rest }: JobResult): Omit<JobResult, 'durationMs'> => rest;

describe('runJob: results', () => {
  it('runs the script then after_script (CI_JOB_STATUS=success), and cleans up before returning', async () => {
    const { executor, result, order, text } = start({});
    expect(withoutDuration(await result)).toEqual({ state: 'success', failureReason: null, exitCode: 0, message: null });
    expect(executor.calls.map((c) => (c.kind === 'stage' ? `${c.name}:${c.jobStatus}` : c.kind))).toEqual([
      'prepare',
      'step_script:running',
      'after_script:success',
      'cleanup',
    ]);
    expect(order).toEqual(['result (cleanup called: false)', 'returned (cleanup called: true)']);
    expect(text()).toContain('Job succeeded');
  });

  it('a failing script is script_failure with its exit code; after_script sees CI_JOB_STATUS=failed', async () => {
    const { executor, result, text } = start({ stages: { step_script: { exitCode: 3 } } });
    expect(withoutDuration(await result)).toEqual({ state: 'failed', failureReason: 'script_failure', exitCode: 3, message: 'exit code 3' });
    expect(executor.stage('after_script')?.jobStatus).toBe('failed');
    expect(executor.cleanedUp).toBe(true);
    expect(text()).toContain('ERROR: Job failed: exit code 3');
  });

  it('wraps the script in the runner\'s pre_build_script and post_build_script', async () => {
    const executor = new FakeExecutor();
    await runJob({
      job: testJob({ script: ['make'] }),
      executor,
      log: new JobLog(new MemoryByteWriter()),
      runner: testRunner({ preBuildScript: 'echo pre\n', postBuildScript: '  ' }),
    });
    expect(executor.stage('step_script')?.commands).toEqual(['echo pre', 'make']);
  });

  it('runs the runner\'s post_get_sources_script first in the build container; a pre_get_sources_script (runner or job hook) only warns', async () => {
    const executor = new FakeExecutor();
    const sink = new MemoryByteWriter();
    await runJob({
      job: testJob({ script: ['make'], hooks: [{ name: 'pre_get_sources_script', script: ['git config --global x y'] }] }),
      executor,
      log: new JobLog(sink, { traceSections: false }),
      runner: testRunner({ preGetSourcesScript: 'echo before fetch', postGetSourcesScript: 'ls -la\n', preBuildScript: 'echo pre' }),
    });
    expect(executor.stage('step_script')?.commands).toEqual(['ls -la', 'echo pre', 'make']);
    const text = stripAnsi(sink.text);
    expect(text).toContain("WARNING: the runner's pre_get_sources_script is not run: berth fetches the sources on the runner's host");
    expect(text).toContain("WARNING: the job's hooks:pre_get_sources_script is not run");
    expect(text).not.toContain('git config --global x y');
  });

  it('says nothing about get_sources scripts when there are none', async () => {
    const { result, text } = start({});
    await result;
    expect(text()).not.toContain('pre_get_sources_script');
  });
});

describe('runJob: after_script', () => {
  it('a failing after_script only warns: the job result stays success', async () => {
    const { result, text } = start({ stages: { after_script: { exitCode: 7 } } });
    expect((await result).state).toBe('success');
    expect(text()).toContain('WARNING: after_script failed, but job will continue unaffected: exit code 7');
  });

  it('a failing after_script does not turn a script failure into something else', async () => {
    const { result } = start({ stages: { step_script: { exitCode: 2 }, after_script: { exitCode: 9 } } });
    expect(withoutDuration(await result)).toMatchObject({ failureReason: 'script_failure', exitCode: 2 });
  });

  it('has its own timeout (RUNNER_AFTER_SCRIPT_TIMEOUT): stopped, warned, result unchanged', async () => {
    const job = { variables: [plainVariable('RUNNER_AFTER_SCRIPT_TIMEOUT', '50ms')] };
    const { executor, result, text } = start({ stages: { after_script: { delayMs: Infinity } } }, job);
    expect((await result).state).toBe('success');
    expect(executor.stage('after_script')?.result).toEqual({ exitCode: 143, stopped: true });
    expect(text()).toContain('WARNING: after_script could not run to completion: timeout of 50ms exceeded');
    expect(executor.cleanedUp).toBe(true);
  });

  it('is skipped when the job has none', async () => {
    const executor = new FakeExecutor();
    await runJob({ job: testJob(), executor, log: new JobLog(new MemoryByteWriter()), runner: testRunner() });
    expect(executor.stageNames()).toEqual(['step_script']);
  });
});

describe('runJob: timeouts', () => {
  it('the job timeout stops the script: job_execution_timeout, no after_script, cleanup', async () => {
    const { executor, result, text } = start({ stages: { step_script: { delayMs: Infinity } } }, { timeoutSeconds: 0.1 });
    const r = await result;
    expect(r).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout', exitCode: null });
    expect(r.message).toContain('execution took longer than');
    expect(executor.stageNames()).toEqual(['step_script']);
    expect(executor.cleanedUp).toBe(true);
    expect(text()).toContain('ERROR: Job failed: execution took longer than');
    // gitlab-runner's warning for the stage the timeout stopped, before the failure line.
    expect(text()).toMatch(
      /WARNING: step_script could not run to completion because the timeout was exceeded\. For more control over job and script timeouts see: https:\/\/docs\.gitlab\.com\/ci\/runners\/configure_runners\/#set-script-and-after_script-timeouts\n[\s\S]*ERROR: Job failed/,
    );
  });

  it('a prepare that fails in the engine is tried again after a cleanup (3 tries, gitlab-runner\'s lines); the job then runs', async () => {
    const failure = new EngineError('create network', 500, 'network berth-job-1 could not be created: the engine is busy');
    const { executor, result, text } = start({ prepare: { throws: failure, throwsTimes: 2 } }, {}, { preparationRetryMs: 10 });
    expect(await result).toMatchObject({ state: 'success' });
    expect(executor.calls.map((c) => c.kind).slice(0, 5)).toEqual(['prepare', 'cleanup', 'prepare', 'cleanup', 'prepare']);
    const retried = 'ERROR: Preparation failed: network berth-job-1 could not be created: the engine is busy\nWill be retried in 10ms ...\n';
    expect(text().split(retried)).toHaveLength(3);
    expect(text()).toContain('Job succeeded');
  });

  it('prepare: the third failure fails the job with it; a failure of the job\'s own making (a pull) is not tried again', async () => {
    const failure = new EngineError('create network', 500, 'the engine is busy');
    const thrice = start({ prepare: { throws: failure } }, {}, { preparationRetryMs: 10 });
    expect(await thrice.result).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure', message: 'the engine is busy' });
    expect(thrice.executor.calls.filter((c) => c.kind === 'prepare')).toHaveLength(3);
    expect(thrice.text().match(/Preparation failed/g)).toHaveLength(2);

    const pull = start({ prepare: { throws: new JobFailure('image_pull_failure', 'no such image') } }, {}, { preparationRetryMs: 10 });
    expect(await pull.result).toMatchObject({ state: 'failed', failureReason: 'image_pull_failure' });
    expect(pull.executor.calls.filter((c) => c.kind === 'prepare')).toHaveLength(1);
    expect(pull.text()).not.toContain('Preparation failed');

    const service = new JobFailure('runner_system_failure', 'Service "db" could not be started', { preparationRetryable: true });
    const svc = start({ prepare: { throws: service, throwsTimes: 1 } }, {}, { preparationRetryMs: 10 });
    expect(await svc.result).toMatchObject({ state: 'success' });
  });

  it('a cancel while prepare waits to be tried again cancels the job', async () => {
    const cancel = new AbortController();
    const { executor, result } = start({ prepare: { throws: new EngineError('create network', 500, 'busy') } }, {}, { preparationRetryMs: 60_000, cancel: cancel.signal });
    setTimeout(() => cancel.abort(), 50);
    expect(await result).toMatchObject({ state: 'canceled', failureReason: 'job_canceled' });
    expect(executor.calls.filter((c) => c.kind === 'prepare')).toHaveLength(1);
    expect(executor.cleanedUp).toBe(true);
  });

  it('prepare_timeout ends a prepare that hangs (its tries included) as job_execution_timeout; over the job timeout it is the job timeout', async () => {
    const { executor, result, text } = start({ prepare: { delayMs: Infinity } }, {}, { runner: testRunner({ prepareTimeoutMs: 100 }) });
    expect(withoutDuration(await result)).toEqual({
      state: 'failed',
      failureReason: 'job_execution_timeout',
      exitCode: null,
      message: 'prepare timeout: exceeded timeout of 100ms',
    });
    expect(executor.stageNames()).toEqual([]);
    expect(executor.cleanedUp).toBe(true);
    expect(text()).toContain('ERROR: Job failed: prepare timeout: exceeded timeout of 100ms');

    const failing = new EngineError('create network', 500, 'busy');
    const tries = start({ prepare: { throws: failing } }, {}, { runner: testRunner({ prepareTimeoutMs: 150 }), preparationRetryMs: 1000 });
    expect(await tries.result).toMatchObject({ failureReason: 'job_execution_timeout', message: 'prepare timeout: exceeded timeout of 150ms' });
    expect(tries.executor.calls.filter((c) => c.kind === 'prepare')).toHaveLength(1);

    const longer = start({ prepare: { delayMs: Infinity } }, { timeoutSeconds: 0.2 }, { runner: testRunner({ prepareTimeoutMs: 60_000 }) });
    expect(await longer.result).toMatchObject({ failureReason: 'job_execution_timeout', message: 'execution took longer than 200ms seconds' });
  });

  it('the job timeout also bounds prepare', async () => {
    const { executor, result } = start({ prepare: { delayMs: Infinity } }, { timeoutSeconds: 0.1 });
    expect(await result).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout' });
    expect(executor.stageNames()).toEqual([]);
    expect(executor.cleanedUp).toBe(true);
  });

  it('the job timeout during after_script ends the job as timed out', async () => {
    const { result } = start({ stages: { after_script: { delayMs: Infinity } } }, { timeoutSeconds: 0.1 });
    expect(await result).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout' });
  });

  it('RUNNER_SCRIPT_TIMEOUT stops the script; after_script still runs with CI_JOB_STATUS=timedout', async () => {
    const job = { variables: [plainVariable('RUNNER_SCRIPT_TIMEOUT', '50ms')] };
    const { executor, result } = start({ stages: { step_script: { delayMs: Infinity } } }, job);
    expect(withoutDuration(await result)).toEqual({
      state: 'failed',
      failureReason: 'job_execution_timeout',
      exitCode: null,
      message: 'script timeout of 50ms exceeded',
    });
    expect(executor.stage('after_script')).toMatchObject({ jobStatus: 'timedout', abortedAtStart: false });
  });
});

describe('runJob: cancel vs abort', () => {
  it('cancel stops the script and still runs after_script with CI_JOB_STATUS=canceled', async () => {
    const cancel = new AbortController();
    const { executor, result, text } = start({ stages: { step_script: { delayMs: Infinity } } }, {}, { cancel: cancel.signal });
    await executor.stageStarted('step_script');
    cancel.abort();
    expect(withoutDuration(await result)).toEqual({ state: 'canceled', failureReason: 'job_canceled', exitCode: null, message: 'canceled' });
    expect(executor.stage('step_script')?.result).toMatchObject({ stopped: true });
    expect(executor.stage('after_script')).toMatchObject({ jobStatus: 'canceled', abortedAtStart: false, result: { stopped: false } });
    expect(executor.cleanedUp).toBe(true);
    expect(text()).toContain('WARNING: script canceled externally (UI, API)');
  });

  it('abort stops everything: no after_script, the reason of the abort, cleanup', async () => {
    const abort = new AbortController();
    const { executor, result, text } = start({ stages: { step_script: { delayMs: Infinity } } }, {}, { abort: abort.signal });
    await executor.stageStarted('step_script');
    abort.abort(new JobFailure('runner_interrupted', 'the runner received SIGTERM and stopped the job'));
    expect(withoutDuration(await result)).toEqual({
      state: 'failed',
      failureReason: 'runner_interrupted',
      exitCode: null,
      message: 'the runner received SIGTERM and stopped the job',
    });
    expect(executor.stageNames()).toEqual(['step_script']);
    expect(executor.cleanedUp).toBe(true);
    expect(text()).toContain('ERROR: Job failed (system failure): the runner received SIGTERM and stopped the job');
  });

  it('abort during after_script stops it too', async () => {
    const abort = new AbortController();
    const { executor, result } = start({ stages: { after_script: { delayMs: Infinity } } }, {}, { abort: abort.signal });
    await executor.stageStarted('after_script');
    abort.abort(new JobFailure('job_canceled', 'canceled'));
    expect(await result).toMatchObject({ state: 'canceled', failureReason: 'job_canceled' });
    expect(executor.stage('after_script')?.result).toMatchObject({ stopped: true });
    expect(executor.cleanedUp).toBe(true);
  });

  it('abort during prepare: no stage runs, cleanup does', async () => {
    const abort = new AbortController();
    const { executor, result } = start({ prepare: { delayMs: Infinity } }, {}, { abort: abort.signal });
    await Promise.resolve();
    abort.abort(new JobFailure('runner_interrupted', 'stopped'));
    expect(await result).toMatchObject({ failureReason: 'runner_interrupted' });
    expect(executor.calls.map((c) => c.kind)).toEqual(['prepare', 'cleanup']);
  });

  it('cancel during prepare stops it, as an abort (gitlab-runner): canceled, no stage runs, cleanup does', async () => {
    const cancel = new AbortController();
    const { executor, result } = start({ prepare: { delayMs: Infinity } }, {}, { cancel: cancel.signal });
    await Promise.resolve();
    cancel.abort();
    expect(withoutDuration(await result)).toEqual({ state: 'canceled', failureReason: 'job_canceled', exitCode: null, message: 'canceled' });
    expect(executor.calls.map((c) => c.kind)).toEqual(['prepare', 'cleanup']);
  });

  it('an abort without a JobFailure reason is a system failure', async () => {
    const abort = new AbortController();
    abort.abort();
    const { executor, result } = start({}, {}, { abort: abort.signal });
    expect(await result).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
    expect(executor.stageNames()).toEqual([]);
    expect(executor.cleanedUp).toBe(true);
  });
});

describe('runJob: failures and cleanup', () => {
  it('a JobFailure from prepare keeps its reason; cleanup still runs', async () => {
    const { executor, result } = start({ prepare: { throws: new JobFailure('image_pull_failure', 'failed to pull image "x"') } });
    expect(withoutDuration(await result)).toEqual({
      state: 'failed',
      failureReason: 'image_pull_failure',
      exitCode: null,
      message: 'failed to pull image "x"',
    });
    expect(executor.calls.map((c) => c.kind)).toEqual(['prepare', 'cleanup']);
  });

  it('anything else thrown is runner_system_failure with its message, never an exception', async () => {
    const { executor, result, text } = start({ stages: { step_script: { throws: new Error('engine went away') } } });
    expect(withoutDuration(await result)).toEqual({ state: 'failed', failureReason: 'runner_system_failure', exitCode: null, message: 'engine went away' });
    expect(executor.cleanedUp).toBe(true);
    expect(text()).toContain('ERROR: Job failed (system failure): engine went away');
  });

  it('what cleanup could not remove is warned about in the job log', async () => {
    const { result, text } = start({ cleanupProblems: ['network abc123: in use'] });
    expect((await result).state).toBe('success');
    expect(text()).toContain('WARNING: Cleanup: network abc123: in use');
  });
});
