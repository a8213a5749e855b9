/**
 * The service health check in a probe container on the job network, against the real local
 * engine: an engine that reports a remote endpoint (EngineAt) makes the DockerExecutor probe
 * instead of dialling, with real service and probe containers. The plain local engine still
 * dials (no probe container is ever created). test/e2e/remote-engine.test.ts runs the same
 * against the remote engine in its own network namespace.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../../engine/engine-client.js';
import { DockerodeEngine } from '../../engine/dockerode-engine.js';
import type { JobSpec } from '../../job/job-spec.js';
import { JobFailure } from '../../job/job-result.js';
import { MemoryByteWriter } from '../../log/byte-writer.js';
import { JobLog } from '../../log/job-log.js';
import { stripAnsi } from '../../shared/ansi.js';
import { findLeftovers, NO_LEFTOVERS } from '../../../test/support/leftovers.js';
import { LocalImagePuller } from '../../../test/support/local-image-puller.js';
import { testJob, testRunLabel, testRunner, testSettings } from '../../../test/support/job-fixtures.js';
import type { DockerSettings } from './docker-settings.js';
import { DockerExecutor } from './docker-executor.js';
import { runJob } from '../run-job.js';
import { LocalTreeSource } from '../source-provider.js';

/** The local engine, claiming another endpoint; records the containers it creates. */
class EngineAt extends DockerodeEngine {
  readonly created: ContainerSpec[] = [];
  constructor(claimed: string) {
    super();
    Object.defineProperty(this, 'endpoint', { value: claimed });
  }
  override async createContainer(spec: ContainerSpec, signal?: AbortSignal): Promise<string> {
    this.created.push(spec);
    return super.createContainer(spec, signal);
  }
}

const remoteLooking = new EngineAt('tcp://build-1.example:2376');
const local = new EngineAt('unix:///var/run/docker.sock');
const run = testRunLabel();
const NO_TOOL_IMAGE = `berth-test/probe-no-tool:${run.value}`;

const waits = (e: EngineAt): ContainerSpec[] => e.created.filter((c) => c.labels?.['berth.type'] === 'wait');

async function runTestJob(engine: EngineAt, job: JobSpec, opts: { settings?: Partial<DockerSettings>; abortAfterMs?: number } = {}) {
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink);
  const runner = testRunner();
  const executor = new DockerExecutor(
    { engine, puller: new LocalImagePuller(engine), settings: testSettings(opts.settings), runner, sources: new LocalTreeSource(), labels: run.labels },
    job,
    log,
  );
  const abort = new AbortController();
  const timer = opts.abortAfterMs !== undefined ? setTimeout(() => abort.abort(new JobFailure('job_canceled', 'canceled')), opts.abortAfterMs) : null;
  const started = Date.now();
  const result = await runJob({ job, executor, log, runner, cancel: new AbortController().signal, abort: abort.signal });
  if (timer) clearTimeout(timer);
  log.end();
  return { result, text: stripAnsi(sink.text), seconds: (Date.now() - started) / 1000 };
}

const http = { name: 'berth-test/svc-http:latest', aliases: ['web'], variables: [] };
const never = { name: 'berth-test/svc-never:latest', aliases: ['never'], variables: [] };

