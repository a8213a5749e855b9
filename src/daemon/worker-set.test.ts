import { describe, expect, it } from 'vitest';
import { WorkerSet, type ReconciledWorker } from './worker-set.js';

interface Entry {
  token: string;
  limit: number;
}

class RecordingWorker implements ReconciledWorker<Entry> {
  configs: Entry[];
  stopped = false;
  finish!: () => void;
  private readonly done = new Promise<void>((r) => (this.finish = r));
  constructor(config: Entry) {
    this.configs = [config];
  }
  update(config: Entry): void {
    this.configs.push(config);
  }
  stop(): void {
    this.stopped = true;
  }
  idle(): Promise<void> {
    return this.done;
  }
}

describe('WorkerSet', () => {
  it('creates one worker per token, updates the ones that stay, stops and retires the removed ones', () => {
    const set = new WorkerSet((c: Entry) => new RecordingWorker(c));
    set.apply([{ token: 'a', limit: 1 }, { token: 'b', limit: 1 }]);
    const [a, b] = set.list;
    set.apply([{ token: 'a', limit: 2 }, { token: 'c', limit: 1 }]);
    expect(set.list.map((w) => w.configs.at(-1)?.token)).toEqual(['a', 'c']);
    expect(set.list[0]).toBe(a);
    expect(a?.configs.map((c) => c.limit)).toEqual([1, 2]);
    expect(a?.stopped).toBe(false);
    expect(b?.stopped).toBe(true);
  });

  it('idle waits for retired workers too (their running jobs still finish)', async () => {
    const set = new WorkerSet((c: Entry) => new RecordingWorker(c));
    set.apply([{ token: 'a', limit: 1 }, { token: 'b', limit: 1 }]);
    const [a, b] = set.list;
    set.apply([{ token: 'a', limit: 1 }]);
    let idle = false;
    void set.idle().then(() => (idle = true));
    a?.finish();
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    b?.finish();
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(true);
  });

  it('rename: a rotated token keeps its worker (updated, not retired), in its place', () => {
    const set = new WorkerSet((c: Entry) => new RecordingWorker(c));
    set.apply([{ token: 'a', limit: 1 }, { token: 'b', limit: 1 }]);
    const [a, b] = set.list;
    expect(set.rename('a', 'a2')).toBe(true);
    expect(set.rename('gone', 'x')).toBe(false);
    expect(set.rename('b', 'a2')).toBe(false);
    set.apply([{ token: 'a2', limit: 1 }, { token: 'b', limit: 1 }]);
    expect(set.list).toEqual([a, b]);
    expect(a?.configs.map((c) => c.token)).toEqual(['a', 'a2']);
    expect(a?.stopped).toBe(false);
  });

  it('stopAll stops every current worker', () => {
    const set = new WorkerSet((c: Entry) => new RecordingWorker(c));
    set.apply([{ token: 'a', limit: 1 }, { token: 'b', limit: 1 }]);
    set.stopAll();
    expect(set.list.map((w) => w.stopped)).toEqual([true, true]);
  });
});
