import { describe, expect, it } from 'vitest';
import { CentralDirectory } from './central-directory.js';
import { centralRecord, METHOD_DEFLATE, type ZipRecord } from './zip-records.js';

function record(i: number): ZipRecord {
  return {
    name: Buffer.from(`dist/d${i % 7}/${'long-name-'.repeat(i % 13)}f${i}.txt`),
    method: METHOD_DEFLATE,
    crc: (i * 2654435761) >>> 0,
    compressedSize: 100 + i,
    size: 1000 + i,
    // Past 4 GiB from entry 2,500 on: Zip64 extra fields in the records.
    offset: i * 2_000_000,
    mode: 0o100644,
    mtime: new Date(Date.UTC(2024, 0, 1, 0, 0, i % 60)),
    dataDescriptor: i % 2 === 0,
    directory: false,
  };
}

describe('CentralDirectory', () => {
  it('holds exactly the bytes of centralRecord for each entry, in order, across blocks', () => {
    const cd = new CentralDirectory();
    const expected: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const r = record(i);
      cd.add(r);
      expected.push(centralRecord(r));
    }
    const chunks = [...cd.chunks()];
    const want = Buffer.concat(expected);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(want)).toBe(true);
    expect(cd.count).toBe(3000);
    expect(cd.size).toBe(want.length);
  });

  it('keeps no record object: the name Buffer may be reused once added', () => {
    const cd = new CentralDirectory();
    const r = record(1);
    cd.add(r);
    const want = centralRecord(record(1));
    r.name.fill(0x41);
    expect(Buffer.concat([...cd.chunks()]).equals(want)).toBe(true);
  });

  it('is empty with no entry', () => {
    const cd = new CentralDirectory();
    expect([...cd.chunks()]).toEqual([]);
    expect(cd.count).toBe(0);
    expect(cd.size).toBe(0);
  });
});
