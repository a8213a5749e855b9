/**
 * TarByteStream: the Readable side of zipToTar and tarZstdToTar. Bytes are gathered into chunks of 1 MiB before
 * they are pushed (a tar of 20,000 small files is a few hundred pushes, not 60,000), and the
 * producer waits while the reader has a chunk it has not taken (backpressure). Large buffers go
 * out as they are, after the gathered bytes.
 */
import { Readable } from 'node:stream';
import { abortReason } from '../shared/abort.js';
import { TAR_END } from './tar-header.js';

const CHUNK = 1024 * 1024;

export class TarByteStream {
  readonly stream: Readable;
  private chunk = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly signal: AbortSignal) {
    this.stream = new Readable({
      highWaterMark: CHUNK,
      read: () => {
        const w = this.wake;
        this.wake = undefined;
        w?.();
      },
    });
  }

  /** Appends bytes; resolves at once unless a full chunk waits for the reader. */
  write(bytes: Uint8Array): Promise<void> | undefined {
    if (bytes.length >= CHUNK / 2) return this.writeLarge(bytes);
    if (this.used + bytes.length > CHUNK) {
      const out = this.take();
      this.chunk.set(bytes, 0);
      this.used = bytes.length;
      return this.push(out);
    }
    this.chunk.set(bytes, this.used);
    this.used += bytes.length;
    return undefined;
  }

  /** Appends `n` zero bytes (n < 512). */
  zeros(n: number): Promise<void> | undefined {
    if (n === 0) return undefined;
    if (this.used + n > CHUNK) {
      const out = this.take();
      this.chunk.fill(0, 0, n);
      this.used = n;
      return this.push(out);
    }
    this.chunk.fill(0, this.used, this.used + n);
    this.used += n;
    return undefined;
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

  private async writeLarge(bytes: Uint8Array): Promise<void> {
    if (this.used > 0) await this.push(this.take());
    await this.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  private take(): Buffer {
    const out = this.chunk.subarray(0, this.used);
    this.chunk = Buffer.allocUnsafe(CHUNK);
    this.used = 0;
    return out;
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

