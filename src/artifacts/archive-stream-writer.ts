/**
 * ArchiveStreamWriter: an ArchiveSink over a Writable that the caller owns (an upload body).
 * Writes wait for 'drain' (back-pressure reaches the archive writer, and through it the Engine's
 * archive stream); finish() waits for the writes to be accepted but does not end the stream, so
 * that the owner can append to it (a multipart closing boundary). A chunk the writer reuses is
 * copied first: a stream (a PassThrough, an HTTP request) keeps the chunks it queues.
 */
import type { Writable } from 'node:stream';
import { abortReason } from '../shared/abort.js';
import type { ArchiveSink } from './archive-sink.js';

export class ArchiveStreamWriter implements ArchiveSink {
  private bytes = 0;

  constructor(
    private readonly out: Writable,
    readonly name: string,
    private readonly signal: AbortSignal,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    this.bytes += chunk.length;
    if (this.out.write(chunk)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        this.out.off('drain', onDrain);
        this.out.off('close', onClose);
        this.out.off('error', onError);
        this.signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(new Error(`${this.name} was closed before the archive was complete`));
      const onError = (err: Error): void => done(err);
      const onAbort = (): void => done(abortReason(this.signal));
      this.out.on('drain', onDrain);
      this.out.on('close', onClose);
      this.out.on('error', onError);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  writeOwned(chunk: Uint8Array): Promise<void> {
    return this.write(Buffer.from(chunk));
  }

  finish(): Promise<number> {
    this.check();
    return Promise.resolve(this.bytes);
  }

  discard(): Promise<void> {
    return Promise.resolve();
  }

  private check(): void {
    if (this.signal.aborted) throw abortReason(this.signal);
    if (this.out.destroyed || this.out.writableEnded) throw new Error(`${this.name} was closed before the archive was complete`);
  }
}
