/**
 * zstdChunks: the decompressed bytes of a Zstandard file (gitlab-runner's `tarzstd` cache format),
 * as pieces of at most one zstd block (128 KiB) each, in bounded memory. The decoder is fzstd
 * (JavaScript: Node 20 has no zstd in zlib), loaded on first use. The file is fed to it SLICE
 * bytes at a time and the pieces one slice gave are handed on before the next is fed: a block
 * of zeros is 4 bytes stored and 128 KiB decoded, so a slice yields at most 16 MiB whatever the
 * archive holds. Several frames and skippable frames are read as zstd defines them.
 *
 * A truncated or malformed stream is an error (fzstd's "unexpected EOF", "invalid zstd data").
 * fzstd does not verify a frame's content checksum: a damaged byte inside a compressed block can
 * go unnoticed here (the tar reader above still checks every header's checksum).
 */
import { createReadStream } from 'node:fs';

/** Input fed to the decoder at a time: at most SLICE / 4 blocks, 128 KiB each, come out of it. */
const SLICE = 512;
const READ = 256 * 1024;

export async function* zstdChunks(file: string, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const { Decompress } = await import('fzstd');
  const pending: Uint8Array[] = [];
  const decoder = new Decompress((data) => {
    if (data.length > 0) pending.push(data);
  });
  for await (const chunk of createReadStream(file, { highWaterMark: READ, signal }) as AsyncIterable<Buffer>) {
    for (let at = 0; at < chunk.length; at += SLICE) {
      decoder.push(chunk.subarray(at, at + SLICE));
      if (pending.length > 0) yield* pending.splice(0);
    }
  }
  decoder.push(new Uint8Array(0), true);
  yield* pending.splice(0);
}
