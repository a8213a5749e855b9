/**
 * CentralDirectory: the zip central directory of an archive being written, kept as its bytes
 * (each entry's record encoded once its local header is out) rather than as one record object
 * per entry until the end. For 20,000 entries the objects (a record, its name Buffer, its mtime
 * Date, their hidden classes) held about 10 MB of V8 heap through the whole write, measured in
 * a heap snapshot of bench/artifacts/layers.mjs archive0; the bytes are about 1.5 MB. The layout
 * is zip-records.ts's (centralRecord), as gitlab-runner's archivers write it.
 */
import { centralRecord, type ZipRecord } from './zip-records.js';

const BLOCK = 64 * 1024;

export class CentralDirectory {
  private readonly blocks: Buffer[] = [];
  private block = Buffer.allocUnsafeSlow(BLOCK);
  private used = 0;
  /** Entries recorded. */
  count = 0;
  /** Bytes of the central directory. */
  size = 0;

  add(record: ZipRecord): void {
    const bytes = centralRecord(record);
    this.count++;
    this.size += bytes.length;
    if (this.used + bytes.length > this.block.length) {
      this.blocks.push(this.block.subarray(0, this.used));
      this.block = Buffer.allocUnsafeSlow(Math.max(BLOCK, bytes.length));
      this.used = 0;
    }
    bytes.copy(this.block, this.used);
    this.used += bytes.length;
  }

  /** The blocks in order (the last one partly filled). */
  *chunks(): Generator<Buffer> {
    yield* this.blocks;
    if (this.used > 0) yield this.block.subarray(0, this.used);
  }
}
