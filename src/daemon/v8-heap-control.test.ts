import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { IdleHeapTrim } from './idle-heap-trim.js';
import { createV8HeapControl } from './v8-heap-control.js';

/** Allocates 200 000 small objects (well over 8 MB) and drops them; returns the heap's used bytes while they were alive. */
function makeGarbage(): number {
  const garbage = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item ${i}` }));
  expect(garbage).toHaveLength(200_000);
  return getHeapStatistics().used_heap_size;
}

/** Allocates small objects (20 000: over 1 MB) in the young generation and drops them. */
function youngGarbage(count = 20_000): number {
  return Array.from({ length: count }, (_, i) => ({ i, s: `young ${i}` })).length;
}

/** A burst as jobs make one: 2 million objects, 100 000 of them alive at a time (V8 grows the young generation for such survivors). */
function burst(): number {
  const ring: unknown[] = new Array(100_000);
  for (let i = 0; i < 2_000_000; i++) ring[i % ring.length] = { i, s: `burst ${i}` };
  return ring.length;
}

const used = (space: string): number => getHeapSpaceStatistics().find((s) => s.space_name === space)!.space_used_size;

describe('createV8HeapControl (the real V8 heap)', () => {
  it('collects garbage synchronously and reports the committed heap by generation, without exposing gc globally', () => {
    const heap = createV8HeapControl();
    expect('gc' in globalThis).toBe(false);
    const withGarbage = makeGarbage();
    heap.collectAll();
    const after = getHeapStatistics().used_heap_size;
    expect(withGarbage - after).toBeGreaterThan(8 * 1024 * 1024);
    // the young spaces by the names this Node's V8 gives them (0 bytes if they were renamed)
    expect(getHeapSpaceStatistics().map((s) => s.space_name)).toEqual(expect.arrayContaining(['new_space', 'new_large_object_space', 'old_space']));
    expect(heap.youngBytes()).toBeGreaterThan(0);
    expect(heap.oldBytes()).toBeGreaterThan(after / 2);
    expect(heap.oldBytes()).toBeLessThan(getHeapStatistics().total_heap_size);
  });

  it('a young collection frees the young generation\'s garbage and leaves the old one', () => {
    const heap = createV8HeapControl();
    heap.collectYoung(); // whatever the test runner left there
    expect(youngGarbage()).toBe(20_000);
    const [youngBefore, oldBefore] = [used('new_space'), used('old_space')];
    expect(youngBefore).toBeGreaterThan(1024 * 1024);
    heap.collectYoung();
    expect(used('new_space')).toBeLessThan(youngBefore / 4);
    // no full GC: a scavenge promotes survivors into the old space and frees nothing there
    expect(used('old_space')).toBeGreaterThanOrEqual(oldBefore);
  });

  it('IdleHeapTrim on the real heap: after a burst that grew the young generation, an idle period gives it back (~5.5 s)', async () => {
    const heap = createV8HeapControl();
    const trim = new IdleHeapTrim(heap);
    expect(burst()).toBe(100_000);
    const grown = heap.youngBytes();
    expect(grown).toBeGreaterThan(8 * 1024 * 1024);
    // polling: a little garbage and an empty job request every 250 ms, for the delay and a bit
    const until = Date.now() + 5_500;
    while (Date.now() < until) {
      expect(youngGarbage(100)).toBe(100);
      trim.idle();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    trim.idle();
    expect(heap.youngBytes()).toBeLessThanOrEqual(2 * 1024 * 1024);
  }, 15_000);
});
