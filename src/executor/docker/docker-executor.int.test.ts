import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../engine/dockerode-engine.js';
import type { JobSpec } from '../../job/job-spec.js';
import { plainVariable } from '../../job/job-spec.js';
import { JobFailure } from '../../job/job-result.js';
import { stripAnsi } from '../../shared/ansi.js';
import { MemoryByteWriter } from '../../log/byte-writer.js';
import { JobLog } from '../../log/job-log.js';
import { createMaskingFilter } from '../../log/masker.js';
import { findLeftovers, NO_LEFTOVERS } from '../../../test/support/leftovers.js';
import { LocalImagePuller } from '../../../test/support/local-image-puller.js';
import { secretVariable, testJob, testRunLabel, testRunner, testSettings } from '../../../test/support/job-fixtures.js';
import type { DockerSettings } from './docker-settings.js';
import { DockerExecutor } from './docker-executor.js';
import { runJob } from '../run-job.js';
import type { RunnerIdentity } from '../runner-identity.js';
import { LocalTreeSource } from '../source-provider.js';

const engine = new DockerodeEngine();
const run = testRunLabel();

async function runTestJob(
  job: JobSpec,
  opts: {
    settings?: Partial<DockerSettings>;
    runner?: Partial<RunnerIdentity>;
    cancelAfterMs?: number;
    abortAfterMs?: number;
    abortReason?: unknown;
    sink?: MemoryByteWriter;
    /** Masked phrases (the job log's masking filter, as berth exec and berth run set it). */
    mask?: string[];
    preparationRetryMs?: number;
  } = {},
) {
  const sink = opts.sink ?? new MemoryByteWriter();
  const log = new JobLog(sink, opts.mask ? { filter: createMaskingFilter({ phrases: opts.mask, tokenPrefixes: [] }) } : {});
  const runner = testRunner(opts.runner);
  const executor = new DockerExecutor(
    {
      engine,
      puller: new LocalImagePuller(engine),
      settings: testSettings(opts.settings),
      runner,
      sources: new LocalTreeSource(),
      labels: run.labels,
      stopTimings: { termScriptMs: 5_000, stopGraceSeconds: 2 },
    },
    job,
    log,
  );
  const cancel = new AbortController();
  const abort = new AbortController();
  const timers = [
    opts.cancelAfterMs !== undefined && setTimeout(() => cancel.abort(), opts.cancelAfterMs),
    opts.abortAfterMs !== undefined && setTimeout(() => abort.abort(opts.abortReason), opts.abortAfterMs),
  ];
  const result = await runJob({
    job,
    executor,
    log,
    runner,
    cancel: cancel.signal,
    abort: abort.signal,
    ...(opts.preparationRetryMs === undefined ? {} : { preparationRetryMs: opts.preparationRetryMs }),
  });
  timers.forEach((t) => t && clearTimeout(t));
  log.end();
  return { result, text: stripAnsi(sink.text), raw: sink.text };
}

afterEach(async () => {
  expect(await findLeftovers(engine, run.filter)).toEqual(NO_LEFTOVERS);
});

afterAll(async () => {
  // Belt and braces: never leave anything behind even when an assertion failed mid-test.
  for (const c of await engine.listContainers([run.filter])) await engine.removeContainer(c.id, { force: true });
  for (const n of await engine.listNetworks([run.filter])) await engine.removeNetwork(n.id);
  for (const v of await engine.listVolumes([run.filter])) await engine.removeVolume(v.name);
});

