import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createV8HeapControl } from './v8-heap-control.js';

/** Allocates 200 000 small objects (well over 8 MB) and drops them; returns the heap's used bytes while they were alive. */
function makeGarbage(): number {
  const garbage = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item ${i}` }));
  expect(garbage).toHaveLength(200_000);
  return getHeapStatistics().used_heap_size;
}

/** Allocates 20 000 small objects (over 1 MB) in the young generation and drops them. */
function youngGarbage(): number {
  return Array.from({ length: 20_000 }, (_, i) => ({ i, s: `young ${i}` })).length;
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
    const young = getHeapSpaceStatistics().filter((s) => s.space_name === 'new_space' || s.space_name === 'new_large_object_space');
    expect(heap.youngBytes()).toBe(young.reduce((sum, s) => sum + s.space_size, 0));
    expect(heap.youngBytes() + heap.oldBytes()).toBe(getHeapStatistics().total_heap_size);
    expect(heap.oldBytes()).toBeGreaterThan(after / 2);
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
});
