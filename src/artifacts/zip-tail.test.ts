import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { zipOf } from '../../test/support/yazl-zip.js';
import { zipTailStart } from './zip-tail.js';

/** The central directory's offset, from the end record (APPNOTE 4.3.16). */
function cdOffsetOf(zip: Buffer): number {
  return zip.readUInt32LE(zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) + 16);
}

const files = Array.from({ length: 40 }, (_, i) => ({ name: `dist/f${i}.bin`, data: randomBytes(2000 + i) }));

describe('zipTailStart', () => {
  it('finds the central directory from the whole archive, and from its last bytes alone', async () => {
    const zip = await zipOf(files);
    const cd = cdOffsetOf(zip);
    expect(cd).toBeGreaterThan(80_000);
    expect(zipTailStart(0, zip)).toBe(cd);
    const from = zip.length - 300; // inside the central directory: asks for the rest of it
    expect(zipTailStart(from, zip.subarray(from))).toBe(cd);
    expect(zipTailStart(cd, zip.subarray(cd))).toBe(cd);
  });

  it('skips the archive comment', async () => {
    const zip = await zipOf(files, { comment: 'built by the tests' });
    expect(zipTailStart(0, zip)).toBe(cdOffsetOf(zip));
  });

  it('zip64: first the zip64 end record, then the central directory it names', async () => {
    const zip = await zipOf(files, { zip64: true });
    const record = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]));
    const locator = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x07]));
    expect(record).toBeGreaterThan(0);
    const cd = Number(zip.readBigUInt64LE(record + 48));
    // Only the end record in hand: the locator before it is needed first.
    expect(zipTailStart(zip.length - 22, zip.subarray(zip.length - 22))).toBe(locator);
    // The locator in hand: the zip64 end record it names.
    expect(zipTailStart(locator, zip.subarray(locator))).toBe(record);
    expect(zipTailStart(record, zip.subarray(record))).toBe(cd);
    expect(zipTailStart(0, zip)).toBe(cd);
  });

  it('null for bytes that hold no sensible end record', async () => {
    expect(zipTailStart(0, randomBytes(5000).fill(0))).toBeNull();
    expect(zipTailStart(0, Buffer.alloc(10))).toBeNull();
    const zip = await zipOf(files);
    // An end record whose central directory would run past it.
    const bad = Buffer.from(zip);
    bad.writeUInt32LE(zip.length, bad.length - 22 + 12);
    expect(zipTailStart(0, bad)).toBeNull();
  });
});
