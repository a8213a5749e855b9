import { randomBytes } from 'node:crypto';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DeflatePool } from './deflate-pool.js';

/** `n` files of varied sizes and content (text-like, so that they compress), from a seed. */
function files(n: number, seed: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const size = (i * 7919 + seed) % 6000; // 0 .. 5999 bytes, some empty
    const b = Buffer.alloc(size);
    for (let j = 0; j < size; j++) b[j] = 97 + ((j * 31 + i * 17 + seed) % 23);
    out.push(b);
  }
  return out;
}

describe('DeflatePool', () => {
  it.each([1, 2])('compresses thousands of files on %i worker(s), each its own raw Deflate stream, whatever order the batches come back in', async (threads) => {
    const pool = new DeflatePool(5, threads);
    try {
      const input = files(3000, threads);
      // Submitted in two-chunk pieces, as a tar stream hands them over.
      const jobs = input.map((b) => pool.submit([b.subarray(0, b.length >> 1), b.subarray(b.length >> 1)], b.length));
      let compressed = 0;
      for (let i = input.length - 1; i >= 0; i--) {
        const out = await pool.wait(jobs[i]!);
        compressed += out.length;
        expect(inflateRawSync(out).equals(input[i]!)).toBe(true);
        pool.release(jobs[i]!);
      }
      expect(pool.threadsStarted).toBe(threads);
      expect(compressed).toBeLessThan(input.reduce((a, b) => a + b.length, 0) / 2);
    } finally {
      await pool.close();
    }
  });

  it('with 0 threads compresses every batch inline', async () => {
    const pool = new DeflatePool(5, 0);
    try {
      const input = files(1500, 3);
      const jobs = input.map((b) => pool.submit([b], b.length));
      for (const [i, job] of jobs.entries()) {
        expect(inflateRawSync(await pool.wait(job)).equals(input[i]!)).toBe(true);
        pool.release(job);
      }
      expect(pool.threadsStarted).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('compresses a few small files inline, starting no thread', async () => {
    const pool = new DeflatePool(9, 2);
    try {
      const input = files(20, 1);
      const jobs = input.map((b) => pool.submit([b], b.length));
      for (const [i, job] of jobs.entries()) expect(inflateRawSync(await pool.wait(job)).equals(input[i]!)).toBe(true);
      expect(pool.threadsStarted).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('reuses a released batch buffer without corrupting results still held', async () => {
    const pool = new DeflatePool(1, 1);
    try {
      // Each file fills most of a batch: every file is its own batch, buffers go round.
      const input = Array.from({ length: 12 }, (_, i) => Buffer.alloc(400 * 1024, String.fromCharCode(97 + i)));
      const jobs = input.map((b) => pool.submit([b], b.length));
      const kept = Buffer.from(await pool.wait(jobs[0]!)); // a copy, taken before release
      const view = await pool.wait(jobs[1]!); // not released: must stay intact
      for (let i = 2; i < jobs.length; i++) {
        expect(inflateRawSync(await pool.wait(jobs[i]!)).equals(input[i]!)).toBe(true);
        pool.release(jobs[i]!);
      }
      pool.release(jobs[0]!);
      const again = input.map((b) => pool.submit([Buffer.alloc(b.length, 'z')], b.length));
      for (const job of again) {
        await pool.wait(job);
        pool.release(job);
      }
      expect(inflateRawSync(kept).equals(input[0]!)).toBe(true);
      expect(inflateRawSync(view).equals(input[1]!)).toBe(true);
    } finally {
      await pool.close();
    }
  });
});

describe('DeflatePool with DeflateStrategy', () => {
  /** Base64 of random bytes: nothing for LZ77 to find. */
  const noRepeats = (n: number): Buffer[] => Array.from({ length: n }, () => Buffer.from(randomBytes(3000).toString('base64')));
  /** Source-like text: repeats everywhere. */
  const repeats = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(`export const value${i} = compute(value${i - 1}, 'a string that repeats');\n`.repeat(60)));
  const huffmanOnly = (b: Buffer): Buffer => deflateRawSync(b, { level: 5, strategy: constants.Z_HUFFMAN_ONLY, chunkSize: b.length * 2 });
  const atLevel = (b: Buffer): Buffer => deflateRawSync(b, { level: 5, chunkSize: b.length * 2 });

  it.each([0, 1])('codes files of a kind without repeats with Huffman codes alone, and files with repeats at the level (%i workers)', async (threads) => {
    const pool = new DeflatePool(5, threads);
    try {
      // Interleaved, as an archive of mixed files is: each kind is judged on its own. Each pair
      // is waited for before the next is submitted, so that the probes have come back.
      const b64 = noRepeats(40);
      const js = repeats(40);
      for (let i = 0; i < b64.length; i++) {
        const jobs = [pool.submit([b64[i]!], b64[i]!.length, 'b64'), pool.submit([js[i]!], js[i]!.length, 'js')];
        for (const [k, job] of jobs.entries()) {
          const input = k === 0 ? b64[i]! : js[i]!;
          const out = Buffer.from(await pool.wait(job));
          pool.release(job);
          expect(inflateRawSync(out).equals(input)).toBe(true);
          // After the first probes (two per kind) and before the next one (the 32nd file after them).
          if (i < 2 || i >= 33) continue;
          if (k === 1) expect(out.equals(atLevel(input))).toBe(true);
          else {
            // Huffman codes alone, by LiteralCoder (every batch here is waited for before it is
            // full, so it is compressed on this thread, with or without a worker): one block
            // (BFINAL, dynamic codes) coded with the kind's code, about zlib's size.
            expect(out[0]! & 7).toBe(0b101);
            expect(out.length).toBeLessThan(huffmanOnly(input).length * 1.01);
          }
        }
      }
      // 40 files of the kind, less the two first probes and the 32nd file after them.
      expect(pool.literalFiles).toBe(37);
      expect(atLevel(js[5]!).length).toBeLessThan(huffmanOnly(js[5]!).length / 3);
    } finally {
      await pool.close();
    }
  });
});
