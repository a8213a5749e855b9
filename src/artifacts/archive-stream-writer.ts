/**
 * ArchiveStreamWriter: an ArchiveSink over a Writable that the caller owns (an upload body).
 * Writes wait for 'drain' (back-pressure reaches the archive writer, and through it the Engine's
 * archive stream); finish() waits for the writes to be accepted but does not end the stream, so
 * that the owner can append to it (a multipart closing boundary). A chunk the writer reuses
 * (writeOwned) is copied first, a stream (a PassThrough, an HTTP request) keeps the chunks it
 * queues; unless the stream's consumer releases its chunks (an upload body sent by sendStream):
 * then the chunk itself goes, and the writer waits for its release.
 */
import type { Writable } from 'node:stream';
import { abortReason } from '../shared/abort.js';
import type { ArchiveSink } from './archive-sink.js';
import { releaseOf } from '../shared/chunk-release.js';
import { waitFor, waitForDrain } from './wait-for-drain.js';

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
    await waitForDrain(this.out, this.signal, `${this.name} was closed before the archive was complete`);
  }

  /**
   * Writes `chunk`, which the caller reuses once this resolves: handed over as it is when the
   * stream's consumer releases chunks (releaseOf: resolves once the socket has taken it), else as
   * a copy (a stream keeps the chunks it queues).
   */
  async writeOwned(chunk: Uint8Array): Promise<void> {
    const own = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const released = releaseOf(this.out, own);
    if (!released) return this.write(Buffer.from(chunk));
    this.check();
    this.bytes += own.length;
    this.out.write(own);
    await waitFor(released, this.out, this.signal, `${this.name} was closed before the archive was complete`);
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
