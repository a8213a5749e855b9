/**
 * RunnerWorker without Docker: real GitLab client against the GitLab test server, the fake
 * engine behind the runner's connection, and the fake executor for every job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine } from '../../test/support/fake-engine.js';
import { FakeExecutor, type FakeExecutorOptions } from '../../test/support/fake-executor.js';
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';
import { testRunnerConfig } from '../../test/support/runner-config.js';
import { GitLabClient } from '../gitlab/gitlab-client.js';
import { defaultRunnerInfo } from '../gitlab/runner-features.js';
import { Slots } from './job-slots.js';
import { createRunnerLog } from './runner-log.js';
import { RunnerMetrics } from './runner-metrics.js';
import { RunnerWorker, type WorkerDeps } from './runner-worker.js';

let gl: GitLabTestServer;
let client: GitLabClient;
let dir: string;
const workers: RunnerWorker[] = [];

beforeEach(async () => {
  gl = await GitLabTestServer.start({ traceUpdateIntervalSeconds: 1 });
  client = new GitLabClient({ info: defaultRunnerInfo('test') });
  dir = mkdtempSync(join(tmpdir(), 'berth-worker-unit-'));
});

afterEach(async () => {
  for (const w of workers.splice(0)) {
    w.stop();
    await w.idle();
  }
  client.close();
  await gl.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A worker whose jobs run on fake executors made from `script` (one per job, kept in `executors`). */
function worker(opts: { runner?: string[]; token?: string; global?: Slots; script?: () => FakeExecutorOptions; now?: () => number; idleness?: WorkerDeps['idleness'] } = {}) {
  const executors: FakeExecutor[] = [];
  const lines: string[] = [];
  const deps: WorkerDeps = {
    client,
    engineFor: () => new FakeEngine(),
    globalSlots: opts.global ?? new Slots(4),
    metrics: new RunnerMetrics(),
    log: createRunnerLog({ level: 'debug', format: 'text', write: (l) => lines.push(l), scrub: (t) => t }),
    systemId: 's_000000000000',
    version: 'test',
    info: defaultRunnerInfo('test'),
    shutdown: new AbortController().signal,
    gitCacheDir: join(dir, 'git-cache'),
    cacheDir: '/nonexistent/berth-test-cache',
    homeDir: dir,
    createExecutor: () => {
      const e = new FakeExecutor(opts.script?.() ?? {});
      executors.push(e);
      return e;
    },
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.idleness ? { idleness: opts.idleness } : {}),
  };
  const w = new RunnerWorker(testRunnerConfig({ url: gl.url, token: opts.token ?? gl.runnerToken, runner: opts.runner }), deps);
  workers.push(w);
  return { w, executors, lines, deps };
}

const requests = (): number => gl.requestsTo('request').length;

