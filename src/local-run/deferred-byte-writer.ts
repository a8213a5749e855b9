/**
 * The sink of a job log made before the job's turn (a prewarmed job): it keeps what is written
 * until `open` names the real sink (the job's terminal lines and log file), then passes
 * everything through. A log never opened (the job did not run) writes nothing anywhere.
 */
import type { ByteWriter } from '../log/byte-writer.js';

export class DeferredByteWriter implements ByteWriter {
  private target: ByteWriter | null = null;
  private pending: Buffer[] = [];
  private ended = false;

  write(chunk: Buffer): void {
    if (this.target) this.target.write(chunk);
    else if (!this.ended) this.pending.push(Buffer.from(chunk));
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.target?.end();
  }

  /** From now on everything goes to `target`, starting with what was kept. */
  open(target: ByteWriter): void {
    if (this.target) throw new Error('DeferredByteWriter: opened twice');
    this.target = target;
    for (const chunk of this.pending) target.write(chunk);
    this.pending = [];
    if (this.ended) target.end();
  }
}
