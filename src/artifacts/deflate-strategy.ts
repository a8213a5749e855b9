/**
 * DeflateStrategy: when to skip Deflate's search for repeats (LZ77) and code the bytes with
 * Huffman codes alone (zlib's Z_HUFFMAN_ONLY).
 *
 * Much of what jobs archive has no repeats for LZ77 to find: compressed files (.gz, .jar, .png,
 * .zip), encrypted or random data, and text encodings of them (base64). zlib still searches for
 * repeats at every byte, and that search is most of its time: on 200 MB of base64 text, level 5
 * took 1.8-3.6 s here, Huffman codes alone 1.0 s, with the same 154.4 MB out (measured with
 * deflateRawSync on 20,000 files of 10 KiB). On text with repeats (node_modules), Huffman alone
 * is 2.3x larger, so it must not be the default.
 *
 * The choice is learnt per kind of file (its extension, lower case): the first files of a kind
 * are compressed both ways (a probe), and the smaller result is kept; after that, one file in
 * PROBE_EVERY is probed again, and while the probes keep confirming the choice the interval
 * doubles up to one in MAX_PROBE_EVERY (a probe also compresses its file at the level, several
 * times the work of Huffman codes alone: 20,000 files of 10 KiB of base64 through
 * DeflatePool.deflateNow took 520 ms with 626 probes at a fixed interval of 32, 450 ms with the 82
 * of the doubling interval). While the probes find that LZ77 saves less than
 * LZ_GAIN_NEEDED of what Huffman codes alone give, files of that kind are coded with Huffman
 * codes only. Files without an extension ('') are always compressed at the level: they share
 * one kind whatever their content (binaries, LICENSE, Makefile). Only the small files an
 * archive holds in memory (writeZip's SMALL_FILE, 1 MiB) are judged: a larger file is streamed
 * through zlib at the level, since its first bytes say little about the rest (a disk image
 * that starts with random bytes and is zeros after), and Huffman codes alone cannot go below
 * one bit per byte. The output is standard Deflate either way (any unzip reads it); only its size may
 * differ, by less than that margin on files like the probed ones.
 */

/** How a file is compressed: at the level (LZ77 + Huffman), Huffman codes alone, or both (a probe). */
export type DeflateMode = 'level' | 'huffman' | 'probe';

/** LZ77 must save at least this share of the Huffman-only size to be worth its time. */
const LZ_GAIN_NEEDED = 0.03;
/** Files of a kind that are probed before its choice is trusted. */
const PROBE_FIRST = 2;
/** After that, one file of a kind in this many is probed again (its content may change)... */
const PROBE_EVERY = 32;
/** ...doubling while the probes confirm the choice, up to this; a probe that changes it starts again at PROBE_EVERY. */
const MAX_PROBE_EVERY = 256;
/** Smaller files are compressed at the level without a probe (too small to tell, too small to matter). */
const MIN_PROBE_BYTES = 512;
/** Kinds remembered at most (an archive of files with random extensions must not grow this without bound). */
const MAX_KINDS = 256;

interface KindState {
  /**
   * The probes' ratios (size at the level / size with Huffman codes alone), each probe counting
   * the same whatever its file's size, weighted towards the recent ones; `weight`: their weights.
   */
  ratio: number;
  weight: number;
  /** Probes handed out, and probes whose results came back. */
  issued: number;
  probes: number;
  sinceProbe: number;
  /** Files between two probes now. */
  interval: number;
}

export class DeflateStrategy {
  private readonly kinds = new Map<string, KindState>();

  /** The mode for the next file of `kind` (`size` bytes). */
  mode(kind: string, size: number): DeflateMode {
    if (size < MIN_PROBE_BYTES || kind === '') return 'level';
    const s = this.state(kind);
    if (s === undefined) return 'level';
    if (s.issued < PROBE_FIRST) return this.probe(s);
    // The first probes are still being compressed (a batch at a time): the level until they tell.
    if (s.probes === 0) return 'level';
    if (++s.sinceProbe >= s.interval) return this.probe(s);
    return this.huffmanPays(s) ? 'huffman' : 'level';
  }

  /** What a probe of a file of `kind` found: its size at the level and with Huffman codes alone. */
  record(kind: string, lzBytes: number, huffmanBytes: number): void {
    const s = this.kinds.get(kind);
    if (s === undefined || huffmanBytes <= 0) return;
    // The first probes set the choice; each later one that confirms it doubles the interval.
    const before = s.probes >= PROBE_FIRST ? this.huffmanPays(s) : undefined;
    // Older probes count half as much as each new one: the choice follows a change of content.
    s.ratio = s.ratio / 2 + lzBytes / huffmanBytes;
    s.weight = s.weight / 2 + 1;
    s.probes++;
    if (before === undefined) return;
    s.interval = before === this.huffmanPays(s) ? Math.min(s.interval * 2, MAX_PROBE_EVERY) : PROBE_EVERY;
  }

  private probe(s: KindState): DeflateMode {
    s.issued++;
    s.sinceProbe = 0;
    return 'probe';
  }

  /** LZ77 saves too little: the weighted ratio at least 1 - LZ_GAIN_NEEDED. */
  private huffmanPays(s: KindState): boolean {
    return s.ratio >= s.weight * (1 - LZ_GAIN_NEEDED);
  }

  /** The kind's state; undefined for a new kind once MAX_KINDS are known (compressed at the level, as files without an extension). */
  private state(kind: string): KindState | undefined {
    let s = this.kinds.get(kind);
    if (s === undefined && this.kinds.size < MAX_KINDS) {
      s = { ratio: 0, weight: 0, issued: 0, probes: 0, sinceProbe: 0, interval: PROBE_EVERY };
      this.kinds.set(kind, s);
    }
    return s;
  }
}

/** The kind of a file for DeflateStrategy: its extension in lower case ('' for none). */
export function fileKind(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || base.length - dot > 16) return '';
  return base.slice(dot + 1).toLowerCase();
}
