/**
 * TraceBuffer: the job trace on disk, as gitlab-runner keeps it (helpers/trace/buffer.go).
 *
 *   append(bytes) → UTF-8 repair → output limit → temp file (+ CRC-32 and byte size)
 *
 * - The file is created with mode 0600 and unlinked at once (Linux keeps it while the fd is
 *   open), so no trace is ever left behind on disk, even after a crash. RSS stays bounded:
 *   at most STAGE_BYTES are kept in memory before they are written.
 * - `limitBytes` is gitlab-runner's `output_limit`: past it, GitLab's exact notice is appended
 *   once and everything else is dropped (the job keeps running). The cut never splits a
 *   UTF-8 character.
 * - A failed disk write (ENOSPC, EIO) never throws into the job log: it is kept in `writeError`,
 *   and everything after it is dropped, so that the checksum and size always describe exactly
 *   the bytes in the file.
 */
import { closeSync, openSync, read, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Crc32 } from '../shared/crc32.js';
import { Utf8Repair } from './utf8-repair.js';
import { outputLimitNotice } from '../log/output-limit.js';

const STAGE_BYTES = 64 * 1024;

export interface TraceBufferOptions {
  /** Output limit in bytes; see DEFAULT_OUTPUT_LIMIT_KIB. */
  limitBytes: number;
  /** Directory for the temp file (default: os.tmpdir()). */
  dir?: string;
}

export class TraceBuffer {
  /** The first disk write error, if any; later output is dropped. */
  writeError: Error | null = null;
  /** True once the output limit was reached and the notice written. */
  limitExceeded = false;
  /** Bytes dropped by the limit, by a write error, or after finish(). */
  droppedBytes = 0;

  private readonly fd: number;
  private readonly repair = new Utf8Repair();
  private readonly crc = new Crc32();
  private readonly limitBytes: number;
  /** One fixed staging area: small writes are copied here, so they make no garbage. */
  private readonly stage = Buffer.allocUnsafe(STAGE_BYTES);
  private stagedBytes = 0;
  /** Bytes accepted so far (staged or on disk), for the output limit. */
  private accepted = 0;
  private fileSize = 0;
  private finished = false;
  private closed = false;

  constructor(opts: TraceBufferOptions) {
    this.limitBytes = opts.limitBytes;
    const path = join(opts.dir ?? tmpdir(), `berth-trace-${process.pid}-${randomBytes(8).toString('hex')}`);
    this.fd = openSync(path, 'wx+', 0o600);
    unlinkSync(path);
  }

  append(chunk: Buffer): void {
    if (this.finished || this.writeError) {
      this.droppedBytes += chunk.length;
      return;
    }
    this.limit(this.repair.push(chunk));
  }

  /** No more input: the bytes of an incomplete last character become U+FFFD. */
  finish(): void {
    if (this.finished) return;
    if (!this.writeError) this.limit(this.repair.flush());
    this.finished = true;
    this.flush();
  }

  /** Bytes in the trace (after repair and limit). */
  get size(): number {
    this.flush();
    return this.fileSize;
  }

  /** `crc32:%08x` over every byte of the trace. */
  checksum(): string {
    this.flush();
    return `crc32:${this.crc.hex()}`;
  }

  /** Up to `length` bytes from `offset` (fewer at the end of the trace). */
  async read(offset: number, length: number): Promise<Buffer> {
    this.flush();
    const n = Math.max(0, Math.min(length, this.fileSize - offset));
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = await new Promise<number>((resolve, reject) =>
        read(this.fd, buf, got, n - got, offset + got, (err, bytes) => (err ? reject(err) : resolve(bytes))),
      );
      if (r === 0) break;
      got += r;
    }
    return got === n ? buf : buf.subarray(0, got);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private limit(data: Buffer): void {
    if (data.length === 0) return;
    const capacity = this.limitBytes - this.accepted;
    if (capacity <= 0) {
      this.droppedBytes += data.length;
      return;
    }
    if (data.length < capacity) {
      this.stageBytes(data);
      return;
    }
    let cut = capacity;
    while (cut > 0 && cut < data.length && (data[cut]! & 0xc0) === 0x80) cut--;
    this.stageBytes(data.subarray(0, cut));
    this.droppedBytes += data.length - cut;
    this.stageBytes(Buffer.from(outputLimitNotice(this.limitBytes), 'utf8'));
    this.limitExceeded = true;
  }

  private stageBytes(data: Buffer): void {
    if (data.length === 0) return;
    this.accepted += data.length;
    if (this.stagedBytes + data.length > STAGE_BYTES) this.flush();
    if (data.length >= STAGE_BYTES) {
      this.writeOut(data); // large writes go straight to the file, without a copy
      return;
    }
    data.copy(this.stage, this.stagedBytes);
    this.stagedBytes += data.length;
  }

  private flush(): void {
    if (this.stagedBytes === 0) return;
    const n = this.stagedBytes;
    this.stagedBytes = 0;
    this.writeOut(this.stage.subarray(0, n));
  }

  private writeOut(data: Buffer): void {
    if (this.writeError || this.closed) {
      this.droppedBytes += data.length;
      return;
    }
    let off = 0;
    try {
      while (off < data.length) {
        const n = writeSync(this.fd, data, off, data.length - off, this.fileSize);
        this.crc.update(data.subarray(off, off + n));
        this.fileSize += n;
        off += n;
      }
    } catch (err) {
      this.writeError = err instanceof Error ? err : new Error(String(err));
      this.droppedBytes += data.length - off;
    }
  }
}
