import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { limitYoungGeneration, youngGenerationLimitHolders } from './limit-young-generation.js';

/** The young generation's size now, in bytes. */
function newSpace(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
}

/**
 * Allocation that makes V8 grow its young generation: objects that survive a few scavenges
 * (kept in a ring of 200,000), about 100 MB allocated in all.
 */
function churn(): number {
  const ring: unknown[] = new Array(200_000);
  let peak = newSpace();
  for (let i = 0; i < 2_000_000; i++) {
    ring[i % ring.length] = { i, s: `x${i}` };
    if (i % 10_000 === 0) peak = Math.max(peak, newSpace());
  }
  return Math.max(peak, newSpace());
}

describe('limitYoungGeneration', () => {
  it('keeps the young generation from growing while held; V8 grows it again once released', () => {
    const release = limitYoungGeneration();
    const start = newSpace();
    const held = churn();
    release();
    // V8's own heuristics decide when to grow: give it a few rounds.
    let free = 0;
    for (let round = 0; round < 5 && free <= held; round++) free = churn();
    expect(held).toBeLessThanOrEqual(start);
    expect(free).toBeGreaterThan(held);
  });

  it('is held until the last holder releases it; a second release of one holder counts once', () => {
    const a = limitYoungGeneration();
    const b = limitYoungGeneration();
    expect(youngGenerationLimitHolders()).toBe(2);
    a();
    a();
    expect(youngGenerationLimitHolders()).toBe(1);
    b();
    expect(youngGenerationLimitHolders()).toBe(0);
  });
});
