/**
 * FileSink: a Writable that writes a response body into a new local file (mode 0600, truncated
 * first) and counts the bytes it received, so that a short body can be reported as "got X of Y".
 * The body's pieces (a socket read each, 64 KiB at most) are copied into one of two 1 MiB blocks,
 * and the file is written a block at a time while the other block fills; backpressure comes
 * from the file writes (a piece waits only when both blocks are taken). A write per piece cost
 * the main thread a trip through libuv's pool each (2,400 for 157 MB): an S3 cache of 157 MB
 * extracted as it downloads (bench/artifacts scratch, 8 alternating pairs) took 1,540-1,760 ms
 * of CPU that way, 1,360-1,530 ms with the blocks (its time: median 3.36 s, 3.28 s with the
 * blocks, dockerd's untar sets it). A body cut short still has what it brought
 * written before the file is closed (`bytes` is what the file holds). A
 * GarbageBudget frees the body's dead Buffers as it goes: a 157 MB download into a file alone
 * (bench/artifacts scratch, fresh processes, 3 each) cost 670-737 ms CPU and 10,000-14,600 page
 * faults without, 492-585 ms and 3,600-5,600 with. Extracted as it arrives into a fast sink, no
 * difference (the extraction's own budget scavenges); in bench/artifacts' download child, where
 * the download runs ahead of dockerd, page faults fell from 9,500-12,300 to 7,250-7,450.
 *
 * With an ArrivingFile (the archive is read while it downloads), the file is written in place
 * instead (not truncated: a new try writes the same bytes over the last one's, under a reader),
 * from `start` on (a resumed body), and the ArrivingFile is told about every block once it is in
 * the file.
 */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import type { ArrivingFile } from './arriving-file.js';
import { GarbageBudget } from './garbage-budget.js';

/** The body goes to the file in writes of this size (the last one shorter). */
const STAGE_BYTES = 1024 * 1024;

export class FileSink extends Writable {
  /** Bytes handed to the file so far (a block not yet written is written before the file closes). */
  bytes = 0;
  /**
   * Bytes that arrived from the stream piped into this sink, counted as they arrive (a body cut
   * short may end before the file is even open, while they wait in the buffer).
   */
  received = 0;
  private handle: FileHandle | null = null;
  /** Bytes staged into the blocks so far (the file gets them a block at a time). */
  private handed = 0;
  /** The block being filled, `used` bytes of it; the other one may be under a write. */
  private filling = Buffer.allocUnsafeSlow(STAGE_BYTES);
  private other = Buffer.allocUnsafeSlow(STAGE_BYTES);
  private used = 0;
  private writing: Promise<void> = Promise.resolve();
  /** A piece that waits for a block (both under writes), until it is copied. */
  private copying: Promise<void> = Promise.resolve();
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
    // Each piece is a socket read's fresh Buffer, dead once copied.
    this.garbage.add(chunk.length);
    this.bytes += chunk.length;
    const copying = this.stageCopy(chunk);
    if (!copying) {
      callback();
      return;
    }
    // Waited for by _destroy: a body cut short while this piece waits still gets it into the file.
    this.copying = copying.catch(() => undefined);
    copying.then(() => callback(), (err: Error) => callback(err));
  }

  /**
   * Copies `chunk` into the block being filled; a full block is handed to the file (once the
   * write of the other block has completed, which is the only time this waits).
   */
  private stageCopy(chunk: Buffer): Promise<void> | undefined {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(STAGE_BYTES - this.used, chunk.length - off);
      chunk.copy(this.filling, this.used, off, off + n);
      this.used += n;
      off += n;
      if (this.used === STAGE_BYTES) return this.handOver().then(() => this.stageCopy(chunk.subarray(off)));
    }
    return undefined;
  }

  /** Starts the write of the filled part of the block and turns to the other one. */
  private async handOver(): Promise<void> {
    if (this.used === 0) return;
    const block = this.filling.subarray(0, this.used);
    const position = this.start + this.handed;
    this.handed += this.used;
    this.used = 0;
    // The other block is free once its write has completed.
    await this.writing;
    [this.filling, this.other] = [this.other, this.filling];
    this.writing = this.writeAll(block, position).then(() => this.arriving?.wrote(position, block));
    // Awaited by the next handOver or by the end; never an unhandled rejection meanwhile.
    this.writing.catch(() => undefined);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.flushBlocks()
      .then(() => this.closeHandle())
      .then(
        () => callback(),
        (err: Error) => callback(err),
      );
  }

  /**
   * A body cut short (or stopped): what it brought, a piece that waits for a block included, is
   * still written before the file is closed, so that `bytes` is what the file holds and a resumed
   * download goes on from there.
   */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.copying
      .then(() => (this.handle ? this.flushBlocks() : undefined))
      .catch(() => undefined)
      .then(() => this.closeHandle())
      .then(
        () => callback(error),
        () => callback(error),
      );
  }

  /** Hands over the part-filled block and waits until every block handed over is in the file. */
  private async flushBlocks(): Promise<void> {
    await this.handOver();
    await this.writing;
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
