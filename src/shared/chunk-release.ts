/**
 * Chunk release: a Readable whose producer reuses the memory of the chunks it pushed, once the
 * consumer says that a chunk is no longer referenced. Fresh memory is not free: each new MiB is
 * 256 pages the kernel must map and zero when they are first touched, and V8 counts Buffers as
 * external memory: a tar stream of 200 MB pushed in fresh 1 MiB chunks cost its producer a
 * sizeable share of its CPU in page faults and full GCs (see TarByteStream).
 *
 * The producer offers a release function on its stream (offerChunkRelease); a consumer that
 * knows when it is done with a chunk (the Engine client, once the socket has taken its bytes)
 * calls it (chunkRelease). Any other consumer never calls it, and every chunk stays the
 * consumer's, as with any Readable: the reuse is opt-in on both sides.
 */
import type { Readable } from 'node:stream';

const RELEASE = Symbol('berth.chunkRelease');
/** Set once a consumer took the release function: it will release the chunks it reads. */
const TAKEN = Symbol('berth.chunkReleaseTaken');
const WAITS = Symbol('berth.chunkReleaseWaits');

type Releasing = Readable & { [RELEASE]?: (chunk: Buffer) => void; [TAKEN]?: boolean; [WAITS]?: Map<Buffer, () => void> };

/** Lets consumers of `stream` give its chunks back to `release` once they no longer reference them. */
export function offerChunkRelease(stream: Readable, release: (chunk: Buffer) => void): void {
  (stream as Releasing)[RELEASE] = release;
}

/**
 * The release function `stream` offers, if any. Call it with a chunk exactly as `stream` emitted
 * it ('data'), once, when nothing references its bytes any more.
 */
export function chunkRelease(stream: Readable): ((chunk: Buffer) => void) | undefined {
  const release = (stream as Releasing)[RELEASE];
  if (release) (stream as Releasing)[TAKEN] = true;
  return release;
}

/**
 * For a pass-through stream (a request body) into which a writer hands chunks it will reuse as
 * soon as they are released: offers a release on `stream` that ends the writer's wait
 * (releaseOf). The chunks must come out of `stream` as the same objects (a Transform that
 * passes them on as they are).
 */
export function offerReleaseWaits(stream: Readable): void {
  const waits = new Map<Buffer, () => void>();
  (stream as Releasing)[WAITS] = waits;
  offerChunkRelease(stream, (chunk) => {
    const resolve = waits.get(chunk);
    waits.delete(chunk);
    resolve?.();
  });
}

/**
 * For a writer about to write `chunk` into `stream` (made with offerReleaseWaits): once a
 * consumer has taken the stream's release (chunkRelease), a promise resolved when the consumer
 * releases `chunk` (the writer may reuse its memory then, not before). Undefined otherwise (no
 * consumer will release it): the writer must hand over a copy instead.
 */
export function releaseOf(stream: object, chunk: Buffer): Promise<void> | undefined {
  const s = stream as Releasing;
  const waits = s[WAITS];
  if (!waits || !s[TAKEN]) return undefined;
  return new Promise<void>((resolve) => waits.set(chunk, resolve));
}
