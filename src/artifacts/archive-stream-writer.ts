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
import { waitForDrain } from './wait-for-drain.js';

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
