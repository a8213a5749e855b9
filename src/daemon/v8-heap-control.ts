/**
 * The real HeapControl of `berth run` (see idle-heap-trim.ts), set up once when the daemon
 * starts:
 *
 * - `--no-incremental-marking`: V8's memory reducer can then never start its collection (its
 *   timer asks IncrementalMarking::CanBeStarted, which reads the flag each time: v8
 *   src/heap/memory-reducer.cc, incremental-marking.cc), and every major GC is one atomic pause
 *   (tens of ms on berth's 15-35 MB heap, harmless for a daemon). `--no-memory-reducer` would
 *   say it better but is read once, when the heap is set up (heap.cc SetUpSpaces), so setting
 *   it at run time does nothing: `node --trace-gc` still showed "Mark-Compact (reduce)" with it.
 * - V8's `gc` function, taken from a context of its own made while `--expose-gc` is briefly on
 *   (the flag only adds `gc` to contexts created while it is set; the daemon's own global never
 *   gets it). Made once here, so a collection creates nothing. `gc({ type: 'minor' })` is one
 *   scavenge of the young generation; whether V8 also shrinks it depends on the allocation rate
 *   it has sampled (idle-heap-trim.ts).
 * - The flags V8 offers to make a GC single-threaded (`--single-threaded-gc`,
 *   `--no-parallel-marking`) cannot be set at run time: Node 20's V8 aborts at the next full GC
 *   (`Check failed: concurrent_marking_handle_` in cppgc), tried.
 */
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { HeapControl } from './idle-heap-trim.js';

/** The young generation's spaces (v8.getHeapSpaceStatistics names). */
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

export function createV8HeapControl(): HeapControl {
  setFlagsFromString('--no-incremental-marking');
  setFlagsFromString('--expose-gc');
  let gc: (options?: { type: 'major' | 'minor' }) => void;
  try {
    gc = runInNewContext('gc') as typeof gc;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  const youngBytes = (): number => getHeapSpaceStatistics().reduce((sum, s) => sum + (YOUNG_SPACES.has(s.space_name) ? s.space_size : 0), 0);
  return {
    youngBytes,
    oldBytes: () => getHeapStatistics().total_heap_size - youngBytes(),
    collectYoung: () => gc({ type: 'minor' }),
    collectAll: () => gc(),
  };
}
