import { crc32 as zlibCrc32 } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Crc32, crc32, traceChecksum } from './crc32.js';

describe('crc32 (IEEE)', () => {
  it('matches the standard check value and empty input', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    expect(traceChecksum(Buffer.alloc(0))).toBe('crc32:00000000');
  });

  it('pads to 8 hex digits', () => {
    let input = 0;
    while (crc32(Buffer.from(String(input))) >= 0x10000000) input++;
    expect(traceChecksum(Buffer.from(String(input)))).toMatch(/^crc32:0[0-9a-f]{7}$/);
  });

  it('is incremental across any split', () => {
    const data = randomBytes(10_000);
    const c = new Crc32();
    for (let i = 0; i < data.length; i += 777) c.update(data.subarray(i, i + 777));
    expect(c.value()).toBe(crc32(data));
  });

  it('agrees with zlib', () => {
    const data = randomBytes(4096);
    expect(crc32(data)).toBe(zlibCrc32(data));
  });
});
