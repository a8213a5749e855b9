import { describe, expect, it } from 'vitest';
import { parseTestConfig, runnerConfigText } from '../../test/support/runner-config.js';
import type { BerthConfig, RunnerConfig } from '../config/berth-config.js';
import type { LoadedConfig } from '../config/load-config.js';
import { reconcileConfig } from './config-reconciler.js';
import { Slots } from './job-slots.js';
import { RunnerMetrics } from './runner-metrics.js';
import { WorkerSet, type ReconciledWorker } from './worker-set.js';

class Worker implements ReconciledWorker<RunnerConfig> {
  stopped = false;
  constructor(public config: RunnerConfig) {}
  update(config: RunnerConfig): void {
    this.config = config;
  }
  stop(): void {
    this.stopped = true;
  }
  async idle(): Promise<void> {}
}

describe('reconcileConfig', () => {
  it('applies concurrent at once, reconciles the runners, and logs the warnings and the new shape', async () => {
    const first = parseTestConfig(runnerConfigText({ url: 'http://127.0.0.1:1', token: 'glrt-a' }));
    const workers = new WorkerSet((r: RunnerConfig) => new Worker(r));
    workers.apply(first.runners);
    const [a] = workers.list;
    const globalSlots = new Slots(first.concurrent);
    const metrics = new RunnerMetrics();
    const lines: string[] = [];
    const log = { info: (m: string, f?: object) => lines.push(`${m} ${JSON.stringify(f ?? {})}`), warn: (m: string) => lines.push(`warn ${m}`) };

    const text = runnerConfigText({ url: 'http://127.0.0.1:1', token: 'glrt-b', global: ['concurrent = 7'] }).replace(/^concurrent = 4\n/m, '');
    const next: LoadedConfig = { config: parseTestConfig(text), warnings: [{ message: 'config.toml:3: unknown key', file: 'config.toml' }], mtimeMs: 0 };
    reconcileConfig(next, { workers, globalSlots, metrics, log });

    expect(globalSlots.capacity).toBe(7);
    expect((await metrics.concurrent.get()).values[0]?.value).toBe(7);
    expect(a?.stopped).toBe(true);
    expect(workers.list.map((w) => w.config.token)).toEqual(['glrt-b']);
    expect(lines).toEqual(['warn config.toml:3: unknown key', 'Configuration loaded {"runners":1,"concurrent":7}']);
  });

  it('a reload of a file that still holds a rotated-away token keeps the new token and its worker', () => {
    const old = parseTestConfig(runnerConfigText({ url: 'http://127.0.0.1:1', token: 'glrt-old' }));
    const workers = new WorkerSet((r: RunnerConfig) => new Worker(r));
    workers.apply(old.runners);
    const [w] = workers.list;
    // What the daemon does on a rotation: the worker is renamed and gets the new token.
    workers.rename('glrt-old', 'glrt-new');
    const tokens = {
      applyLoaded: (c: BerthConfig): BerthConfig => ({ ...c, runners: c.runners.map((r) => (r.token === 'glrt-old' ? { ...r, token: 'glrt-new' } : r)) }),
    };
    const log = { info: () => undefined, warn: () => undefined };
    const stale: LoadedConfig = { config: parseTestConfig(runnerConfigText({ url: 'http://127.0.0.1:1', token: 'glrt-old' })), warnings: [], mtimeMs: 0 };
    const config = reconcileConfig(stale, { workers, globalSlots: new Slots(4), metrics: new RunnerMetrics(), log, tokens });
    expect(config.runners.map((r) => r.token)).toEqual(['glrt-new']);
    expect(workers.list).toEqual([w]);
    expect(w?.config.token).toBe('glrt-new');
    expect(w?.stopped).toBe(false);
  });
});
