/**
 * One GitLab job end to end without Docker: the GitLab test server (real HTTP on loopback)
 * hands out the job, the fake executor runs it, and the trace and final PUT arrive at GitLab.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine } from '../../test/support/fake-engine.js';
import { FakeExecutor } from '../../test/support/fake-executor.js';
import { stripAnsi } from '../shared/ansi.js';
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';
import { testRunner, testSettings } from '../../test/support/job-fixtures.js';
import type { ImagePuller } from '../executor/image-puller.js';
import { LocalTreeSource } from '../executor/source-provider.js';
import { GitLabClient } from '../gitlab/gitlab-client.js';
import { defaultRunnerInfo } from '../gitlab/runner-features.js';
import { JobFailure, mapFailureReason } from '../job/job-result.js';
import type { JobSpec } from '../job/job-spec.js';
import { runRemoteJob, type RemoteJobContext } from './remote-job.js';
import { createRunnerLog } from './runner-log.js';

let gl: GitLabTestServer;
let client: GitLabClient;

beforeEach(async () => {
  gl = await GitLabTestServer.start({ traceUpdateIntervalSeconds: 1 });
  client = new GitLabClient({ info: defaultRunnerInfo('test') });
});

afterEach(async () => {
  client.close();
  await gl.close();
});

const noPuller: ImagePuller = {
  check: () => undefined,
  pull: () => Promise.reject(new Error('the fake executor pulls nothing')),
};

async function takeJob(script: string[], afterScript?: string[]): Promise<JobSpec> {
  gl.enqueueJob({ script, ...(afterScript ? { afterScript } : {}), overrides: { services: [] } });
  const r = await client.requestJob({ url: gl.url, token: gl.runnerToken }, { systemId: 's_000000000000', info: defaultRunnerInfo('test') });
  if (r.kind !== 'job') throw new Error(`expected a job, got ${r.kind}`);
  return r.job;
}

function context(executor: FakeExecutor, over: Partial<RemoteJobContext> = {}): { ctx: RemoteJobContext; lines: string[] } {
  const lines: string[] = [];
  const ctx: RemoteJobContext = {
    url: gl.url,
    api: client,
    engine: new FakeEngine(),
    puller: noPuller,
    settings: testSettings(),
    runner: testRunner(),
    sources: new LocalTreeSource(),
    outputLimitBytes: 4 * 1024 * 1024,
    finalUpdateRetryLimit: 3,
    debugTraceDisabled: false,
    shutdown: new AbortController().signal,
    log: createRunnerLog({ level: 'debug', format: 'text', write: (l) => lines.push(l), scrub: (t) => t }),
    createExecutor: () => executor,
    ...over,
  };
  return { ctx, lines };
}

const plain = (b: Buffer): string => stripAnsi(b.toString('utf8'));

describe('runRemoteJob', () => {
  it('runs the payload\'s script, uploads the trace and reports success with the trace checksum', async () => {
    const job = await takeJob(['echo one', 'echo two']);
    const executor = new FakeExecutor();
    const { ctx } = context(executor);
    const { result, finish } = await runRemoteJob(job, ctx);
    expect(result.state).toBe('success');
    expect(finish.status).toBe('accepted');
    expect(executor.stage('step_script')?.commands).toEqual(['echo one', 'echo two']);
    expect(executor.cleanedUp).toBe(true);
    const remote = gl.job(job.id);
    expect(remote.final).toMatchObject({ state: 'success', checksum: remote.checksum() });
    expect(plain(remote.trace)).toContain('Job succeeded');
  });

  it('tells GitLab the job runs (PUT state=running, no output) before any trace or stage, as gitlab-runner does', async () => {
    const job = await takeJob(['echo one']);
    const executor = new FakeExecutor();
    await runRemoteJob(job, context(executor).ctx);
    const first = gl.requests.find((r) => r.endpoint === 'update' || r.endpoint === 'patch');
    expect(first).toMatchObject({ endpoint: 'update', json: { state: 'running', output: {} } });
    expect(gl.requestsTo('update').map((r) => (r.json as { state: string }).state)).toEqual(['running', 'success']);
  });

  it('a job GitLab canceled before it started is not run and gets no final update (403 with Job-Status: canceled)', async () => {
    const job = await takeJob(['echo never']);
    gl.setJobStatus(job.id, 'canceled');
    const executor = new FakeExecutor();
    const { ctx, lines } = context(executor);
    const { result, finish } = await runRemoteJob(job, ctx);
    expect(executor.calls).toEqual([]);
    expect(result).toMatchObject({ state: 'canceled', failureReason: 'job_canceled' });
    expect(finish.status).toBe('aborted');
    expect(gl.requestsTo('update')).toHaveLength(1);
    expect(gl.requestsTo('patch')).toEqual([]);
    expect(lines.join('')).toContain('Job not run');
  });

  it('a job whose cancel was requested before it started is not run and is reported failed with job_canceled', async () => {
    const job = await takeJob(['echo never']);
    gl.setJobStatus(job.id, 'canceling');
    const executor = new FakeExecutor();
    const { result, finish } = await runRemoteJob(job, context(executor).ctx);
    expect(executor.calls).toEqual([]);
    expect(result).toMatchObject({ state: 'canceled', failureReason: 'job_canceled' });
    expect(finish.status).toBe('accepted');
    expect(gl.job(job.id).final).toMatchObject({ state: 'failed', failureReason: mapFailureReason('job_canceled', job.features.failureReasons) });
  });

  it('sends the final update while the containers are removed, returns once they are gone, and logs a cleanup problem in the runner log', async () => {
    const job = await takeJob(['echo one']);
    let release!: () => void;
    const removal = new Promise<void>((resolve) => (release = resolve));
    class SlowCleanup extends FakeExecutor {
      override async cleanup(): Promise<string[]> {
        const problems = await super.cleanup();
        await removal;
        return problems;
      }
    }
    const executor = new SlowCleanup({ cleanupProblems: ['network abc123: in use'] });
    const { ctx, lines } = context(executor);
    let returned = false;
    const running = runRemoteJob(job, ctx).finally(() => (returned = true));
    await gl.waitFor(() => gl.job(job.id).final !== null, 10_000, 'the final update');
    expect(gl.job(job.id).final).toMatchObject({ state: 'success' });
    expect(executor.cleanedUp).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(returned).toBe(false);
    release();
    const { finish } = await running;
    expect(finish.status).toBe('accepted');
    expect(lines.join('')).toContain('Cleanup: network abc123: in use');
    expect(plain(gl.job(job.id).trace)).not.toContain('Cleanup:');
  });

  it('reports a script failure with its exit code', async () => {
    const job = await takeJob(['exit 3']);
    const { ctx } = context(new FakeExecutor({ stages: { step_script: { exitCode: 3 } } }));
    await runRemoteJob(job, ctx);
    expect(gl.job(job.id).final).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 3 });
  });

  it('a runner shutdown while GitLab does not answer the running update ends the wait: the job is reported with the runner\'s reason', async () => {
    const job = await takeJob(['echo never']);
    gl.fault('update', { hang: true });
    const executor = new FakeExecutor();
    const shutdown = new AbortController();
    const { ctx } = context(executor, { shutdown: shutdown.signal });
    const running = runRemoteJob(job, ctx);
    await gl.waitFor(() => gl.requests.some((r) => r.endpoint === 'update'), 5_000, 'the running update');
    shutdown.abort(new JobFailure('runner_interrupted', 'the runner received SIGTERM and stopped the job'));
    const { result } = await running;
    expect(result.failureReason).toBe('runner_interrupted');
    expect(executor.stageNames()).toEqual([]);
  }, 10_000);

  it('a runner shutdown aborts the job: no after_script, reported with the runner\'s reason', async () => {
    const job = await takeJob(['sleep 1000'], ['echo after']);
    const executor = new FakeExecutor({ stages: { step_script: { delayMs: Infinity } } });
    const shutdown = new AbortController();
    const { ctx, lines } = context(executor, { shutdown: shutdown.signal });
    const running = runRemoteJob(job, ctx);
    await executor.stageStarted('step_script');
    shutdown.abort(new JobFailure('runner_interrupted', 'the runner received SIGTERM and stopped the job'));
    const { result } = await running;
    expect(result.failureReason).toBe('runner_interrupted');
    expect(executor.stageNames()).toEqual(['step_script']);
    expect(gl.job(job.id).final).toMatchObject({ state: 'failed', failureReason: mapFailureReason('runner_interrupted', job.features.failureReasons) });
    expect(plain(gl.job(job.id).trace)).toContain('the runner received SIGTERM and stopped the job');
    expect(lines.join('')).toContain('Job failed: runner_interrupted');
  });

  it('GitLab\'s cancel (Job-Status: canceling) stops the script and still runs after_script with CI_JOB_STATUS=canceled', async () => {
    const job = await takeJob(['sleep 1000'], ['echo after']);
    const executor = new FakeExecutor({ stages: { step_script: { delayMs: Infinity } } });
    const { ctx } = context(executor);
    const running = runRemoteJob(job, ctx);
    await executor.stageStarted('step_script');
    gl.setJobStatus(job.id, 'canceling');
    const { result } = await running;
    expect(result).toMatchObject({ state: 'canceled', failureReason: 'job_canceled' });
    expect(executor.stage('after_script')).toMatchObject({ jobStatus: 'canceled', abortedAtStart: false });
    expect(executor.cleanedUp).toBe(true);
  }, 15_000);

  it('GitLab\'s abort (Job-Status: canceled) stops everything: no after_script, cleanup still runs', async () => {
    const job = await takeJob(['sleep 1000'], ['echo after']);
    const executor = new FakeExecutor({ stages: { step_script: { delayMs: Infinity } } });
    const { ctx } = context(executor);
    const running = runRemoteJob(job, ctx);
    await executor.stageStarted('step_script');
    gl.setJobStatus(job.id, 'canceled');
    const { result, finish } = await running;
    expect(result.state).not.toBe('success');
    expect(executor.stageNames()).toEqual(['step_script']);
    expect(executor.cleanedUp).toBe(true);
    expect(finish.status).toBe('aborted');
  }, 15_000);
});
