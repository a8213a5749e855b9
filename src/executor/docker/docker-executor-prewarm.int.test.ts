/**
 * DockerExecutor.prewarm against the real engine: the build container is created with the
 * sources in and, when its image has no ENTRYPOINT, started with its shell waiting for the
 * script (nothing of the job runs); an image's ENTRYPOINT is never started ahead. The log is held
 * until the job's prepare; a prewarmed job that never runs leaves nothing; a job with services is
 * never prewarmed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../engine/dockerode-engine.js';
import type { JobSpec } from '../../job/job-spec.js';
import type { ImagePuller, PullRequest } from '../image-puller.js';
import { MemoryByteWriter } from '../../log/byte-writer.js';
import { JobLog } from '../../log/job-log.js';
import { stripAnsi } from '../../shared/ansi.js';
import { findLeftovers, NO_LEFTOVERS } from '../../../test/support/leftovers.js';
import { LocalImagePuller } from '../../../test/support/local-image-puller.js';
import { testJob, testRunLabel, testRunner, testSettings } from '../../../test/support/job-fixtures.js';
import { runJob } from '../run-job.js';
import { LocalTreeSource } from '../source-provider.js';
import { DockerExecutor } from './docker-executor.js';

const engine = new DockerodeEngine();
const run = testRunLabel();
const dir = mkdtempSync(join(tmpdir(), 'berth-prewarm-'));
writeFileSync(join(dir, 'hello.txt'), 'hello from the tree\n');

function executorFor(job: JobSpec, puller: ImagePuller = new LocalImagePuller(engine)) {
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink);
  const runner = testRunner();
  const executor = new DockerExecutor(
    { engine, puller, settings: testSettings(), runner, sources: new LocalTreeSource(), labels: run.labels },
    job,
    log,
  );
  return { executor, log, sink, runner };
}

const treeJob = (script: string[]): JobSpec => testJob({ script, sources: { kind: 'local-tree', root: dir, files: ['hello.txt'] } });

/** Polls `check` every 20 ms, for at most 10 s. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in 10 s');
}

afterEach(async () => {
  expect(await findLeftovers(engine, run.filter)).toEqual(NO_LEFTOVERS);
});

afterAll(async () => {
  for (const c of await engine.listContainers([run.filter])) await engine.removeContainer(c.id, { force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('DockerExecutor.prewarm', () => {
  it('creates the build container with the sources in, starts only its shell, holds the log until prepare, and the job then runs in it', async () => {
    const job = treeJob(['touch /tmp/script-ran', 'cat hello.txt']);
    const { executor, log, sink, runner } = executorFor(job);
    await executor.prewarm(new AbortController().signal);

    const [listed] = await engine.listContainers([run.filter]);
    expect(listed).toBeDefined();
    // Started (no ENTRYPOINT in the image): the shell waits on stdin; the script has not run.
    await until(async () => (await engine.inspectContainer(listed!.id))!.state.status === 'running');
    expect(await engine.getArchive(listed!.id, '/builds/group/project/hello.txt')).not.toBeNull();
    expect(await engine.getArchive(listed!.id, '/tmp/script-ran')).toBeNull();
    expect(sink.text).toBe('');

    const result = await runJob({ job, executor, log, runner });
    log.end();
    const text = stripAnsi(sink.text);
    expect(result.state).toBe('success');
    expect(text).toContain('hello from the tree');
    // One prepare, in the order a job without prewarm writes it: the header, then prepare, then the script.
    expect(text.split('Preparing the "docker" executor').length).toBe(2);
    expect(text.indexOf('Running with berth')).toBeLessThan(text.indexOf('Preparing the "docker" executor'));
    expect(text.indexOf('Getting source from the working tree')).toBeLessThan(text.indexOf('$ cat hello.txt'));
    expect(text).toContain(`Running on ${listed!.name} via`);
  });

  it('never starts an image ENTRYPOINT ahead: the container stays created until the job\'s turn', async () => {
    const job = testJob({ image: { name: 'berth-test/entrypoint-exec:latest' }, script: ['echo in-job'], sources: { kind: 'local-tree', root: dir, files: ['hello.txt'] } });
    const { executor, log, sink, runner } = executorFor(job);
    await executor.prewarm(new AbortController().signal);
    const [listed] = await engine.listContainers([run.filter]);
    expect((await engine.inspectContainer(listed!.id))!.state.status).toBe('created');
    const result = await runJob({ job, executor, log, runner });
    log.end();
    expect(result.state).toBe('success');
    expect(stripAnsi(sink.text)).toContain('entrypoint ran');
  });

  it('a prewarmed job that never runs: cleanup removes its container, nothing was written to its log', async () => {
    const { executor, sink } = executorFor(treeJob(['echo never']));
    await executor.prewarm(new AbortController().signal);
    expect((await engine.listContainers([run.filter])).length).toBe(1);
    expect(await executor.cleanup()).toEqual([]);
    expect(sink.text).toBe('');
  });

  it('refuses a job with services before creating anything', async () => {
    const job = testJob({ services: [{ name: 'berth-test/svc-http:latest', aliases: [], variables: [] }] });
    const { executor } = executorFor(job);
    expect(executor.canPrewarm).toBe(false);
    await expect(executor.prewarm(new AbortController().signal)).rejects.toThrow(/services/);
    expect(await engine.listContainers([run.filter])).toEqual([]);
  });

  it('a prewarm cut off by its signal throws; cleanup still removes whatever it made', async () => {
    const { executor } = executorFor(treeJob(['echo never']));
    const stop = new AbortController();
    const prewarm = executor.prewarm(stop.signal);
    stop.abort(new Error('discarded'));
    await expect(prewarm).rejects.toThrow();
    expect(await executor.cleanup()).toEqual([]);
  });

  it('pulls ahead of the turn with `ahead` (one try: the job\'s turn retries a failed pull), the job\'s own prepare without', async () => {
    const local = new LocalImagePuller(engine);
    const seen: (boolean | undefined)[] = [];
    const recording: ImagePuller = { check: () => undefined, pull: (req: PullRequest) => (seen.push(req.ahead), local.pull(req)) };
    const warm = executorFor(treeJob(['echo never']), recording);
    await warm.executor.prewarm(new AbortController().signal);
    const cold = executorFor(treeJob(['echo never']), recording);
    await cold.executor.prepare(new AbortController().signal);
    expect(seen).toEqual([true, undefined]);
    expect(await warm.executor.cleanup()).toEqual([]);
    expect(await cold.executor.cleanup()).toEqual([]);
  });
});
