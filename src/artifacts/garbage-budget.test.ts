import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { collectGarbageBefore, FULL_GC_ARCHIVE_BYTES, GarbageBudget } from './garbage-budget.js';

describe('GarbageBudget', () => {
  it('runs a scavenge each time the bytes streamed pass the budget, none before', () => {
    const budget = new GarbageBudget(1000);
    budget.add(999);
    expect(budget.collections).toBe(0);
    budget.add(1);
    expect(budget.collections).toBe(1);
    for (let i = 0; i < 10; i++) budget.add(500);
    expect(budget.collections).toBe(6);
  });

  it('frees dead Buffers: the memory of Buffers dropped is given back by the scavenges', () => {
    const budget = new GarbageBudget(1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    // 64 MiB of 64 KiB Buffers, each dropped at once (as socket chunks are).
    for (let i = 0; i < 1024; i++) {
      const b = Buffer.allocUnsafeSlow(64 * 1024);
      b[0] = i;
      budget.add(b.length);
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    // Without the budget V8 lets about 64 MiB of them pile up (its external-memory limit).
    expect(budget.collections).toBe(64);
    expect(peak).toBeLessThan(16 * 1024 * 1024);
  });

  it('collectGarbageBefore: a full GC before a large archive frees what is dead in the old generation, which scavenges leave; none before a small one', async () => {
    expect(collectGarbageBefore(FULL_GC_ARCHIVE_BYTES - 1)).toBe(false);
    const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 200));
    /** The heap in use after about 20 MB of objects lived through two scavenges (promoted to the old generation) and were dropped, then `after`. */
    const deadOldObjects = async (after: () => void): Promise<number> => {
      // Made and dropped in a frame of its own (a live frame's registers may still point at them).
      const promoted = (): number => {
        const held = Array.from({ length: 200_000 }, (_, n) => ({ n, s: `entry ${n}` }));
        new GarbageBudget(1).add(1);
        new GarbageBudget(1).add(1);
        return held.length;
      };
      expect(promoted()).toBe(200_000);
      new GarbageBudget(1).add(1);
      const before = getHeapStatistics().used_heap_size;
      after();
      // V8 sweeps after marking, beside the program: the heap in use shrinks a little later.
      await settle();
      return before - getHeapStatistics().used_heap_size;
    };
    // Without it the scavenges leave them in place; with it they are freed.
    expect(await deadOldObjects(() => undefined)).toBeLessThan(4 * 1024 * 1024);
    expect(await deadOldObjects(() => expect(collectGarbageBefore(FULL_GC_ARCHIVE_BYTES)).toBe(true))).toBeGreaterThan(8 * 1024 * 1024);
  });
});
