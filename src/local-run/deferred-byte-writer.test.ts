import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { DeferredByteWriter } from './deferred-byte-writer.js';

describe('DeferredByteWriter', () => {
  it('keeps what is written until opened, then passes everything through in order', () => {
    const d = new DeferredByteWriter();
    const target = new MemoryByteWriter();
    d.write(Buffer.from('a'));
    d.write(Buffer.from('b'));
    d.open(target);
    expect(target.text).toBe('ab');
    d.write(Buffer.from('c'));
    d.end();
    expect(target.text).toBe('abc');
    expect(target.ended).toBe(true);
  });

  it('ends the target on open when it ended before', () => {
    const d = new DeferredByteWriter();
    const target = new MemoryByteWriter();
    d.write(Buffer.from('x'));
    d.end();
    d.write(Buffer.from('dropped'));
    d.open(target);
    expect(target.text).toBe('x');
    expect(target.ended).toBe(true);
  });

  it('refuses a second target', () => {
    const d = new DeferredByteWriter();
    d.open(new MemoryByteWriter());
    expect(() => d.open(new MemoryByteWriter())).toThrow(/opened twice/);
  });
});
