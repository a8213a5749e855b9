/**
 * GarbageBudget: a young-generation GC (a scavenge, about a millisecond) after every `bytes` of
 * data streamed, so that the dead Buffers of a stream are freed as it goes instead of piling up.
 *
 * Why: every socket read makes a new Buffer (Node allocates one per read), and so do a file's
 * bytes and its deflated form. Streaming them creates few JS objects, so V8 runs a scavenge
 * rarely and frees the Buffers' memory (outside its heap) only when 64 MiB of it has been
 * allocated since the last full GC (V8's external-memory soft limit): up to 64 MB of dead
 * Buffers sit in the resident memory at the peak. Measured (bench/artifacts/layers.mjs and a
 * plain `net` read of a 200 MB archive from the engine, peak RSS): 81 MB without, 53 MB with a
 * scavenge every 4 MiB (the same read with no allocation per read, `onread` into one buffer:
 * 47 MB). V8 offers no API to ask for a scavenge, so the `gc` function is taken once, with
 * --expose-gc set for the moment a fresh context is made and unset after (the rest of the
 * process sees no `gc` global). Where that fails (a V8 without the flag), the budget does nothing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/** Taken on first use, never at import time; null: not available. */
let gcFunction: GcFunction | null | undefined;

function takeGc(): GcFunction | null {
  if (gcFunction !== undefined) return gcFunction;
  // Started with --expose-gc: the global is there, and the flag stays as it was.
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return (gcFunction = global as GcFunction);
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    gcFunction = typeof gc === 'function' ? (gc as GcFunction) : null;
  } catch {
    gcFunction = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return gcFunction;
}

/** Archives at least this large get a full GC before they are extracted (see collectGarbageBefore). */
export const FULL_GC_ARCHIVE_BYTES = 16 * 1024 * 1024;

/**
 * A full GC before a large extraction, so that it starts from the live memory only, not from
 * what earlier work left dead (a cache archived just before, in the same process: its entries'
 * objects and Buffers). Measured (bench/artifacts/scratch, a cache of 20,000 files of 10 KiB
 * archived, saved to S3, then restored and extracted in one process, 8 runs each): the
 * extraction's peak RSS was 115-155 MB without, 111-141 MB with this at the start of zipToTar
 * (113-122 MB with a full GC between the save and the restore instead, where the download has not
 * started yet); the GC itself takes tens of milliseconds. Returns whether it ran (false where `gc`
 * is not available).
 */
export function collectGarbageBefore(archiveBytes: number): boolean {
  if (archiveBytes < FULL_GC_ARCHIVE_BYTES) return false;
  const gc = takeGc();
  if (!gc) return false;
  // A full GC is `gc()` without options: Node 20's V8 ignores { type: 'major' } (nothing is
  // collected; measured on 20 MB of dead old-generation objects).
  gc();
  return true;
}

/** Streamed bytes between two scavenges by default. */
export const DEFAULT_GARBAGE_BYTES = 4 * 1024 * 1024;

export class GarbageBudget {
  private spent = 0;
  private readonly gc: GcFunction | null;
  /** Scavenges run so far. */
  collections = 0;

  constructor(private readonly bytes = DEFAULT_GARBAGE_BYTES) {
    this.gc = takeGc();
  }

  /** Counts `n` bytes streamed (each allocated about once); scavenges when the budget is spent. */
  add(n: number): void {
    this.spent += n;
    if (this.spent < this.bytes) return;
    this.spent = 0;
    if (!this.gc) return;
    this.gc({ type: 'minor' });
    this.collections++;
  }
}
