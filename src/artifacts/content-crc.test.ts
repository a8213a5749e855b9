import { describe, expect, it } from 'vitest';
import { Crc32 } from '../shared/crc32.js';
import { ContentCrc } from './content-crc.js';

describe('ContentCrc', () => {
  it('gives the IEEE CRC-32 over chunks, as shared/crc32 does', () => {
    const chunks = [Buffer.from('The quick brown fox '), Buffer.from(''), Buffer.from('jumps over the lazy dog')];
    const c = new ContentCrc();
    for (const b of chunks) c.update(b);
    expect(c.value()).toBe(0x414fa339);
    expect(c.value()).toBe(new Crc32().update(Buffer.concat(chunks)).value());
    expect(new ContentCrc().value()).toBe(0);
  });
});
