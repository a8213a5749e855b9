import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { runBerth, startBerth } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const engine = new DockerodeEngine();
const repos: FixtureRepo[] = [];

function repo(files: Record<string, string>, opts?: Parameters<typeof makeRepo>[1]): string {
  const r = makeRepo(files, opts);
  repos.push(r);
  return r.dir;
}

/** Everything a berth exec process created carries its PID. */
async function leftoversOf(pid: number) {
  return findLeftovers(engine, `berth.exec.pid=${pid}`);
}

afterAll(() => repos.forEach((r) => r.remove()));

const PIPELINE = `
stages: [build, test, deploy]
variables:
  GREETING: hello
default:
  image: berth-test/bash:latest
  before_script:
    - echo "before in $CI_JOB_NAME"
build:
  stage: build
  script:
    - echo "$GREETING from $CI_PROJECT_PATH at $CI_PROJECT_DIR"
    - cat data/input.txt
    - ./tool.sh
test:web:
  stage: test
  needs: [build]
  services:
    - name: berth-test/svc-http:latest
      alias: web
  script:
    - wget -qO- http://web/
test:allowed:
  stage: test
  allow_failure: true
  script: [exit 5]
deploy:
  stage: deploy
  script: [echo "deploy $CI_COMMIT_REF_NAME"]
  after_script: [echo "after status=$CI_JOB_STATUS"]
`;

