/**
 * Zstandard decoding for the formats gitlab-runner can save a cache in (CACHE_COMPRESSION_FORMAT
 * `tarzstd`: a tar in a zstd stream; `zipzstd`: zip entries of method 93), in bounded memory.
 * The decoder is fzstd (JavaScript: Node 20 has no zstd in zlib), loaded on first use. Input is
 * fed to it SLICE bytes at a time and the pieces (at most one zstd block, 128 KiB, each) one
 * slice gave are handed on before the next is fed: a block of zeros is 4 bytes stored and
 * 128 KiB decoded, so a slice yields at most 16 MiB whatever the data holds. Several frames and
 * skippable frames are read as zstd defines them.
 *
 * A truncated or malformed stream is an error (fzstd's "unexpected EOF", "invalid zstd data").
 * fzstd does not verify a frame's content checksum: a damaged byte inside a compressed block can
 * go unnoticed here (a zip entry's CRC-32 and every tar header's checksum are still checked).
 */
import type { FileHandle } from 'node:fs/promises';
import { ZstdFrameGuard } from './zstd-frame-guard.js';
import { eventLoopTurn } from '../shared/event-loop-turns.js';

/** Input fed to the decoder at a time: at most SLICE / 4 blocks, 128 KiB each, come out of it. */
const SLICE = 512;
const READ = 256 * 1024;
/** Longest stretch of decoding without a turn for the event loop. */
const BUSY_MS = 20;

/**
 * The decoded bytes of a zstd stream given in pieces. Each slice's headers are checked first
 * (ZstdFrameGuard); the event loop gets a turn at least every BUSY_MS of decoding (fzstd is
 * synchronous), where an abort of `signal` is seen.
 */
export async function* zstdDecode(input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const { Decompress } = await import('fzstd');
  const guard = new ZstdFrameGuard();
  const pending: Buffer[] = [];
  let decoded = 0;
  const decoder = new Decompress((data) => {
    if (data.length === 0) return;
    decoded += data.length;
    pending.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });
  let turn = performance.now();
  for await (const chunk of input) {
    for (let at = 0; at < chunk.length; at += SLICE) {
      const slice = chunk.subarray(at, at + SLICE);
      guard.check(slice, decoded);
      decoder.push(slice);
      if (pending.length > 0) yield* pending.splice(0);
      if (performance.now() - turn > BUSY_MS) {
        await eventLoopTurn();
        signal?.throwIfAborted();
        turn = performance.now();
      }
    }
  }
  decoder.push(new Uint8Array(0), true);
  yield* pending.splice(0);
}

/** The decoded bytes of an open zstd file, from its first byte (the file stays open). */
export function zstdChunks(file: FileHandle, signal: AbortSignal): AsyncGenerator<Buffer> {
  return zstdDecode(file.createReadStream({ start: 0, autoClose: false, highWaterMark: READ, signal }) as AsyncIterable<Buffer>, signal);
}
