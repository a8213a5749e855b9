/**
 * The output file of an archive writer: bytes go to a write stream with back-pressure, and a
 * failed archive is removed so that no half-written file is taken for a good one.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { abortReason } from '../shared/abort.js';
import type { ArchiveSink } from './archive-sink.js';
import { waitForDrain } from './wait-for-drain.js';

export class ArchiveFileWriter implements ArchiveSink {
  private readonly out: WriteStream;
  private failed: Error | undefined;
  /** The file, for messages. */
  readonly name: string;

  constructor(
    readonly file: string,
    private readonly signal: AbortSignal,
  ) {
    this.name = file;
    this.out = createWriteStream(file, { mode: 0o600 });
    this.out.on('error', (err) => {
      this.failed ??= err;
    });
  }

  /** Writes `chunk`, waiting for the file to drain when its buffer is full. */
  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    if (this.out.write(chunk)) return;
    await waitForDrain(this.out, this.signal);
  }

  /**
   * Writes `chunk` and resolves once the file has it: the caller may then reuse its memory
   * (write() may still hold a chunk it has buffered).
   */
  async writeOwned(chunk: Uint8Array): Promise<void> {
    this.check();
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortReason(this.signal));
      this.signal.addEventListener('abort', onAbort, { once: true });
      this.out.write(chunk, (err) => {
        this.signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /**
   * Copies `source` (through `through`, if given) into the file, chunk by chunk, without ending
   * it. (stream.pipeline with `end: false` leaves listeners on the file stream per call.)
   */
  async pipeFrom(source: Readable, ...through: Duplex[]): Promise<void> {
    this.check();
    const last = through.at(-1) ?? source;
    const chain = through.length ? pipeline([source, ...through], { signal: this.signal }) : undefined;
    chain?.catch(() => undefined);
    for await (const chunk of last) await this.write(chunk as Uint8Array);
    await chain;
  }

  /** Closes the file and returns its size in bytes. */
  async finish(): Promise<number> {
    this.check();
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
    return this.out.bytesWritten;
  }

  /** Closes and removes the file (best effort); for a writer that failed. */
  async discard(): Promise<void> {
    this.out.destroy();
    await new Promise<void>((resolve) => {
      if (this.out.closed) resolve();
      else this.out.once('close', () => resolve());
    });
    await rm(this.file, { force: true }).catch(() => undefined);
  }

  private check(): void {
    if (this.signal.aborted) throw abortReason(this.signal);
    if (this.failed) throw this.failed;
  }
}
