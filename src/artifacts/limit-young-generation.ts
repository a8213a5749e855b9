/**
 * limitYoungGeneration: keeps V8's young generation from growing while berth moves artifacts
 * and caches (writeZip and zipToTar hold it while they run), for a smaller peak RSS.
 *
 * Streaming an archive of thousands of small files allocates, per file, a few short-lived JS
 * objects and Buffers (socket chunks, a file's bytes, its deflated form). V8 grows the young
 * generation under that load up to two 16 MiB semi-spaces (32 MiB resident), and the Buffers'
 * memory (outside the heap) is freed only when a GC finds them dead. Measured on
 * bench/artifacts (layers.mjs archive0, 20,000 files of 10 KiB, the heap spaces at the RSS
 * peak): new space 32 → 8 MiB, peak RSS about 20 MB lower.
 *
 * `--max-semi-space-size` works only on the command line (V8 reads it when the heap is set up);
 * `--semi-space-growth-factor` is read each time the new space would grow, so setting it to 1
 * at run time stops the growth from there on (a young generation already grown stays so until
 * V8 shrinks it when allocation is slow). The flag is process-wide: it is set while at least one
 * archive is written or extracted, and V8's default (2) comes back after the last one. V8 also
 * resets it when it sets up a new isolate (a worker thread): renewYoungGenerationLimit, called by
 * DeflatePool once its worker is up, sets it again.
 */
import { HeldV8Flag } from './held-v8-flag.js';

/** V8's default growth factor (`node --v8-options`). */
const V8_DEFAULT_GROWTH_FACTOR = 2;

const limit = new HeldV8Flag('--semi-space-growth-factor=1', `--semi-space-growth-factor=${V8_DEFAULT_GROWTH_FACTOR}`);

/** Limits the young generation until the returned function is called (once is enough). */
export function limitYoungGeneration(): () => void {
  return limit.hold();
}

/** Sets the limit again if someone holds it (after V8 reset it for a new isolate). */
export function renewYoungGenerationLimit(): void {
  limit.renew();
}

/** How many archives hold the limit now. */
export function youngGenerationLimitHolders(): number {
  return limit.count;
}