describe('DockerExecutor: scripts', () => {
  it('runs before_script+script in bash, in CI_PROJECT_DIR, and reports success', async () => {
    const { result, text } = await runTestJob(
      testJob({ script: ['echo "shell=$0 bash=${BASH_VERSION:+yes}"', 'pwd', 'echo "dir=$CI_PROJECT_DIR builds=$CI_BUILDS_DIR"'] }),
    );
    expect(result).toMatchObject({ state: 'success', failureReason: null, exitCode: 0 });
    expect(text).toContain('Using Docker executor with image berth-test/bash:latest ...');
    expect(text).toContain('$ pwd\n/builds/group/project\n');
    expect(text).toContain('bash=yes');
    expect(text).toContain('dir=/builds/group/project builds=/builds');
    expect(text).toMatch(/Job succeeded\n$/);
    expect(text).not.toContain('::berth-');
  });

  it('the result comes with the exit markers, yet no output is lost: a burst on stdout and stderr right before the exit, in every stage', async () => {
    const burst = 'i=0; while [ $i -lt 3000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done';
    for (const image of ['berth-test/busybox:latest', 'berth-test/bash:latest']) {
      const { result, text } = await runTestJob(testJob({ image: { name: image }, script: [burst, 'printf "no newline at the end" >&2'], afterScript: [burst, 'echo "last after"'] }));
      expect(result.state, image).toBe('success');
      for (const line of ['out 2999', 'err 2999', 'no newline at the end', 'last after']) expect(text, `${image}: ${line}`).toContain(line);
      expect(text.match(/err 2999\n/g)?.length, image).toBe(2);
      expect(text).not.toContain('::berth-');
    }
  }, 60_000);

  it('falls back to sh when the image has no bash', async () => {
    const { result, text } = await runTestJob(testJob({ image: { name: 'berth-test/busybox:latest' }, script: ['echo "bash=${BASH_VERSION:-none}"'] }));
    expect(result.state).toBe('success');
    expect(text).toContain('bash=none');
  });

  it('fails with script_failure and the exit code, and still runs after_script with CI_JOB_STATUS=failed', async () => {
    const { result, text } = await runTestJob(
      testJob({ script: ['echo before', 'exit 3', 'echo never'], afterScript: ['echo "after status=$CI_JOB_STATUS"', 'exit 9'] }),
    );
    expect(result).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 3 });
    expect(text).not.toContain('never');
    expect(text).toContain('Running after_script');
    expect(text).toContain('after status=failed');
    expect(text).toContain('WARNING: after_script failed, but job will continue unaffected: exit code 9');
    expect(text).toMatch(/ERROR: Job failed: exit code 3\n$/);
  });

  it('runs after_script with CI_JOB_STATUS=success after a successful script', async () => {
    const { result, text } = await runTestJob(testJob({ script: ['true'], afterScript: ['echo "status=$CI_JOB_STATUS"'] }));
    expect(result.state).toBe('success');
    expect(text).toContain('status=success');
  });

  it('gives CI_JOB_STARTED_AT (the first stage\'s start, ISO 8601 UTC) to every stage, unless GitLab sent its own', async () => {
    const before = Date.now() - 1000;
    const { result, text } = await runTestJob(testJob({ script: ['echo "started=$CI_JOB_STARTED_AT"'], afterScript: ['echo "after=$CI_JOB_STARTED_AT"'] }));
    expect(result.state).toBe('success');
    const started = /started=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\n/.exec(text)?.[1];
    expect(started).toBeDefined();
    expect(Date.parse(started!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(started!)).toBeLessThanOrEqual(Date.now());
    expect(text).toContain(`after=${started}\n`);
    const sent = testJob({ script: ['echo "started=$CI_JOB_STARTED_AT"'] });
    sent.variables.push(plainVariable('CI_JOB_STARTED_AT', '2022-01-31T16:47:55Z'));
    expect((await runTestJob(sent)).text).toContain('started=2022-01-31T16:47:55Z\n');
  });

  it('keeps non-public variables out of the container environment but gives them to the script', async () => {
    const job = testJob({
      variables: [plainVariable('PUBLIC_ONE', 'visible'), secretVariable('SECRET_ONE', 's3cr3t-value')],
      script: ['tr "\\0" "\\n" < /proc/1/environ | grep -c -e PUBLIC_ONE -e SECRET_ONE || true', 'test "$SECRET_ONE" = s3cr3t-value && echo secret-ok'],
    });
    const { result, text } = await runTestJob(job);
    expect(result.state).toBe('success');
    expect(text).toContain('grep -c -e PUBLIC_ONE -e SECRET_ONE || true\n1\n');
    expect(text).toContain('secret-ok');
  });

  it('ignores CI_DEBUG_TRACE when the runner disables it: no shell tracing, no secret printed by a trace', async () => {
    const token = 'tok-7f3a9c2e1b';
    const job = (): JobSpec =>
      testJob({
        // Not masked (as a `berth exec --variable`): only the missing trace keeps it out of the log.
        variables: [plainVariable('CI_DEBUG_TRACE', 'true'), { key: 'API_TOKEN', value: token, public: false, masked: false, file: false, raw: false }],
        script: ['test -n "$API_TOKEN"', 'echo done'],
      });
    const traced = await runTestJob(job());
    expect(traced.result.state).toBe('success');
    expect(traced.text).toMatch(/^\++ test -n tok-7f3a9c2e1b$/m);

    const { result, text } = await runTestJob(job(), { runner: { debugTraceDisabled: true } });
    expect(result.state).toBe('success');
    expect(text).toContain('WARNING: CI_DEBUG_TRACE: usage is disabled on this Runner');
    expect(text).toContain('$ echo done\ndone\n');
    expect(text).not.toMatch(/^\++ /m);
    expect(text).not.toContain(token);
  });

  it('fails a job whose public variable is too big for the container environment with a clear system failure', async () => {
    const job = testJob({ variables: [plainVariable('HUGE', 'x'.repeat(1024 * 1024))], script: ['echo never-printed'] });
    const { result, text } = await runTestJob(job);
    expect(result).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: null });
    expect(text).toContain(
      'ERROR: Job failed: the build container cannot start: variable HUGE is 1048576 bytes, more than the 131071 bytes Linux takes for one variable',
    );
    expect(text).not.toContain('argument list too long\n');
    expect(text).not.toContain('exit code 1');
  });

  it('writes file variables byte for byte to CI_PROJECT_DIR.tmp and exports their path', async () => {
    const content = `line one\n'quoted' "double" $(not run) \`nor this\`\n\n`;
    const job = testJob({
      variables: [{ key: 'MY_FILE', value: content, public: true, masked: false, file: true, raw: false }],
      script: ['echo "path=$MY_FILE"', 'od -c "$MY_FILE" | head -20', 'printf "%s" "$(cat "$MY_FILE"; echo x)" | md5sum'],
    });
    const { result, text } = await runTestJob(job);
    expect(result.state).toBe('success');
    expect(text).toContain('path=/builds/group/project.tmp/MY_FILE');
    const { createHash } = await import('node:crypto');
    expect(text).toContain(createHash('md5').update(`${content}x`).digest('hex'));
  });

  it('copies the working tree into the build dir without modifying it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-src-'));
    writeFileSync(join(dir, 'hello.txt'), 'hello from the host\n');
    writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho script ran\n');
    chmodSync(join(dir, 'run.sh'), 0o755);
    chmodSync(join(dir, 'hello.txt'), 0o640);
    const before = [statSync(join(dir, 'hello.txt')), statSync(join(dir, 'run.sh'))].map((s) => [s.mode, s.uid, s.mtimeMs]);
    const job = testJob({
      sources: { kind: 'local-tree', root: dir, files: ['hello.txt', 'run.sh'] },
      script: ['cat hello.txt', './run.sh', 'echo changed > hello.txt', 'ls -l hello.txt run.sh'],
    });
    const { result, text } = await runTestJob(job);
    expect(result.state).toBe('success');
    expect(text).toContain('hello from the host');
    expect(text).toContain('script ran');
    expect(readFileSync(join(dir, 'hello.txt'), 'utf8')).toBe('hello from the host\n');
    const after = [statSync(join(dir, 'hello.txt')), statSync(join(dir, 'run.sh'))].map((s) => [s.mode, s.uid, s.mtimeMs]);
    rmSync(dir, { recursive: true, force: true });
    expect(after).toEqual(before);
  });

  it('runs the whole script even when a command reads stdin', async () => {
    const { result, text } = await runTestJob(testJob({ script: ['cat', 'read x || echo "read got EOF"', 'echo end'] }));
    expect(result.state).toBe('success');
    expect(text).toContain('read got EOF');
    expect(text).toContain('$ echo end\nend');
  });
});

