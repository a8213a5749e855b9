import { randomBytes } from 'node:crypto';
import { constants } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DeflateStrategy, fileKind, prefixStrategy } from './deflate-strategy.js';

describe('DeflateStrategy', () => {
  it('probes the first two files of a kind, then every 32nd, and follows what the probes found', () => {
    const s = new DeflateStrategy();
    expect(s.mode('gz', 10_000)).toBe('probe');
    expect(s.mode('gz', 10_000)).toBe('probe');
    // Until a probe comes back: the level.
    expect(s.mode('gz', 10_000)).toBe('level');
    s.record('gz', 10_010, 10_000);
    s.record('gz', 10_005, 10_000);
    const modes = Array.from({ length: 32 }, () => s.mode('gz', 10_000));
    expect(modes.slice(0, 31).every((m) => m === 'huffman')).toBe(true);
    expect(modes[31]).toBe('probe');
    // Another kind is judged on its own.
    expect(s.mode('js', 10_000)).toBe('probe');
  });

  it('keeps the level while LZ77 saves 3% or more, and changes when the content does', () => {
    const s = new DeflateStrategy();
    s.mode('txt', 5000);
    s.mode('txt', 5000);
    s.record('txt', 9600, 10_000); // 4% saved
    s.record('txt', 9600, 10_000);
    expect(s.mode('txt', 5000)).toBe('level');
    // New probes without gains outweigh the older ones.
    for (let i = 0; i < 4; i++) {
      while (s.mode('txt', 5000) !== 'probe');
      s.record('txt', 10_000, 10_000);
    }
    expect(s.mode('txt', 5000)).toBe('huffman');
  });

  it('never probes files too small to tell', () => {
    const s = new DeflateStrategy();
    expect(s.mode('gz', 100)).toBe('level');
  });

  it('remembers at most 256 kinds: the rest share one', () => {
    const s = new DeflateStrategy();
    for (let i = 0; i < 300; i++) {
      if (s.mode(`k${i}`, 5000) === 'probe') s.record(`k${i}`, 100, 100);
    }
    // k299 shared the '' kind with k256..k298: probed twice long ago, now trusted.
    expect(s.mode('k299', 5000)).toBe('huffman');
    expect(s.mode('', 5000)).toBe('huffman');
  });
});

describe('fileKind', () => {
  it.each([
    ['dist/app.JS', 'js'],
    ['a/b/archive.tar.gz', 'gz'],
    ['a/.bashrc', ''],
    ['a.b/README', ''],
    ['x.averyveryverylongextension', ''],
  ])('%s → %j', (path, kind) => {
    expect(fileKind(path)).toBe(kind);
  });
});

describe('prefixStrategy', () => {
  it('Huffman codes alone for bytes without repeats, the default strategy for bytes with repeats', () => {
    expect(prefixStrategy(Buffer.from(randomBytes(60_000).toString('base64')), 5)).toBe(constants.Z_HUFFMAN_ONLY);
    expect(prefixStrategy(Buffer.from('function f(x) { return x + 1; }\n'.repeat(2000)), 5)).toBe(constants.Z_DEFAULT_STRATEGY);
    expect(prefixStrategy(Buffer.alloc(100), 5)).toBe(constants.Z_DEFAULT_STRATEGY);
  });
});
