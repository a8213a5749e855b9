/**
 * ZipBlockReader: a zip file read through a window of whole blocks (1 MiB) rather than one
 * small read per field. yauzl reads the central directory 46 bytes and then one name at a time,
 * each an fs.read on the threadpool; served from a window, a central directory of 20,000 entries
 * costs a few reads. Extraction reads the entries' data in file order through a second window
 * (BlockWindow), so a zip of many small files is read sequentially with large reads.
 *
 * Memory: one block per window, reused each time the window moves, so a view it hands out is
 * valid only until its next move (`bytes` of bytes it does not hold); bytes kept longer are asked
 * for with `owned`. A fresh block per move cost more than the reading: each new MiB is 256 pages
 * the kernel must map and zero (scratch measure, zipToTar of 20,000 files of 10 KiB into a
 * discarding sink, fresh processes: 25,700-36,400 minor page faults and 1.59-2.32 s of CPU with a
 * fresh block per move, 14,800-26,300 and 1.24-1.88 s reused).
 *
 * With an ArrivingFile (an archive still being downloaded), every read goes through it: it waits
 * for the body to reach the bytes, or serves them from the end fetched first.
 */
import { close, createReadStream, fstat, open, read } from 'node:fs';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { ArrivingFile } from './arriving-file.js';

export const ZIP_BLOCK_SIZE = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * A window of one block over a file descriptor, moved forward as bytes are asked for. The views
 * `bytes` and `cached` return are valid until the window's next move.
 */
export class BlockWindow {
  private window: Buffer = EMPTY;
  private windowStart = 0;
  /** The buffer each move reads into (when what it reads fits), made on the first move. */
  private block: Buffer | undefined;
  /** A move is reading into `block`: an overlapping one reads into a fresh buffer. */
  private moving = false;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly arriving?: ArrivingFile,
    private readonly blockSize = ZIP_BLOCK_SIZE,
  ) {}

  /** Bytes [position, position + length) when the window holds them, else undefined. */
  cached(position: number, length: number): Buffer | undefined {
    const at = position - this.windowStart;
    if (at < 0 || at + length > this.window.length) return undefined;
    return this.window.subarray(at, at + length);
  }

  /**
   * Bytes [position, position + length), fewer at the end of the file. Moves the window to
   * `position` (reading at least a block) when it does not hold them.
   */
  async bytes(position: number, length: number): Promise<Buffer> {
    const hit = this.cached(position, length);
    if (hit) return hit;
    let want = Math.max(0, Math.min(Math.max(length, this.blockSize), this.size - position));
    // An archive still arriving: the bytes asked for, and of the rest of a block only what is in.
    if (this.arriving) want = Math.max(Math.min(length, this.size - position), Math.min(want, this.arriving.inFrom(position)));
    const reuse = want <= this.blockSize && !this.moving;
    const buf = reuse ? (this.block ??= Buffer.allocUnsafe(this.blockSize)).subarray(0, want) : Buffer.allocUnsafe(want);
    // The old window's bytes are about to be overwritten: no reader may find them meanwhile.
    if (reuse) this.window = EMPTY;
    this.moving ||= reuse;
    try {
      const got = await this.readInto(buf, position);
      this.window = buf.subarray(0, got);
      this.windowStart = position;
      return this.window.subarray(0, Math.min(length, got));
    } finally {
      if (reuse) this.moving = false;
    }
  }

  /**
   * Bytes [position, position + length) in a buffer of the caller's own (fewer at the end of the
   * file), which no later read overwrites: copied from the window when it holds them, else read
   * without moving it.
   */
  async owned(position: number, length: number): Promise<Buffer> {
    const n = Math.max(0, Math.min(length, this.size - position));
    const hit = this.cached(position, n);
    if (hit) return Buffer.from(hit);
    const buf = Buffer.allocUnsafe(n);
    return buf.subarray(0, await this.readInto(buf, position));
  }

  private async readInto(buf: Buffer, position: number): Promise<number> {
    let got = 0;
    while (got < buf.length) {
      const n = this.arriving
        ? await this.arriving.read(this.fd, buf, got, buf.length - got, position + got)
        : await readAt(this.fd, buf, got, buf.length - got, position + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }
}

/** yauzl's RandomAccessReader over a BlockWindow; closing it closes the file. */
export class ZipBlockReader extends yauzl.RandomAccessReader {
  private readonly window: BlockWindow;

  private constructor(
    readonly fd: number,
    readonly size: number,
    readonly arriving: ArrivingFile | undefined,
  ) {
    super();
    this.window = new BlockWindow(fd, size, arriving);
  }

  /**
   * Opens `file`; the errors are fs's (ENOENT, EACCES, EISDIR, ...). An arriving file is opened
   * once its end can be read; its size is the whole archive's, not what is in the file yet.
   */
  static async open(file: string, arriving?: ArrivingFile): Promise<ZipBlockReader> {
    const size = await arriving?.ready();
    const fd = await new Promise<number>((resolve, reject) => open(file, 'r', (err, d) => (err ? reject(err) : resolve(d))));
    try {
      const st = await new Promise<{ size: number; isFile: () => boolean }>((resolve, reject) =>
        fstat(fd, (err, s) => (err ? reject(err) : resolve(s))),
      );
      if (!st.isFile()) throw Object.assign(new Error(`EISDIR: not a regular file, open '${file}'`), { code: 'EISDIR' });
      return new ZipBlockReader(fd, size ?? st.size, arriving);
    } catch (err) {
      close(fd, () => undefined);
      throw err;
    }
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    const hit = this.window.cached(position, length);
    if (hit) {
      hit.copy(buffer, offset);
      process.nextTick(callback, null, length);
      return;
    }
    this.window.bytes(position, length).then(
      (b) => {
        b.copy(buffer, offset);
        callback(null, b.length);
      },
      (err: Error) => callback(err),
    );
  }

  override _readStreamForRange(start: number, end: number): Readable {
    // Entries are read through BlockWindow (berth never opens yauzl's read streams); a file still
    // arriving would give bytes not yet downloaded.
    if (this.arriving && !this.arriving.complete) throw new Error('a zip still downloading is read through its BlockWindow only');
    return createReadStream('', { fd: this.fd, start, end: end - 1, autoClose: false });
  }

  override close(callback: (err: Error | null) => void): void {
    close(this.fd, (err) => callback(err ?? null));
  }
}

function readAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}
