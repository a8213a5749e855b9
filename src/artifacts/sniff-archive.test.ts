import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniffArchive } from './sniff-archive.js';
import { writeZip } from './write-zip.js';
import { fileEntries } from '../../test/support/archive-entries.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-sniff-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sniffBytes(name: string, bytes: Buffer): Promise<string> {
  const f = join(dir, name);
  await writeFile(f, bytes);
  return sniffArchive(f);
}

describe('sniffArchive', () => {
  it('knows a zip written by writeZip, and an empty zip (only the end record)', async () => {
    const f = join(dir, 'a.zip');
    await writeZip(fileEntries([{ path: 'a.txt', content: 'a' }]), f, { level: 5, signal: AbortSignal.timeout(10_000) });
    expect(await sniffArchive(f)).toBe('zip');
    const empty = join(dir, 'empty.zip');
    await writeZip(fileEntries([]), empty, { level: 5, signal: AbortSignal.timeout(10_000) });
    expect(await sniffArchive(empty)).toBe('zip');
  });

  it('knows gzip and zstd by their magic numbers', async () => {
    expect(await sniffBytes('a.gz', gzipSync('hello'))).toBe('gzip');
    // a zstd frame: magic 0xFD2FB528 little-endian, then a frame header
    expect(await sniffBytes('a.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x05, 0x29, 0x00]))).toBe('zstd');
  });

  it('says unknown for anything else, a short file and an empty file', async () => {
    expect(await sniffBytes('t.txt', Buffer.from('PK is not enough'))).toBe('unknown');
    expect(await sniffBytes('one', Buffer.from([0x1f]))).toBe('unknown');
    expect(await sniffBytes('none', Buffer.alloc(0))).toBe('unknown');
  });
});
