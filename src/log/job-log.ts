/**
 * JobLog: the job's trace as GitLab shows it. Runner messages (Println/Infoln/Warningln/
 * Errorln), section markers and container output all go through a per-stream filter chain
 * (masking) into one shared sink (terminal, file, or the GitLab trace upload).
 */
import { ANSI } from '../shared/ansi.js';
import { type ByteWriter, SharedByteWriter } from './byte-writer.js';
import { Timestamper, type StreamType } from './timestamper.js';

export interface JobLogOptions {
  /** Builds the filter chain (masking, ...) in front of the sink for one stream. */
  filter?: (downstream: ByteWriter) => ByteWriter;
  /** Emit section_start/section_end markers (features.trace_sections). */
  traceSections?: boolean;
  /** Seconds since the epoch, injectable for tests. */
  nowSeconds?: () => number;
  /**
   * FF_TIMESTAMPS: every line of every stream gets gitlab-runner's time prefix (timestamper.ts),
   * after the stream's filter chain. `micros` is injectable for tests.
   */
  timestamps?: { micros?: () => number } | false;
}

/** gitlab-runner's stream ids: 00 the runner's own lines, 01 the job script's output. */
export const RUNNER_STREAM = { id: 0, type: 'O' } as const;
export const SCRIPT_STDOUT = { id: 1, type: 'O' } as const;
export const SCRIPT_STDERR = { id: 1, type: 'E' } as const;
export type LogStream = { id: number; type: StreamType };

export class JobLog {
  private readonly shared: SharedByteWriter;
  private readonly runner: ByteWriter;
  private readonly filter: (downstream: ByteWriter) => ByteWriter;
  /** Section markers are written (features.trace_sections). */
  readonly traceSections: boolean;
  private readonly nowSeconds: () => number;
  private readonly timestamps: { micros?: () => number } | false;
  private ended = false;
  /** The runner stream's last line is one the next may overwrite (rewrite), not ended yet. */
  private lineOpen = false;

  constructor(sink: ByteWriter, opts: JobLogOptions = {}) {
    this.shared = new SharedByteWriter(sink);
    this.filter = opts.filter ?? ((d) => d);
    this.traceSections = opts.traceSections ?? true;
    this.nowSeconds = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    this.timestamps = opts.timestamps ?? false;
    this.runner = this.openStream(RUNNER_STREAM);
  }

  /**
   * A new output stream (e.g. a stage's stdout) with its own filter chain. End it when the
   * output ends, so that anything a filter held back is flushed in order.
   */
  openStream(stream: LogStream = SCRIPT_STDOUT): ByteWriter {
    const sink = this.shared.handle();
    const ts = this.timestamps;
    return this.filter(ts ? new Timestamper(sink, stream.type, stream.id, ts.micros) : sink);
  }

  /**
   * Raw bytes on the runner stream (already formatted). After a line left open by `rewrite`, text
   * that does not overwrite it (no carriage return in front) starts on a line of its own.
   */
  raw(text: string | Buffer): void {
    if (this.ended) return;
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    if (this.lineOpen && bytes[0] !== 0x0d) this.runner.write(Buffer.from('\n'));
    this.lineOpen = false;
    this.runner.write(bytes);
  }

  /**
   * A line without its newline that the next `\r` line overwrites (the transfer meter's): `text`
   * starts with a carriage return. Any other line written after it starts on a new line.
   */
  rewrite(text: string): void {
    this.raw(text);
    if (!this.ended) this.lineOpen = true;
  }

  println(text = ''): void {
    this.raw(`${ANSI.clear}${text}${ANSI.reset}\n`);
  }

  info(text: string): void {
    this.raw(`${ANSI.boldGreen}${text}${ANSI.reset}\n`);
  }

  warning(text: string): void {
    this.raw(`${ANSI.yellow}WARNING: ${text}${ANSI.reset}\n`);
  }

  /** A yellow line without the WARNING: prefix (gitlab-runner's shell Warningf: "Failed to extract cache"). */
  notice(text: string): void {
    this.raw(`${ANSI.yellow}${text}${ANSI.reset}\n`);
  }

  error(text: string): void {
    this.raw(`${ANSI.boldRed}ERROR: ${text}${ANSI.reset}\n`);
  }

  /** A helper command's last word before it exits 1 (gitlab-runner's logrus Fatalln: `FATAL: too large`). */
  fatal(text: string): void {
    this.raw(`${ANSI.boldRed}FATAL: ${text}${ANSI.reset}\n`);
  }

  /** Opens a collapsible section with its cyan header line. */
  sectionStart(name: string, header: string): void {
    if (this.traceSections) this.raw(`section_start:${this.nowSeconds()}:${name}\r${ANSI.clear}`);
    this.println(`${ANSI.boldCyan}${header}${ANSI.reset}`);
  }

  sectionEnd(name: string): void {
    if (this.traceSections) this.raw(`section_end:${this.nowSeconds()}:${name}\r${ANSI.clear}`);
  }

  /** Ends the runner stream; the sink ends once every open stream has ended. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.runner.end();
  }
}
