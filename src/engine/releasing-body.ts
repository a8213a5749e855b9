/**
 * ReleasingBody: the body of a request to the Engine (PUT archive) that gives each chunk back to
 * the stream that made it (chunkRelease) once the socket has taken its bytes. docker-modem sends
 * a stream body with `body.pipe(req)`: this body's `pipe` is pipeReleasing (each chunk written
 * with a callback that releases it, Readable.pipe's backpressure and end). Consumed any other
 * way, it is a plain pass-through that releases nothing.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeReleasing } from '../shared/releasing-pipe.js';

export class ReleasingBody extends Readable {
  private started = false;

  constructor(
    private readonly source: Readable,
    private readonly release: (chunk: Buffer) => void,
  ) {
    super();
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, options?: { end?: boolean }): T {
    this.start();
    pipeReleasing(this.source, dest as unknown as Writable, this.release, options?.end ?? true);
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
}
