/**
 * Writing a stream into another while giving each chunk back to the stream that made it
 * (chunkRelease) once the destination has taken its bytes: the write's callback, called when
 * the bytes are in the kernel (or in TLS's own buffers). The producer can then reuse the chunk's
 * memory instead of allocating a fresh one per chunk (see chunk-release.ts for why that pays).
 *
 * Chunks are taken in flowing mode ('data'): each is the object the source pushed. (Async
 * iteration would join chunks that wait together into a copy, which no one could release.)
 */
import type { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { chunkRelease } from './chunk-release.js';

/**
 * Writes `source` into `dest` with Readable.pipe's backpressure (pause on a full destination,
 * resume on 'drain'), releasing each chunk after its write, and ends `dest` when `source` ends
 * (unless `end` is false). If `dest` closes or fails first, it stops reading (the source is left
 * to its owner, as Readable.pipe leaves it). Returns a function that stops it.
 */
export function pipeReleasing(source: Readable, dest: Writable, release: (chunk: Buffer) => void, end = true): () => void {
  const onData = (chunk: Buffer): void => {
    const more = dest.write(chunk, (err) => {
      if (!err) release(chunk);
    });
    if (!more) {
      source.pause();
      dest.once('drain', onDrain);
    }
  };
  const onDrain = (): void => {
    source.resume();
  };
  const onEnd = (): void => {
    detach();
    if (end) dest.end();
  };
  const onStop = (): void => {
    detach();
    source.pause();
  };
  const detach = (): void => {
    source.off('data', onData);
    source.off('end', onEnd);
    dest.off('drain', onDrain);
    dest.off('close', onStop);
    dest.off('error', onStop);
  };
  if (source.readableEnded) {
    if (end) dest.end();
    return () => undefined;
  }
  source.on('data', onData);
  source.once('end', onEnd);
  dest.once('close', onStop);
  dest.once('error', onStop);
  source.resume();
  return detach;
}

/**
 * Sends `source` into `dest` as stream.pipeline does: resolves once `dest` has finished; a
 * failure of either (or `dest` closing before it finished) destroys both and rejects. When the
 * source offers chunk release, each chunk is released once `dest` has taken it (pipeReleasing);
 * otherwise this is pipeline itself.
 */
export async function sendStream(source: Readable, dest: Writable): Promise<void> {
  const release = chunkRelease(source);
  if (!release) return pipeline(source, dest);
  let detach = (): void => undefined;
  const sourceFailed = new Promise<never>((_resolve, reject) => source.once('error', reject));
  try {
    detach = pipeReleasing(source, dest, release);
    await Promise.race([finished(dest), sourceFailed]);
  } catch (err) {
    detach();
    const error = err instanceof Error ? err : new Error(String(err));
    source.destroy(error);
    dest.destroy(error);
    throw error;
  } finally {
    sourceFailed.catch(() => undefined);
  }
}