describe('DockerExecutor: entrypoints', () => {
  it('runs through an ENTRYPOINT that ends with exec "$@"', async () => {
    const { result, text } = await runTestJob(testJob({ image: { name: 'berth-test/entrypoint-exec:latest' }, script: ['echo in-job'] }));
    expect(result.state).toBe('success');
    expect(text).toContain('entrypoint ran');
    expect(text).toContain('in-job');
  });

  it('fails the job when the ENTRYPOINT never runs the script', async () => {
    const { result, text } = await runTestJob(testJob({ image: { name: 'berth-test/entrypoint-swallow:latest' }, script: ['echo in-job'] }));
    expect(result).toMatchObject({ state: 'failed', failureReason: 'script_failure' });
    expect(text).toContain('I ignore my arguments');
    expect(text).not.toContain('in-job');
    expect(result.message).toContain('the job script never ran: the ENTRYPOINT of image "berth-test/entrypoint-swallow:latest"');
  });

  it('bypasses the ENTRYPOINT with entrypoint: [""]', async () => {
    const { result, text } = await runTestJob(
      testJob({ image: { name: 'berth-test/entrypoint-swallow:latest', entrypoint: [''] }, script: ['echo in-job'] }),
    );
    expect(result.state).toBe('success');
    expect(text).not.toContain('I ignore my arguments');
    expect(text).toContain('in-job');
  });

  it('runs the script in plain sh with entrypoint: ["/bin/sh", "-c"] (bash detection bypassed)', async () => {
    const { result, text } = await runTestJob(
      testJob({ image: { name: 'berth-test/bash:latest', entrypoint: ['/bin/sh', '-c'] }, script: ['echo "bash=${BASH_VERSION:-none}"'] }),
    );
    expect(result.state).toBe('success');
    expect(text).toContain('bash=none');
  });

  it('uses the script status when an ENTRYPOINT hides it', async () => {
    const { result, text } = await runTestJob(
      testJob({ image: { name: 'berth-test/entrypoint-hide-status:latest' }, script: ['echo failing', 'exit 4'] }),
    );
    // The container exits 0; the script's own exit marker says 4, and that is what counts.
    expect(result).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 4 });
    expect(text).toMatch(/ERROR: Job failed: exit code 4\n$/);
  });

  it('ignores the job entrypoint when disable_entrypoint_overwrite is set', async () => {
    const { result, text } = await runTestJob(
      testJob({ image: { name: 'berth-test/entrypoint-exec:latest', entrypoint: ['/bin/false'] }, script: ['echo in-job'] }),
      { settings: { disableEntrypointOverwrite: true } },
    );
    expect(result.state).toBe('success');
    expect(text).toContain('WARNING: Entrypoint override disabled');
    expect(text).toContain('entrypoint ran');
  });
});

