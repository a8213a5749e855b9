/**
 * Masking for the job log: masked variables' values, sensitive URL parameters and GitLab
 * tokens become `[MASKED]`, however the output is split into writes.
 *
 *   createMaskingFilter({ phrases, tokenPrefixes })   per-stream filter for `new JobLog(sink, { filter })`
 *   maskText(text, phrases)                           one-shot, for runner log lines and error messages
 *   maskPhrasesForJob(job)                            what to pass as `phrases` for a job
 *
 * The chain is gitlab-runner's (common/buildlogger/build_logger.go): phrases → URL parameters
 * → token prefixes → downstream. Each stream needs its own filter (state is per stream), so a
 * secret interleaved byte by byte between stdout and stderr is not masked: a documented
 * limitation shared with gitlab-runner, as is a transformed secret (base64 of it, say).
 *
 * PhraseMasker, unlike gitlab-runner's stacked per-phrase writers, finds every occurrence of
 * every phrase in the raw bytes and masks the union of them: overlapping occurrences (S and
 * S+"x", "ab" and "bcd" in "abcd") become one `[MASKED]`, so no byte of any matched phrase
 * shows; adjacent ones ("SS") stay two. Only a tail that is a proper prefix of some phrase is
 * held back between writes, and `end()` flushes it as it is (it never completed a phrase).
 */
import type { JobSpec } from '../job/job-spec.js';
import { type ByteWriter, MemoryByteWriter } from './byte-writer.js';
import { partialTail, TokenMasker, tokenMaskPrefixes } from './token-masker.js';
import { UrlMasker } from './url-masker.js';
import { MASKED } from '../shared/masked.js';

const MASK = Buffer.from(MASKED);

export interface MaskingOptions {
  /** Exact values to hide (masked variables). Trimmed; empty ones are ignored. */
  phrases: readonly string[];
  /** `features.token_mask_prefixes` of the job, added to `glpat-` and the defaults. */
  tokenPrefixes?: readonly string[];
  /** FF_MASK_ALL_DEFAULT_TOKENS (default true): also mask gloas-, gldt-, glrt-, glcbt-, .... */
  maskAllDefaultTokens?: boolean;
}

/** A filter factory for JobLog: `new JobLog(sink, { filter: createMaskingFilter(opts) })`. */
export function createMaskingFilter(opts: MaskingOptions): (downstream: ByteWriter) => ByteWriter {
  const prefixes = tokenMaskPrefixes(opts.tokenPrefixes ?? [], opts.maskAllDefaultTokens ?? true);
  const phrases = normalizePhrases(opts.phrases);
  return (downstream) => new PhraseMasker(new UrlMasker(new TokenMasker(downstream, prefixes)), phrases);
}

/** Masks one complete string with the same chain (phrases, URL parameters, token prefixes). */
export function maskText(text: string, phrases: readonly string[], tokenPrefixes: readonly string[] = []): string {
  const out = new MemoryByteWriter();
  const w = createMaskingFilter({ phrases, tokenPrefixes })(out);
  w.write(Buffer.from(text, 'utf8'));
  w.end();
  return out.text;
}

/** The values of the job's masked variables, plus the job token (a secret in every form). */
export function maskPhrasesForJob(job: Pick<JobSpec, 'variables' | 'token'>): string[] {
  const values = job.variables.filter((v) => v.masked).map((v) => v.value);
  if (job.token) values.push(job.token);
  return values;
}

/** Trimmed, unique, non-empty, longest first (as gitlab-runner does). */
function normalizePhrases(phrases: readonly string[]): Buffer[] {
  const unique = [...new Set(phrases.map((p) => p.trim()))].filter((p) => p !== '');
  return unique.map((p) => Buffer.from(p, 'utf8')).sort((a, b) => b.length - a.length);
}

interface Match {
  start: number;
  end: number;
}

export class PhraseMasker implements ByteWriter {
  private readonly phrases: Buffer[];
  /** Raw bytes not yet decided, starting at stream offset `heldAt`. */
  private held: Buffer = Buffer.alloc(0);
  private heldAt = 0;
  /** Stream offset where the current masked region ends (bytes before it are swallowed). */
  private maskedUntil = 0;

  constructor(
    private readonly downstream: ByteWriter,
    phrases: readonly (string | Buffer)[],
  ) {
    this.phrases = phrases.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)).filter((p) => p.length > 0);
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.phrases.length === 0) {
      this.downstream.write(chunk);
      return;
    }
    this.process(this.held.length ? Buffer.concat([this.held, chunk]) : chunk, false);
  }

  end(): void {
    if (this.held.length) this.process(this.held, true);
    this.downstream.end();
  }

  private process(buf: Buffer, final: boolean): void {
    const base = this.heldAt;
    const safe = final ? buf.length : buf.length - this.heldLength(buf);
    const out: Buffer[] = [];
    let cur = 0;
    let until = Math.max(0, this.maskedUntil - base);
    for (const m of this.matches(buf, safe)) {
      if (m.start < until) {
        until = Math.max(until, m.end);
        continue;
      }
      cur = Math.max(cur, until);
      if (m.start > cur) out.push(buf.subarray(cur, m.start));
      out.push(MASK);
      cur = m.start;
      until = m.end;
    }
    cur = Math.max(cur, Math.min(until, safe));
    if (safe > cur) out.push(buf.subarray(cur, safe));
    this.maskedUntil = base + until;
    this.held = Buffer.from(buf.subarray(safe));
    this.heldAt = base + safe;
    if (out.length) this.downstream.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  }

  /** Every occurrence of every phrase that starts before `limit`, by start (longest first). */
  private matches(buf: Buffer, limit: number): Match[] {
    const found: Match[] = [];
    for (const p of this.phrases) {
      for (let at = buf.indexOf(p); at !== -1 && at < limit; at = buf.indexOf(p, at + 1)) {
        found.push({ start: at, end: at + p.length });
      }
    }
    return found.sort((a, b) => a.start - b.start || b.end - a.end);
  }

  /** The longest tail of buf that is a proper prefix of some phrase: held until more arrives. */
  private heldLength(buf: Buffer): number {
    let longest = 0;
    for (const p of this.phrases) longest = Math.max(longest, partialTail(buf, 0, p));
    return longest;
  }
}
