import { describe, expect, it } from 'vitest';
import { DeflateStrategy, fileKind } from './deflate-strategy.js';

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
    // A probe that confirms the choice doubles the interval (64, 128, 256, then 256 on) ...
    s.record('gz', 10_020, 10_000);
    const next = (): number => {
      let n = 1;
      while (s.mode('gz', 10_000) !== 'probe') n++;
      return n;
    };
    expect(next()).toBe(64);
    s.record('gz', 10_020, 10_000);
    expect(next()).toBe(128);
    s.record('gz', 10_020, 10_000);
    expect(next()).toBe(256);
    s.record('gz', 10_020, 10_000);
    expect(next()).toBe(256);
    // ... and one that changes it starts again at 32.
    s.record('gz', 5_000, 10_000);
    expect(s.mode('gz', 10_000)).toBe('level');
    expect(next()).toBe(31);
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

  it('remembers at most 256 kinds: files of the others, and files without an extension, are compressed at the level, never probed', () => {
    const s = new DeflateStrategy();
    for (let i = 0; i < 256; i++) {
      for (let n = 0; n < 2; n++) expect(s.mode(`k${i}`, 5000)).toBe('probe');
      s.record(`k${i}`, 100, 100);
      s.record(`k${i}`, 100, 100);
    }
    expect(s.mode('k0', 5000)).toBe('huffman');
    expect(s.mode('k300', 5000)).toBe('level');
    s.record('k300', 100, 100);
    expect(s.mode('k300', 5000)).toBe('level');
    expect(s.mode('', 5000)).toBe('level');
  });

  it('counts each probe the same whatever its size: one large file without repeats does not outweigh small ones with', () => {
    const s = new DeflateStrategy();
    s.mode('json', 5000);
    s.mode('json', 5000);
    s.record('json', 1_000_000, 1_000_000); // a large base64 blob: LZ77 saves nothing
    s.record('json', 3000, 9000); // a small file with repeats: LZ77 saves two thirds
    expect(s.mode('json', 5000)).toBe('level');
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
