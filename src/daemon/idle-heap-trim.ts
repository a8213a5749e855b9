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
 * trims the heap itself, once per idle period:
 *
 * - What a burst of 20 trivial jobs leaves is a young generation grown to its maximum (16.8 MB
 *   committed, 3-8 MB of it in use) and an old generation barely grown (13 MB committed, 3 MB
 *   of garbage). A full GC gave back 15 MB, all but 0.5 MB of it the young generation's, for
 *   ~70 ms of CPU on the main thread and V8's helpers; one scavenge gives back the same young
 *   generation (V8 shrinks it to 1 MB after a GC that finds the allocation rate low) for ~20 ms.
 *   So the young generation is scavenged when it is above its floor.
 * - A full GC only when the old generation (everything but the young spaces) has grown since
 *   the daemon started or since the last full GC by the memory reducer's own thresholds
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
  /** Bytes the rest of the heap has committed (old, code and large object spaces). */
  oldBytes(): number;
  /** One synchronous collection of the young generation (a scavenge). */
  collectYoung(): void;
  /** One full, synchronous garbage collection. */
  collectAll(): void;
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
/** A young generation at or below this is at its floor (V8 shrinks it to 1 MB): nothing to give back. */
const YOUNG_FLOOR_BYTES = 2 * 1024 * 1024;

export class IdleHeapTrim {
  private idleSince: number | null = null;
  /** This idle period's trim is done (or was not needed). */
  private trimmed = false;
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
    this.trimmed = false;
  }

  /** A job request found no job and no job runs: trims the heap once idle for `delayMs`. */
  idle(): void {
    const now = this.now();
    if (this.idleSince === null) {
      this.idleSince = now;
      return;
    }
    if (this.trimmed || now - this.idleSince < this.delayMs) return;
    this.trimmed = true;
    const [young, old] = [this.heap.youngBytes(), this.heap.oldBytes()];
    const full = old >= Math.max(this.oldAfterLast * GROWTH_FACTOR, this.oldAfterLast + GROWTH_BYTES);
    if (!full && young <= YOUNG_FLOOR_BYTES) return;
    const cpu0 = this.cpuMicros();
    if (full) this.heap.collectAll();
    else this.heap.collectYoung();
    const [youngAfter, oldAfter] = [this.heap.youngBytes(), this.heap.oldBytes()];
    if (full) this.oldAfterLast = oldAfter;
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
