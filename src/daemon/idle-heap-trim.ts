/**
 * IdleHeapTrim: one full garbage collection of berth's own once `berth run` has been idle for a
 * while, instead of V8's memory reducer.
 *
 * Why (issue 10, bench/run-throughput with `--trace-gc --trace-gc-verbose` and per-thread CPU):
 * after the daemon's first burst of jobs, V8's memory reducer (v8 src/heap/memory-reducer.cc)
 * checks the allocation rate every 8 s and, once it judges it low (15 to 40 s after the last
 * job, with polling going on), runs two incremental mark-compacts ("Mark-Compact (reduce)") with
 * concurrent marking on V8's four worker threads: 80-90 ms of CPU in all, giving back ~16 MB of
 * committed heap. berth knows when it is idle: a job request found no job and nothing runs. So
 * the daemon keeps the reducer from starting (v8-heap-control.ts) and, once idle for `delayMs`,
 * runs one atomic full GC: ~40 ms of CPU, the same memory given back (committed heap 34 -> 19 MB).
 * Like the reducer, it collects only when the heap has grown since its previous run (committed
 * memory up by 10 % and at least 10 MB: memory-reducer.cc kCommittedMemoryFactor and
 * kCommittedMemoryDelta), so a runner whose jobs come and go does not collect after each one.
 * The reducer counts the old generation only; this counts the whole heap, young generation
 * included, since a burst of jobs grows that too and the collection gives it back.
 *
 * No timer of its own: the job requests drive it (`idle()` on every empty answer while nothing
 * runs, `busy()` when a job starts), so an idle daemon wakes up no more often than before.
 */
import type { RunnerLog } from './runner-log.js';

/** The heap as IdleHeapTrim needs it (v8-heap-control.ts is the real one). */
export interface HeapControl {
  /** Bytes the heap has committed (v8.getHeapStatistics().total_heap_size). */
  committedBytes(): number;
  /** One full, synchronous garbage collection. */
  collect(): void;
}

export interface IdleHeapTrimOptions {
  /** Idle time before the collection (default 5 s: the window V8 averages allocation rates over, so the GC also shrinks the young generation). */
  delayMs?: number;
  now?: () => number;
  /** CPU time of the process in µs (default process.cpuUsage()), for the debug line. */
  cpuMicros?: () => number;
  log?: Pick<RunnerLog, 'debug'>;
}

/** memory-reducer.cc: kCommittedMemoryFactor, kCommittedMemoryDelta. */
const GROWTH_FACTOR = 1.1;
const GROWTH_BYTES = 10 * 1024 * 1024;

export class IdleHeapTrim {
  private idleSince: number | null = null;
  /** Committed bytes after the last collection (0: none yet). */
  private afterLast = 0;
  private readonly delayMs: number;
  private readonly now: () => number;
  private readonly cpuMicros: () => number;

  constructor(
    private readonly heap: HeapControl,
    private readonly opts: IdleHeapTrimOptions = {},
  ) {
    this.delayMs = opts.delayMs ?? 5000;
    this.now = opts.now ?? Date.now;
    this.cpuMicros =
      opts.cpuMicros ??
      ((): number => {
        const u = process.cpuUsage();
        return u.user + u.system;
      });
  }

  /** A job started: the idle period (if any) is over. */
  busy(): void {
    this.idleSince = null;
  }

  /** A job request found no job and no job runs: collects once idle for `delayMs` if the heap has grown. */
  idle(): void {
    const now = this.now();
    if (this.idleSince === null) {
      this.idleSince = now;
      return;
    }
    if (now - this.idleSince < this.delayMs) return;
    const before = this.heap.committedBytes();
    if (before < Math.max(this.afterLast * GROWTH_FACTOR, this.afterLast + GROWTH_BYTES)) return;
    const cpu0 = this.cpuMicros();
    this.heap.collect();
    this.afterLast = this.heap.committedBytes();
    this.opts.log?.debug('Idle: collected the heap', {
      heap_mb_before: mb(before),
      heap_mb_after: mb(this.afterLast),
      cpu_ms: Math.round((this.cpuMicros() - cpu0) / 100) / 10,
    });
  }
}

function mb(bytes: number): number {
  return Math.round(bytes / 104857.6) / 10;
}
