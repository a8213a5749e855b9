/**
 * runDaemon's shutdown paths without Docker or real signals: an EventEmitter as the signal
 * source, the GitLab test server, the fake engine and the fake executor. The same paths with
 * the real engine and real signals: test/e2e/run.test.ts.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine } from '../../test/support/fake-engine.js';
import { FakeExecutor, type FakeStage } from '../../test/support/fake-executor.js';
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';
import { runnerConfigText } from '../../test/support/runner-config.js';
import { shortToken } from '../gitlab/short-token.js';
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

interface StartOptions {
  /** More lines of the `[[runners]]` entry. */
  runner?: string[];
  /** Do not write config.toml (berth run before berth register). */
  noConfig?: boolean;
  configPollMs?: number;
}

function writeTestConfig(configPath: string, global: string[] = [], runner: string[] = [], token = gl.runnerToken): void {
  mkdirSync(join(dir, 'config'), { recursive: true });
  const text = runnerConfigText({ url: gl.url, token, global, runner: ['job_status_final_update_retry_limit = 1', ...runner] });
  writeFileSync(configPath, text, { mode: 0o600 });
}

function startDaemon(stage: FakeStage, global: string[] = [], engine = new FakeEngine(), opts: StartOptions = {}) {
  const configPath = join(dir, 'config', 'config.toml');
  if (!opts.noConfig) writeTestConfig(configPath, global, opts.runner);
  const signals = new EventEmitter();
  const lines: string[] = [];
  const exit = runDaemon({
    configPath,
    version: 'test',
    write: (l) => lines.push(l),
    logFormat: 'text',
    signals,
    configPollMs: opts.configPollMs ?? 60_000,
    engineFor: () => engine,
    createExecutor: () => {
      const e = new FakeExecutor({ stages: { step_script: { until: stagesReleased, ...stage } } });
      executors.push(e);
      return e;
    },
  });
  let code: number | null = null;
  void exit.then((c) => (code = c));
  return { signals, lines, exit, exitCode: () => code, configPath };
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

const iso = (ms: number): string => new Date(ms).toISOString();
const MINUTE = 60_000;
/** A token obtained 3 h ago that expires in 30 min: past 75 % of its life. */
const dueToken = (): string[] => [`token_obtained_at = ${iso(Date.now() - 180 * MINUTE)}`, `token_expires_at = ${iso(Date.now() + 30 * MINUTE)}`];
const resets = (status: number): number => gl.requestsTo('reset-token').filter((r) => r.status === status).length;
const tookJob = (job: { id: number }): string => {
  const taken = gl.requestsTo('request').find((r) => r.jobId === job.id && r.status === 201);
  return (taken?.json as { token: string }).token;
};

describe('runDaemon: runner token rotation (gitlab-runner resetRunnerTokens)', () => {
  it('rotates a token past 75 % of its life: config.toml holds the new token, jobs keep coming with it, a reload of a stale file does not undo it', async () => {
    gl.options.tokenExpiresInSeconds = 7 * 24 * 3600;
    releaseStages();
    const old = gl.runnerToken;
    const d = startDaemon({}, [], new FakeEngine(), { runner: dueToken(), configPollMs: 100 });
    await gl.waitFor(() => resets(201) === 1, 10_000, 'the token reset');
    const reset = gl.requestsTo('reset-token')[0]!;
    expect(reset.json).toEqual({ token: old });
    expect(reset.headers['runner-token']).toBe(old);
    const fresh = gl.runnerToken;
    expect(fresh).not.toBe(old);

    await gl.waitFor(() => readFileSync(d.configPath, 'utf8').includes(fresh), 5_000, 'the new token in config.toml');
    const text = readFileSync(d.configPath, 'utf8');
    expect(text).not.toContain(old);
    const expires = Date.parse(/token_expires_at = (\S+)/.exec(text)![1]!);
    expect(expires - Date.now()).toBeGreaterThan(7 * 24 * 3600_000 - 60_000);
    const obtained = Date.parse(/token_obtained_at = (\S+)/.exec(text)![1]!);
    expect(Math.abs(obtained - Date.now())).toBeLessThan(60_000);
    expect(statSync(d.configPath).mode & 0o777).toBe(0o600);

    const job = gl.enqueueJob({ script: ['echo 1'] });
    await gl.waitFor(() => job.final !== null, 10_000, 'the job');
    expect(job.final?.state).toBe('success');
    expect(tookJob(job)).toBe(fresh);

    // A stale copy of the file (the old token, due for a reset) is reloaded: the daemon keeps the
    // new token. (The copy must hold the old token: the new one with these dates would be due.)
    const staleAt = Date.now();
    writeTestConfig(d.configPath, [], dueToken(), old);
    await gl.waitFor(() => d.lines.filter((l) => l.includes('Configuration loaded')).length >= 2, 5_000, 'the reloads');
    const second = gl.enqueueJob({ script: ['echo 2'] });
    await gl.waitFor(() => second.final !== null, 10_000, 'the second job');
    expect(tookJob(second)).toBe(fresh);
    expect(resets(201)).toBe(1);
    // Not once since did the daemon ask for a job with the old token (GitLab has revoked it).
    const askedWithOld = gl.requestsTo('request').filter((r) => r.at >= staleAt && (r.json as { token?: string } | undefined)?.token === old);
    expect(askedWithOld).toHaveLength(0);
    // ... and writes the new token back.
    await gl.waitFor(() => readFileSync(d.configPath, 'utf8').includes(fresh), 5_000, 'the new token in config.toml again');

    d.signals.emit('SIGQUIT');
    expect(await d.exit).toBe(0);
    const log = d.lines.join('');
    expect(log).toContain(`msg="Resetting runner authentication token... succeeded" runner=${shortToken(old)}`);
    expect(log).not.toContain(old);
    expect(log).not.toContain(fresh);
  });

  it('a 403 on the reset is logged and retried at the next check; the runner keeps taking jobs meanwhile', async () => {
    releaseStages();
    const old = gl.runnerToken;
    gl.fault('reset-token', { status: 403, times: 3, body: JSON.stringify({ message: '403 Forbidden' }), headers: { 'Content-Type': 'application/json' } });
    const d = startDaemon({}, [], new FakeEngine(), { runner: dueToken() });
    await gl.waitFor(() => resets(403) >= 1, 10_000, 'a refused reset');
    const job = gl.enqueueJob({ script: ['echo 1'] });
    await gl.waitFor(() => job.final !== null, 10_000, 'the job');
    expect(job.final?.state).toBe('success');
    expect(tookJob(job)).toBe(old);
    await gl.waitFor(() => resets(201) === 1, 10_000, 'the reset that succeeds');
    expect(resets(403)).toBe(3);
    const fresh = gl.runnerToken;
    await gl.waitFor(() => readFileSync(d.configPath, 'utf8').includes(`token = "${fresh}"`), 5_000, 'the new token in config.toml');
    const next = gl.enqueueJob({ script: ['echo 2'] });
    await gl.waitFor(() => next.final !== null, 10_000, 'the job after the reset');
    expect(tookJob(next)).toBe(fresh);
    // One check per check_interval (1 s), not a loop as fast as GitLab answers.
    const [first, second] = gl.requestsTo('reset-token');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    d.signals.emit('SIGQUIT');
    expect(await d.exit).toBe(0);
    const log = d.lines.join('');
    expect(log).toContain(`level=error msg="Resetting runner authentication token... failed (check used token)" runner=${shortToken(old)} runner_name=unit-runner status="403 Forbidden"`);
    expect(log).not.toContain(old);
    expect(log).not.toContain(fresh);
  });
});

describe('runDaemon: no config file yet (berth run before berth register)', () => {
  it('starts, logs gitlab-runner\'s line, polls once the file appears, and ends at once on SIGTERM', async () => {
    releaseStages();
    const d = startDaemon({}, [], new FakeEngine(), { noConfig: true, configPollMs: 100 });
    await gl.waitFor(() => d.lines.some((l) => l.includes('Starting berth run')), 5_000, 'the start');
    await settle(500);
    expect(d.exitCode()).toBeNull();
    expect(requests()).toBe(0);
    const log = d.lines.join('');
    expect(log).toContain(`level=error msg="Failed to load config stat ${d.configPath}: no such file or directory"`);
    expect(log.match(/Failed to load config/g)).toHaveLength(1);

    const job = gl.enqueueJob({ script: ['echo 1'] });
    writeTestConfig(d.configPath);
    await gl.waitFor(() => job.final !== null, 10_000, 'the job once config.toml exists');
    expect(job.final?.state).toBe('success');
    expect(d.lines.join('')).toContain('msg="Configuration loaded" runners=1');

    const started = Date.now();
    d.signals.emit('SIGTERM');
    expect(await d.exit).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('SIGQUIT ends it at once while it waits for the file', async () => {
    const d = startDaemon({}, [], new FakeEngine(), { noConfig: true, configPollMs: 100 });
    await gl.waitFor(() => d.lines.some((l) => l.includes('Starting berth run')), 5_000, 'the start');
    const started = Date.now();
    d.signals.emit('SIGQUIT');
    expect(await d.exit).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(requests()).toBe(0);
  });
});
