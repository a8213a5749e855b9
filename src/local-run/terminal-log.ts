/**
 * The terminal view of a running job for `berth exec`: whole lines, each prefixed with the job
 * name (coloured on a TTY), written to the shared output only when complete, so parallel jobs
 * never interleave inside a line. Section markers are dropped; with colour off every ANSI
 * sequence is dropped too.
 */
import type { ByteWriter } from '../log/byte-writer.js';
import { stripAnsi } from '../shared/ansi.js';

export interface TerminalOptions {
  color: boolean;
  /** Width the job names are padded to. */
  nameWidth: number;
  write: (text: string) => void;
}

// eslint-disable-next-line no-control-regex
const SECTION_RE = /section_(?:start|end):\d+:[A-Za-z0-9_.-]+(?:\[[^\]]*\])?\r(?:\x1b\[0K)?/g;
const PALETTE = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];

export class TerminalJobLog implements ByteWriter {
  private partial = '';
  private readonly prefix: string;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    name: string,
    index: number,
    private readonly opts: TerminalOptions,
  ) {
    const padded = name.padEnd(opts.nameWidth);
    const colour = PALETTE[index % PALETTE.length]!;
    this.prefix = opts.color ? `\x1b[${colour}m${padded}\x1b[0m | ` : `${padded} | `;
  }

  write(chunk: Buffer): void {
    this.partial += this.decoder.decode(chunk, { stream: true });
    const nl = this.partial.lastIndexOf('\n');
    if (nl < 0) return;
    const complete = this.partial.slice(0, nl);
    this.partial = this.partial.slice(nl + 1);
    this.emit(complete);
  }

  end(): void {
    this.partial += this.decoder.decode();
    if (this.partial) this.emit(this.partial);
    this.partial = '';
  }

  private emit(text: string): void {
    const lines = text.split('\n').map((line) => {
      let l = line.replace(SECTION_RE, '');
      // A carriage return redraws the line: keep what would be visible last.
      const cr = l.lastIndexOf('\r', l.length - 2);
      if (cr >= 0) l = l.slice(cr + 1);
      l = l.replace(/\r$/, '');
      if (!this.opts.color) l = stripAnsi(l);
      // eslint-disable-next-line no-control-regex -- the erase-line sequence GitLab's section markers use
      else l = l.replace(/\x1b\[0K/g, '') + (l.includes('\x1b[') ? '\x1b[0m' : '');
      return this.prefix + l;
    });
    this.opts.write(lines.join('\n') + '\n');
  }
}
