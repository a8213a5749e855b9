/**
 * ExecJobRunner's prewarms against the real engine. A prewarm waits for the prepare of the jobs
 * whose turn has come (they are on the critical path), but once its own job's turn comes it must
 * not wait for them any longer: with prewarming a job would otherwise run later than without it
 * (queued behind another job's slow pull), and hit its `timeout:` where it would have passed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../engine/dockerode-engine.js';
import type { ImagePuller, PulledImage, PullRequest } from '../executor/image-puller.js';
import { JobFailure, type JobResult } from '../job/job-result.js';
import { findLeftovers, NO_LEFTOVERS } from '../../test/support/leftovers.js';
import { LocalImagePuller } from '../../test/support/local-image-puller.js';
import { testJob, testSettings } from '../../test/support/job-fixtures.js';
import { ExecJobRunner } from './exec-job-runner.js';
import { EXEC_PID_LABEL } from './exec-sweeper.js';
import { JobLogFiles } from './job-log-files.js';
import { LocalArtifactStore } from './local-artifact-store.js';
import type { SchedulableJob } from './pipeline-scheduler.js';

const engine = new DockerodeEngine();
const mine = `${EXEC_PID_LABEL}=${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'berth-exec-prewarm-'));
writeFileSync(join(dir, 'data.txt'), 'tree file\n');

/** The local images; the image `gated/slow` is "pulled" until the test lets it fail. */
class GatedPuller implements ImagePuller {
  private readonly local = new LocalImagePuller(engine);
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  entered!: () => void;
  readonly pulling = new Promise<void>((resolve) => (this.entered = resolve));

  check(): void {}

  async pull(req: PullRequest): Promise<PulledImage> {
    if (req.image.name !== 'gated/slow') return this.local.pull(req);
    this.entered();
    await this.released;
    throw new JobFailure('image_pull_failure', 'failed to pull image "gated/slow": the test said so');
  }

  fail(): void {
    this.release();
  }
}

function job(name: string, image: string, script: string[]): SchedulableJob {
  const spec = testJob({ script, image: { name: image }, jobInfo: { name, stage: 'test', projectId: 42, projectName: 'project', projectFullPath: 'group/project', pipelineId: 7 } });
  return { name, stage: 'test', when: 'on_success', allowFailure: false, allowFailureExitCodes: [], needs: null, spec };
}

/** An ExecJobRunner as berth exec makes it, its terminal output collected. */
async function makeRunner(puller: ImagePuller, names: string[]): Promise<{ runner: ExecJobRunner; text: () => string }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const runner = new ExecJobRunner({
    engine,
    puller,
    settings: testSettings(),
    version: 'test',
    debugTraceDisabled: false,
    sources: { root: dir, files: ['data.txt'] },
    color: false,
    nameWidth: 5,
    logs: await JobLogFiles.prepare(dir, names),
    outputLimitBytes: 1 << 20,
    out,
    cancel: new AbortController().signal,
    abort: new AbortController().signal,
    artifacts: await LocalArtifactStore.open(dir),
    cache: null,
    commandLineKeys: new Set(),
    firstRetryId: 100,
  });
  runners.push(runner);
  return { runner, text: () => text };
}

/** `p`, or "still waiting" after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  return Promise.race([p, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms))]);
}

/** Runners of the test: drained (their cleanups finished) before the leftover check, even when a test failed. */
const runners: ExecJobRunner[] = [];

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.drain()));
  expect(await findLeftovers(engine, mine)).toEqual(NO_LEFTOVERS);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ExecJobRunner prewarm', () => {
  it("a prewarmed job whose turn comes does not wait for another job's prepare (a slow pull)", async () => {
    const slow = job('slow', 'gated/slow', ['echo never']);
    const quick = job('quick', 'berth-test/busybox:latest', ['echo QUICK_RAN']);
    const puller = new GatedPuller();
    const { runner, text } = await makeRunner(puller, ['slow', 'quick']);
    // `slow`'s turn came: its prepare is pulling. `quick` is prewarmed behind it, then its turn comes.
    const slowResult = runner.run(slow, 0);
    await puller.pulling;
    expect(runner.prepare(quick)).toBe(true);
    const quickResult = await within(runner.run(quick, 1), 10_000);
    puller.fail();
    await slowResult;
    expect((quickResult as JobResult).state).toBe('success');
    expect(text()).toContain('QUICK_RAN');
    expect((await slowResult).failureReason).toBe('image_pull_failure');
  }, 30_000);

  it('a prewarmed container removed from outside before the turn: the job is prepared afresh and runs', async () => {
    const quick = job('quick', 'berth-test/busybox:latest', ['echo QUICK_RAN']);
    const { runner, text } = await makeRunner(new LocalImagePuller(engine), ['quick']);
    expect(runner.prepare(quick)).toBe(true);
    let prewarmed: string | undefined;
    for (let i = 0; i < 500 && !prewarmed; i++) {
      const [c] = await engine.listContainers([mine, 'berth.job.name=quick']);
      // Running (its shell waits) with the sources in: the prewarm is done, or all but done.
      const running = c && (await engine.inspectContainer(c.id))?.state.status === 'running';
      const sources = running ? await engine.getArchive(c.id, '/builds/group/project/data.txt') : null;
      sources?.destroy();
      if (c && sources) prewarmed = c.id;
      else await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    await engine.removeContainer(prewarmed!, { force: true });
    const result = await runner.run(quick, 0);
    expect(result.state).toBe('success');
    expect(text()).toContain('QUICK_RAN');
  }, 30_000);
});
