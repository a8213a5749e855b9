import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { shortToken } from '../../src/gitlab/short-token.js';
import { createRunFixture, type RunFixture } from '../support/run-fixture.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';
import type { TestJob } from '../support/gitlab-test-server.js';
import { traceText } from '../support/trace-text.js';
import { stripAnsi } from '../../src/shared/ansi.js';

const engine = new DockerodeEngine();
let fx: RunFixture;

beforeEach(async () => {
  fx = await createRunFixture();
  fx.writeConfig();
});

afterEach(async () => {
  await fx.close();
  const left = await findLeftovers(engine, fx.labelFilter);
  // Clean up before asserting, so one failure does not cascade into the next tests.
  for (const c of await engine.listContainers([fx.labelFilter])) await engine.removeContainer(c.id, { force: true });
  for (const n of await engine.listNetworks([fx.labelFilter])) await engine.removeNetwork(n.id);
  for (const v of await engine.listVolumes([fx.labelFilter])) await engine.removeVolume(v.name);
  expect(left).toEqual(NO_LEFTOVERS);
});

const trace = (job: TestJob): string => traceText(job);
const done = (job: TestJob, ms = 60_000) => fx.gl.waitFor(() => job.final !== null, ms, `the final update of job ${job.id}`);

describe('berth run (end to end, against the GitLab API test server)', () => {
  it('runs a job with its sources checked out and a service, and reports success with a matching checksum', async () => {
    const job = fx.enqueue({
      script: ['cat data.txt', 'git log --oneline -1 >/dev/null 2>&1 || echo "no git in image"', 'wget -qO- http://web/', 'echo "dir=$CI_PROJECT_DIR"'],
      overrides: { services: [{ name: 'berth-test/svc-http:latest', alias: 'web', entrypoint: null, command: null, ports: [], variables: null, executor_opts: {}, pull_policy: null }] },
    });
    const run = fx.start();
    await done(job);
    const text = trace(job);
    expect(job.final).toMatchObject({ state: 'success' });
    expect(text).toContain(`Checking out ${fx.sha.slice(0, 8)} as detached HEAD (ref is main)...`);
    expect(text).toContain('data from the repository');
    expect(text).toContain('hello from svc-http');
    expect(text).toContain('dir=/builds/group/project');
    expect(text).toContain('Job succeeded');
    expect(text).not.toContain(job.token);
    expect(job.final!.checksum).toBe(job.checksum());
    expect(job.utf8Violations).toBe(0);
    // git ran through the launcher's shell (src/sources/shell-launcher.ts): one `sh` child of the
    // daemon, which ends with it, its output folder removed.
    const shells = childrenOf(run.child.pid!).filter((pid) => commandOf(pid) === 'sh');
    expect(shells).toHaveLength(1);
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
    expect(existsSync(join(fx.dir, 'config', 'git-cache', '.launch'))).toBe(false);
    await waitUntil(async () => commandOf(shells[0]!) !== 'sh', 5_000);
  });

  it('FF_TIMESTAMPS (on by default, as gitlab-runner 17+): every trace line carries the time, stream 00 for the runner, 01 O/E for the script; off when the job says false', async () => {
    const stamped = fx.enqueue({ script: ['echo to-stdout', 'echo to-stderr >&2'] });
    const plain = fx.enqueue({ script: ['echo plain-out'], variables: [{ key: 'FF_TIMESTAMPS', value: 'false' }] });
    const run = fx.start();
    await done(stamped);
    await done(plain);
    const raw = stripAnsi(stamped.trace.toString('utf8'));
    const lines = raw.split('\n').filter(Boolean);
    const prefix = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (?:00|01)[OE][ +]/;
    expect(lines.filter((l) => !prefix.test(l))).toEqual([]);
    expect(raw).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z 00O Running with berth /m);
    expect(raw).toMatch(/Z 01O to-stdout$/m);
    expect(raw).toMatch(/Z 01E to-stderr$/m);
    expect(stamped.final).toMatchObject({ state: 'success' });
    expect(stamped.final!.checksum).toBe(stamped.checksum());
    // info.revision: the commit the bundle was built from, as gitlab-runner sends its own.
    const head = execFileSync('git', ['rev-parse', '--short=8', 'HEAD'], { encoding: 'utf8' }).trim();
    const info = (fx.gl.requestsTo('request')[0]!.json as { info?: { revision?: string } }).info;
    expect(info?.revision).toBe(head);
    const plainText = stripAnsi(plain.trace.toString('utf8'));
    expect(plainText).toMatch(/^plain-out$/m);
    expect(plainText).not.toMatch(/Z 0[01][OE][ +]/);
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });

  it('rotates a runner token past 75 % of its life: config.toml gets the new token and jobs are taken with it', async () => {
    const old = fx.gl.runnerToken;
    fx.gl.options.tokenExpiresInSeconds = 7 * 24 * 3600;
    const iso = (ms: number): string => new Date(ms).toISOString();
    fx.writeConfig({ runner: [`  token_obtained_at = ${iso(Date.now() - 3 * 3600_000)}`, `  token_expires_at = ${iso(Date.now() + 1800_000)}`].join('\n') });
    const run = fx.start();
    await fx.gl.waitFor(() => fx.gl.requestsTo('reset-token').some((r) => r.status === 201), 30_000, 'the token reset');
    const fresh = fx.gl.runnerToken;
    expect(fresh).not.toBe(old);
    await fx.gl.waitFor(() => readFileSync(fx.configPath, 'utf8').includes(`token = "${fresh}"`), 10_000, 'the new token in config.toml');
    expect(readFileSync(fx.configPath, 'utf8')).not.toContain(old);
    expect(statSync(fx.configPath).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(fx.dir, 'config')).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const job = fx.enqueue({ script: ['cat data.txt'] });
    await done(job);
    expect(job.final).toMatchObject({ state: 'success' });
    const taken = fx.gl.requestsTo('request').find((r) => r.jobId === job.id && r.status === 201);
    expect((taken?.json as { token: string }).token).toBe(fresh);
    run.child.kill('SIGQUIT');
    const res = await run.result;
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(`msg="Resetting runner authentication token... succeeded" runner=${shortToken(old)}`);
    expect(res.stderr).not.toContain(old);
    expect(res.stderr).not.toContain(fresh);
    // The job's Docker objects carry the new token's short form.
    expect(await findLeftovers(engine, `berth.runner.short_token=${shortToken(fresh)}`)).toEqual(NO_LEFTOVERS);
  });

  it('reports a failing script as script_failure with its exit code, after_script still running', async () => {
    const job = fx.enqueue({ script: ['echo failing', 'exit 3'], afterScript: ['echo "after status=$CI_JOB_STATUS"'] });
    const run = fx.start();
    await done(job);
    expect(job.final).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 3 });
    expect(trace(job)).toContain('after status=failed');
    expect(trace(job)).toContain('ERROR: Job failed: exit code 3');
    run.child.kill('SIGQUIT');
    await run.result;
  });

  it('never uploads a masked secret, also when it is printed in pieces', async () => {
    const secret = 'sup3r-s3cret-value-42';
    const job = fx.enqueue({
      variables: [{ key: 'MY_SECRET', value: secret, masked: true, public: false }],
      script: [
        'echo "whole: $MY_SECRET"',
        `printf "split: sup3r-s3"; sleep 1.5; printf "cret-value-42\\n"`,
        'echo "token: glpat-abcdefghijklmnopqrst"',
      ],
    });
    const run = fx.start();
    await done(job);
    const text = trace(job);
    expect(job.final).toMatchObject({ state: 'success' });
    expect(text).not.toContain(secret);
    expect(text).not.toContain('abcdefghijklmnopqrst');
    expect(text).toContain('whole: [MASKED]');
    expect(text).toContain('split: [MASKED]');
    expect(text).toContain('token: glpat-[MASKED]');
    run.child.kill('SIGQUIT');
    await run.result;
  });

  it('gets the whole trace to GitLab through 500s and a 416', async () => {
    fx.gl.fault('patch', { status: 500, times: 3 }, { partialAccept: 10 });
    const job = fx.enqueue({ script: ['for i in $(seq 1 30); do echo "line $i"; sleep 0.1; done'] });
    const run = fx.start();
    await done(job);
    const text = trace(job);
    for (let i = 1; i <= 30; i++) expect(text).toContain(`line ${i}\n`);
    expect(job.final!.checksum).toBe(job.checksum());
    expect(fx.gl.requestsTo('patch').filter((r) => r.status === 500).length).toBe(3);
    run.child.kill('SIGQUIT');
    await run.result;
  });

  it('cancels gracefully on Job-Status canceling: the script stops, after_script runs with canceled', async () => {
    const job = fx.enqueue({
      script: ['trap "echo Caught SIGTERM; exit 1" TERM; echo started; sleep 120 & wait'],
      afterScript: ['echo "after status=$CI_JOB_STATUS"'],
    });
    const run = fx.start();
    await fx.gl.waitFor(() => trace(job).includes('started'), 60_000, 'the job to start');
    fx.gl.setJobStatus(job.id, 'canceling');
    await done(job);
    const text = trace(job);
    expect(text).toContain('Caught SIGTERM');
    expect(text).toContain('after status=canceled');
    run.child.kill('SIGQUIT');
    await run.result;
  });

  it('aborts at once on Job-Status canceled: no after_script', async () => {
    const job = fx.enqueue({ script: ['echo started; sleep 120'], afterScript: ['echo after-ran'] });
    const run = fx.start();
    await fx.gl.waitFor(() => trace(job).includes('started'), 60_000, 'the job to start');
    fx.gl.setJobStatus(job.id, 'canceled');
    await waitUntil(async () => (await findLeftovers(engine, fx.labelFilter)).containers.length === 0, 30_000);
    expect(trace(job)).not.toContain('after-ran');
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });

  it('fails a job at its timeout with job_execution_timeout', async () => {
    const job = fx.enqueue({ script: ['sleep 60'], afterScript: ['echo after-ran'], overrides: { runner_info: { timeout: 3 } } });
    const run = fx.start();
    await done(job);
    expect(job.final).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout' });
    expect(trace(job)).toContain('execution took longer than 3s seconds');
    expect(trace(job)).not.toContain('after-ran');
    run.child.kill('SIGQUIT');
    await run.result;
  });

  it('never runs more jobs than concurrent / limit, with 8 queued', async () => {
    fx.writeConfig({ concurrent: 3, runner: '  limit = 2' });
    const jobs = Array.from({ length: 8 }, (_, i) =>
      fx.enqueue({ image: 'berth-test/busybox:latest', variables: [{ key: 'CANARY', value: `canary-${i}` }], script: ['echo "$CANARY"', 'sleep 1'] }),
    );
    const run = fx.start();
    let max = 0;
    const sampler = setInterval(() => {
      void engine.listContainers([fx.labelFilter, 'berth.type=build']).then((cs) => (max = Math.max(max, cs.length)));
    }, 100);
    try {
      for (const j of jobs) await done(j, 120_000);
    } finally {
      clearInterval(sampler);
    }
    expect(jobs.every((j) => j.final?.state === 'success')).toBe(true);
    // Every trace holds its own job's output and no other job's.
    jobs.forEach((j, i) => {
      const seen = trace(j).split('\n').filter((l) => /^canary-\d+$/.test(l));
      expect(seen).toEqual([`canary-${i}`]);
    });
    expect(max).toBeGreaterThanOrEqual(1);
    expect(max).toBeLessThanOrEqual(2);
    run.child.kill('SIGQUIT');
    await run.result;
  });

  it('on SIGQUIT stops asking for jobs, lets running jobs finish, and exits 0', async () => {
    fx.writeConfig({ concurrent: 2 });
    const a = fx.enqueue({ script: ['echo started-a; sleep 4; echo end-a'] });
    const b = fx.enqueue({ script: ['echo started-b; sleep 4; echo end-b'] });
    const run = fx.start();
    await fx.gl.waitFor(() => trace(a).includes('started-a') && trace(b).includes('started-b'), 60_000, 'both jobs to start');
    const signalledAt = Date.now();
    run.child.kill('SIGQUIT');
    const res = await run.result;
    expect(res.code).toBe(0);
    expect(a.final).toMatchObject({ state: 'success' });
    expect(b.final).toMatchObject({ state: 'success' });
    expect(fx.gl.requestsTo('request').filter((r) => r.at > signalledAt + 50).length).toBe(0);
  });

  it('on SIGTERM aborts the running job, reports it to GitLab, and exits leaving nothing behind', async () => {
    const job = fx.enqueue({ script: ['echo started; sleep 120'], afterScript: ['echo after-ran'] });
    const run = fx.start();
    await fx.gl.waitFor(() => trace(job).includes('started'), 60_000, 'the job to start');
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const res = await run.result;
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(res.code).toBe(0);
    expect(job.final).toMatchObject({ state: 'failed' });
    expect(['runner_system_failure', 'unknown_failure', 'runner_interrupted']).toContain(job.final!.failureReason);
    expect(trace(job)).not.toContain('after-ran');
  });

  it('on SIGTERM with a GitLab that no longer answers, exits (1) once shutdown_timeout is over, as gitlab-runner does', async () => {
    fx.writeConfig({ shutdownTimeout: 8 });
    const job = fx.enqueue({ script: ['echo started; sleep 120'] });
    const run = fx.start();
    await fx.gl.waitFor(() => trace(job).includes('started'), 60_000, 'the job to start');
    // From now on every job update and trace patch hangs: the final update can never be sent.
    fx.gl.fault('update', { hang: true, times: 100_000 });
    fx.gl.fault('patch', { hang: true, times: 100_000 });
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const res = await run.result;
    const took = Date.now() - t0;
    expect(res.stderr).toContain('Shutdown did not finish in time');
    expect(res.code).toBe(1);
    // shutdown_timeout, then a moment for the logs: not the minutes a retrying final update takes.
    expect(took).toBeGreaterThanOrEqual(7_500);
    expect(took).toBeLessThan(20_000);
  });

  it('after kill -9, the next start sweeps what the dead process left', async () => {
    const job = fx.enqueue({ script: ['echo started; sleep 120'] });
    const first = fx.start();
    await fx.gl.waitFor(() => trace(job).includes('started'), 60_000, 'the job to start');
    first.child.kill('SIGKILL');
    await first.result;
    expect((await findLeftovers(engine, fx.labelFilter)).containers.length).toBe(1);
    const clones = join(fx.dir, 'config', 'git-cache', 'clones', fx.shortToken);
    // The job's clone went as soon as its files were in the build container (before the script).
    expect(readdirSync(clones)).toEqual([]);
    // One a process killed during its git fetch leaves behind: the next start removes it.
    mkdirSync(join(clones, 'berth-src-killed'), { mode: 0o700 });
    writeFileSync(join(clones, 'berth-src-killed', 'left.txt'), 'left');
    const second = fx.start();
    await waitUntil(async () => (await findLeftovers(engine, fx.labelFilter)).containers.length === 0, 30_000);
    second.child.kill('SIGQUIT');
    const res = await second.result;
    expect(res.stderr).toContain('Removed what an earlier berth process left behind');
    // ... and the dead process's per-job clone is gone too.
    expect(existsSync(clones) ? readdirSync(clones) : []).toEqual([]);
  });

  it('reloads config.toml when it changes, and keeps the old one when the new one is broken', async () => {
    const run = fx.start();
    const first = fx.enqueue({ image: '', script: ['echo "first on $CI_JOB_IMAGE"'] });
    first.payload.image = null;
    await fx.gl.waitFor(() => first.final !== null, 60_000, 'the first job');
    expect(trace(first)).toContain('first on berth-test/busybox:latest');
    // A broken file: the daemon says so and keeps running with the old config.
    writeFileSync(fx.configPath, 'concurrent = [broken\n', { mode: 0o600 });
    await waitUntil(async () => run.stderrSoFar().includes('Failed to load config'), 15_000);
    // A good file with another default image: new jobs use it.
    fx.writeConfig();
    const good = readFileSync(fx.configPath, 'utf8').replace('image = "berth-test/busybox:latest"', 'image = "berth-test/bash:latest"');
    writeFileSync(fx.configPath, good, { mode: 0o600 });
    await waitUntil(async () => run.stderrSoFar().includes('Configuration loaded'), 15_000);
    const second = fx.enqueue({ image: '', script: ['echo "second on $CI_JOB_IMAGE"'] });
    second.payload.image = null;
    await fx.gl.waitFor(() => second.final !== null, 60_000, 'the second job');
    expect(trace(second)).toContain('second on berth-test/bash:latest');
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });

  it('fails a job whose image cannot be had, and releases the sources fetched in advance', async () => {
    const job = fx.enqueue({
      script: ['echo never'],
      overrides: { image: { name: 'berth-test/no-such-image:1', entrypoint: null, ports: [], executor_opts: {}, pull_policy: ['if-not-present'] } },
    });
    const run = fx.start(['--log-level', 'debug']);
    await done(job);
    expect(job.final).toMatchObject({ state: 'failed' });
    expect(job.final!.failureReason).not.toBe('script_failure');
    const clones = join(fx.dir, 'config', 'git-cache', 'clones', fx.shortToken);
    await waitUntil(async () => !existsSync(clones) || readdirSync(clones).length === 0, 10_000);
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });

  it('reports a job it cannot run as failed, and keeps running', async () => {
    const bad = fx.enqueue({ overrides: { steps: 'not a list' } });
    const good = fx.enqueue({ script: ['echo still-alive'] });
    const run = fx.start();
    await done(bad);
    await done(good);
    expect(bad.final).toMatchObject({ state: 'failed' });
    expect(trace(bad)).toContain('berth cannot run this job');
    expect(trace(bad)).not.toContain(bad.token);
    expect(trace(good)).toContain('still-alive');
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });

  it('keeps config.toml private: the daemon warns about a world-readable file', async () => {
    const run = fx.start();
    await waitUntil(async () => fx.gl.requestsTo('request').length > 0, 10_000);
    run.child.kill('SIGQUIT');
    const res = await run.result;
    expect(statSync(fx.configPath).mode & 0o777).toBe(0o600);
    expect(res.stderr).not.toContain('readable by other users');
    expect(res.stderr).not.toContain(fx.gl.runnerToken);
  });
});

/** The pids of a process's children (Linux: /proc/<pid>/task/<pid>/children, the main thread's). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
}

/** A process's command name, or null once it is gone. */
function commandOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
