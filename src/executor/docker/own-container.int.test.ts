/**
 * berth in a container: a running busybox container stands in for berth's own container (the
 * finder reads a mountinfo that names it), and the executor must connect it to the job network
 * for the service health check and disconnect it again, whatever way the job ends.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../engine/dockerode-engine.js';
import type { EngineClient } from '../../engine/engine-client.js';
import { JobFailure } from '../../job/job-result.js';
import type { JobSpec, ServiceSpec } from '../../job/job-spec.js';
import { stripAnsi } from '../../shared/ansi.js';
import { MemoryByteWriter } from '../../log/byte-writer.js';
import { JobLog } from '../../log/job-log.js';
import { findLeftovers, NO_LEFTOVERS } from '../../../test/support/leftovers.js';
import { LocalImagePuller } from '../../../test/support/local-image-puller.js';
import { testJob, testRunLabel, testRunner, testSettings } from '../../../test/support/job-fixtures.js';
import type { DockerSettings } from './docker-settings.js';
import { DockerExecutor } from './docker-executor.js';
import { OwnContainerFinder } from './own-container.js';
import { runJob } from '../run-job.js';
import { LocalTreeSource } from '../source-provider.js';

const engine = new DockerodeEngine();
const run = testRunLabel();
/** The stand-in carries its own label: it is not one of the jobs' objects. */
const pretendLabel = { 'berth.test.pretend': run.value };
let pretendId = '';

/** The real engine, with connect/disconnect calls recorded; `failDisconnects` makes that many fail. */
function recordingEngine(failDisconnects = 0): { engine: EngineClient; calls: string[] } {
  const calls: string[] = [];
  const wrapped = Object.create(engine) as EngineClient;
  wrapped.connectNetwork = async (network, container, signal) => {
    calls.push(`connect ${container === pretendId ? 'berth' : container} ${network}`);
    await engine.connectNetwork(network, container, signal);
  };
  wrapped.disconnectNetwork = async (network, container, signal) => {
    calls.push(`disconnect ${container === pretendId ? 'berth' : container} ${network}`);
    if (failDisconnects-- > 0) throw new Error('disconnect refused (test)');
    await engine.disconnectNetwork(network, container, signal);
  };
  return { engine: wrapped, calls };
}

const mountinfo = (): string =>
  `90 72 254:0 /var/lib/docker/containers/${pretendId}/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw\n`;

async function runInContainer(
  job: JobSpec,
  opts: { settings?: Partial<DockerSettings>; abortAfterMs?: number; failDisconnects?: number; finder?: OwnContainerFinder } = {},
) {
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink);
  const runner = testRunner();
  const { engine: recorded, calls } = recordingEngine(opts.failDisconnects);
  const finder = opts.finder ?? new OwnContainerFinder(async (path) => (path.endsWith('mountinfo') ? mountinfo() : ''));
  const executor = new DockerExecutor(
    {
      engine: recorded,
      puller: new LocalImagePuller(engine),
      settings: testSettings(opts.settings),
      runner,
      sources: new LocalTreeSource(),
      labels: run.labels,
      ownContainer: finder,
      stopTimings: { termScriptMs: 5_000, stopGraceSeconds: 2 },
    },
    job,
    log,
  );
  const abort = new AbortController();
  const timer = opts.abortAfterMs === undefined ? null : setTimeout(() => abort.abort(new JobFailure('runner_interrupted', 'test abort')), opts.abortAfterMs);
  const result = await runJob({ job, executor, log, runner, cancel: new AbortController().signal, abort: abort.signal });
  if (timer) clearTimeout(timer);
  log.end();
  return { result, text: stripAnsi(sink.text), calls };
}

const service = (name: string, alias: string): ServiceSpec => ({ name, aliases: [alias], variables: [] });
const jobNetworkOf = (calls: string[]): string | undefined => calls.find((c) => c.startsWith('connect berth '))?.split(' ')[2];

async function pretendNetworks(): Promise<string[]> {
  const info = await engine.inspectContainer(pretendId);
  return Object.keys(info?.ipAddresses ?? {}).sort();
}

beforeAll(async () => {
  pretendId = await engine.createContainer({ name: `berth-test-pretend-${run.value}`, image: 'berth-test/busybox:latest', cmd: ['sleep', '600'], labels: pretendLabel });
  await engine.startContainer(pretendId);
});

afterEach(async () => {
  expect(await findLeftovers(engine, run.filter)).toEqual(NO_LEFTOVERS);
  expect(await pretendNetworks()).toEqual(['bridge']);
});

afterAll(async () => {
  for (const c of await engine.listContainers([run.filter])) await engine.removeContainer(c.id, { force: true });
  for (const n of await engine.listNetworks([run.filter])) await engine.removeNetwork(n.id);
  for (const v of await engine.listVolumes([run.filter])) await engine.removeVolume(v.name);
  await engine.removeContainer(pretendId, { force: true });
  expect(await engine.listContainers([`berth.test.pretend=${run.value}`])).toEqual([]);
});

