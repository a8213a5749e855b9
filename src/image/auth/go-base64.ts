/**
 * Go's `base64.StdEncoding.Decode`, which docker/cli's decodeAuth uses for an `auths` entry's
 * `auth`: standard alphabet, `=` padding required (unpadded input is an error), CR and LF
 * skipped anywhere, bits after the last full byte not checked (StdEncoding is not Strict).
 * A port of encoding/base64's decodeQuantum, so that the error names the same byte offset as
 * gitlab-runner's warning: `illegal base64 data at input byte N` (an offset, never the data).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Map([...ALPHABET].map((c, i) => [c.charCodeAt(0), i]));
const PAD = 0x3d;
const isNewline = (b: number | undefined): boolean => b === 0x0a || b === 0x0d;

export type GoBase64Result = { ok: true; bytes: Buffer } | { ok: false; error: string };

export function decodeGoBase64(text: string): GoBase64Result {
  const src = Buffer.from(text, 'utf8');
  const out: number[] = [];
  let si = 0;
  const corrupt = (offset: number): GoBase64Result => ({ ok: false, error: `illegal base64 data at input byte ${offset}` });
  while (si < src.length) {
    const quantum: number[] = [];
    let trailing = false;
    while (quantum.length < 4) {
      if (si === src.length) {
        if (quantum.length === 0) return { ok: true, bytes: Buffer.from(out) };
        return corrupt(si - quantum.length);
      }
      const b = src[si++]!;
      const v = DECODE.get(b);
      if (v !== undefined) {
        quantum.push(v);
        continue;
      }
      if (isNewline(b)) continue;
      if (b !== PAD || quantum.length < 2) return corrupt(si - 1);
      if (quantum.length === 2) {
        while (isNewline(src[si])) si++;
        if (si === src.length) return corrupt(src.length);
        if (src[si] !== PAD) return corrupt(si - 1);
        si++;
      }
      while (isNewline(src[si])) si++;
      if (si < src.length) return corrupt(si);
      trailing = true;
      break;
    }
    const [a = 0, b = 0, c = 0, d = 0] = quantum;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    out.push(...[(bits >> 16) & 0xff, (bits >> 8) & 0xff, bits & 0xff].slice(0, quantum.length - 1));
    if (trailing) break;
  }
  return { ok: true, bytes: Buffer.from(out) };
}
