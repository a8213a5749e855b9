/**
 * IdleHeapTrim: one full garbage collection of berth's own once `berth run` has been idle for a
 * while, instead of V8's memory reducer.
 *
 * Why (issue 10, bench/run-throughput with --trace-gc and per-thread CPU): after a burst of jobs
 * V8's memory reducer (v8 src/heap/memory-reducer.cc) waits on an 8 s timer until it judges the
 * allocation rate low, then runs two incremental mark-compacts ("Mark-Compact (reduce)") with
 * concurrent marking on V8's worker threads: ~90-100 ms of CPU on five threads, 15 to 35 s after
 * the last job, or not at all within a minute, depending on its estimate. berth knows when it
 * is idle: a job request found no job and nothing runs. So the daemon turns the reducer off
 * (see v8-heap-control.ts) and, after `delayMs` of idleness, runs one atomic full GC when the
 * heap has grown since the previous one, with the reducer's own threshold (committed memory
 * grown by 10 % and at least 10 MB: memory-reducer.cc kCommittedMemoryFactor and
 * kCommittedMemoryDelta).
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
  /** Idle time before the collection (default 5 s: the window V8 averages allocation rates over). */
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
  private committedAfterLast = 0;
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

  /** A job request found no job and no job runs. Collects once the daemon has been idle for `delayMs` and the heap has grown. */
  idle(): void {
    const now = this.now();
    if (this.idleSince === null) {
      this.idleSince = now;
      return;
    }
    if (now - this.idleSince < this.delayMs) return;
    const before = this.heap.committedBytes();
    const last = this.committedAfterLast;
    if (before < Math.max(last * GROWTH_FACTOR, last + GROWTH_BYTES)) return;
    const cpu0 = this.cpuMicros();
    this.heap.collect();
    this.committedAfterLast = this.heap.committedBytes();
    this.opts.log?.debug('Idle: collected the heap', {
      committed_mb_before: mb(before),
      committed_mb_after: mb(this.committedAfterLast),
      cpu_ms: Math.round((this.cpuMicros() - cpu0) / 100) / 10,
    });
  }
}

function mb(bytes: number): number {
  return Math.round(bytes / 104857.6) / 10;
}