describe('DockerExecutor: services', () => {
  it('reaches services by their aliases and lets services reach the job as "build"', async () => {
    const job = testJob({
      services: [
        { name: 'berth-test/svc-http:latest', aliases: ['web', 'www'], variables: [] },
        {
          name: 'berth-test/busybox:latest',
          aliases: ['prober'],
          command: ['sh', '-c', 'until wget -qO /builds/from-service.txt http://build:8080/ping.txt; do sleep 0.2; done; sleep 60'],
          variables: [],
        },
      ],
      script: [
        'wget -qO- http://web/',
        'wget -qO- http://www/',
        'wget -qO- http://berth-test__svc-http/ && wget -qO- http://berth-test-svc-http/',
        'mkdir -p /tmp/www && echo pong > /tmp/www/ping.txt && (httpd -f -p 8080 -h /tmp/www &)',
        'for i in $(seq 1 50); do [ -s /builds/from-service.txt ] && break; sleep 0.2; done; cat /builds/from-service.txt',
      ],
    });
    const { result, text } = await runTestJob(job);
    expect(result.state).toBe('success');
    expect(text).toContain('Starting service berth-test/svc-http:latest ...');
    expect(text).toContain('Waiting for services to be up and running (timeout 10 seconds)...');
    expect(text.match(/hello from svc-http/g)?.length).toBe(4);
    expect(text).toContain('$ for i in');
    expect(text).toMatch(/cat \/builds\/from-service.txt\npong\n/);
    expect(text).not.toContain("probably didn't start properly");
  });

  it('warns with the service logs when a service never answers, and the job goes on', async () => {
    const job = testJob({ services: [{ name: 'berth-test/svc-never:latest', aliases: [], variables: [] }], script: ['echo job-ran'] });
    const started = Date.now();
    const { result, text } = await runTestJob(job, { settings: { waitForServicesTimeout: 2 } });
    expect(result.state).toBe('success');
    expect(text).toContain("*** WARNING: Service berth-test/svc-never:latest probably didn't start properly.");
    expect(text).toContain('Health check error:');
    expect(text).toContain('job-ran');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('starts both services when two share an image, warning about the alias they cannot share', async () => {
    const svc = { name: 'berth-test/svc-http:latest', aliases: [], variables: [] };
    const { result, text } = await runTestJob(testJob({ services: [svc, svc], script: ['wget -qO- http://berth-test-svc-http/'] }));
    expect(result.state).toBe('success');
    expect(text.match(/Starting service berth-test\/svc-http:latest/g)?.length).toBe(2);
    expect(text).toContain('WARNING: Skipping alias "berth-test__svc-http" for service "berth-test/svc-http:latest" (services[1])');
  });

  it('skips a service whose name expands to nothing, with a warning line, as gitlab-runner does', async () => {
    const job = testJob({ services: [{ name: '$DB_IMAGE', aliases: ['db'], variables: [] }], script: ['echo job-ran'] });
    const { result, text } = await runTestJob(job);
    expect(result.state).toBe('success');
    expect(text).toContain('WARNING: Skipping service services[0] "$DB_IMAGE": its name expands to nothing.');
    expect(text).not.toContain('Starting service');
    expect(text).toContain('job-ran');
  });

  it('CI_DEBUG_SERVICES: each service\'s output is in the job log, line by line with its aliases and the engine\'s timestamps, masked, until the job ends', async () => {
    const svc = {
      name: 'berth-test/busybox:latest',
      aliases: ['db'],
      command: ['sh', '-c', 'echo "service up"; echo "password is $SVC_PASSWORD" >&2; while true; do echo tick; sleep 0.3; done'],
      variables: [{ key: 'SVC_PASSWORD', value: 'hunter2-very-secret' }],
    };
    const job = testJob({
      services: [svc],
      variables: [plainVariable('CI_DEBUG_SERVICES', 'true'), secretVariable('DB_PASSWORD', 'hunter2-very-secret')],
      script: ['sleep 1', 'echo job-done'],
    });
    const sink = new MemoryByteWriter();
    const { result, raw } = await runTestJob(job, { sink, mask: ['hunter2-very-secret'] });
    expect(result.state).toBe('success');
    const prefix = '\x1b[0;37m[service:berth-test__busybox-berth-test-busybox-db] ';
    const lines = raw.split('\n').filter((l) => l.includes('[service:'));
    // stdout and stderr lines come in the order the engine logged them (not always the order they were written).
    expect(lines.filter((l) => new RegExp(`^${escape(prefix)}\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z service up\\x1b\\[0;m$`).test(l))).toHaveLength(1);
    expect(lines.some((l) => /Z password is \[MASKED\]/.test(l))).toBe(true);
    expect(lines.filter((l) => l.includes(' tick')).length).toBeGreaterThanOrEqual(2);
    expect(raw).not.toContain('hunter2-very-secret');
    // The streams ended with the job: nothing of the service after cleanup, and the log ended.
    expect(sink.ended).toBe(true);

    // Without it: no service line.
    const quiet = await runTestJob(testJob({ services: [svc], script: ['echo job-done'] }));
    expect(quiet.raw).not.toContain('[service:');
  });

  it('fails the job, naming the service, when a service cannot start (after gitlab-runner\'s 3 tries of the prepare, each cleaned up)', async () => {
    const job = testJob({ services: [{ name: 'berth-test/svc-nocmd:latest', aliases: [], variables: [] }] });
    const { result, text } = await runTestJob(job, { preparationRetryMs: 100 });
    expect(result).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
    expect(result.message).toContain('Service "berth-test/svc-nocmd:latest" (services[0]) could not be started');
    expect(text.match(/ERROR: Preparation failed: Service "berth-test\/svc-nocmd:latest" \(services\[0\]\) could not be started/g)).toHaveLength(2);
    expect(text.match(/Will be retried in 100ms \.\.\./g)).toHaveLength(2);
    expect(text.match(/Starting service berth-test\/svc-nocmd:latest/g)).toHaveLength(3);
  });
});

describe('DockerExecutor: timeout, cancel, abort', () => {
  it('fails with job_execution_timeout at the job timeout, without after_script', async () => {
    const started = Date.now();
    const { result, text } = await runTestJob(testJob({ timeoutSeconds: 3, script: ['sleep 60'], afterScript: ['echo after-ran'] }));
    expect(result).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout' });
    expect(text).toContain('ERROR: Job failed: execution took longer than 3s seconds');
    expect(text).not.toContain('after-ran');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('on cancel, SIGTERMs the script and still runs after_script with CI_JOB_STATUS=canceled', async () => {
    const job = testJob({
      script: ['trap "echo Caught SIGTERM; exit 1" TERM; echo waiting; sleep 60 & wait'],
      afterScript: ['echo "after status=$CI_JOB_STATUS"'],
    });
    const { result, text } = await runTestJob(job, { cancelAfterMs: 2500 });
    expect(result).toMatchObject({ state: 'canceled', failureReason: 'job_canceled' });
    expect(text).toContain('Caught SIGTERM');
    expect(text).toContain('WARNING: script canceled externally (UI, API)');
    expect(text).toContain('after status=canceled');
  });

  it('on abort, stops at once without after_script', async () => {
    const job = testJob({ script: ['sleep 60'], afterScript: ['echo after-ran'] });
    const { result, text } = await runTestJob(job, {
      abortAfterMs: 2500,
      abortReason: new JobFailure('runner_interrupted', 'the runner was interrupted'),
    });
    expect(result).toMatchObject({ state: 'failed', failureReason: 'runner_interrupted' });
    expect(text).not.toContain('after-ran');
  });

  it('with RUNNER_SCRIPT_TIMEOUT, stops the script and still runs after_script with CI_JOB_STATUS=timedout', async () => {
    const job = testJob({
      variables: [plainVariable('RUNNER_SCRIPT_TIMEOUT', '2s')],
      script: ['echo started', 'sleep 60'],
      afterScript: ['echo "after status=$CI_JOB_STATUS"'],
    });
    const started = Date.now();
    const { result, text } = await runTestJob(job);
    expect(result).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout' });
    expect(text).toContain('after status=timedout');
    expect(text).toContain('ERROR: Job failed: script timeout of 2s exceeded');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('fails cleanly when the build container is removed from outside mid-job', async () => {
    const job = testJob({ script: ['echo started', 'sleep 60'], afterScript: ['echo after'] });
    let removal = null as Promise<void> | null; // set by the interval below
    const remover = setInterval(() => {
      if (removal) return;
      removal = (async () => {
        const [c] = await engine.listContainers([run.filter, 'berth.type=build']);
        if (!c) {
          removal = null;
          return;
        }
        clearInterval(remover);
        await new Promise((r) => setTimeout(r, 800));
        await engine.removeContainer(c.id, { force: true });
      })();
    }, 100);
    const { result } = await runTestJob(job);
    clearInterval(remover);
    await removal;
    expect(result.state).toBe('failed');
    expect(result.failureReason).not.toBe('script_failure');
  });

  it('fails a job whose image is missing without touching anything else', async () => {
    const { result } = await runTestJob(testJob({ image: { name: 'berth-test/does-not-exist:1' } }));
    expect(result).toMatchObject({ state: 'failed', failureReason: 'image_pull_failure' });
  });
});

/** `text` as a literal in a RegExp. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
