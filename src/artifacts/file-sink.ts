/**
 * FileSink: a Writable that writes a response body into a new local file (mode 0600, truncated
 * first) and counts the bytes it received, so that a short body can be reported as "got X of Y".
 * Backpressure comes from the file writes.
 *
 * The body's pieces (64 KiB or less, as the socket delivers them) are gathered into blocks of
 * 1 MiB before they are written: one write per MiB, not per piece. Each write is a trip through
 * libuv's pool, and in pieces of 64 KiB it cost 3.5 times the CPU of whole MiB (150 MB into a file
 * here: 184 ms against 53 ms). Two blocks, reused: one being written, one gathering; a write
 * waits for the one before it. Bytes are not left waiting for more: a block that has not filled
 * within GATHER_WAIT_MS is written as it is (a slow network, the end of the body near), so a
 * reader of an ArrivingFile waits at most that long for bytes that came.
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

/** The size of a write. */
const GATHER = 1024 * 1024;
/** How long bytes may wait for a block to fill. */
export const GATHER_WAIT_MS = 3;

export class FileSink extends Writable {
  /** Bytes handed to the file so far (written, or being written; not those still gathering). */
  bytes = 0;
  /**
   * Bytes that arrived from the stream piped into this sink, counted as they arrive (a body cut
   * short may end before the file is even open, while they wait in the buffer).
   */
  received = 0;
  private handle: FileHandle | null = null;
  /** The block gathering pieces, and how much of it is filled. */
  private block: Buffer | undefined;
  private filled = 0;
  private readonly spare: Buffer[] = [];
  /** The write in flight (never rejects: its failure is kept in `failure`). */
  private inFlight: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private timer: NodeJS.Timeout | undefined;

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
    this.gatherPiece(chunk).then(
      () => callback(),
      (err: Error) => callback(err),
    );
  }

  /** Copies `chunk` into blocks, writing each one that fills (after the write before it is done). */
  private async gatherPiece(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length; ) {
      this.block ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(GATHER);
      const n = Math.min(GATHER - this.filled, chunk.length - at);
      chunk.copy(this.block, this.filled, at, at + n);
      this.filled += n;
      at += n;
      if (this.filled === GATHER) await this.flush();
    }
    if (this.filled > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush().catch((err: Error) => this.destroy(err));
      }, GATHER_WAIT_MS);
    }
  }

  /**
   * Starts the write of what is gathered, after the write in flight; resolves once that earlier
   * write is done (the block it wrote is free again), rejects if a write failed.
   */
  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const before = this.inFlight;
    if (this.filled > 0) {
      const block = this.block!;
      const bytes = block.subarray(0, this.filled);
      const position = this.start + this.bytes;
      this.bytes += bytes.length;
      this.block = undefined;
      this.filled = 0;
      this.inFlight = before.then(async () => {
        if (this.failure) return;
        try {
          await this.writeAll(bytes, position);
          this.arriving?.wrote(position, bytes);
          this.spare.push(block);
        } catch (err) {
          this.failure ??= err as Error;
        }
      });
    }
    await before;
    if (this.failure) throw this.failure;
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.flushAll().then(() => this.closeHandle()).then(
      () => callback(),
      (err: Error) => callback(err),
    );
  }

  /** Writes what is gathered and waits for every write. */
  private async flushAll(): Promise<void> {
    await this.flush();
    await this.inFlight;
    if (this.failure) throw this.failure;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // What is still gathering is dropped (not counted in `bytes`: a resumed body asks for it
    // again); a write in flight ends before the file is closed.
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight.then(() => this.closeHandle()).then(
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
