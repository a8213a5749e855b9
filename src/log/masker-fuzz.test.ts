/**
 * Fuzz-style masking test: random secrets inside random noise, written through the masker
 * split at every possible boundary (and at random multi-way splits, and one byte per write).
 * The expected output is built independently: the noise is drawn so that the only occurrences
 * of a secret are the ones inserted (each secret starts with a character nothing else uses),
 * while "decoys" (proper prefixes of a secret) exercise the hold-back logic.
 */
import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from './byte-writer.js';
import { createMaskingFilter, PhraseMasker } from './masker.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST_CHARS = ['#', '%', '~'];
const BODY = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=.:@é€';
const NOISE = `${BODY} \n\t\x1b[32;1m\x1b[0;m`;

interface Case {
  secrets: string[];
  parts: string[];
  expected: string;
}

function makeCase(rand: () => number): Case {
  const pick = (s: string): string => [...s][Math.floor(rand() * [...s].length)]!;
  const secrets = FIRST_CHARS.slice(0, 1 + Math.floor(rand() * 3)).map((first) => {
    let body = '';
    const n = 7 + Math.floor(rand() * 18);
    for (let i = 0; i < n; i++) body += pick(BODY);
    return first + body;
  });
  const parts: string[] = [];
  const expected: string[] = [];
  const pieces = 2 + Math.floor(rand() * 6);
  for (let i = 0; i < pieces; i++) {
    const r = rand();
    if (r < 0.45) {
      const s = secrets[Math.floor(rand() * secrets.length)]!;
      parts.push(s);
      expected.push('[MASKED]');
    } else if (r < 0.7) {
      // a decoy: a proper prefix of a secret followed by a character that breaks the match
      const s = [...secrets[Math.floor(rand() * secrets.length)]!];
      const k = 1 + Math.floor(rand() * (s.length - 1));
      let breaker = pick(NOISE);
      while (breaker === s[k]) breaker = pick(NOISE);
      const decoy = s.slice(0, k).join('') + breaker;
      parts.push(decoy);
      expected.push(decoy);
    } else {
      let noise = '';
      const n = Math.floor(rand() * 12);
      for (let j = 0; j < n; j++) noise += pick(NOISE);
      parts.push(noise);
      expected.push(noise);
    }
  }
  return { secrets, parts, expected: expected.join('') };
}

function run(bytes: Buffer, cuts: number[], secrets: string[], chain: boolean): string {
  const out = new MemoryByteWriter();
  const w = chain ? createMaskingFilter({ phrases: secrets, maskAllDefaultTokens: false })(out) : new PhraseMasker(out, secrets);
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    w.write(bytes.subarray(prev, c));
    prev = c;
  }
  w.end();
  return out.text;
}

function check(c: Case, got: string): void {
  expect(got).toBe(c.expected);
  for (const s of c.secrets) expect(got.includes(s), `secret ${JSON.stringify(s)} leaked`).toBe(false);
}

describe('masking fuzz', () => {
  it('never leaks, for every single split point of 300 random texts', () => {
    const rand = prng(0xbe27);
    for (let n = 0; n < 300; n++) {
      const c = makeCase(rand);
      const bytes = Buffer.from(c.parts.join(''), 'utf8');
      for (let cut = 0; cut <= bytes.length; cut++) check(c, run(bytes, [cut], c.secrets, n % 2 === 0));
    }
  });

  it('never leaks, for random multi-way splits and one byte per write', () => {
    const rand = prng(0x5eed);
    for (let n = 0; n < 400; n++) {
      const c = makeCase(rand);
      const bytes = Buffer.from(c.parts.join(''), 'utf8');
      const cuts = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => Math.floor(rand() * (bytes.length + 1))).sort((a, b) => a - b);
      check(c, run(bytes, cuts, c.secrets, n % 2 === 1));
      check(c, run(bytes, Array.from({ length: bytes.length }, (_, i) => i), c.secrets, false));
    }
  });

  it('counts [MASKED] exactly: one per inserted secret', () => {
    const rand = prng(42);
    for (let n = 0; n < 200; n++) {
      const c = makeCase(rand);
      const bytes = Buffer.from(c.parts.join(''), 'utf8');
      const got = run(bytes, [Math.floor(bytes.length / 2)], c.secrets, false);
      const inserted = c.parts.filter((p) => c.secrets.includes(p)).length;
      expect(got.split('[MASKED]').length - 1).toBe(inserted);
    }
  });
});
