/**
 * The first JSON value of a text, read as Go's `json.NewDecoder(r).Decode(v)` reads it (docker/cli
 * `ConfigFile.LoadFromReader`, which gitlab-runner calls for every Docker config source):
 *   - JSON whitespace (space, tab, CR, LF) before the value is skipped; only whitespace: null
 *     (Decode's io.EOF, which LoadFromReader ignores);
 *   - the value ends at its closing `}`/`]`/`"` or literal; nothing after it is looked at (Decode
 *     never reads past a closed object; after a literal it reads one byte and ignores it), so
 *     `{...}}` and `{...} junk` decode as their first value;
 *   - strict RFC 8259 syntax, as Go's scanner; a lone or broken `\u` surrogate becomes U+FFFD;
 *   - objects keep every member in order, duplicates included: the caller applies Go's rules.
 * Syntax errors never quote the text: it holds secrets. Nesting is bounded at 1,000 levels (Go
 * allows 10,000; a Docker config needs 3).
 */

import { BerthError } from '../../shared/errors.js';

export type GoJsonValue =
  | { kind: 'object'; members: [string, GoJsonValue][] }
  | { kind: 'string'; value: string }
  | { kind: 'array' | 'number' | 'bool' | 'null' };

export class GoJsonSyntaxError extends BerthError {
  constructor(message: string) {
    super('docker_config_invalid', message);
  }
}

const MAX_DEPTH = 1000;
const SPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

export function readFirstJsonValue(text: string): GoJsonValue | null {
  const reader = new Reader(text);
  reader.skipSpace();
  return reader.done() ? null : reader.value(0);
}

class Reader {
  private i = 0;

  constructor(private readonly s: string) {}

  done(): boolean {
    return this.i >= this.s.length;
  }

  skipSpace(): void {
    while (SPACE.has(this.s[this.i] ?? '')) this.i++;
  }

  value(depth: number): GoJsonValue {
    if (depth > MAX_DEPTH) throw new GoJsonSyntaxError(`nested more than ${MAX_DEPTH} levels deep`);
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return { kind: 'string', value: this.string() };
    for (const [word, kind] of [['true', 'bool'], ['false', 'bool'], ['null', 'null']] as const) {
      if (c === word[0]) return this.s.startsWith(word, this.i) ? ((this.i += word.length), { kind }) : this.fail();
    }
    NUMBER.lastIndex = this.i;
    if (!NUMBER.test(this.s)) this.fail();
    this.i = NUMBER.lastIndex;
    return { kind: 'number' };
  }

  private object(depth: number): GoJsonValue {
    const members: [string, GoJsonValue][] = [];
    this.i++;
    this.skipSpace();
    if (this.s[this.i] === '}') return this.i++, { kind: 'object', members };
    for (;;) {
      if (this.s[this.i] !== '"') this.fail();
      const key = this.string();
      this.skipSpace();
      if (this.s[this.i++] !== ':') this.fail();
      this.skipSpace();
      members.push([key, this.value(depth + 1)]);
      this.skipSpace();
      const c = this.s[this.i++];
      if (c === '}') return { kind: 'object', members };
      if (c !== ',') this.fail();
      this.skipSpace();
    }
  }

  private array(depth: number): GoJsonValue {
    this.i++;
    this.skipSpace();
    if (this.s[this.i] === ']') return this.i++, { kind: 'array' };
    for (;;) {
      this.value(depth + 1);
      this.skipSpace();
      const c = this.s[this.i++];
      if (c === ']') return { kind: 'array' };
      if (c !== ',') this.fail();
      this.skipSpace();
    }
  }

  private string(): string {
    const s = this.s;
    let out = '';
    let i = this.i + 1;
    let start = i;
    for (;;) {
      if (i >= s.length) this.fail();
      const code = s.charCodeAt(i);
      if (code === 0x22) {
        this.i = i + 1;
        return out + s.slice(start, i);
      }
      if (code < 0x20) this.fail();
      if (code !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(start, i);
      const e = s[i + 1] ?? '';
      if (e in ESCAPES) {
        out += ESCAPES[e];
        i += 2;
      } else if (e === 'u') {
        const unit = this.hex4(i + 2) ?? this.fail();
        i += 6;
        const low = s.startsWith('\\u', i) ? this.hex4(i + 2) : null;
        if (unit >= 0xd800 && unit < 0xdc00 && low !== null && low >= 0xdc00 && low < 0xe000) {
          out += String.fromCharCode(unit, low);
          i += 6;
        } else {
          out += unit >= 0xd800 && unit < 0xe000 ? '\ufffd' : String.fromCharCode(unit);
        }
      } else {
        this.fail();
      }
      start = i;
    }
  }

  private hex4(at: number): number | null {
    const digits = this.s.slice(at, at + 4);
    return HEX4.test(digits) ? parseInt(digits, 16) : null;
  }

  private fail(): never {
    throw new GoJsonSyntaxError(this.done() ? 'unexpected end of input' : 'syntax error');
  }
}
