/**
 * runDaemon's shutdown paths without Docker or real signals: an EventEmitter as the signal
 * source, the GitLab test server, the fake engine and the fake executor. The same paths with
 * the real engine and real signals: test/e2e/run.test.ts.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine } from '../../test/support/fake-engine.js';
import { FakeExecutor, type FakeStage } from '../../test/support/fake-executor.js';
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';
import { runnerConfigText } from '../../test/support/runner-config.js';
import { mapFailureReason } from '../job/job-result.js';
import { runDaemon } from './run-daemon.js';

let gl: GitLabTestServer;
let dir: string;
let releaseStages: () => void;
let stagesReleased: Promise<void>;
let executors: FakeExecutor[];

beforeEach(async () => {
  gl = await GitLabTestServer.start({ traceUpdateIntervalSeconds: 1 });
  dir = mkdtempSync(join(tmpdir(), 'berth-daemon-unit-'));
  stagesReleased = new Promise((r) => (releaseStages = r));
  executors = [];
});

afterEach(async () => {
  // Jobs the test left running (a forced or timed-out shutdown) end now, before the server goes.
  releaseStages();
  await gl.waitFor(() => executors.every((e) => e.cleanedUp), 10_000, 'every job cleaned up');
  await gl.close();
  rmSync(dir, { recursive: true, force: true });
});

function startDaemon(stage: FakeStage, global: string[] = [], engine = new FakeEngine()) {
  const configPath = join(dir, 'config', 'config.toml');
  mkdirSync(join(dir, 'config'), { recursive: true });
  const text = runnerConfigText({ url: gl.url, token: gl.runnerToken, global, runner: ['job_status_final_update_retry_limit = 1'] });
  writeFileSync(configPath, text, { mode: 0o600 });
  const signals = new EventEmitter();
  const lines: string[] = [];
  const exit = runDaemon({
    configPath,
    version: 'test',
    write: (l) => lines.push(l),
    logFormat: 'text',
    signals,
    configPollMs: 60_000,
    engineFor: () => engine,
    createExecutor: () => {
      const e = new FakeExecutor({ stages: { step_script: { until: stagesReleased, ...stage } } });
      executors.push(e);
      return e;
    },
  });
  let code: number | null = null;
  void exit.then((c) => (code = c));
  return { signals, lines, exit, exitCode: () => code };
}

async function firstJobRunning(): Promise<FakeExecutor> {
  await gl.waitFor(() => executors.length > 0, 10_000, 'a job');
  await executors[0]!.stageStarted('step_script');
  return executors[0]!;
}

const requests = (): number => gl.requestsTo('request').length;
const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('runDaemon: shutdown', () => {
  it('SIGQUIT: no job request after it, the running job finishes, exit 0', async () => {
    const running = gl.enqueueJob({ script: ['echo 1'] });
    const d = startDaemon({});
    await firstJobRunning();
    // The worker asks again as soon as a job arrives; that request was sent before the signal.
    await gl.waitFor(() => requests() >= 2, 5_000, 'the request after the job');
    d.signals.emit('SIGQUIT');
    const sent = requests();
    const waiting = gl.enqueueJob({ script: ['echo 2'] });
    await settle(1_200); // longer than check_interval: the feeder would have asked by now
    expect(d.exitCode()).toBeNull();
    releaseStages();
    expect(await d.exit).toBe(0);
    expect(running.final?.state).toBe('success');
    expect(requests()).toBe(sent);
    expect(waiting.status).toBe('pending');
    expect(d.lines.join('')).toContain('SIGQUIT received: no new jobs');
    expect(d.signals.eventNames()).toEqual([]);
  });

  it('SIGQUIT during the start-up sweep: handled as later (no job request, exit 0), not the default action', async () => {
    const engine = new FakeEngine();
    const sweeping = engine.hold('listContainers');
    const queued = gl.enqueueJob({ script: ['echo 1'] });
    const d = startDaemon({}, [], engine);
    await gl.waitFor(() => engine.callsOf('listContainers').length > 0, 5_000, 'the start-up sweep');
    d.signals.emit('SIGQUIT');
    sweeping.release();
    expect(await d.exit).toBe(0);
    expect(requests()).toBe(0);
    expect(queued.status).toBe('pending');
    expect(d.lines.join('')).toContain('SIGQUIT received: no new jobs');
    expect(d.signals.eventNames()).toEqual([]);
  });

  it('SIGTERM: the running job is aborted with the runner\'s reason and reported; exit 0', async () => {
    const job = gl.enqueueJob({ script: ['sleep 1000'], afterScript: ['echo after'] });
    const d = startDaemon({ delayMs: Infinity });
    const executor = await firstJobRunning();
    d.signals.emit('SIGTERM');
    expect(await d.exit).toBe(0);
    expect(executor.stageNames()).toEqual(['step_script']);
    expect(executor.cleanedUp).toBe(true);
    const features = (job.payload.features ?? {}) as { failure_reasons?: string[] };
    expect(job.final).toMatchObject({ state: 'failed', failureReason: mapFailureReason('runner_interrupted', features.failure_reasons ?? []) });
    expect(d.lines.join('')).toContain('SIGTERM received: aborting running jobs');
  });

  it('a second SIGTERM/SIGINT exits at once (1) while a job does not stop', async () => {
    gl.enqueueJob({ script: ['sleep 1000'] });
    const d = startDaemon({ honourAbort: false }, ['shutdown_timeout = 3600']);
    await firstJobRunning();
    d.signals.emit('SIGTERM');
    await settle();
    expect(d.exitCode()).toBeNull();
    d.signals.emit('SIGINT');
    expect(await d.exit).toBe(1);
    expect(d.lines.join('')).toContain('SIGINT received again: exiting now');
  });

  it('shutdown_timeout bounds the wait for aborted jobs: exit 1', async () => {
    gl.enqueueJob({ script: ['sleep 1000'] });
    const d = startDaemon({ honourAbort: false }, ['shutdown_timeout = 1']);
    await firstJobRunning();
    const started = Date.now();
    d.signals.emit('SIGTERM');
    expect(await d.exit).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(d.lines.join('')).toContain('Shutdown did not finish in time');
  });
});
