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

type Releasing = Readable & { [RELEASE]?: (chunk: Buffer) => void };

/** Lets consumers of `stream` give its chunks back to `release` once they no longer reference them. */
export function offerChunkRelease(stream: Readable, release: (chunk: Buffer) => void): void {
  (stream as Releasing)[RELEASE] = release;
}

/**
 * The release function `stream` offers, if any. Call it with a chunk exactly as `stream` emitted
 * it ('data'), once, when nothing references its bytes any more.
 */
export function chunkRelease(stream: Readable): ((chunk: Buffer) => void) | undefined {
  return (stream as Releasing)[RELEASE];
}
