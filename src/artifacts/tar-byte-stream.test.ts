import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkRelease } from '../shared/chunk-release.js';
import { TarByteStream } from './tar-byte-stream.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Writes `total` bytes in pieces of `piece` (byte i = i % 251) and ends the stream. */
async function produce(out: TarByteStream, total: number, piece: number): Promise<Buffer> {
  const all = Buffer.allocUnsafe(total);
  for (let i = 0; i < total; i++) all[i] = i % 251;
  for (let at = 0; at < total; at += piece) {
    const bytes = Buffer.from(all.subarray(at, Math.min(total, at + piece)));
    const p = out.write(bytes);
    bytes.fill(0xee); // the caller's buffer is free as soon as write returns
    await p;
    // As zipToTar waits for its reads: the reader's releases get their turn.
    if ((at + piece) % MiB < piece) await new Promise((resolve) => setImmediate(resolve));
  }
  await out.end();
  return all;
}

/** Reads in flowing mode (each chunk as pushed), copying each; `release` says what to give back. */
function consume(out: TarByteStream, release: (c: Buffer, i: number) => boolean): Promise<{ data: Buffer; buffers: ArrayBufferLike[] }> {
  const give = chunkRelease(out.stream)!;
  const copies: Buffer[] = [];
  const buffers: ArrayBufferLike[] = [];
  out.stream.on('data', (c: Buffer) => {
    copies.push(Buffer.from(c));
    buffers.push(c.buffer);
    if (release(c, buffers.length - 1)) setImmediate(() => give(c));
  });
  return new Promise((resolve, reject) => {
    out.stream.on('end', () => resolve({ data: Buffer.concat(copies), buffers }));
    out.stream.on('error', reject);
  });
}

describe('TarByteStream', () => {
  it('copies what it is given, large writes too: the bytes are right though every caller buffer is overwritten after write', async () => {
    const out = new TarByteStream(new AbortController().signal);
    const [all, got] = await Promise.all([produce(out, 5 * MiB + 123, 700 * 1024), consume(out, () => false)]);
    expect(sha(got.data)).toBe(sha(all));
  });

  it('reuses the chunks its reader releases, and no others', async () => {
    const out = new TarByteStream(new AbortController().signal);
    const [all, got] = await Promise.all([produce(out, 12 * MiB, 4096), consume(out, () => true)]);
    expect(sha(got.data)).toBe(sha(all));
    expect(got.buffers.length).toBe(12);
    expect(new Set(got.buffers).size).toBeLessThan(6);

    const kept = new TarByteStream(new AbortController().signal);
    const [all2, got2] = await Promise.all([produce(kept, 6 * MiB, 4096), consume(kept, () => false)]);
    expect(sha(got2.data)).toBe(sha(all2));
    expect(new Set(got2.buffers).size).toBe(6);
  });

  it('a chunk released twice is reused once; a buffer it did not make is ignored', async () => {
    const out = new TarByteStream(new AbortController().signal);
    const give = chunkRelease(out.stream)!;
    const buffers: ArrayBufferLike[] = [];
    out.stream.on('data', (c: Buffer) => {
      buffers.push(c.buffer);
      if (buffers.length === 1) {
        give(c);
        give(c);
        give(Buffer.allocUnsafeSlow(MiB));
      }
    });
    const ended = new Promise((resolve) => out.stream.on('end', resolve));
    await produce(out, 5 * MiB, 64 * 1024);
    await ended;
    // The first chunk's memory came back once: exactly one later chunk shares it.
    expect(buffers.filter((b) => b === buffers[0])).toHaveLength(2);
    expect(new Set(buffers).size).toBe(buffers.length - 1);
  });
});
