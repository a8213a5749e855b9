/**
 * growOldGeneration: lets V8's old generation grow by a fixed factor after each full GC while
 * berth extracts an archive (zipToTar and tarZstdToTar hold it, with the young generation's
 * limit, while they run), instead of V8's dynamic factor, which on berth's small heap (about
 * 11 MB live) set the next limit barely above what was live: an extraction of 20,000 files then
 * ran about 20 full GCs (incremental marking finalized "via task"), each freeing about 1 MB.
 *
 * Measured (bench/artifacts/scratch, zip → tar → PUT archive of 20,000 files of 10 KiB, 8
 * extractions per run, `node --trace-gc`; berth's CPU per extraction after the first):
 *   V8's default   154 full GCs, 1.78-2.03 s
 *   100 (this)     46 and 63 full GCs (two runs), 1.53-1.82 s
 *   200            none, 1.46-1.68 s
 *   300            none, 1.32-1.38 s
 * and the peak RSS of a cache archived, saved and then restored in one process (8 runs each):
 * 120-125 MB during the extraction with 100, 136-140 MB with 200, 146 MB in a bench round with
 * 300: a larger factor leaves more dead objects resident, and issue 9 caps the peak at 150 MB.
 *
 * `--heap-growing-percent` is read each time V8 sets the old generation's limit (after a full
 * GC; collectGarbageBefore runs one as a large extraction starts). The flag is process-wide: it
 * is set while at least one extraction runs, and V8's dynamic factor (0) comes back after the
 * last one.
 */
import { HeldV8Flag } from './held-v8-flag.js';
import { limitYoungGeneration } from './limit-young-generation.js';

/** The old generation may grow to (1 + this / 100) times what the last full GC left live. */
export const EXTRACTION_HEAP_GROWING_PERCENT = 100;

const growth = new HeldV8Flag(`--heap-growing-percent=${EXTRACTION_HEAP_GROWING_PERCENT}`, '--heap-growing-percent=0');

/** Fixes the growth factor until the returned function is called (once is enough). */
export function growOldGeneration(): () => void {
  return growth.hold();
}

/** How many extractions hold it now. */
export function oldGenerationGrowthHolders(): number {
  return growth.count;
}

/** What an extraction holds while it runs: the young generation limited, the old one's growth fixed. */
export function holdExtractionHeap(): () => void {
  const young = limitYoungGeneration();
  const old = growOldGeneration();
  return () => {
    young();
    old();
  };
}
