import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createV8HeapControl } from './v8-heap-control.js';

/** Allocates 200 000 small objects (well over 8 MB) and drops them; returns the heap's used bytes while they were alive. */
function makeGarbage(): number {
  const garbage = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item ${i}` }));
  expect(garbage).toHaveLength(200_000);
  return getHeapStatistics().used_heap_size;
}

describe('createV8HeapControl (the real V8 heap)', () => {
  it('collects garbage synchronously and reports the committed heap, without exposing gc globally', () => {
    const heap = createV8HeapControl();
    expect('gc' in globalThis).toBe(false);
    const withGarbage = makeGarbage();
    heap.collect();
    const after = getHeapStatistics().used_heap_size;
    expect(withGarbage - after).toBeGreaterThan(8 * 1024 * 1024);
    expect(heap.committedBytes()).toBe(getHeapStatistics().total_heap_size);
    expect(heap.committedBytes()).toBeGreaterThan(after);
  });
});