describe('berth exec (end to end)', () => {
  it('runs a whole pipeline: stages, needs, services, allow_failure, report, logs, summary', async () => {
    const dir = repo(
      { '.gitlab-ci.yml': PIPELINE, 'data/input.txt': 'input data\n', 'tool.sh': '#!/bin/sh\necho tool ran\n' },
      { executable: ['tool.sh'] },
    );
    const res = await runBerth(['exec', '--cwd', dir, '--report', join(dir, 'report.json')]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^build\s+\| hello from group\/demo-project at \/builds\/group\/demo-project$/m);
    expect(res.stdout).toMatch(/^build\s+\| input data$/m);
    expect(res.stdout).toMatch(/^build\s+\| tool ran$/m);
    expect(res.stdout).toMatch(/^test:web\s+\| hello from svc-http$/m);
    expect(res.stdout).toMatch(/^deploy\s+\| after status=success$/m);
    expect(res.stdout).toMatch(/^PASS\s+build\s/m);
    expect(res.stdout).toMatch(/^WARN\s+test:allowed\s+stage test, exit code 5, allowed to fail/m);
    expect(res.stdout).toContain('Pipeline succeeded');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.status).toBe('success');
    expect(report.jobs.map((j: { name: string; status: string }) => [j.name, j.status])).toEqual([
      ['build', 'success'],
      ['test:web', 'success'],
      ['test:allowed', 'failed'],
      ['deploy', 'success'],
    ]);
    expect(report.jobs[2]).toMatchObject({ allowFailure: true, exitCode: 5, failureReason: 'script_failure' });
    expect(report.jobs[0].durationMs).toBeGreaterThan(0);
    const buildLog = readFileSync(join(dir, '.berth/logs/build.log'), 'utf8');
    expect(buildLog).toContain('$ cat data/input.txt\ninput data\n');
    // eslint-disable-next-line no-control-regex -- no colour codes in the log file
    expect(buildLog).not.toMatch(/\x1b\[/);
    expect(await leftoversOf(res.pid)).toEqual(NO_LEFTOVERS);
  });

  it('fails alone a job whose image cannot be pulled; dependents skipped, the rest runs; exit 1', async () => {
    const dir = repo({
      '.gitlab-ci.yml': `
default: { image: berth-test/busybox:latest }
broken:
  stage: build
  image: berth-test/no-such-image:1
  script: [echo never]
fine:
  stage: build
  script: [echo fine-ran]
needs-broken:
  stage: test
  needs: [broken]
  script: [echo never]
needs-fine:
  stage: test
  needs: [fine]
  script: [echo needs-fine-ran]
no-image:
  stage: build
  inherit: { default: false }
  script: [echo never]
`,
    });
    const res = await runBerth(['exec', '--cwd', dir, '--pull-policy', 'never', '--report', join(dir, 'r.json')]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('fine-ran');
    expect(res.stdout).toContain('needs-fine-ran');
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    const status = Object.fromEntries(report.jobs.map((j: { name: string; status: string }) => [j.name, j.status]));
    expect(status).toEqual({ broken: 'failed', fine: 'success', 'needs-broken': 'skipped', 'needs-fine': 'success', 'no-image': 'failed' });
    // a job with no image anywhere says where berth exec takes one from
    expect(res.stdout).toMatch(/no-image +\| ERROR: Job failed: no Docker image specified to run the build in: .*\(berth exec: --docker-image\)/);
    expect(report.jobs[0].failureReason).not.toBe('script_failure');
    expect(await leftoversOf(res.pid)).toEqual(NO_LEFTOVERS);
  });

  it('exits 1 when allow_failure exit_codes do not match the exit code', async () => {
    const dir = repo({
      '.gitlab-ci.yml': `
job:
  image: berth-test/busybox:latest
  allow_failure: { exit_codes: [3] }
  script: [exit 4]
`,
    });
    const res = await runBerth(['exec', '--cwd', dir]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^FAIL\s+job\s+stage test, exit code 4/m);
  });

  it('runs a failed job again as retry: says; a flaky job that then passes passes, and what needs it runs', async () => {
    const dir = repo({
      '.gitlab-ci.yml': `
flaky:
  image: berth-test/busybox:latest
  retry: 2
  cache: { key: flaky, paths: [state/], when: always }
  script:
    - echo "job id $CI_JOB_ID at \${CI_JOB_URL##*/-/}"
    - test -e state/failed-once && echo "second run passes" && exit 0
    - mkdir -p state && touch state/failed-once && exit 7
  artifacts: { paths: [state/] }
after:
  image: berth-test/busybox:latest
  needs: [flaky]
  script: [echo after ran]
`,
    });
    const res = await runBerth(['exec', '--cwd', dir, '--report', join(dir, 'report.json')]);
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toContain('flaky | ERROR: Job failed: exit code 7');
    expect(res.stdout).toContain('flaky | Retrying the job after its failure (retry 1 of 2, retry:max)');
    expect(res.stdout).toContain('second run passes');
    // A retry is a new job for GitLab: a new id above the pipeline's (flaky 1, after 2).
    expect(res.stdout).toMatch(/flaky \| job id 1 at jobs\/1\n[^]*flaky \| job id 3 at jobs\/3\n/);
    expect(res.stdout).toContain('after ran');
    // Its dependents get the artifacts of its latest run, under that run's id.
    expect(res.stdout).toContain('after | Downloading artifacts for flaky (3)...');
    expect(res.stdout).toMatch(/^PASS\s+flaky\s+stage test, retried 1 time, /m);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { jobs: { name: string; retries: number }[] };
    expect(report.jobs.map((j) => [j.name, j.retries])).toEqual([['flaky', 1], ['after', 0]]);
    // The job's log file holds both runs, in order.
    const logFile = readFileSync(join(dir, '.berth', 'logs', 'flaky.log'), 'utf8');
    expect(logFile.indexOf('ERROR: Job failed: exit code 7')).toBeGreaterThan(-1);
    expect(logFile.search(/^second run passes$/m)).toBeGreaterThan(logFile.indexOf('ERROR: Job failed: exit code 7'));
    expect(await leftoversOf(res.pid)).toEqual(NO_LEFTOVERS);
  });

  it('runs only the named job, plus its needs with --needs', async () => {
    const dir = repo({
      '.gitlab-ci.yml': `
default: { image: berth-test/busybox:latest }
a: { stage: build, script: [echo a-ran] }
b: { stage: test, needs: [a], script: [echo b-ran] }
c: { stage: test, script: [echo c-ran] }
`,
    });
    const only = await runBerth(['exec', '--cwd', dir, 'b']);
    expect(only.code).toBe(0);
    expect(only.stdout).toContain('b-ran');
    expect(only.stdout).not.toContain('a-ran');
    const withNeeds = await runBerth(['exec', '--cwd', dir, 'b', '--needs']);
    expect(withNeeds.stdout).toContain('a-ran');
    expect(withNeeds.stdout).toContain('b-ran');
    expect(withNeeds.stdout).not.toContain('c-ran');
  });

  it('lists jobs without running anything', async () => {
    const dir = repo({ '.gitlab-ci.yml': PIPELINE });
    const res = await runBerth(['exec', '--cwd', dir, '--list']);
    expect(res.code).toBe(0);
    for (const name of ['build', 'test:web', 'test:allowed', 'deploy']) expect(res.stdout).toContain(name);
    expect(existsSync(join(dir, '.berth'))).toBe(false);
  });

  it('exits 2 with file and line for a YAML error, and for an undeclared stage', async () => {
    const dir = repo({ '.gitlab-ci.yml': 'job:\n  script: [echo\n  image: x\n' });
    const bad = await runBerth(['exec', '--cwd', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\.gitlab-ci\.yml:\d+/);
    const dir2 = repo({ '.gitlab-ci.yml': 'stages: [build]\ndeploy:\n  stage: prod\n  script: [echo]\n' });
    const stage = await runBerth(['exec', '--cwd', dir2]);
    expect(stage.code).toBe(2);
    expect(stage.stderr).toContain('job "deploy": stage "prod" is not declared in stages');
  });

  it('exits 2 for a bad --variable', async () => {
    const dir = repo({ '.gitlab-ci.yml': 'job: { image: berth-test/busybox:latest, script: [echo] }\n' });
    const res = await runBerth(['exec', '--cwd', dir, '--variable', 'no-equals-sign']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--variable');
  });

  it('an engine that does not answer is one error of the command (not a job failure), before any job runs', async () => {
    const dir = repo({ '.gitlab-ci.yml': 'job: { image: berth-test/busybox:latest, script: [echo] }\n' });
    const res = await runBerth(['exec', '--cwd', dir], { env: { DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}` } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^berth: error: berth exec cannot run jobs: Cannot reach the Docker engine at unix:\/\/\S+no-docker\.sock \(ENOENT\)/);
    expect(res.stdout).toBe('');
    expect(existsSync(join(dir, '.berth'))).toBe(false);
  });

  it('gives --variable the highest precedence', async () => {
    const dir = repo({
      '.gitlab-ci.yml': 'variables: { WHO: file }\njob:\n  image: berth-test/busybox:latest\n  variables: { WHO: job }\n  script: [echo "who=$WHO"]\n',
    });
    const res = await runBerth(['exec', '--cwd', dir, '--variable', 'WHO=cli']);
    expect(res.stdout).toContain('who=cli');
  });

  it('on Ctrl-C stops the job gracefully, runs after_script, and leaves nothing behind', async () => {
    const dir = repo({
      '.gitlab-ci.yml': `
job:
  image: berth-test/bash:latest
  script: ['trap "echo Caught SIGTERM; exit 1" TERM; echo started; sleep 120 & wait']
  after_script: ['echo "after status=$CI_JOB_STATUS"']
`,
    });
    const run = startBerth(['exec', '--cwd', dir]);
    await run.waitFor(/job\s+\| started/);
    run.child.kill('SIGINT');
    const res = await run.result;
    expect(res.stdout).toContain('Caught SIGTERM');
    expect(res.stdout).toContain('after status=canceled');
    expect(res.stdout).toMatch(/^CANCELED\s+job/m);
    expect(res.code).toBe(1);
    expect(await leftoversOf(res.pid)).toEqual(NO_LEFTOVERS);
  });

  it('when its reader goes away (berth exec | head), stops the job as Ctrl-C does instead of crashing, and leaves nothing behind', async () => {
    const dir = repo({
      '.gitlab-ci.yml': `
job:
  image: berth-test/bash:latest
  script: ['echo started; for i in $(seq 1 120); do echo "line $i"; sleep 1; done']
  after_script: ['echo "after status=$CI_JOB_STATUS"']
`,
    });
    const run = startBerth(['exec', '--cwd', dir]);
    await run.waitFor(/job\s+\| started/);
    run.child.stdout!.destroy(); // the pipe's read end closes: berth's next write fails with EPIPE
    const res = await run.result;
    expect(res.stderr).not.toMatch(/EPIPE|Unhandled 'error' event/);
    expect(res.code).toBe(1);
    expect(await leftoversOf(res.pid)).toEqual(NO_LEFTOVERS);
    const log = readFileSync(join(dir, '.berth', 'logs', 'job.log'), 'utf8');
    expect(log).toContain('after status=canceled');
    expect(log).toContain('ERROR: Job failed: canceled');
  });

  it('on a second Ctrl-C aborts at once without after_script, and leaves nothing behind', async () => {
    const dir = repo({
      '.gitlab-ci.yml': `
job:
  image: berth-test/bash:latest
  script: ['trap "" TERM; echo started; sleep 120']
  after_script: ['echo after-ran; sleep 120']
`,
    });
    const run = startBerth(['exec', '--cwd', dir]);
    await run.waitFor(/job\s+\| started/);
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 500));
    run.child.kill('SIGINT');
    const res = await run.result;
    expect(res.code).toBe(1);
    expect(await leftoversOf(res.pid)).toEqual(NO_LEFTOVERS);
  });

  it('after a kill -9, the next run removes what the dead run left behind', async () => {
    const dir = repo({
      '.gitlab-ci.yml': `
job:
  image: berth-test/bash:latest
  services: [berth-test/svc-http:latest]
  script: [echo started, sleep 120]
`,
    });
    const run = startBerth(['exec', '--cwd', dir]);
    await run.waitFor(/job\s+\| started/);
    run.child.kill('SIGKILL');
    const killed = await run.result;
    const left = await leftoversOf(killed.pid);
    expect(left.containers.length).toBe(2);
    expect(left.networks.length).toBe(1);
    writeFileSync(join(dir, '.gitlab-ci.yml'), 'job: { image: berth-test/busybox:latest, script: [echo again] }\n');
    const next = await runBerth(['exec', '--cwd', dir]);
    expect(next.code).toBe(0);
    expect(await leftoversOf(killed.pid)).toEqual(NO_LEFTOVERS);
  });
});
