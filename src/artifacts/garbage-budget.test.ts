import { describe, expect, it } from 'vitest';
import { GarbageBudget } from './garbage-budget.js';

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
});
