import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { offerChunkRelease } from './chunk-release.js';
import { pipeReleasing, sendStream } from './releasing-pipe.js';

/** A source of `n` chunks of 64 KiB, each filled with its index; `release` offered when given. */
function source(n: number, release?: (c: Buffer) => void, failAt?: number): Readable {
  let i = 0;
  const r = new Readable({
    read() {
      if (i === failAt) return void this.destroy(new Error('disk read failed'));
      this.push(i < n ? Buffer.alloc(64 * 1024, i++) : null);
    },
  });
  if (release) offerChunkRelease(r, release);
  return r;
}

/** A socket-like destination: each write's bytes copied into `seen`, and done (`written`) a tick later. */
function sink(seen: Buffer[], failAt?: number, written: number[] = []): Writable {
  return new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (seen.length === failAt) return cb(new Error('connection reset'));
      seen.push(Buffer.from(chunk));
      setImmediate(() => {
        written.push(chunk[0]!);
        cb();
      });
    },
  });
}

describe('sendStream and pipeReleasing', () => {
  it('releases every chunk once, after the destination took it, and resolves when it finished', async () => {
    const seen: Buffer[] = [];
    const released: number[] = [];
    const written: number[] = [];
    const early: number[] = [];
    const dest = sink(seen, undefined, written);
    await sendStream(
      source(10, (c) => {
        if (!written.includes(c[0]!)) early.push(c[0]!);
        released.push(c[0]!);
      }),
      dest,
    );
    expect(early).toEqual([]);
    expect(dest.writableFinished).toBe(true);
    expect(seen.map((c) => c[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(released).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('without a release offered, it is stream.pipeline', async () => {
    const seen: Buffer[] = [];
    await sendStream(source(3), sink(seen));
    expect(seen.map((c) => c[0])).toEqual([0, 1, 2]);
  });

  it('a source that fails destroys the destination and rejects with its error', async () => {
    const dest = sink([]);
    await expect(sendStream(source(10, () => undefined, 4), dest)).rejects.toThrow('disk read failed');
    expect(dest.destroyed).toBe(true);
  });

  it('a destination that fails destroys the source and rejects with its error; nothing unsent is released', async () => {
    const released: number[] = [];
    const src = source(10, (c) => released.push(c[0]!));
    await expect(sendStream(src, sink([], 3))).rejects.toThrow('connection reset');
    expect(src.destroyed).toBe(true);
    expect(released).toEqual([0, 1, 2]);
  });

  it('pipeReleasing with end false leaves the destination open for more (as pipe(dest, { end: false }))', async () => {
    const seen: Buffer[] = [];
    const released: number[] = [];
    const dest = sink(seen);
    const src = source(3);
    pipeReleasing(src, dest, (c) => released.push(c[0]!), false);
    await new Promise((resolve) => src.once('end', resolve));
    expect(dest.writableEnded).toBe(false);
    dest.end(Buffer.from('tail'));
    await new Promise((resolve) => dest.once('finish', resolve));
    expect(seen.map((c) => c.toString('latin1', 0, 1))).toEqual(['\x00', '\x01', '\x02', 't']);
    expect(released).toEqual([0, 1, 2]);
  });

  it('a destination closed before it finished rejects (premature close)', async () => {
    const dest = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        setImmediate(() => dest.destroy());
        void cb;
      },
    });
    const src = source(10, () => undefined);
    await expect(sendStream(src, dest)).rejects.toThrow(/premature close/i);
    expect(src.destroyed).toBe(true);
  });
});
