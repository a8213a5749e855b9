/**
 * The real HeapControl of `berth run` (see idle-heap-trim.ts), set up once when the daemon
 * starts:
 *
 * - `--no-memory-reducer`: V8's memory reducer stops starting GCs of its own (its state machine
 *   checks the flag at every step: v8 src/heap/memory-reducer.cc MemoryReducer::Step), since
 *   IdleHeapTrim collects at a moment berth knows to be idle;
 * - V8's `gc` function, taken from a context of its own made while `--expose-gc` is briefly on
 *   (the flag only adds `gc` to contexts created while it is set; the daemon's own global never
 *   gets it). Made once here, so a collection creates nothing.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { HeapControl } from './idle-heap-trim.js';

export function createV8HeapControl(): HeapControl {
  setFlagsFromString('--no-memory-reducer');
  setFlagsFromString('--expose-gc');
  let gc: () => void;
  try {
    gc = runInNewContext('gc') as () => void;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return {
    committedBytes: () => getHeapStatistics().total_heap_size,
    collect: () => gc(),
  };
}