describe('berth in a container: the job network is joined for the service health check', () => {
  it('joins the job network while waiting for services, and leaves it before the job runs', async () => {
    const job = testJob({ services: [service('berth-test/svc-http:latest', 'web')], script: ['wget -qO- http://web/'], image: { name: 'berth-test/busybox:latest' } });
    const { result, text, calls } = await runInContainer(job);
    expect(result.state).toBe('success');
    expect(text).toContain('hello from svc-http');
    expect(text).not.toContain("probably didn't start properly");
    const network = jobNetworkOf(calls);
    expect(network).toMatch(/^berth-test-project-42-job-1-[0-9a-f]{8}-network$/);
    expect(calls).toEqual([`connect berth ${network}`, `disconnect berth ${network}`]);
  });

  it('changes nothing for berth on the host (the real /proc of this test process)', async () => {
    const job = testJob({ services: [service('berth-test/svc-http:latest', 'web')], script: ['true'] });
    const { result, calls } = await runInContainer(job, { finder: new OwnContainerFinder() });
    expect(result.state).toBe('success');
    expect(calls).toEqual([]);
  });

  it('does not join when the job has no services (no job network)', async () => {
    const { result, calls } = await runInContainer(testJob({ script: ['true'] }));
    expect(result.state).toBe('success');
    expect(calls).toEqual([]);
  });

  it('leaves the network after a failed job', async () => {
    const job = testJob({ services: [service('berth-test/svc-http:latest', 'web')], script: ['exit 3'] });
    const { result, calls } = await runInContainer(job);
    expect(result).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 3 });
    expect(calls.filter((c) => c.startsWith('disconnect berth'))).toHaveLength(1);
  });

  it('leaves the network when the job is aborted during the health check', async () => {
    const job = testJob({ services: [service('berth-test/svc-never:latest', 'never')], script: ['echo never-ran'] });
    const { result, text, calls } = await runInContainer(job, { settings: { waitForServicesTimeout: 30 }, abortAfterMs: 1_500 });
    expect(result).toMatchObject({ state: 'failed', failureReason: 'runner_interrupted' });
    expect(text).not.toContain('never-ran');
    expect(calls.filter((c) => c.startsWith('connect berth'))).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('disconnect berth')).length).toBeGreaterThanOrEqual(1);
  });

  it('leaves the network when the job times out during the health check', async () => {
    const job = testJob({ timeoutSeconds: 2, services: [service('berth-test/svc-never:latest', 'never')], script: ['echo never-ran'] });
    const { result, calls } = await runInContainer(job, { settings: { waitForServicesTimeout: 30 } });
    expect(result).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout' });
    expect(calls.filter((c) => c.startsWith('connect berth'))).toHaveLength(1);
  });

  it('disconnects at cleanup when leaving after the health check failed', async () => {
    const job = testJob({ services: [service('berth-test/svc-http:latest', 'web')], script: ['true'] });
    const { result, text, calls } = await runInContainer(job, { failDisconnects: 1 });
    expect(result.state).toBe('success');
    expect(text).not.toContain('Cleanup:');
    const network = jobNetworkOf(calls);
    expect(calls).toEqual([`connect berth ${network}`, `disconnect berth ${network}`, `disconnect berth ${network}`]);
  });

  it('neither joins nor leaves a configured network berth is already on', async () => {
    const name = `berth-test-shared-${run.value}`;
    const net = await engine.createNetwork(name, { ...pretendLabel });
    await engine.connectNetwork(name, pretendId);
    try {
      const job = testJob({ services: [service('berth-test/svc-http:latest', 'web')], script: ['wget -qO- http://web/'] });
      const { result, text, calls } = await runInContainer(job, { settings: { networkMode: name } });
      expect(result.state).toBe('success');
      expect(text).toContain('hello from svc-http');
      expect(calls).toEqual([]);
      expect(await pretendNetworks()).toEqual([name, 'bridge'].sort());
    } finally {
      await engine.disconnectNetwork(name, pretendId);
      await engine.removeNetwork(net);
    }
  });
});

describe('DockerodeEngine.disconnectNetwork', () => {
  it('is done when the container is not connected, or the network is gone', async () => {
    const name = `berth-test-idle-${run.value}`;
    const net = await engine.createNetwork(name, { ...pretendLabel });
    try {
      await engine.connectNetwork(name, pretendId);
      await engine.disconnectNetwork(name, pretendId);
      await expect(engine.disconnectNetwork(name, pretendId)).resolves.toBeUndefined();
    } finally {
      await engine.removeNetwork(net);
    }
    await expect(engine.disconnectNetwork(name, pretendId)).resolves.toBeUndefined();
    await expect(engine.connectNetwork(name, pretendId)).rejects.toMatchObject({ statusCode: 404 });
  });
});