describe('RunnerWorker', () => {
  it('takes a job on a poke, runs it to GitLab\'s final update, and asks again at once', async () => {
    const queued = [gl.enqueueJob({ script: ['echo 1'] }), gl.enqueueJob({ script: ['echo 2'] })];
    const { w, executors } = worker();
    w.poke();
    await gl.waitFor(() => queued.every((j) => j.final !== null), 10_000, 'both jobs final');
    expect(queued.map((j) => j.final?.state)).toEqual(['success', 'success']);
    expect(executors.map((e) => e.cleanedUp)).toEqual([true, true]);
    // One poke: the second job came from asking again as soon as a job arrived (and a slot freed).
    expect(requests()).toBeGreaterThanOrEqual(2);
  });

  it('with strict_check_interval asks only when poked', async () => {
    const queued = [gl.enqueueJob({ script: ['echo 1'] }), gl.enqueueJob({ script: ['echo 2'] })];
    const { w } = worker({ runner: ['strict_check_interval = true'] });
    w.poke();
    await gl.waitFor(() => queued[0]!.final !== null, 10_000, 'first job final');
    await w.idle();
    expect(requests()).toBe(1);
    expect(queued[1]!.final).toBeNull();
  });

  it('never asks beyond its limit: a running job holds the slot until it ends', async () => {
    let release!: () => void;
    const until = new Promise<void>((r) => (release = r));
    const queued = [gl.enqueueJob({ script: ['echo 1'] }), gl.enqueueJob({ script: ['echo 2'] })];
    const { w, executors } = worker({ runner: ['limit = 1'], script: () => ({ stages: { step_script: { until } } }) });
    w.poke();
    await gl.waitFor(() => executors.length === 1, 10_000, 'first job running');
    await executors[0]!.stageStarted('step_script');
    w.poke();
    w.poke();
    expect(w.runningJobs).toBe(1);
    expect(requests()).toBe(1);
    release();
    await gl.waitFor(() => queued.every((j) => j.final !== null), 10_000, 'both jobs final');
    expect(executors).toHaveLength(2);
  });

  it('shares the global concurrent limit with other runners', async () => {
    const global = new Slots(1);
    global.tryAcquire(); // another runner's job
    const { w } = worker({ global });
    w.poke();
    await new Promise((r) => setTimeout(r, 50));
    expect(requests()).toBe(0);
    global.release();
    w.poke();
    await gl.waitFor(() => requests() === 1, 5_000, 'a request');
  });

  it('after stop, asks for nothing; idle waits for the running job', async () => {
    let release!: () => void;
    const until = new Promise<void>((r) => (release = r));
    const job = gl.enqueueJob({ script: ['echo 1'] });
    const { w, executors } = worker({ script: () => ({ stages: { step_script: { until } } }) });
    w.poke();
    await gl.waitFor(() => executors.length === 1, 10_000, 'job running');
    await executors[0]!.stageStarted('step_script');
    // The worker asks again as soon as a job arrives; let that request land before stopping.
    await gl.waitFor(() => requests() === 2, 10_000, 'the next request');
    w.stop();
    const sent = requests();
    w.poke();
    let idle = false;
    const waiting = w.idle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(idle).toBe(false);
    release();
    await waiting;
    expect(job.final?.state).toBe('success');
    expect(requests()).toBe(sent);
  });

  it('tells idleness when a job starts and when an empty answer finds nothing running, not while a job runs', async () => {
    let release!: () => void;
    const until = new Promise<void>((r) => (release = r));
    const events: string[] = [];
    const job = gl.enqueueJob({ script: ['echo 1'] });
    const { w, executors } = worker({
      script: () => ({ stages: { step_script: { until } } }),
      idleness: { busy: () => events.push('busy'), idle: () => events.push('idle') },
    });
    w.poke();
    await gl.waitFor(() => executors.length === 1, 10_000, 'job running');
    await executors[0]!.stageStarted('step_script');
    // Asked again at once, empty queue, but the job still runs: not idle.
    await gl.waitFor(() => requests() === 2, 10_000, 'the next request');
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual(['busy']);
    release();
    await gl.waitFor(() => job.final !== null, 10_000, 'job final');
    // The job's end asks once more: an empty answer with nothing running.
    await gl.waitFor(() => events.length === 2, 10_000, 'idle');
    w.poke();
    await gl.waitFor(() => events.length === 3, 10_000, 'idle again');
    expect(events).toEqual(['busy', 'idle', 'idle']);
  });

  it('fails a job with executor options it does not support as gitlab-runner does: runner_system_failure, exit code 3, the reason in the job log', async () => {
    const bad = gl.enqueueJob({ overrides: { image: { name: 'alpine', executor_opts: { docker: { privileged: true } } } } });
    const { w, executors } = worker();
    w.poke();
    await gl.waitFor(() => bad.final !== null, 10_000, 'the final update');
    expect(bad.final).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure', exitCode: 3 });
    expect(bad.trace.toString()).toContain('Unsupported "image" options [privileged] for "docker executor"; supported options are [platform user]');
    expect(bad.trace.toString()).not.toContain(bad.token);
    expect(executors).toHaveLength(0);
  });

  it('rests for unhealthy_interval after unhealthy_requests_limit forbidden answers in a row', async () => {
    let now = 1_000_000;
    const { w, lines } = worker({ token: 'glrt-not-a-valid-token', runner: ['unhealthy_requests_limit = 2', 'unhealthy_interval = "60s"'], now: () => now });
    for (let i = 1; i <= 2; i++) {
      w.poke();
      await gl.waitFor(() => requests() === i, 5_000, `request ${i}`);
      await w.idle();
    }
    expect(lines.join('')).toContain('Runner is not healthy and will be disabled for 60 s!');
    w.poke();
    await new Promise((r) => setTimeout(r, 50));
    expect(requests()).toBe(2);
    now += 61_000;
    w.poke();
    await gl.waitFor(() => requests() === 3, 5_000, 'request after the rest');
  });
});
