import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkRelease } from './chunk-release.js';
import { FILE_BLOCK_BYTES, FileBlockStream } from './file-block-stream.js';
import { sendStream } from './releasing-pipe.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-file-blocks-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileOf(bytes: Buffer): Promise<string> {
  const path = join(dir, 'f');
  await writeFile(path, bytes);
  return path;
}

/** A socket-like Writable that copies what it is given, each write done a tick later. */
function copyingSink(seen: Buffer[]): Writable {
  return new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      seen.push(Buffer.from(chunk));
      setImmediate(cb);
    },
  });
}

describe('FileBlockStream', () => {
  it('read plainly: head, the file, tail; every block is its own (nothing is reused without a release)', async () => {
    const bytes = randomBytes(3 * FILE_BLOCK_BYTES + 12345);
    const head = Buffer.from('head');
    const tail = Buffer.from('tail');
    const chunks: Buffer[] = [];
    for await (const c of new FileBlockStream({ path: await fileOf(bytes), end: bytes.length, head, tail })) chunks.push(c as Buffer);
    // Compared only after the last read: a reused block would have been overwritten by then.
    expect(Buffer.concat(chunks).equals(Buffer.concat([head, bytes, tail]))).toBe(true);
    expect(new Set(chunks.map((c) => c.buffer)).size).toBe(chunks.length);
  });

  it('sent with sendStream: the same bytes, through at most a few blocks reused over and over', async () => {
    const bytes = randomBytes(20 * FILE_BLOCK_BYTES + 7);
    const stream = new FileBlockStream({ path: await fileOf(bytes), end: bytes.length });
    const memory = new Set<ArrayBufferLike>();
    let blocks = 0;
    stream.on('data', (c: Buffer) => {
      memory.add(c.buffer);
      blocks++;
    });
    const seen: Buffer[] = [];
    await sendStream(stream, copyingSink(seen));
    expect(Buffer.concat(seen).equals(bytes)).toBe(true);
    expect(blocks).toBe(21);
    expect(memory.size).toBeLessThanOrEqual(3);
  });

  it('ignores a release of a chunk it did not lend, or twice: the block is reused once', async () => {
    const bytes = randomBytes(3 * FILE_BLOCK_BYTES);
    const stream = new FileBlockStream({ path: await fileOf(bytes), end: bytes.length, head: Buffer.from('h') });
    const release = chunkRelease(stream)!;
    const chunks: Buffer[] = [];
    for await (const c of stream) {
      const chunk = c as Buffer;
      chunks.push(Buffer.from(chunk));
      release(Buffer.alloc(10)); // foreign
      release(chunk);
      release(chunk); // twice
    }
    expect(Buffer.concat(chunks).equals(Buffer.concat([Buffer.from('h'), bytes]))).toBe(true);
  });

  it('reads [start, end) only: a file that grew is cut at the length announced', async () => {
    const bytes = randomBytes(FILE_BLOCK_BYTES + 100);
    const chunks: Buffer[] = [];
    for await (const c of new FileBlockStream({ path: await fileOf(bytes), start: 50, end: FILE_BLOCK_BYTES + 60 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(bytes.subarray(50, FILE_BLOCK_BYTES + 60))).toBe(true);
  });

  it('fails when the file shrank, and closes the file it was given', async () => {
    const path = await fileOf(Buffer.alloc(10, 1));
    const handle = await open(path, 'r');
    await writeFile(path, '01');
    const stream = new FileBlockStream({ path, handle, end: 10 });
    await expect(async () => {
      for await (const c of stream) void c;
    }).rejects.toThrow(`${path} shrank while it was being uploaded (2 of 10 bytes)`);
    expect(handle.fd).toBe(-1);
  });

  it('closes its file when destroyed half-way, and fails on a file that is not there', async () => {
    const bytes = randomBytes(4 * FILE_BLOCK_BYTES);
    const path = await fileOf(bytes);
    const handle = await open(path, 'r');
    const stream = new FileBlockStream({ path, handle, end: bytes.length });
    for await (const c of stream) {
      void c;
      break;
    }
    await new Promise((resolve) => (stream.closed ? resolve(undefined) : stream.once('close', resolve)));
    expect(handle.fd).toBe(-1);
    const missing = new FileBlockStream({ path: join(dir, 'missing'), end: 1 });
    await expect(async () => {
      for await (const c of missing) void c;
    }).rejects.toThrow(/ENOENT/);
  });
});
