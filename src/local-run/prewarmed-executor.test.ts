import { describe, expect, it } from 'vitest';
import type { DockerExecutor } from '../executor/docker/docker-executor.js';
import { FakeExecutor } from '../../test/support/fake-executor.js';
import { PrewarmedExecutor } from './prewarmed-executor.js';

const stage = { name: 'step_script', commands: ['true'], jobStatus: 'running' as const };
const asDocker = (e: FakeExecutor): DockerExecutor => e as unknown as DockerExecutor;
const kinds = (e: FakeExecutor): string[] => e.calls.map((c) => c.kind);

function setup(ready: Promise<boolean> | null) {
  const warm = new FakeExecutor({ cleanupProblems: ['warm left'] });
  const fresh = new FakeExecutor();
  let made = 0;
  let stopped = 0;
  let prepared = 0;
  const executor = new PrewarmedExecutor(
    ready ? { executor: asDocker(warm), ready, stop: () => stopped++ } : null,
    () => {
      made++;
      return asDocker(fresh);
    },
    () => prepared++,
  );
  return { executor, warm, fresh, made: () => made, stopped: () => stopped, prepared: () => prepared };
}

describe('PrewarmedExecutor', () => {
  it('adopts a prewarm that succeeded: no fresh executor, stages and cleanup on the prewarmed one', async () => {
    const t = setup(Promise.resolve(true));
    await t.executor.prepare(new AbortController().signal);
    await t.executor.runStage(stage, new AbortController().signal);
    expect(await t.executor.cleanup()).toEqual(['warm left']);
    expect(t.made()).toBe(0);
    expect(kinds(t.warm)).toEqual(['prepare', 'stage', 'cleanup']);
    expect(t.prepared()).toBe(1);
  });

  it('a prepare tried again after cleanup (runJob\'s retry) prepares afresh: the cleaned prewarm is never prepared again', async () => {
    const t = setup(Promise.resolve(true));
    const warmPrepare = t.warm.prepare.bind(t.warm);
    t.warm.prepare = async (signal) => {
      await warmPrepare(signal);
      throw new Error('the engine is busy');
    };
    await expect(t.executor.prepare(new AbortController().signal)).rejects.toThrow('the engine is busy');
    expect(await t.executor.cleanup()).toEqual(['warm left']);
    await t.executor.prepare(new AbortController().signal);
    await t.executor.runStage(stage, new AbortController().signal);
    expect(kinds(t.warm)).toEqual(['prepare', 'cleanup']);
    expect(kinds(t.fresh)).toEqual(['prepare', 'stage']);
    expect(await t.executor.cleanup()).toEqual([]);
    expect(kinds(t.fresh)).toEqual(['prepare', 'stage', 'cleanup']);
  });

  it('removes what a failed prewarm made, then prepares afresh and runs there', async () => {
    const t = setup(Promise.resolve(false));
    await t.executor.prepare(new AbortController().signal);
    await t.executor.runStage(stage, new AbortController().signal);
    // The prewarm's container went before the fresh prepare; cleanup does not remove it twice.
    expect(kinds(t.warm)).toEqual(['cleanup']);
    expect(kinds(t.fresh)).toEqual(['prepare', 'stage']);
    expect(await t.executor.cleanup()).toEqual([]);
    expect(kinds(t.warm)).toEqual(['cleanup']);
    expect(kinds(t.fresh)).toEqual(['prepare', 'stage', 'cleanup']);
    expect(t.prepared()).toBe(1);
  });

  it('stops a prewarm still under way when the job is aborted, and cleanup waits for it before removing', async () => {
    let settle!: (ok: boolean) => void;
    const t = setup(new Promise<boolean>((r) => (settle = r)));
    const abort = new AbortController();
    const preparing = t.executor.prepare(abort.signal);
    abort.abort(new Error('job timeout'));
    await expect(preparing).rejects.toThrow('job timeout');
    expect(t.stopped()).toBeGreaterThan(0);
    expect(t.prepared()).toBe(1);
    const cleaning = t.executor.cleanup();
    await new Promise((r) => setTimeout(r, 10));
    expect(kinds(t.warm)).toEqual([]);
    settle(false);
    expect(await cleaning).toEqual(['warm left']);
    expect(kinds(t.warm)).toEqual(['cleanup']);
    expect(t.made()).toBe(0);
  });

  it('without a prewarm is the fresh executor', async () => {
    const t = setup(null);
    await t.executor.prepare(new AbortController().signal);
    await t.executor.cleanup();
    expect(t.made()).toBe(1);
    expect(kinds(t.fresh)).toEqual(['prepare', 'cleanup']);
  });
});
