/**
 * FileSink: a Writable that writes a response body into a new local file (mode 0600, truncated
 * first) and counts the bytes it received, so that a short body can be reported as "got X of Y".
 * Backpressure comes from the file writes; nothing is held in memory beyond one chunk. A
 * GarbageBudget frees the body's dead Buffers as it goes: a 157 MB download into a file alone
 * (bench/artifacts scratch, fresh processes, 3 each) cost 670-737 ms CPU and 10,000-14,600 page
 * faults without, 492-585 ms and 3,600-5,600 with. Extracted as it arrives into a fast sink, no
 * difference (the extraction's own budget scavenges); in bench/artifacts' download child, where
 * the download runs ahead of dockerd, page faults fell from 9,500-12,300 to 7,250-7,450.
 *
 * With an ArrivingFile (the archive is read while it downloads), the file is written in place
 * instead (not truncated: a new try writes the same bytes over the last one's, under a reader),
 * from `start` on (a resumed body), and the ArrivingFile is told about every chunk once it is in
 * the file.
 */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import type { ArrivingFile } from './arriving-file.js';
import { GarbageBudget } from './garbage-budget.js';

export class FileSink extends Writable {
  /** Bytes handed to the file so far. */
  bytes = 0;
  /**
   * Bytes that arrived from the stream piped into this sink, counted as they arrive (a body cut
   * short may end before the file is even open, while they wait in the buffer).
   */
  received = 0;
  private handle: FileHandle | null = null;
  /** Scavenges as the body streams in (see GarbageBudget). */
  readonly garbage = new GarbageBudget();

  constructor(
    readonly path: string,
    private readonly arriving?: ArrivingFile,
    /** Where the body goes in the file (with an ArrivingFile only). */
    private readonly start = 0,
  ) {
    super();
    this.on('pipe', (src: Readable) => {
      src.on('data', (chunk: Buffer) => {
        this.received += chunk.length;
      });
    });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, this.arriving ? constants.O_WRONLY | constants.O_CREAT : 'w', 0o600).then(
      (h) => {
        this.handle = h;
        this.arriving?.opened();
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeNext(chunk, callback);
  }

  /**
   * Pieces that queued behind a write (a disk slower than the network) go in one write, not one
   * write, promise and trip through libuv's pool each. (On bench/artifacts' localhost download
   * they rarely queue: 2,398 writes for 157 MB.)
   */
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.writeNext(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  /** Writes `bytes` after what was written so far, then tells the ArrivingFile. */
  private writeNext(bytes: Buffer, callback: (error?: Error | null) => void): void {
    // Each piece is a socket read's fresh Buffer, dead once written.
    this.garbage.add(bytes.length);
    const position = this.start + this.bytes;
    this.bytes += bytes.length;
    this.writeAll(bytes, position).then(
      () => {
        this.arriving?.wrote(position, bytes);
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeHandle().then(
      () => callback(),
      (err: Error) => callback(err),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeHandle().then(
      () => callback(error),
      () => callback(error),
    );
  }

  private async writeAll(chunk: Buffer, position: number): Promise<void> {
    for (let off = 0; off < chunk.length; ) {
      const { bytesWritten } = await this.handle!.write(chunk, off, chunk.length - off, position + off);
      off += bytesWritten;
    }
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }
}
