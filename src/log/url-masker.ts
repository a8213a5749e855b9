/**
 * UrlMasker: a streaming ByteWriter filter that hides the values of sensitive URL query
 * parameters (gitlab-runner common/buildlogger/internal/urlsanitizer):
 *
 *   "GET /x?private_token=abc&page=2"  →  "GET /x?private_token=[MASKED]&page=2"
 *
 * A key is what follows `?` or `&` up to `=`, compared without case. The value runs to the
 * next `?`, `&`, ASCII whitespace or control character (so an ANSI colour code ends it too).
 * Keys pass through as they arrive; only value bytes are withheld, so nothing but a value is
 * ever held across writes. Non-ASCII Unicode spaces do not end a value (a documented
 * simplification: gitlab-runner checks unicode.IsSpace).
 */
import type { ByteWriter } from './byte-writer.js';
import { MASKED } from '../shared/masked.js';

export const SENSITIVE_URL_PARAMS: readonly string[] = [
  'private_token',
  'authenticity_token',
  'rss_token',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
];

const MASK = Buffer.from(MASKED);
const MAX_KEY = Math.max(...SENSITIVE_URL_PARAMS.map((k) => k.length));
const QUESTION = 0x3f;
const AMPERSAND = 0x26;
const EQUALS = 0x3d;

function endsValue(c: number): boolean {
  return c === QUESTION || c === AMPERSAND || c <= 0x20 || c === 0x7f;
}

export class UrlMasker implements ByteWriter {
  private state: 'text' | 'key' | 'value' = 'text';
  private key = '';

  constructor(private readonly downstream: ByteWriter) {}

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const out: Buffer[] = [];
    let start = 0; // first byte not yet passed downstream
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'value') {
        let j = i;
        while (j < chunk.length && !endsValue(chunk[j]!)) j++;
        if (j === chunk.length) {
          start = j;
          break;
        }
        out.push(MASK);
        this.state = 'text';
        start = i = j;
        continue;
      }
      if (this.state === 'text') {
        const q = chunk.indexOf(QUESTION, i);
        const a = chunk.indexOf(AMPERSAND, i);
        const at = q === -1 ? a : a === -1 ? q : Math.min(q, a);
        if (at === -1) break;
        this.state = 'key';
        this.key = '';
        i = at + 1;
        continue;
      }
      const c = chunk[i]!;
      if (c === QUESTION || c === AMPERSAND) {
        this.key = '';
      } else if (c === EQUALS) {
        this.state = SENSITIVE_URL_PARAMS.includes(this.key.toLowerCase()) ? 'value' : 'text';
        if (this.state === 'value') {
          out.push(chunk.subarray(start, i + 1));
          start = i + 1;
        }
      } else if (this.key.length >= MAX_KEY) {
        this.state = 'text';
      } else {
        this.key += String.fromCharCode(c);
      }
      i++;
    }
    if (this.state !== 'value' && start < chunk.length) out.push(chunk.subarray(start));
    if (out.length) this.downstream.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  }

  end(): void {
    if (this.state === 'value') this.downstream.write(MASK);
    this.state = 'text';
    this.downstream.end();
  }
}
