/**
 * MarkerFilter: removes the job script's start and exit markers (job/script-builder.ts) from
 * the container's stdout, wherever write boundaries fall, and records what they said.
 * Bytes that might be the beginning of a marker are held back until they can be decided.
 */
import type { ByteWriter } from '../log/byte-writer.js';
import type { ScriptMarkers } from '../job/script-builder.js';

interface Pattern {
  /** latin1 text; '#' stands for one ASCII digit. */
  text: string;
  onMatch: (matched: string) => void;
}

export class MarkerFilter implements ByteWriter {
  /** True once the start marker went by: the script really ran. */
  started = false;
  /** The exit status the script reported, if its exit marker went by. */
  exitStatus: number | null = null;
  /** Resolves when the exit marker goes by (never, when it does not). */
  readonly exitSeen: Promise<void>;
  private markExitSeen: () => void = () => undefined;

  private pending = '';
  private readonly patterns: Pattern[];

  constructor(
    private readonly downstream: ByteWriter,
    markers: ScriptMarkers,
  ) {
    this.exitSeen = new Promise<void>((resolve) => (this.markExitSeen = resolve));
    this.patterns = [
      { text: markers.start, onMatch: () => (this.started = true) },
      {
        text: `${markers.exitPrefix}###${markers.exitSuffix}`,
        onMatch: (m) => {
          this.exitStatus = Number(m.slice(markers.exitPrefix.length, markers.exitPrefix.length + 3));
          this.markExitSeen();
        },
      },
    ];
  }

  write(chunk: Buffer): void {
    // latin1 maps bytes 1:1 onto string code units, so no UTF-8 sequence is ever split or altered.
    this.pending += chunk.toString('latin1');
    this.drain(false);
  }

  end(): void {
    this.drain(true);
    this.downstream.end();
  }

  private drain(final: boolean): void {
    let out = '';
    let i = 0;
    const s = this.pending;
    while (i < s.length) {
      const next = s.indexOf(this.patterns[0]!.text[0]!, i);
      const nextExit = s.indexOf(this.patterns[1]!.text[0]!, i);
      const candidates = [next, nextExit].filter((n) => n >= 0);
      if (!candidates.length) {
        out += s.slice(i);
        i = s.length;
        break;
      }
      const at = Math.min(...candidates);
      out += s.slice(i, at);
      i = at;
      const verdict = this.matchAt(s, at);
      if (verdict === 'partial' && !final) break;
      if (typeof verdict === 'number') {
        i = at + verdict;
        continue;
      }
      out += s[at];
      i = at + 1;
    }
    this.pending = s.slice(i);
    if (final && this.pending) {
      out += this.pending;
      this.pending = '';
    }
    if (out) this.downstream.write(Buffer.from(out, 'latin1'));
  }

  /** Length of a full match at `at`, 'partial' if the text ends inside a possible match, or 'none'. */
  private matchAt(s: string, at: number): number | 'partial' | 'none' {
    let partial = false;
    for (const p of this.patterns) {
      let k = 0;
      for (; k < p.text.length && at + k < s.length; k++) {
        const want = p.text[k]!;
        const got = s[at + k]!;
        if (want === '#' ? got < '0' || got > '9' : want !== got) break;
      }
      if (k === p.text.length) {
        p.onMatch(s.slice(at, at + k));
        return k;
      }
      if (at + k === s.length) partial = true;
    }
    return partial ? 'partial' : 'none';
  }
}
