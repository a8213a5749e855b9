/**
 * TarByteStream: the Readable side of zipToTar and tarZstdToTar. Bytes are gathered into chunks of 1 MiB before
 * they are pushed (a tar of 20,000 small files is a few hundred pushes, not 60,000), and the
 * producer waits while the reader has a chunk it has not taken (backpressure). Every byte written
 * is copied into the chunks, large buffers too: the caller may reuse its buffer as soon as `write`
 * returns (zipToTar's bytes are views of a reused read window or inflate buffer).
 *
 * Chunks come back for reuse when the reader releases them (offerChunkRelease: the Engine client
 * does, once the socket has taken a chunk's bytes); a reader that does not keeps them, and new
 * ones are made. Fresh chunks cost page faults, and V8 counts their memory as external
 * allocation, which starts full GCs. zipToTar of 20,000 files of 10 KiB (215 MB of tar) into a
 * sink, in fresh processes (scratch measure, 6 runs each): 15,100-27,900 minor page faults when
 * the sink kept its chunks, 8,400-9,700 when it released them. In bench/artifacts' download
 * child (PUT archive into a container), with BlockWindow's reused block: 15,600 -> 9,000-10,500
 * faults, 24-31 -> 4-5 full GCs, 2.84 -> 2.20-2.59 s of CPU.
 */
import { Readable } from 'node:stream';
import { abortReason } from '../shared/abort.js';
import { offerChunkRelease } from '../shared/chunk-release.js';
import { TAR_END } from './tar-header.js';

const CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(512);
/** Released chunks kept for reuse, at most (a piped reader holds 3 or 4 at a time). */
const SPARE = 4;

export class TarByteStream {
  readonly stream: Readable;
  private chunk: Buffer;
  private used = 0;
  private wake: (() => void) | undefined;
  /** The memory of chunks pushed and not yet released (weak: a reader that keeps them frees them). */
  private readonly out = new WeakSet<ArrayBufferLike>();
  private readonly spare: Buffer[] = [];

  constructor(private readonly signal: AbortSignal) {
    this.stream = new Readable({
      highWaterMark: CHUNK,
      read: () => {
        const w = this.wake;
        this.wake = undefined;
        w?.();
      },
    });
    this.chunk = Buffer.allocUnsafeSlow(CHUNK);
    offerChunkRelease(this.stream, (chunk) => this.recycle(chunk));
    this.stream.once('close', () => (this.spare.length = 0));
  }

  /** Appends bytes; resolves at once unless a full chunk waits for the reader. */
  write(bytes: Uint8Array): Promise<void> | undefined {
    if (this.used + bytes.length > CHUNK) return this.spill(bytes);
    this.chunk.set(bytes, this.used);
    this.used += bytes.length;
    return undefined;
  }

  /** Appends `n` zero bytes (n <= 512). */
  zeros(n: number): Promise<void> | undefined {
    return this.write(ZEROS.subarray(0, n));
  }

  /**
   * Writes the tar's end-of-archive blocks, ends the stream and resolves once its reader has
   * taken all of it (rejects on `signal`'s abort).
   */
  async finish(signal: AbortSignal): Promise<void> {
    await this.write(TAR_END);
    await this.end();
    await tarStreamEnd(this.stream, signal);
  }

  /** Pushes what is gathered and ends the stream. */
  async end(): Promise<void> {
    if (this.used > 0) await this.push(this.take());
    this.stream.push(null);
  }

  /**
   * `bytes` that do not fit in the chunk: copied at once, chunk after chunk (the caller's buffer
   * is free when this returns), each full chunk pushed.
   */
  private spill(bytes: Uint8Array): Promise<void> {
    const full: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const n = Math.min(CHUNK - this.used, bytes.length - at);
      this.chunk.set(bytes.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === CHUNK) full.push(this.take());
    }
    return this.pushAll(full);
  }

  private async pushAll(full: Buffer[]): Promise<void> {
    for (const buf of full) await this.push(buf);
  }

  private take(): Buffer {
    const out = this.chunk.subarray(0, this.used);
    this.out.add(out.buffer);
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
    this.used = 0;
    return out;
  }

  /** A chunk this stream pushed, given back by its reader: reused, unless enough are spare. */
  private recycle(chunk: Buffer): void {
    // Only once per push, and only this stream's own chunks.
    if (!this.out.delete(chunk.buffer) || this.spare.length >= SPARE || this.stream.destroyed) return;
    this.spare.push(Buffer.from(chunk.buffer, 0, CHUNK));
  }

  private push(buf: Buffer): Promise<void> | undefined {
    this.signal.throwIfAborted();
    if (this.stream.destroyed) throw new Error('the tar stream was closed before its end');
    if (this.stream.push(buf)) return undefined;
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        this.wake = undefined;
        this.signal.removeEventListener('abort', onAbort);
        this.stream.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => done(abortReason(this.signal));
      const onClose = (): void => done(new Error('the tar stream was closed before its end'));
      this.wake = () => done();
      this.signal.addEventListener('abort', onAbort, { once: true });
      this.stream.on('close', onClose);
    });
  }
}

/** Resolves when the reader has consumed the whole tar stream. */
export function tarStreamEnd(stream: Readable, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (stream.readableEnded) {
      resolve();
      return;
    }
    const done = (err?: Error): void => {
      stream.off('end', onEnd);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onEnd = (): void => done();
    const onAbort = (): void => done(abortReason(signal));
    stream.on('end', onEnd);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
  });
}

