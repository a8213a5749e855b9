/**
 * ReleasingBody: the body of a request to the Engine (PUT archive) that gives each chunk back to
 * the stream that made it (chunkRelease) once the socket has taken its bytes. docker-modem sends
 * a stream body with `body.pipe(req)`: this body's `pipe` writes each chunk with a callback
 * (called when the bytes are in the kernel, or in TLS's own buffers), with the backpressure of
 * Readable.pipe (pause on a full socket, resume on 'drain') and its end (`dest.end()`). If the
 * request closes or fails first, it stops reading, as Readable.pipe does (the source is left to
 * its owner). Consumed any other way, it is a plain pass-through that releases nothing.
 *
 * Chunks are taken in flowing mode ('data'): each is the object the source pushed. (Async
 * iteration would join chunks that wait together into a copy, which no one could release.)
 */
import { Readable, type Writable } from 'node:stream';

export class ReleasingBody extends Readable {
  private started = false;

  constructor(
    private readonly source: Readable,
    private readonly release: (chunk: Buffer) => void,
  ) {
    super();
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T): T {
    this.start();
    this.writeTo(dest as unknown as Writable);
    return dest;
  }

  override _read(): void {
    if (!this.started) {
      this.start();
      this.source.on('data', (chunk: Buffer) => {
        if (!this.push(chunk)) this.source.pause();
      });
      this.source.once('end', () => this.push(null));
    }
    this.source.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.source.pause();
    callback(err);
  }

  private start(): void {
    if (this.started) throw new Error('a ReleasingBody is read once');
    this.started = true;
    this.source.once('error', (err) => this.destroy(err));
  }

  private writeTo(dest: Writable): void {
    const { source } = this;
    const onData = (chunk: Buffer): void => {
      const more = dest.write(chunk, (err) => {
        if (!err) this.release(chunk);
      });
      if (!more) {
        source.pause();
        dest.once('drain', onDrain);
      }
    };
    const onDrain = (): void => {
      source.resume();
    };
    const onEnd = (): void => {
      detach();
      dest.end();
    };
    const onStop = (): void => {
      detach();
      source.pause();
    };
    const detach = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      dest.off('drain', onDrain);
      dest.off('close', onStop);
      dest.off('error', onStop);
    };
    if (source.readableEnded) {
      dest.end();
      return;
    }
    source.on('data', onData);
    source.once('end', onEnd);
    dest.once('close', onStop);
    dest.once('error', onStop);
    source.resume();
  }
}
