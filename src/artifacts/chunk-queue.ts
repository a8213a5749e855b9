/**
 * ChunkQueue: the bytes of a Readable as it delivers them (its own Buffers, no copy), taken from
 * the front in pieces of any size. The stream is paused while more than `highWater` bytes wait
 * (backpressure) and resumed once they are taken. Reads that the buffered bytes can serve are
 * synchronous (`takeNow`, `skipNow`): a tar of thousands of small members is parsed without a
 * promise per header.
 *
 * Why not the stream's own read(n): it concatenates (copies) whenever n spans chunks, and its
 * async iterator hands out everything buffered as one concatenated Buffer.
 */
import type { Readable } from 'node:stream';

export class ChunkQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  /** Bytes of chunks[head] already taken. */
  private offset = 0;
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private paused = false;

  constructor(
    private readonly stream: Readable,
    private readonly highWater: number,
    /** The error when the stream closes (or ends) before the reader is done with it. */
    private readonly cutShort: () => Error,
  ) {
    // A stream that ended or failed before this queue came: no event will say so.
    if (stream.readableEnded) this.ended = true;
    else if (stream.destroyed) this.failure = stream.errored ?? cutShort();
    stream.on('data', (c: Buffer) => {
      if (c.length === 0) return;
      this.chunks.push(c);
      this.buffered += c.length;
      if (this.buffered >= this.highWater && !this.paused) {
        this.paused = true;
        stream.pause();
      }
      this.notify();
    });
    stream.once('end', () => {
      this.ended = true;
      this.notify();
    });
    // Kept for the stream's whole life (`on`, not `once`): an 'error' that finds no listener is an
    // uncaught exception, whenever it comes.
    stream.on('error', (err: Error) => {
      this.failure ??= err;
      this.notify();
    });
    stream.once('close', () => {
      if (!this.ended) this.failure ??= this.cutShort();
      this.notify();
    });
  }

  /** Up to `max` bytes from the front if any are buffered (a view of the stream's chunk), else undefined. */
  takeNow(max: number): Buffer | undefined {
    if (this.buffered === 0) return undefined;
    const chunk = this.chunks[this.head]!;
    const n = Math.min(max, chunk.length - this.offset);
    const out = this.offset === 0 && n === chunk.length ? chunk : chunk.subarray(this.offset, this.offset + n);
    this.consumed(n, chunk.length);
    return out;
  }

  /** Exactly `n` bytes if they are all buffered (a view when they lie in one chunk, a copy otherwise), else undefined. */
  exactNow(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    const chunk = this.chunks[this.head]!;
    if (chunk.length - this.offset >= n) return this.takeNow(n);
    const out = Buffer.allocUnsafe(n);
    for (let at = 0; at < n; ) {
      const part = this.takeNow(n - at)!;
      part.copy(out, at);
      at += part.length;
    }
    return out;
  }

  /** Drops up to `n` buffered bytes; returns how many were dropped. */
  skipNow(n: number): number {
    let done = 0;
    while (done < n && this.buffered > 0) done += this.takeNow(n - done)!.length;
    return done;
  }

  /** Up to `max` bytes (at least one), waiting for them; null at the end of the stream. */
  async take(max: number): Promise<Buffer | null> {
    for (;;) {
      const b = this.takeNow(max);
      if (b) return b;
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await this.more();
    }
  }

  /** Exactly `n` bytes, waiting for them; an error if the stream ends first. */
  async exact(n: number): Promise<Buffer> {
    const b = await this.exactOrEnd(n);
    if (!b) throw this.cutShort();
    return b;
  }

  /** Exactly `n` bytes, waiting for them; null when the stream ends before any of them came; an error if it ends inside them. */
  async exactOrEnd(n: number): Promise<Buffer | null> {
    for (;;) {
      const b = this.exactNow(n);
      if (b) return b;
      if (this.failure) throw this.failure;
      if (this.ended) {
        if (this.buffered === 0) return null;
        throw this.cutShort();
      }
      await this.more();
    }
  }

  /** Drops exactly `n` bytes, waiting for them; an error if the stream ends first. */
  async skip(n: number): Promise<void> {
    let left = n - this.skipNow(n);
    while (left > 0) {
      if (this.failure) throw this.failure;
      if (this.ended) throw this.cutShort();
      await this.more();
      left -= this.skipNow(left);
    }
  }

  /** Stops reading: the stream is destroyed and what waits is dropped. */
  close(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.buffered = 0;
    this.stream.destroy();
  }

  private consumed(n: number, chunkLength: number): void {
    this.buffered -= n;
    this.offset += n;
    if (this.offset === chunkLength) {
      this.chunks[this.head++] = undefined as unknown as Buffer;
      this.offset = 0;
      if (this.head === this.chunks.length) {
        this.chunks = [];
        this.head = 0;
      } else if (this.head >= 1024) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
    }
    if (this.paused && this.buffered < this.highWater) {
      this.paused = false;
      this.stream.resume();
    }
  }

  private more(): Promise<void> {
    if (this.paused) {
      this.paused = false;
      this.stream.resume();
    }
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
