/**
 * The job features of `berth run` against the remote Docker engine over TLS (issue 11 item 2):
 * after_script, artifacts and dependencies, the local cache, timeout and cancel, each with a job
 * from the GitLab API test server run on the second dockerd that scripts/setup-remote-engine.sh
 * starts in a network namespace of its own (selected by [runners.docker] host, tls_verify and
 * tls_cert_path, as gitlab-runner's config keys do). Each test checks that the remote engine holds
 * none of its runner's containers, networks or volumes afterwards.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';
import { createRunFixture, type RunFixture } from '../support/run-fixture.js';
import { loadRemoteEngineEnv, remoteEngineEnvFile } from '../support/remote-engine-env.js';
import type { TestJob } from '../support/gitlab-test-server.js';
import { traceText } from '../support/trace-text.js';

const ENV_FILE = remoteEngineEnvFile();

const remote = loadRemoteEngineEnv();

const trace = (job: TestJob): string => traceText(job);

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!remote)(`berth run: job features on a remote Docker engine over TLS${remote ? '' : ` (skipped: no ${ENV_FILE}; run scripts/setup-remote-engine.sh start as root)`}`, () => {
  const endpoint = remote?.DOCKER_HOST ?? '';
  const certPath = remote?.DOCKER_CERT_PATH ?? '';
  const engine = new DockerodeEngine({ host: endpoint, tlsVerify: true, tlsCertPath: certPath });
  const local = new DockerodeEngine({ host: 'unix:///var/run/docker.sock' });
  /** The runner's [runners.docker] keys that select the remote engine (no Docker variables needed). */
  const remoteDocker = `    host = "${endpoint}"\n    tls_verify = true\n    tls_cert_path = "${certPath}"`;
  let fx: RunFixture | null = null;

  const newFixture = async (): Promise<RunFixture> => {
    fx = await createRunFixture();
    fx.writeConfig({ docker: remoteDocker });
    return fx;
  };
  const done = (f: RunFixture, job: TestJob, ms = 60_000) => f.gl.waitFor(() => job.final !== null, ms, `the final update of job ${job.id}`);
  /** No container of this runner on the remote engine (removal may follow the final update). */
  const containersGone = (f: RunFixture) => waitUntil(async () => (await engine.listContainers([f.labelFilter])).length === 0, 30_000, 'the job containers to be removed from the remote engine');

  beforeAll(async () => {
    // The remote engine answers over TLS with the client certificate, and is not the local one.
    const [info, localInfo] = await Promise.all([engine.info(), local.info()]);
    expect(info.id).not.toBe(localInfo.id);
  });

  afterEach(async () => {
    if (!fx) return;
    const f = fx;
    fx = null;
    await f.close();
    const left = await findLeftovers(engine, f.labelFilter);
    const leftLocal = await findLeftovers(local, f.labelFilter);
    // Clean up before asserting, so one failure does not cascade into the next tests.
    for (const e of [engine, local]) {
      for (const c of await e.listContainers([f.labelFilter])) await e.removeContainer(c.id, { force: true });
      for (const n of await e.listNetworks([f.labelFilter])) await e.removeNetwork(n.id);
      for (const v of await e.listVolumes([f.labelFilter])) await e.removeVolume(v.name);
    }
    expect(left).toEqual(NO_LEFTOVERS);
    // ... and nothing of it ever went to the local engine.
    expect(leftLocal).toEqual(NO_LEFTOVERS);
  });

  it('runs after_script after a failing script and reports script_failure', async () => {
    const f = await newFixture();
    const job = f.enqueue({ script: ['echo "on $(hostname)"', 'exit 3'], afterScript: ['echo "after status=$CI_JOB_STATUS"'] });
    const run = f.start();
    await done(f, job);
    const text = trace(job);
    expect(job.final, text).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 3 });
    expect(text).toContain('Running after_script');
    expect(text).toContain('after status=failed');
    expect(text.indexOf('after status=failed')).toBeGreaterThan(text.indexOf('on '));
    expect(text).toContain('ERROR: Job failed: exit code 3');
    await containersGone(f);
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });

  it('uploads a job\'s artifacts from the remote engine; a dependent job gets them extracted there', async () => {
    const f = await newFixture();
    const build = f.enqueue({
      name: 'build',
      script: ['mkdir -p out/sub && echo "built on the remote engine" > out/result.txt && echo nested > out/sub/n.txt'],
      overrides: {
        artifacts: [{ name: 'out', untracked: false, paths: ['out/'], when: 'on_success', artifact_type: 'archive', artifact_format: 'zip', expire_in: '1 week' }],
      },
    });
    const run = f.start();
    await done(f, build);
    const buildTrace = trace(build);
    expect(build.final, buildTrace).toMatchObject({ state: 'success' });
    expect(buildTrace).toMatch(/out\/: found 4 matching artifact files and directories/);
    expect(buildTrace).toMatch(/Uploading artifacts as "archive" to coordinator\.\.\. 201 Created/);
    // The zip GitLab stored holds the files the job made on the remote engine.
    const stored = build.archive;
    expect(stored).toMatchObject({ type: 'archive', format: 'zip' });
    const names = execFileSync('unzip', ['-Z1', stored!.path], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(names).toEqual(['out/', 'out/result.txt', 'out/sub/', 'out/sub/n.txt']);
    expect(execFileSync('unzip', ['-p', stored!.path, 'out/result.txt'], { encoding: 'utf8' })).toBe('built on the remote engine\n');

    const test = f.enqueue({ name: 'test', script: ['cat out/result.txt out/sub/n.txt'], dependencies: [build] });
    await done(f, test);
    const testTrace = trace(test);
    expect(test.final, testTrace).toMatchObject({ state: 'success' });
    expect(testTrace).toContain(`Downloading artifacts for build (${build.id})...`);
    expect(testTrace).toMatch(/built on the remote engine\n(.*\n)?nested/);
    await containersGone(f);
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });

  it('saves a local cache and the next job with the same key restores it', async () => {
    const f = await newFixture();
    const cache = [{ key: 'deps-remote', untracked: false, policy: 'pull-push', paths: ['vendor/'], when: 'on_success', fallback_keys: [] }];
    const script = ['if [ -f vendor/stamp ]; then echo "cache hit $(cat vendor/stamp)"; else echo "cache miss"; mkdir -p vendor; echo "$STAMP" > vendor/stamp; fi'];
    // The test server's jobs carry no CI_JOB_ID: a variable of the first job marks what it cached.
    const stamp = `stamp-${randomBytes(4).toString('hex')}`;
    const first = f.enqueue({ name: 'deps', script, variables: [{ key: 'STAMP', value: stamp }], overrides: { cache } });
    const run = f.start();
    await done(f, first);
    const firstTrace = trace(first);
    expect(first.final, firstTrace).toMatchObject({ state: 'success' });
    expect(firstTrace).toContain('cache miss');
    expect(firstTrace).toContain('Creating cache deps-remote...');
    expect(firstTrace).toContain('Created cache');

    const second = f.enqueue({ name: 'deps', script, variables: [{ key: 'STAMP', value: 'not-this-one' }], overrides: { cache } });
    await done(f, second);
    const secondTrace = trace(second);
    expect(second.final, secondTrace).toMatchObject({ state: 'success' });
    expect(secondTrace).toContain('Successfully extracted cache');
    expect(secondTrace).toContain(`cache hit ${stamp}`);
    await containersGone(f);
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });

  it('fails a job at its timeout with job_execution_timeout and removes its container from the remote engine', async () => {
    const f = await newFixture();
    const job = f.enqueue({ script: ['echo started', 'sleep 60'], afterScript: ['echo after-ran'], overrides: { runner_info: { timeout: 3 } } });
    const run = f.start();
    await f.gl.waitFor(() => trace(job).includes('started'), 60_000, 'the job to start');
    // The build container is on the remote engine while the job runs.
    expect((await engine.listContainers([f.labelFilter, 'berth.type=build'])).length).toBe(1);
    await done(f, job);
    const text = trace(job);
    expect(job.final, text).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout' });
    expect(text).toContain('execution took longer than 3s seconds');
    // As gitlab-runner: a timed-out job does not run after_script (run.test.ts asserts the same locally).
    expect(text).not.toContain('after-ran');
    await containersGone(f);
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });

  it('cancels gracefully on Job-Status canceling: the script stops, after_script runs with canceled, the container goes', async () => {
    const f = await newFixture();
    const job = f.enqueue({
      script: ['trap "echo Caught SIGTERM; exit 1" TERM; echo started; sleep 120 & wait'],
      afterScript: ['echo "after status=$CI_JOB_STATUS"'],
    });
    const run = f.start();
    await f.gl.waitFor(() => trace(job).includes('started'), 60_000, 'the job to start');
    expect((await engine.listContainers([f.labelFilter, 'berth.type=build'])).length).toBe(1);
    f.gl.setJobStatus(job.id, 'canceling');
    await done(f, job);
    const text = trace(job);
    expect(text).toContain('Caught SIGTERM');
    expect(text).toContain('after status=canceled');
    expect(text).toContain('WARNING: script canceled externally (UI, API)');
    expect(text.indexOf('after status=canceled')).toBeGreaterThan(text.indexOf('Caught SIGTERM'));
    // As gitlab-runner: the job is reported failed with "Job failed: canceled" (GitLab keeps it canceled).
    expect(text).toContain('ERROR: Job failed: canceled');
    expect(job.final, text).toMatchObject({ state: 'failed' });
    await containersGone(f);
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });

  it('aborts at once on Job-Status canceled: no after_script, the container goes', async () => {
    const f = await newFixture();
    const job = f.enqueue({ script: ['echo started; sleep 120'], afterScript: ['echo after-ran'] });
    const run = f.start();
    await f.gl.waitFor(() => trace(job).includes('started'), 60_000, 'the job to start');
    expect((await engine.listContainers([f.labelFilter, 'berth.type=build'])).length).toBe(1);
    f.gl.setJobStatus(job.id, 'canceled');
    await containersGone(f);
    expect(trace(job)).not.toContain('after-ran');
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
  });
});
