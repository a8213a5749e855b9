/**
 * TokenMasker: a streaming ByteWriter filter that hides GitLab tokens by their prefix
 * (gitlab-runner common/buildlogger/internal/tokensanitizer). The prefix stays visible and
 * the run of token characters `[A-Za-z0-9._=-]` after it becomes `[MASKED]`:
 *
 *   "use glpat-abc123.x now"  →  "use glpat-[MASKED] now"
 *
 * A prefix followed by no token character is left as it is. Correct across any split of the
 * writes: a tail that could be the start of a prefix is held back until the next write, and
 * `end()` flushes it (and closes a token that runs to the very end).
 */
import type { ByteWriter } from './byte-writer.js';
import { MASKED } from '../shared/masked.js';

/** `glpat-` is always masked (gitlab-runner DefaultPATPrefix). */
export const PAT_PREFIX = 'glpat-';

/** Masked too while FF_MASK_ALL_DEFAULT_TOKENS is on (the default). */
export const DEFAULT_TOKEN_PREFIXES = [
  'gloas-', 'gldt-', 'glrt-', 'glcbt-', 'glrtr-', 'glptt-', 'glft-', 'glimt-', 'glagent-', 'glsoat-', 'glffct-',
  '_gitlab_session=', 'gltok-',
] as const;

/** gitlab-runner stacks at most this many prefix filters and silently ignores the rest. */
export const MAX_TOKEN_PREFIXES = 15;

const MASK = Buffer.from(MASKED);

/** [A-Za-z0-9._=-] */
function isTokenChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x3d || c === 0x2d
  );
}

/**
 * The prefixes gitlab-runner would mask: `glpat-`, the defaults (unless turned off) and the
 * job's `features.token_mask_prefixes`, trimmed, without duplicates or empty ones, ordered by
 * length then text, and cut to the first 15 as gitlab-runner does.
 */
export function tokenMaskPrefixes(extra: readonly string[] = [], maskAllDefaultTokens = true): string[] {
  const all = [PAT_PREFIX, ...(maskAllDefaultTokens ? DEFAULT_TOKEN_PREFIXES : []), ...extra].map((p) => p.trim());
  const unique = [...new Set(all)].filter((p) => p !== '');
  unique.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  return unique.slice(0, MAX_TOKEN_PREFIXES);
}

export class TokenMasker implements ByteWriter {
  private readonly prefixes: Buffer[];
  private held: Buffer = Buffer.alloc(0);
  /** Inside a token: swallowing token characters after a prefix. */
  private inToken = false;
  private swallowed = false;

  /** `prefixes` are used as given (see tokenMaskPrefixes for gitlab-runner's list). */
  constructor(
    private readonly downstream: ByteWriter,
    prefixes: readonly string[],
  ) {
    this.prefixes = prefixes.filter((p) => p !== '').map((p) => Buffer.from(p, 'utf8'));
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.prefixes.length === 0) {
      this.downstream.write(chunk);
      return;
    }
    this.process(this.held.length ? Buffer.concat([this.held, chunk]) : chunk, false);
  }

  end(): void {
    this.process(this.held, true);
    this.downstream.end();
  }

  private process(buf: Buffer, final: boolean): void {
    const out: Buffer[] = [];
    const next = this.prefixes.map((p) => buf.indexOf(p));
    let i = 0;
    for (;;) {
      if (this.inToken) {
        let j = i;
        while (j < buf.length && isTokenChar(buf[j]!)) j++;
        if (j > i) this.swallowed = true;
        i = j;
        if (j === buf.length) break;
        this.closeToken(out);
      }
      const found = this.earliestPrefix(buf, i, next);
      if (!found) break;
      out.push(buf.subarray(i, found.end));
      i = found.end;
      this.inToken = true;
      this.swallowed = false;
    }
    let keep = 0;
    if (!this.inToken && !final) keep = this.heldLength(buf, i);
    if (buf.length - keep > i) out.push(buf.subarray(i, buf.length - keep));
    this.held = Buffer.from(buf.subarray(buf.length - keep));
    if (final && this.inToken) this.closeToken(out);
    if (out.length) this.downstream.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  }

  private closeToken(out: Buffer[]): void {
    if (this.swallowed) out.push(MASK);
    this.inToken = false;
    this.swallowed = false;
  }

  /** The first prefix occurrence at or after `from` (the longest one when several start there). */
  private earliestPrefix(buf: Buffer, from: number, next: number[]): { end: number } | null {
    let best = -1;
    let bestLen = 0;
    for (let k = 0; k < this.prefixes.length; k++) {
      const p = this.prefixes[k]!;
      if (next[k]! !== -1 && next[k]! < from) next[k] = buf.indexOf(p, from);
      const at = next[k]!;
      if (at === -1) continue;
      if (best === -1 || at < best || (at === best && p.length > bestLen)) {
        best = at;
        bestLen = p.length;
      }
    }
    return best === -1 ? null : { end: best + bestLen };
  }

  /** Length of the longest tail of buf[from..] that is a proper prefix of some token prefix. */
  private heldLength(buf: Buffer, from: number): number {
    let longest = 0;
    for (const p of this.prefixes) longest = Math.max(longest, partialTail(buf, from, p));
    return longest;
  }
}

/**
 * Length of the longest tail of buf[from..] that equals a proper prefix of `phrase`
 * (0 when none). Shared by the token and phrase maskers.
 */
export function partialTail(buf: Buffer, from: number, phrase: Buffer): number {
  const first = phrase[0]!;
  let j = Math.max(from, buf.length - (phrase.length - 1));
  while (j < buf.length) {
    j = buf.indexOf(first, j);
    if (j === -1) return 0;
    const n = buf.length - j;
    if (buf.compare(phrase, 0, n, j, buf.length) === 0) return n;
    j++;
  }
  return 0;
}
