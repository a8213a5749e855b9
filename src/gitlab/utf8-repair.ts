/**
 * Utf8Repair: turns any byte stream into valid UTF-8, chunk by chunk. Invalid sequences become
 * U+FFFD (EF BF BD, WHATWG "maximal subpart" replacement, as Node decodes); a character split
 * across two chunks is kept whole by holding its first bytes (at most 3) until the next chunk.
 *
 * Why here: GitLab renders the trace as UTF-8, and gitlab-runner replaces invalid bytes before
 * they reach its trace buffer (helpers/trace/buffer.go, runner#27844). The checksum and the
 * byte size are then computed over the repaired bytes, which is what GitLab stores. It sits
 * after masking (masking works on raw bytes, so a secret after binary noise is still found)
 * and before the output limit. Known limit: the stdout and stderr streams meet in one sink,
 * so a character split across two writes with a write of the other stream in between
 * becomes U+FFFD (gitlab-runner has the same single buffer).
 */
import { isUtf8 } from 'node:buffer';

export class Utf8Repair {
  private pending: Buffer = Buffer.alloc(0);

  /** Valid UTF-8 for everything given so far, except a possibly incomplete last character. */
  push(chunk: Buffer): Buffer {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const cut = data.length - incompleteTailLength(data);
    this.pending = Buffer.from(data.subarray(cut));
    return repair(data.subarray(0, cut));
  }

  /** The held bytes of an incomplete last character, replaced (the stream has ended). */
  flush(): Buffer {
    const rest = repair(this.pending);
    this.pending = Buffer.alloc(0);
    return rest;
  }
}

function repair(bytes: Buffer): Buffer {
  return isUtf8(bytes) ? bytes : Buffer.from(bytes.toString('utf8'), 'utf8');
}

/**
 * How many bytes at the end of `buf` are the start of a multi-byte character that is not
 * complete yet (0, 1, 2 or 3). Also used to avoid cutting a character between two patches.
 */
export function incompleteTailLength(buf: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, buf.length); k++) {
    const b = buf[buf.length - k]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    if (b < 0xc2 || b > 0xf4) return 0; // ASCII or a byte that never starts a sequence
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return k < need ? k : 0;
  }
  return 0;
}
