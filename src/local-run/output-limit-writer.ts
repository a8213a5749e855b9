/**
 * The output limit of a `berth exec` job log (`--output-limit`, as gitlab-runner's
 * `output_limit`, default 4096 KiB): past `limitBytes` of log, GitLab's notice is written once
 * and the rest of the job's output is dropped, from the log file and the terminal alike; the
 * job keeps running and its result does not change. The cut never splits a UTF-8 character.
 */
import { outputLimitNotice } from '../log/output-limit.js';
import type { ByteWriter } from '../log/byte-writer.js';

export class OutputLimitWriter implements ByteWriter {
  /** True once the limit was reached and the notice written. */
  exceeded = false;
  private written = 0;

  constructor(
    private readonly inner: ByteWriter,
    readonly limitBytes: number,
  ) {}

  write(chunk: Buffer): void {
    if (this.exceeded) return;
    const room = this.limitBytes - this.written;
    if (chunk.length <= room) {
      this.written += chunk.length;
      this.inner.write(chunk);
      return;
    }
    let cut = room;
    while (cut > 0 && (chunk[cut]! & 0xc0) === 0x80) cut--;
    if (cut > 0) this.inner.write(chunk.subarray(0, cut));
    this.written += cut;
    this.exceeded = true;
    this.inner.write(Buffer.from(outputLimitNotice(this.limitBytes)));
  }

  end(): void {
    this.inner.end();
  }
}
