import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ReleasingBody } from './releasing-body.js';

/** `n` chunks of `size` bytes, each filled with its index. */
function chunks(n: number, size: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(size, i));
}

/** A source that pushes `list` one at a time, as TarByteStream does (a push per read). */
function sourceOf(list: Buffer[]): Readable {
  let i = 0;
  return new Readable({
    highWaterMark: 64 * 1024,
    read() {
      this.push(i < list.length ? list[i++]! : null);
    },
  });
}

/** A socket-like Writable: small buffer, each write done a tick later. */
function slowSink(log: string[], seen: Buffer[]): Writable {
  return new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      seen.push(Buffer.from(chunk));
      setImmediate(() => {
        log.push(`written ${chunk[0]}`);
        cb();
      });
    },
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('ReleasingBody', () => {
  it('pipe: writes every chunk in order and releases each once, after the destination has written it', async () => {
    const list = chunks(12, 100 * 1024);
    const log: string[] = [];
    const seen: Buffer[] = [];
    const released: Buffer[] = [];
    const source = sourceOf(list);
    const dest = slowSink(log, seen);
    const body = new ReleasingBody(source, (c) => {
      released.push(c);
      log.push(`released ${c[0]}`);
    });
    let pausedSeen = false;
    source.on('pause', () => (pausedSeen = true));
    expect(body.pipe(dest)).toBe(dest);
    await new Promise((resolve, reject) => dest.on('finish', resolve).on('error', reject));
    expect(sha(Buffer.concat(seen))).toBe(sha(Buffer.concat(list)));
    // The very objects the source pushed, each once.
    expect(released).toHaveLength(list.length);
    for (const [i, c] of list.entries()) expect(released[i]).toBe(c);
    for (let i = 0; i < list.length; i++) expect(log.indexOf(`released ${i}`)).toBeGreaterThan(log.indexOf(`written ${i}`));
    expect(pausedSeen).toBe(true); // backpressure: the 16 KiB sink paused the source
  });

  it('pipe: a destination that closes early stops the reading; the source is paused, not destroyed, and nothing of it is released unwritten', async () => {
    const list = chunks(50, 64 * 1024);
    const released: Buffer[] = [];
    const source = sourceOf(list);
    let writes = 0;
    const dest = new Writable({
      highWaterMark: 16 * 1024,
      write(_chunk, _enc, cb) {
        if (++writes === 3) {
          cb(new Error('connection reset'));
          return;
        }
        setImmediate(cb);
      },
    });
    dest.on('error', () => undefined);
    new ReleasingBody(source, (c) => released.push(c)).pipe(dest);
    await new Promise((resolve) => dest.on('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writes).toBe(3);
    expect(released.length).toBeLessThanOrEqual(2);
    expect(source.destroyed).toBe(false);
    expect(source.isPaused()).toBe(true);
  });

  it('pipe: a source that has ended already ends the destination', async () => {
    const source = Readable.from([Buffer.from('x')]);
    for await (const _ of source) void _;
    const dest = new Writable({ write: (_c, _e, cb) => cb() });
    new ReleasingBody(source, () => undefined).pipe(dest);
    await new Promise((resolve) => dest.on('finish', resolve));
  });

  it("pipe: the source's error destroys the body with it (docker-modem then destroys the request)", async () => {
    const source = new Readable({ read() {} });
    const body = new ReleasingBody(source, () => undefined);
    body.pipe(new Writable({ write: (_c, _e, cb) => cb() }));
    const failed = new Promise((resolve) => body.on('error', resolve));
    source.destroy(new Error('corrupt archive'));
    expect(((await failed) as Error).message).toBe('corrupt archive');
  });

  it('read any other way: a plain pass-through that releases nothing', async () => {
    const list = chunks(6, 70 * 1024);
    const released: Buffer[] = [];
    const body = new ReleasingBody(sourceOf(list), (c) => released.push(c));
    const got: Buffer[] = [];
    for await (const c of body) got.push(c as Buffer);
    expect(sha(Buffer.concat(got))).toBe(sha(Buffer.concat(list)));
    expect(released).toEqual([]);
  });
});
