import { randomBytes } from 'node:crypto';
import { runInThisContext } from 'node:vm';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rawDeflater } from './raw-deflater.js';

const inputs = [
  Buffer.alloc(0),
  Buffer.from('hello hello hello hello\n'),
  Buffer.from(randomBytes(30_000).toString('base64')),
  randomBytes(200_000), // incompressible, larger than the first output buffer
  Buffer.alloc(1_000_000, 'a'),
  Buffer.from('a small one after the large ones'),
];

describe('rawDeflater', () => {
  for (const [name, strategy] of [
    ['Huffman codes alone', zlib.constants.Z_HUFFMAN_ONLY],
    ['the default strategy', zlib.constants.Z_DEFAULT_STRATEGY],
  ] as const) {
    it(`one stream reset between buffers gives each buffer the output deflateRawSync gives it (${name})`, () => {
      const d = rawDeflater(zlib, 5, strategy);
      for (const input of inputs) {
        const out = d.deflate(input);
        expect(out.equals(zlib.deflateRawSync(input, { level: 5, strategy }))).toBe(true);
        expect(zlib.inflateRawSync(out).equals(input)).toBe(true);
      }
      d.close();
    });
  }

  it('the output is its own: the next call does not overwrite it', () => {
    const d = rawDeflater(zlib, 5, zlib.constants.Z_HUFFMAN_ONLY);
    const first = d.deflate(inputs[1]!);
    const copy = Buffer.from(first);
    d.deflate(inputs[2]!);
    expect(first.equals(copy)).toBe(true);
    d.close();
  });

  it('a zlib without the stream internals it uses: deflateRawSync for every buffer, same output', () => {
    let syncCalls = 0;
    const plain = {
      ...zlib,
      createDeflateRaw: (o: zlib.ZlibOptions) => {
        const s = zlib.createDeflateRaw(o);
        Object.defineProperty(s, '_handle', { value: undefined });
        return s;
      },
      deflateRawSync: (b: zlib.InputType, o?: zlib.ZlibOptions) => {
        syncCalls++;
        return zlib.deflateRawSync(b, o);
      },
    } as unknown as typeof zlib;
    const d = rawDeflater(plain, 5, zlib.constants.Z_HUFFMAN_ONLY);
    for (const input of inputs) expect(zlib.inflateRawSync(d.deflate(input)).equals(input)).toBe(true);
    expect(syncCalls).toBe(inputs.length);
    d.close();
  });

  it('runs from its own source text (as a deflate worker runs it)', () => {
    const again = runInThisContext(`(${rawDeflater.toString()})`) as typeof rawDeflater;
    const d = again(zlib, 5, zlib.constants.Z_HUFFMAN_ONLY);
    expect(zlib.inflateRawSync(d.deflate(inputs[2]!)).equals(inputs[2]!)).toBe(true);
    d.close();
  });
});
