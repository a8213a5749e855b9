import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createV8HeapControl } from './v8-heap-control.js';

describe('createV8HeapControl (the real V8 heap)', () => {
  it('collects garbage synchronously and reports the committed heap, without exposing gc globally', () => {
    const heap = createV8HeapControl();
    expect('gc' in globalThis).toBe(false);
    let garbage: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item ${i}` }));
    expect(garbage.length).toBe(200_000);
    const withGarbage = getHeapStatistics().used_heap_size;
    garbage = null;
    heap.collect();
    const after = getHeapStatistics().used_heap_size;
    // 200 000 small objects are well over 8 MB.
    expect(withGarbage - after).toBeGreaterThan(8 * 1024 * 1024);
    expect(heap.committedBytes()).toBe(getHeapStatistics().total_heap_size);
    expect(heap.committedBytes()).toBeGreaterThan(after);
  });
});
