import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { constants, crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { canonicalCodes, codeLengths, encodeLiterals, LiteralCoder, literalTable, storeBlocks } from './literal-coder.js';

/** The Kraft sum of a code, in units of 2^-max: complete when it is exactly 2^max. */
function kraft(lengths: Uint8Array, max: number): number {
  let sum = 0;
  for (const len of lengths) if (len > 0) sum += 2 ** (max - len);
  return sum;
}

/** A stream of `n` bytes drawn with weights 1.6^i: a skewed distribution whose optimal code is deeper than 15 bits. */
function skewed(n: number, symbols: number, seed: number): Buffer {
  const weights = Array.from({ length: symbols }, (_, i) => 1.6 ** i);
  const total = weights.reduce((a, b) => a + b, 0);
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    let r = (x / 2 ** 31) * total;
    let s = 0;
    while (s < symbols - 1 && r >= weights[s]!) r -= weights[s++]!;
    out[i] = s * 7;
  }
  return out;
}

function base64Text(n: number): Buffer {
  return Buffer.from(randomBytes(n).toString('base64')).subarray(0, n);
}

describe('codeLengths', () => {
  it('gives a complete code within the length limit, also where the optimal code is deeper', () => {
    const freq = Array.from({ length: 257 }, (_, i) => (i < 40 ? Math.round(1.7 ** i) : 0));
    const unlimited = codeLengths(freq, 64);
    expect(Math.max(...unlimited)).toBeGreaterThan(15);
    const lengths = codeLengths(freq, 15);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(15);
    expect(kraft(lengths, 15)).toBe(2 ** 15);
    // Every symbol counted has a code, none other does.
    lengths.forEach((len, i) => expect(len > 0).toBe(freq[i]! > 0));
    // The more frequent symbol never gets the longer code.
    for (let i = 1; i < 40; i++) expect(lengths[i]!).toBeLessThanOrEqual(lengths[i - 1]!);
  });

  it('gives two symbols a code when one or none is counted (zlib sends no tree of one code)', () => {
    expect([...codeLengths([0, 5, 0, 0], 7)]).toEqual([1, 1, 0, 0]);
    expect([...codeLengths([0, 0, 0], 7)]).toEqual([1, 1, 0]);
  });

  it('canonical codes are the RFC 1951 example, bit-reversed', () => {
    // RFC 1951 3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) → codes 010 011 100 101 110 00 1110 1111.
    const codes = canonicalCodes(Uint8Array.from([3, 3, 3, 3, 3, 2, 4, 4]));
    const reverse = (c: number, len: number): number => parseInt(c.toString(2).padStart(len, '0').split('').reverse().join(''), 2);
    expect([...codes]).toEqual([0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111].map((c, i) => reverse(c, [3, 3, 3, 3, 3, 2, 4, 4][i]!)));
  });
});

