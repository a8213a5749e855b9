/**
 * ArrivingFile: a zip archive that is still being downloaded into a local file, readable before
 * its last byte is in. A zip is read from its end (the central directory), so the downloader
 * fetches the end first with a Range request (`setTail`) while the body streams into the file
 * from the start; the extraction then reads the central directory from those tail bytes and each
 * entry from the file as soon as the body has reached it (`read` waits). Downloading and
 * extracting overlap instead of following each other.
 *
 * Nothing is trusted that the body has not confirmed: every byte of the body that lands where
 * the tail was fetched is compared with it (`wrote`), and a difference (the object changed
 * between the two requests) fails every read. Reads below the tail wait for the body; the file
 * is the only source of them. A new try of the download writes the same file again from its
 * start, in place (never truncated: a read in flight still finds the bytes it waited for; the
 * archive is the same object, so they are the same bytes). When no tail was fetched (the server
 * ignores Range), reads wait for the whole file, as before.
 */
import { read } from 'node:fs';
import { ArchiveError } from './archive-error.js';

export class ArrivingFile {
  /** Bytes [0, written) are in the file. */
  private written = 0;
  private whole = false;
  private isOpen = false;
  private failure: Error | undefined;
  private tail: { start: number; bytes: Buffer } | undefined;
  private size: number | undefined;
  private waiters: Array<{ ready: () => boolean; resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(readonly path: string) {}

  /** The writer has opened the file (it exists: a reader may open it too). */
  opened(): void {
    this.isOpen = true;
    this.wake();
  }

  /** `chunk` is now in the file at `position` (a try's bytes arrive in order). */
  wrote(position: number, chunk: Buffer): void {
    const tail = this.tail;
    if (tail && position + chunk.length > tail.start) {
      const from = Math.max(position, tail.start);
      const mine = chunk.subarray(from - position);
      const theirs = tail.bytes.subarray(from - tail.start, from - tail.start + mine.length);
      if (!mine.equals(theirs)) {
        this.fail(
          new ArchiveError(
            this.path,
            undefined,
            `the archive ${this.path} changed while it was downloaded: its end, fetched first, differs from the whole body (the server sent two different files); retry the job`,
          ),
        );
        return;
      }
    }
    this.written = Math.max(this.written, position + chunk.length);
    this.wake();
  }

  /** The last `bytes` of the archive, `size` bytes in all, fetched ahead of the body. */
  setTail(size: number, bytes: Buffer): void {
    if (this.whole || this.failure || this.tail) return;
    // What the body has written already is read from the file: the tail is never compared with it.
    const skip = Math.max(0, this.written - (size - bytes.length));
    if (skip >= bytes.length) return;
    this.size = size;
    this.tail = { start: size - bytes.length + skip, bytes: bytes.subarray(skip) };
    this.wake();
  }

  /** The whole archive (`size` bytes) is in the file. */
  finish(size: number): void {
    if (this.failure) return;
    if (this.size !== undefined && size !== this.size) {
      this.fail(new ArchiveError(this.path, undefined, `the archive ${this.path} is ${size} bytes, not the ${this.size} its end was fetched from; retry the job`));
      return;
    }
    this.size = size;
    this.written = size;
    this.whole = true;
    // Reads now come from the file: the tail's copy is no longer needed.
    this.tail = undefined;
    this.wake();
  }

  /** The download failed: every read (and the wait for readiness) fails with `err`. */
  fail(err: Error): void {
    if (this.failure || this.whole) return;
    this.failure = err;
    this.tail = undefined;
    const waiters = this.waiters.splice(0);
    for (const w of waiters) w.reject(err);
  }

  /** Whether the download failed. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** How many bytes from `position` on are in the file already. */
  inFrom(position: number): number {
    return Math.max(0, (this.whole ? this.size! : this.written) - position);
  }

  /** Throws the failure, if the download failed. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Whether the whole file is in. */
  get complete(): boolean {
    return this.whole;
  }

  /**
   * Resolves with the archive's size once a reader may open the file and read its end: the file
   * exists and the tail is in, or the whole file is.
   */
  async ready(): Promise<number> {
    await this.until(() => this.whole || (this.isOpen && this.tail !== undefined));
    return this.size!;
  }

  /** Resolves once the file's first `n` bytes are in (all of it, when it is shorter). */
  async head(n: number): Promise<void> {
    const size = await this.ready();
    await this.until(() => this.whole || this.written >= Math.min(n, size));
  }

  /** Resolves once the whole file is in. */
  async completed(): Promise<void> {
    await this.until(() => this.whole);
  }

  /**
   * Reads bytes [position, position + length) of the archive into `buf` at `offset` (fewer at its
   * end), from the tail when they lie in it, else from `fd` once the body has reached them.
   */
  async read(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    const size = await this.ready();
    const end = Math.min(position + length, size);
    if (end <= position) return 0;
    await this.until(() => this.whole || end <= this.written || (this.tail !== undefined && position >= this.tail.start));
    const tail = this.tail;
    if (!this.whole && end > this.written && tail && position >= tail.start) {
      return tail.bytes.copy(buf, offset, position - tail.start, end - tail.start);
    }
    return new Promise((resolve, reject) => read(fd, buf, offset, end - position, position, (err, n) => (err ? reject(err) : resolve(n))));
  }

  private until(ready: () => boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ ready, resolve, reject }));
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.ready()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
