/**
 * The full log of one job, as plain text (no colours, no section markers), in a file under
 * `.berth/logs/`. Writes are buffered and appended synchronously in batches: a job log is
 * small next to what the job does, and the file must be complete when the job ends. The file
 * is opened by JobLogFiles (never through a link); this class only writes the descriptor.
 */
import { closeSync, fstatSync, writeSync } from 'node:fs';
import type { ByteWriter } from '../log/byte-writer.js';
import { stripAnsi } from '../shared/ansi.js';

export class PlainFileLog implements ByteWriter {
  private fd: number | null;
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8');
  /** The file's size when it was opened: where this run's lines begin (a retried job's file holds its earlier runs first). */
  readonly start: number;

  /** `fd`: the open, writable, regular log file at `path`; closed by `end()`. */
  constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
    this.start = fstatSync(fd).size;
  }

  write(chunk: Buffer): void {
    this.pending += this.decoder.decode(chunk, { stream: true });
    const nl = this.pending.lastIndexOf('\n');
    if (nl < 0 && this.pending.length < 64 * 1024) return;
    const cut = nl < 0 ? this.pending.length : nl + 1;
    this.flush(this.pending.slice(0, cut));
    this.pending = this.pending.slice(cut);
  }

  end(): void {
    this.pending += this.decoder.decode();
    this.flush(this.pending);
    this.pending = '';
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private flush(text: string): void {
    if (this.fd === null || !text) return;
    writeSync(this.fd, stripAnsi(text).replace(/\r(?!\n)/g, ''));
  }
}