describe('encodeLiterals', () => {
  const cases: Array<[string, Buffer]> = [
    ['base64 text', base64Text(10240)],
    ['random bytes (all 256 values)', randomBytes(20000)],
    ['one byte value', Buffer.alloc(4096, 0x41)],
    ['two byte values', Buffer.from('ab'.repeat(3000))],
    ['a skewed distribution (lengths limited)', skewed(60000, 30, 7)],
    ['a megabyte of text', base64Text(1024 * 1024)],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [name, input] of cases) {
    it(`round-trips ${name} through zlib's inflate, no larger than zlib's Huffman-only stream plus its header`, () => {
      const counts = new Uint32Array(256);
      for (const b of input) counts[b]!++;
      const table = literalTable(counts);
      const out = new Uint8Array(input.length * 2 + 1024);
      const n = encodeLiterals(input, table, out);
      expect(n).toBeGreaterThan(0);
      expect(inflateRawSync(out.subarray(0, n)).equals(input)).toBe(true);
      const zlibSize = deflateRawSync(input, { level: 5, strategy: constants.Z_HUFFMAN_ONLY }).length;
      // zlib splits a long input into blocks of 16 K symbols, each with its own code (and header).
      if (input.length <= 16384) expect(n).toBeLessThanOrEqual(zlibSize + 64);
    });
  }

  it("every stream is read back by BusyBox's own inflate (not zlib's), as one gzip file of members", () => {
    // gzip members: a 10-byte header, the raw Deflate stream, CRC-32 and size (RFC 1952).
    const members = cases.map(([, input]) => {
      const counts = new Uint32Array(256);
      for (const b of input) counts[b]!++;
      const out = new Uint8Array(input.length * 2 + 1024);
      const n = encodeLiterals(input, literalTable(counts), out);
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc32(input), 0);
      trailer.writeUInt32LE(input.length, 4);
      return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), out.subarray(0, n), trailer]);
    });
    const busybox = existsSync('/bin/busybox') ? '/bin/busybox' : 'busybox';
    const back = execFileSync(busybox, ['gunzip', '-c'], { input: Buffer.concat(members), maxBuffer: 64 << 20 });
    expect(back.equals(Buffer.concat(cases.map(([, input]) => input)))).toBe(true);
  });

  it('returns -1 for a byte the table has no code for', () => {
    const counts = new Uint32Array(256);
    counts[0x61] = 10;
    counts[0x62] = 10;
    const out = new Uint8Array(1024);
    expect(encodeLiterals(Buffer.from('abba'), literalTable(counts), out)).toBeGreaterThan(0);
    expect(encodeLiterals(Buffer.from('abc'), literalTable(counts), out)).toBe(-1);
  });

  it('storeBlocks splits at 65,535 bytes and zlib reads it back', () => {
    const input = randomBytes(150000);
    const out = new Uint8Array(input.length + 100);
    const n = storeBlocks(input, out);
    expect(n).toBe(input.length + 3 * 5);
    expect(inflateRawSync(out.subarray(0, n)).equals(input)).toBe(true);
    expect(inflateRawSync(out.subarray(0, storeBlocks(Buffer.alloc(0), out))).length).toBe(0);
  });
});

describe('LiteralCoder', () => {
  it('codes the files of a kind with the code it learnt, and learns again when a byte has no code', () => {
    const coder = new LiteralCoder();
    coder.learn('txt', base64Text(10240));
    const files = Array.from({ length: 20 }, () => base64Text(10240));
    for (const f of files) expect(inflateRawSync(Buffer.from(coder.encode('txt', f)!)).equals(f)).toBe(true);
    expect(coder.rebuilt).toBe(0);
    // A byte base64 has no code for ('\n'): learnt from that file, which is then coded.
    const odd = Buffer.concat([base64Text(5000), Buffer.from('\n'), base64Text(5000)]);
    expect(inflateRawSync(Buffer.from(coder.encode('txt', odd)!)).equals(odd)).toBe(true);
    expect(coder.rebuilt).toBe(1);
    // A kind never learnt is learnt from its first file.
    const bin = randomBytes(8000);
    expect(inflateRawSync(Buffer.from(coder.encode('bin', bin)!)).equals(bin)).toBe(true);
    expect(coder.rebuilt).toBe(2);
  });

  it('stores a file its kind\'s code would make larger (random bytes under a text code)', () => {
    const coder = new LiteralCoder();
    // Learnt from text with every byte value once: random bytes then cost more than 8 bits each.
    coder.learn('dat', Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), base64Text(50000)]));
    const input = randomBytes(30000);
    const coded = coder.encode('dat', input)!;
    expect(coded.length).toBe(input.length + 5);
    expect(coded[0]).toBe(1); // one final stored block
    expect(inflateRawSync(Buffer.from(coded)).equals(input)).toBe(true);
  });

  it('stays within 0.1% of zlib\'s Huffman-only size on files like the ones it learnt from', () => {
    const coder = new LiteralCoder();
    let ours = 0;
    let zlibs = 0;
    for (let i = 0; i < 50; i++) {
      const f = base64Text(10240);
      if (i % 32 === 0) coder.learn('txt', f);
      ours += coder.encode('txt', f)!.length;
      zlibs += deflateRawSync(f, { level: 5, strategy: constants.Z_HUFFMAN_ONLY }).length;
    }
    expect(ours / zlibs).toBeLessThan(1.001);
  });
});
