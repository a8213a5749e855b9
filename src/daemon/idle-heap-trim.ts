/**
 * IdleHeapTrim: berth's own heap trim once `berth run` has been idle for a while, instead of
 * V8's memory reducer.
 *
 * Why (issue 10, bench/run-throughput with `--trace-gc --trace-gc-verbose` and per-thread CPU):
 * after the daemon's first burst of jobs, V8's memory reducer (v8 src/heap/memory-reducer.cc)
 * checks the allocation rate every 8 s and, once it judges it low (15 to 40 s after the last
 * job, with polling going on), runs two incremental mark-compacts ("Mark-Compact (reduce)") with
 * concurrent marking on V8's four worker threads: 80-90 ms of CPU in all, giving back ~16 MB of
 * committed heap. berth knows when it is idle: a job request found no job and nothing runs. So
 * the daemon keeps the reducer from starting (v8-heap-control.ts) and, once idle for `delayMs`,
 * trims the heap itself:
 *
 * - What a burst of 20 trivial jobs leaves is a young generation grown to its maximum (16.8 MB
 *   committed, 3-8 MB of it in use) and an old generation barely grown (13 MB committed, 3 MB
 *   of garbage). A full GC gave back 15 MB, all but 0.5 MB of it the young generation's, for
 *   ~70 ms of CPU on the main thread and V8's helpers; a scavenge gives back the same young
 *   generation for ~20 ms, provided V8 then judges the allocation rate low: it shrinks the young
 *   generation after a GC only when the rate since its last samples is under 1 KB/ms (heap.cc
 *   ReduceNewSpaceSize, gc-tracer.cc), and it samples at GCs, so a trim whose last sample was
 *   taken during the burst still counts the burst's allocations (a review measured the young
 *   generation kept in 6 of 14 runs). So the idle period starts with a scavenge, which closes
 *   the burst's samples; the trim a delay later reads the idle rate alone. Should V8 still keep
 *   it (a runner polling many URLs), the trim is tried again a delay later, three times at most.
 * - A full GC only when the old generation (everything but the young spaces) has grown since
 *   the daemon started or since berth's last full GC by the memory reducer's own thresholds
 *   (committed memory up by 10 % and at least 10 MB: memory-reducer.cc kCommittedMemoryFactor
 *   and kCommittedMemoryDelta), e.g. after jobs whose large traces or archives left garbage
 *   there. So a runner whose jobs come and go does not collect the whole heap after each one.
 *
 * No timer of its own: the job requests drive it (`idle()` on every empty answer while nothing
 * runs, `busy()` when a job starts), so an idle daemon wakes up no more often than before.
 */
import type { RunnerLog } from './runner-log.js';

/** The heap as IdleHeapTrim needs it (v8-heap-control.ts is the real one). */
export interface HeapControl {
  /** Bytes the young generation has committed (new space and new large object space). */
  youngBytes(): number;
  /** Bytes the rest of the heap has committed (old, code, large object spaces: all but the young generation). */
  oldBytes(): number;
  /** One synchronous collection of the young generation (a scavenge). */
  collectYoung(): void;
  /** One full, synchronous garbage collection. */
  collectAll(): void;
}

export interface IdleHeapTrimOptions {
  /** Idle time before the trim (default 5 s: V8 reads allocation rates over its last 5 s, gc-tracer.cc kThroughputTimeFrameMs). */
  delayMs?: number;
  now?: () => number;
  /** CPU time of the process in µs (default process.cpuUsage()), for the debug line. */
  cpuMicros?: () => number;
  log?: Pick<RunnerLog, 'debug'>;
}

/** memory-reducer.cc: kCommittedMemoryFactor, kCommittedMemoryDelta. */
const GROWTH_FACTOR = 1.1;
const GROWTH_BYTES = 10 * 1024 * 1024;
/** A young generation at or below this is at its floor (V8 shrinks it to 1 MB): nothing to give back. */
const YOUNG_FLOOR_BYTES = 2 * 1024 * 1024;
/** Trims per idle period (see the class comment). */
const MAX_TRIES = 3;

export class IdleHeapTrim {
  private idleSince: number | null = null;
  /** Trims done in this idle period (MAX_TRIES: done, or not needed). */
  private tries = 0;
  /** The old generation's committed bytes when the daemon started or after the last full GC. */
  private oldAfterLast: number;
  private readonly delayMs: number;
  private readonly now: () => number;
  private readonly cpuMicros: () => number;

  constructor(
    private readonly heap: HeapControl,
    private readonly opts: IdleHeapTrimOptions = {},
  ) {
    this.oldAfterLast = heap.oldBytes();
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
    this.tries = 0;
  }

  /** A job request found no job and no job runs: trims the heap once idle for `delayMs`. */
  idle(): void {
    const now = this.now();
    if (this.idleSince === null) {
      this.idleSince = now;
      // Closes the burst in V8's allocation samples, so that the trim reads the idle rate alone.
      if (this.heap.youngBytes() > YOUNG_FLOOR_BYTES) this.heap.collectYoung();
      return;
    }
    if (this.tries >= MAX_TRIES || now - this.idleSince < this.delayMs) return;
    const [young, old] = [this.heap.youngBytes(), this.heap.oldBytes()];
    const full = old >= Math.max(this.oldAfterLast * GROWTH_FACTOR, this.oldAfterLast + GROWTH_BYTES);
    if (!full && young <= YOUNG_FLOOR_BYTES) {
      this.tries = MAX_TRIES;
      return;
    }
    this.tries++;
    const cpu0 = this.cpuMicros();
    if (full) this.heap.collectAll();
    else this.heap.collectYoung();
    const [youngAfter, oldAfter] = [this.heap.youngBytes(), this.heap.oldBytes()];
    if (full) this.oldAfterLast = oldAfter;
    // V8 kept the young generation: once more a delay later (the samples then hold idle time only).
    if (youngAfter > YOUNG_FLOOR_BYTES) this.idleSince = now;
    else this.tries = MAX_TRIES;
    this.opts.log?.debug('Idle: collected the heap', {
      gc: full ? 'full' : 'young',
      heap_mb_before: mb(young + old),
      heap_mb_after: mb(youngAfter + oldAfter),
      cpu_ms: Math.round((this.cpuMicros() - cpu0) / 100) / 10,
    });
  }
}

function mb(bytes: number): number {
  return Math.round(bytes / 104857.6) / 10;
}