/** An image with sh (dash and its libraries) and nothing else: none of nc, bash, curl, wget. */
function buildNoToolImage(): boolean {
  if (!existsSync('/bin/dash')) return false;
  const dir = mkdtempSync(join(tmpdir(), 'berth-no-tool-'));
  try {
    const libs = execFileSync('ldd', ['/bin/dash'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
      .filter((p): p is string => Boolean(p));
    const script = [
      'set -e',
      'mkdir -p "$1/bin" "$1/tmp"',
      'cp -L /bin/dash "$1/bin/sh"',
      'shift',
      'for lib in "$@"; do mkdir -p "$D$(dirname "$lib")"; cp -L "$lib" "$D$lib"; done',
    ].join('\n');
    execFileSync('bash', ['-c', script.replace(/\$D/g, dir), 'build', dir, ...libs]);
    execFileSync('bash', ['-c', `tar -C "${dir}" -c . | docker import - "${NO_TOOL_IMAGE}" >/dev/null`]);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let haveNoToolImage = false;

beforeAll(() => {
  haveNoToolImage = buildNoToolImage();
});

afterEach(async () => {
  expect(await findLeftovers(remoteLooking, run.filter)).toEqual(NO_LEFTOVERS);
});

afterAll(async () => {
  for (const c of await remoteLooking.listContainers([run.filter])) await remoteLooking.removeContainer(c.id, { force: true });
  for (const n of await remoteLooking.listNetworks([run.filter])) await remoteLooking.removeNetwork(n.id);
  for (const v of await remoteLooking.listVolumes([run.filter])) await remoteLooking.removeVolume(v.name);
  if (haveNoToolImage) execFileSync('docker', ['rmi', '-f', NO_TOOL_IMAGE], { stdio: 'ignore' });
});

describe('service health check on a remote engine: a probe container on the job network', () => {
  it('a service that answers: one probe of the build image on the job network, labelled as the job, gone afterwards', async () => {
    remoteLooking.created.length = 0;
    const job = testJob({ image: { name: 'berth-test/busybox:latest' }, services: [http], script: ['wget -qO- http://web/'] });
    const { result, text } = await runTestJob(remoteLooking, job);
    expect(result.state).toBe('success');
    expect(text).toContain('Waiting for services to be up and running (timeout 10 seconds)...');
    expect(text).not.toContain("probably didn't start properly");
    expect(text).not.toContain('WARNING');
    expect(text).toContain('hello from svc-http');
    const probes = waits(remoteLooking);
    expect(probes).toHaveLength(1);
    const probe = probes[0]!;
    const build = remoteLooking.created.find((c) => c.labels?.['berth.type'] === 'build')!;
    const service = remoteLooking.created.find((c) => c.labels?.['berth.type'] === 'service')!;
    expect(probe.image).toBe(build.image);
    expect(probe.networkMode).toBe(service.networkMode);
    expect(probe.name).toBe(`${service.name}-wait-for-service`);
    expect(probe.labels).toMatchObject({ 'berth.job.uid': build.labels!['berth.job.uid'], 'berth.runner.system_id': 's_000000000000', ...run.labels });
    expect(probe.entrypoint).toEqual(['sh', '-c']);
    expect(probe.cmd!.slice(1, 3)).toEqual(['berth-probe', expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/)]);
    expect(probe.cmd!.slice(4)).toEqual(['80']);
  });

  it('a service that never listens: the warning block with the probe\'s last dial error, after the timeout, and the job goes on', async () => {
    const job = testJob({ image: { name: 'berth-test/busybox:latest' }, services: [never], script: ['echo job-ran'] });
    const { result, text, seconds } = await runTestJob(remoteLooking, job, { settings: { waitForServicesTimeout: 3 } });
    expect(result.state).toBe('success');
    expect(text).toContain("*** WARNING: Service berth-test/svc-never:latest probably didn't start properly.");
    expect(text).toMatch(/Health check error:\ndial tcp \d+\.\d+\.\d+\.\d+:8080: Connection refused \(waited 3 s\)\n/);
    expect(text).toContain('job-ran');
    expect(seconds).toBeLessThan(15);
  });

  it('a service that exits: reported at once, not after the timeout', async () => {
    const job = testJob({
      image: { name: 'berth-test/busybox:latest' },
      services: [{ ...never, command: ['sh', '-c', 'sleep 1; exit 4'] }],
      script: ['echo job-ran'],
    });
    const { result, text, seconds } = await runTestJob(remoteLooking, job, { settings: { waitForServicesTimeout: 60 } });
    expect(result.state).toBe('success');
    expect(text).toMatch(/Health check error:\nservice container stopped \(exit code 4\)\n/);
    expect(seconds).toBeLessThan(20);
  });

  it('a cancel (GitLab "canceled") during the probe ends the job at once and leaves no probe behind', async () => {
    remoteLooking.created.length = 0;
    const job = testJob({ image: { name: 'berth-test/busybox:latest' }, services: [never], script: ['echo never-runs'] });
    const { result, seconds } = await runTestJob(remoteLooking, job, { settings: { waitForServicesTimeout: 60 }, abortAfterMs: 2_500 });
    expect(result.state).toBe('canceled');
    expect(waits(remoteLooking)).toHaveLength(1);
    expect(seconds).toBeLessThan(20);
    // afterEach: no container (probe included), network or volume left.
  });

  it('the job timeout during the probe fails the job at once and leaves no probe behind', async () => {
    remoteLooking.created.length = 0;
    const job = testJob({ image: { name: 'berth-test/busybox:latest' }, services: [never], script: ['echo never-runs'], timeoutSeconds: 3 });
    const { result, seconds } = await runTestJob(remoteLooking, job, { settings: { waitForServicesTimeout: 60 } });
    expect(result).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout' });
    expect(waits(remoteLooking)).toHaveLength(1);
    expect(seconds).toBeLessThan(20);
  });

  it('an image with none of the tools: a warning that the check could not run, and no wait', async (ctx) => {
    if (!haveNoToolImage) ctx.skip();
    const job = testJob({ image: { name: NO_TOOL_IMAGE }, services: [never], script: ['echo job-ran'] });
    const { result, text, seconds } = await runTestJob(remoteLooking, job, { settings: { waitForServicesTimeout: 60 } });
    expect(result.state).toBe('success');
    expect(text).toContain(
      `WARNING: the health check of service berth-test/svc-never:latest could not run in image ${NO_TOOL_IMAGE} (it has none of nc, bash, curl or wget); not waiting for the service.`,
    );
    expect(text).not.toContain("probably didn't start properly");
    expect(text).toContain('job-ran');
    expect(seconds).toBeLessThan(20);
  });
});

describe('service health check on a local engine', () => {
  it('dials the service from berth: no probe container', async () => {
    local.created.length = 0;
    const job = testJob({ image: { name: 'berth-test/busybox:latest' }, services: [http], script: ['wget -qO- http://web/'] });
    const { result, text } = await runTestJob(local, job);
    expect(result.state).toBe('success');
    expect(text).not.toContain("probably didn't start properly");
    expect(local.created.map((c) => c.labels?.['berth.type']).sort()).toEqual(['build', 'service']);
  });
});
