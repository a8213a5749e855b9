import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockWindow, ZipBlockReader } from './zip-block-reader.js';

let dir: string;
let file: string;
const content = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-zip-block-reader-'));
  file = join(dir, 'data.bin');
  await writeFile(file, content);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A BlockWindow of 100-byte blocks over the test file, closed after `use`. */
async function withWindow(use: (w: BlockWindow) => Promise<void>): Promise<void> {
  const fd = openSync(file, 'r');
  try {
    await use(new BlockWindow(fd, content.length, undefined, 100));
  } finally {
    closeSync(fd);
  }
}

describe('BlockWindow', () => {
  it('serves bytes from one block read, moves forward into the same block, and hands out owned bytes that stay', async () => {
    await withWindow(async (w) => {
      const a = await w.bytes(10, 20);
      expect(a).toEqual(content.subarray(10, 30));
      expect(w.cached(50, 60)).toEqual(content.subarray(50, 110)); // inside the block read at 10
      expect(w.cached(100, 20)).toBeUndefined(); // past it
      const kept = await w.owned(20, 10); // held by the window: copied out
      const later = await w.owned(400, 30); // not held: read without moving the window
      expect(w.cached(50, 10)).toEqual(content.subarray(50, 60));
      const b = await w.bytes(100, 20);
      expect(b).toEqual(content.subarray(100, 120));
      // The move read into the same block: the earlier view now shows the new bytes, owned ones do not.
      expect(a).toEqual(content.subarray(100, 120));
      expect(kept).toEqual(content.subarray(20, 30));
      expect(later).toEqual(content.subarray(400, 430));
      expect(w.cached(50, 10)).toBeUndefined();
      const large = await w.bytes(200, 300); // more than a block: read whole, into a buffer of its own
      expect(large).toEqual(content.subarray(200, 500));
      expect(b).toEqual(content.subarray(100, 120)); // the block was not used for it
      expect(await w.owned(990, 50)).toEqual(content.subarray(990));
    });
  });

  it('reads two overlapping moves into different buffers', async () => {
    await withWindow(async (w) => {
      const [a, b] = await Promise.all([w.bytes(0, 50), w.bytes(500, 50)]);
      expect(a).toEqual(content.subarray(0, 50));
      expect(b).toEqual(content.subarray(500, 550));
      // Neither overwrote the other's bytes.
      expect(a).toEqual(content.subarray(0, 50));
    });
  });

  it('returns fewer bytes at the end of the file', async () => {
    await withWindow(async (w) => {
      expect(await w.bytes(990, 50)).toEqual(content.subarray(990));
      expect((await w.bytes(1000, 10)).length).toBe(0);
    });
  });
});

describe('ZipBlockReader', () => {
  it("reads for yauzl (its read callback) and reports a short read's byte count", async () => {
    const r = await ZipBlockReader.open(file);
    const buf = Buffer.alloc(30);
    const n = await new Promise<number | undefined>((resolve, reject) => r.read(buf, 0, 30, 980, (err, got) => (err ? reject(err) : resolve(got))));
    expect(n).toBe(20);
    expect(buf.subarray(0, 20)).toEqual(content.subarray(980));
    await new Promise<void>((resolve, reject) => r.close((err) => (err ? reject(err) : resolve())));
  });

  it('refuses a folder and a missing file with the errors of fs', async () => {
    await expect(ZipBlockReader.open(dir)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(ZipBlockReader.open(join(dir, 'missing.zip'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
