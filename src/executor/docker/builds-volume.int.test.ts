/**
 * The sources written straight into the job's builds volume (local engine, no services) against
 * the real engine: no archive PUT at all (the engine reports none), the same owners and modes as
 * the tar gave, writable by a non-root user, and the volume gone after the job. With a service
 * the sources still go through the archive API.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../engine/dockerode-engine.js';
import type { JobSpec } from '../../job/job-spec.js';
import { MemoryByteWriter } from '../../log/byte-writer.js';
import { JobLog } from '../../log/job-log.js';
import { stripAnsi } from '../../shared/ansi.js';
import { engineActions } from '../../../test/support/engine-events.js';
import { findLeftovers, NO_LEFTOVERS } from '../../../test/support/leftovers.js';
import { LocalImagePuller } from '../../../test/support/local-image-puller.js';
import { testJob, testRunLabel, testRunner, testSettings } from '../../../test/support/job-fixtures.js';
import type { DockerSettings } from './docker-settings.js';
import { DockerExecutor } from './docker-executor.js';
import { runJob } from '../run-job.js';
import { LocalTreeSource } from '../source-provider.js';

const engine = new DockerodeEngine();
const run = testRunLabel();
const dirs: string[] = [];

afterEach(async () => {
  expect(await findLeftovers(engine, run.filter)).toEqual(NO_LEFTOVERS);
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function workingTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-vol-src-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'hello.txt'), 'hello from the host\n');
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho script ran\n');
  chmodSync(join(dir, 'run.sh'), 0o755);
  return dir;
}

/** Runs the job; returns its log and the engine's container actions (e.g. extract-to-dir) meanwhile. */
async function runWithEvents(job: JobSpec, settings: Partial<DockerSettings> = {}) {
  const since = Date.now() - 1000;
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink);
  const runner = testRunner();
  const executor = new DockerExecutor(
    { engine, puller: new LocalImagePuller(engine), settings: testSettings(settings), runner, sources: new LocalTreeSource(), labels: run.labels },
    job,
    log,
  );
  const never = new AbortController().signal;
  const result = await runJob({ job, executor, log, runner, cancel: never, abort: never });
  log.end();
  const actions = await engineActions(run.filter, since, Date.now() + 1000);
  return { result, text: stripAnsi(sink.text), actions };
}

describe('DockerExecutor: sources in the builds volume', () => {
  it('releases the sources as soon as they are copied in, before the script runs (a GIT_STRATEGY=fetch repository is locked until then)', async () => {
    const root = workingTree();
    const marker = join(root, 'script-ran');
    let releasedBeforeScript: boolean | null = null;
    const tree = new LocalTreeSource();
    const sources = {
      header: tree.header,
      fetch: async (job: JobSpec, log: JobLog) => {
        const fetched = await tree.fetch(job, log);
        return fetched && { ...fetched, release: async () => void (releasedBeforeScript ??= !existsSync(marker)) };
      },
    };
    // The script leaves a mark berth's host sees: a bind of the working tree.
    const job = testJob({ sources: { kind: 'local-tree', root, files: ['hello.txt'] }, script: ['sleep 1', 'touch /host-tree/script-ran'] });
    const sink = new MemoryByteWriter();
    const log = new JobLog(sink);
    const runner = testRunner();
    const executor = new DockerExecutor({ engine, puller: new LocalImagePuller(engine), settings: testSettings({ volumes: [`${root}:/host-tree`] }), runner, sources, labels: run.labels }, job, log);
    const never = new AbortController().signal;
    const result = await runJob({ job, executor, log, runner, cancel: never, abort: never });
    log.end();
    expect(result.state, stripAnsi(sink.text)).toBe('success');
    expect(existsSync(marker)).toBe(true);
    expect(releasedBeforeScript).toBe(true);
  }, 60_000);

  it('writes the sources into the builds volume without an archive copy: root-owned, open modes, writable by a non-root user, the volume removed after (afterEach)', async () => {
    const root = workingTree();
    const job = testJob({
      sources: { kind: 'local-tree', root, files: ['hello.txt', 'run.sh'] },
      script: ['stat -c "%n %u:%g %a" . hello.txt run.sh', './run.sh', 'grep " /builds " /proc/mounts'],
    });
    const { result, text, actions } = await runWithEvents(job);
    expect(result.state).toBe('success');
    expect(text).toContain('. 0:0 777');
    expect(text).toContain('hello.txt 0:0 666');
    expect(text).toContain('run.sh 0:0 777');
    expect(text).toContain('script ran');
    expect(text).toMatch(/\S+ \/builds \S+/); // the volume's line in /proc/mounts (removed after: see afterEach)
    expect(actions).toContain('container start');
    expect(actions).not.toContain('container extract-to-dir');

    const asNobody = testJob({
      sources: { kind: 'local-tree', root, files: ['hello.txt'] },
      script: ['id -u', 'echo appended >> hello.txt', 'echo new > made.txt', 'cat hello.txt made.txt'],
    });
    const other = await runWithEvents(asNobody, { user: 'nobody' });
    expect(other.result.state).toBe('success');
    expect(other.text).toMatch(/\n65534\n/);
    expect(other.text).toContain('hello from the host\nappended\nnew');
    expect(other.actions).not.toContain('container extract-to-dir');
  }, 60_000);

  it('the builds volume the engine makes with the build container carries the job\'s labels (the start-up sweep finds it by them)', async () => {
    const root = workingTree();
    const job = testJob({ sources: { kind: 'local-tree', root, files: ['hello.txt'] }, script: ['cat hello.txt', 'sleep 2'] });
    const running = runWithEvents(job);
    let seen: string[] = [];
    let done = false;
    void running.finally(() => (done = true));
    while (!done && seen.length === 0) {
      seen = (await engine.listVolumes([run.filter])).map((v) => v.name);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { result, text } = await running;
    expect(result.state).toBe('success');
    expect(text).toContain('hello from the host');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/builds/);
  }, 60_000);

  it('copies the sources through the archive API when the job has a service', async () => {
    const root = workingTree();
    const job = testJob({
      sources: { kind: 'local-tree', root, files: ['hello.txt'] },
      services: [{ name: 'berth-test/svc-http:latest', aliases: ['web'], variables: [] }],
      script: ['cat hello.txt'],
    });
    const { result, text, actions } = await runWithEvents(job, { waitForServicesTimeout: 5 });
    expect(result.state).toBe('success');
    expect(text).toContain('hello from the host');
    expect(actions).toContain('container extract-to-dir');
  }, 60_000);
});
