import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rawInflater, REUSED_OUTPUT } from './raw-inflater.js';

const contents = [
  Buffer.alloc(0),
  Buffer.from('hello hello hello hello\n'),
  Buffer.from(randomBytes(30_000).toString('base64')),
  randomBytes(REUSED_OUTPUT + 5000),
  Buffer.alloc(1_000_000, 'a'),
  Buffer.from('a small one after the large ones'),
];
const deflated = contents.map((c) => zlib.deflateRawSync(c));

describe('rawInflater', () => {
  it('one stream reset between buffers inflates each to its content', () => {
    const inf = rawInflater(zlib);
    contents.forEach((c, i) => expect(Buffer.from(inf.inflate(deflated[i]!, c.length)).equals(c)).toBe(true));
    inf.close();
  });

  it('never produces more than size + 1 bytes: a longer content shows as longer without being inflated whole', () => {
    const inf = rawInflater(zlib);
    const bomb = zlib.deflateRawSync(Buffer.alloc(50_000_000));
    expect(inf.inflate(bomb, 1000).length).toBe(1001);
    // The stream is usable after it.
    expect(inf.inflate(deflated[1]!, contents[1]!.length).toString()).toBe(contents[1]!.toString());
    inf.close();
  });

  it('a corrupt or truncated input is an error with zlib message; the next buffer inflates again', () => {
    const inf = rawInflater(zlib);
    const cut = deflated[2]!.subarray(0, deflated[2]!.length - 100);
    expect(() => inf.inflate(cut, contents[2]!.length)).toThrow(/unexpected end of file/);
    expect(() => inf.inflate(Buffer.from([0xff, 0xff, 0xff, 0xff]), 10)).toThrow(/invalid block type|invalid/);
    expect(Buffer.from(inf.inflate(deflated[2]!, contents[2]!.length)).equals(contents[2]!)).toBe(true);
    inf.close();
  });

  it('a zlib without the stream internals it uses: inflateRawSync, bounded the same way', () => {
    const plain = {
      ...zlib,
      createInflateRaw: () => {
        const s = zlib.createInflateRaw();
        Object.defineProperty(s, '_handle', { value: undefined });
        return s;
      },
    };
    const inf = rawInflater(plain);
    contents.forEach((c, i) => expect(Buffer.from(inf.inflate(deflated[i]!, c.length)).equals(c)).toBe(true));
    expect(() => inf.inflate(deflated[4]!, 1000)).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_TOO_LARGE' }));
    inf.close();
  });
});
