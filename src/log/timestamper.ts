/**
 * Timestamper: the per-line prefix gitlab-runner writes into a job's trace when FF_TIMESTAMPS is
 * on (its default since 17.x; common/buildlogger/internal/timestamper): every line starts with
 * `YYYY-MM-DDTHH:MM:SS.uuuuuuZ <stream id, 2 hex digits><O|E><' ' or '+'>`, which GitLab reads to
 * show the time of each line. Stream 00 is the runner's own lines, 01 the job script's output.
 *
 * As gitlab-runner's: a line is written once its newline comes (the time is when it began); a
 * write with a `\r` but no newline (a progress bar, a section marker) is written at once as one
 * entry, and the next entry continues it (`+`); a partial line longer than 8 KiB is written out
 * and continued the same way; end() writes what is held with a newline.
 */
import type { ByteWriter } from './byte-writer.js';

export type StreamType = 'O' | 'E';

/** gitlab-runner's bufSize: what is held at most while no newline comes. */
const BUFFER_SIZE = 8 * 1024;
const NEWLINE = Buffer.from('\n');

export class Timestamper implements ByteWriter {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private continued = false;
  private readonly suffix: string;

  constructor(
    private readonly downstream: ByteWriter,
    streamType: StreamType,
    streamId: number,
    /** Microseconds since the epoch (injectable for tests). */
    private readonly nowMicros: () => number = defaultNowMicros,
  ) {
    this.suffix = `${(streamId & 0xff).toString(16).padStart(2, '0')}${streamType}`;
  }

  write(chunk: Buffer): void {
    let at = 0;
    const nl = chunk.indexOf(0x0a);
    if (nl >= 0) {
      // The held start of a line ends here: it keeps the header it got when it began.
      if (this.heldBytes > 0) {
        this.flushHeld();
        this.downstream.write(chunk.subarray(0, nl + 1));
        at = nl + 1;
      }
      for (let next = chunk.indexOf(0x0a, at); next >= 0; next = chunk.indexOf(0x0a, at)) {
        this.downstream.write(this.header());
        this.downstream.write(chunk.subarray(at, next + 1));
        at = next + 1;
      }
    }
    const rest = chunk.subarray(at);
    if (rest.length === 0) return;
    // A carriage return (a progress bar, a section marker), or more than 8 KiB without a newline:
    // written now as one entry, and the next one continues it.
    if (rest.includes(0x0d) || rest.length + this.heldBytes > BUFFER_SIZE) {
      if (this.heldBytes > 0) this.flushHeld();
      else this.downstream.write(this.header());
      this.downstream.write(rest);
      this.downstream.write(NEWLINE);
      this.continued = true;
      return;
    }
    if (this.heldBytes === 0) this.hold(this.header());
    this.hold(rest);
  }

  end(): void {
    if (this.heldBytes > 0) {
      this.hold(NEWLINE);
      this.flushHeld();
    }
    this.downstream.end();
  }

  private hold(part: Buffer): void {
    this.held.push(part);
    this.heldBytes += part.length;
  }

  private flushHeld(): void {
    this.downstream.write(this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes));
    this.held = [];
    this.heldBytes = 0;
  }

  private header(): Buffer {
    const header = Buffer.from(`${formatMicros(this.nowMicros())} ${this.suffix}${this.continued ? '+' : ' '}`, 'latin1');
    this.continued = false;
    return header;
  }
}

function defaultNowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** `YYYY-MM-DDTHH:MM:SS.uuuuuuZ`, UTC, microseconds. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const fraction = String(((micros % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 19)}.${fraction}Z`;
}
