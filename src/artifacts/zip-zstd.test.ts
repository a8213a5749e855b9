/**
 * zipToTar on zips whose entries are Zstandard-compressed (method 93), as gitlab-runner's fastzip
 * archiver writes a cache with CACHE_COMPRESSION_FORMAT=zipzstd. The zips are built here byte by
 * byte (local headers, central directory, end record), the entries compressed by the zstd tool.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { extract } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError } from './archive-error.js';
import { archiveToTar } from './archive-to-tar.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-zip-zstd-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = (): AbortSignal => AbortSignal.timeout(60_000);
const zstd = (input: Buffer): Buffer => execFileSync('zstd', ['-q', '-c', '-3'], { input, maxBuffer: 1 << 30 });

interface ZipMember {
  name: string;
  data: Buffer;
  /** st_mode: type and permission bits (0o100644 a file, 0o120777 a link, 0o40755 a folder). */
  mode: number;
  /** Stored, or Zstandard (the default). */
  method?: 0 | 93;
  /** Overrides of the recorded size and CRC, to make a lying entry. */
  size?: number;
  crc?: number;
}

/** A zip of `members` (Unix-made, DOS time 2024-05-06 07:08:08). */
async function zipOf(members: ZipMember[]): Promise<string> {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const time = (7 << 11) | (8 << 5) | 4;
  const date = ((2024 - 1980) << 9) | (5 << 5) | 6;
  for (const m of members) {
    const method = m.method ?? 93;
    const stored = method === 93 ? zstd(m.data) : m.data;
    const name = Buffer.from(m.name);
    const crc = m.crc ?? crc32(m.data);
    const size = m.size ?? m.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(63, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 63, 4);
    central.writeUInt16LE(63, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((m.mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, stored);
    centrals.push(central, name);
    offset += 30 + name.length + stored.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  const file = join(dir, `z${++n}.zip`);
  await writeFile(file, Buffer.concat([...locals, cd, end]));
  return file;
}

async function membersOf(stream: Readable): Promise<Map<string, { type: string; mode: number; linkname: string | null; data: Buffer }>> {
  const out = new Map<string, { type: string; mode: number; linkname: string | null; data: Buffer }>();
  const ex = extract();
  stream.pipe(ex);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.set(entry.header.name, { type: entry.header.type, mode: entry.header.mode, linkname: entry.header.linkname, data: Buffer.concat(chunks) });
  }
  return out;
}

describe('zipToTar: a cache that gitlab-runner saved as zip with Zstandard entries (zipzstd)', () => {
  it('decodes small and large entries, folders and links, stored entries beside them', async () => {
    const random = randomBytes(3 * 1024 * 1024);
    const zeros = Buffer.alloc(5 * 1024 * 1024);
    const file = await zipOf([
      { name: 'vendor/', data: Buffer.alloc(0), mode: 0o40755, method: 0 },
      { name: 'vendor/stamp', data: Buffer.from('42\n'), mode: 0o100644 },
      { name: 'vendor/run.sh', data: Buffer.from('#!/bin/sh\necho run\n'), mode: 0o100755 },
      { name: 'vendor/suid', data: Buffer.from('s'), mode: 0o107755 },
      { name: 'vendor/random.bin', data: random, mode: 0o100644 },
      { name: 'vendor/zeros.bin', data: zeros, mode: 0o100644 },
      { name: 'vendor/plain.txt', data: Buffer.from('stored'), mode: 0o100644, method: 0 },
      { name: 'vendor/link', data: Buffer.from('stamp'), mode: 0o120777 },
    ]);
    const { stream, done } = await archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true });
    const [members, stats] = await Promise.all([membersOf(stream), done]);
    expect(members.get('vendor/')?.type).toBe('directory');
    expect(members.get('vendor/stamp')?.data.toString()).toBe('42\n');
    expect(members.get('vendor/run.sh')?.mode).toBe(0o755);
    // Permission bits only, as gitlab-runner's extractors apply them.
    expect(members.get('vendor/suid')?.mode).toBe(0o755);
    expect(members.get('vendor/random.bin')?.data.equals(random)).toBe(true);
    expect(members.get('vendor/zeros.bin')?.data.equals(zeros)).toBe(true);
    expect(members.get('vendor/plain.txt')?.data.toString()).toBe('stored');
    expect(members.get('vendor/link')).toMatchObject({ type: 'symlink', linkname: 'stamp' });
    expect(stats.entries).toBe(8);
  });

  const lying: [string, (data: Buffer) => Partial<ZipMember>, RegExp][] = [
    ['a small entry that decodes to more than its recorded size', () => ({ size: 10 }), /more than 10 bytes of content, the central directory says 10/],
    ['a large entry that decodes to more than its recorded size', () => ({ size: 2 * 1024 * 1024 }), /more than 2097152 bytes of content, the central directory says 2097152/],
    ['an entry whose content does not match its CRC-32', (data) => ({ crc: (crc32(data) ^ 1) >>> 0 }), /CRC-32 mismatch/],
  ];
  for (const [what, lie, message] of lying) {
    it(`calls ${what} corrupt`, async () => {
      const data = what.includes('large') ? Buffer.alloc(8 * 1024 * 1024, 7) : Buffer.alloc(100_000, 1);
      const file = await zipOf([{ name: 'a.bin', data, mode: 0o100644, ...lie(data) }]);
      const { stream, done } = await archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true });
      stream.on('error', () => undefined).resume();
      const err = await done.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArchiveError);
      expect((err as Error).message).toMatch(new RegExp(`the cache archive ${file} is corrupt or truncated \\(entry "a.bin"\\): .*${message.source}`));
    });
  }

  it('refuses Zstandard entries unless the zip comes from a runner-written store', async () => {
    const file = await zipOf([{ name: 'a.txt', data: Buffer.from('hello'), mode: 0o100644 }]);
    await expect(archiveToTar(file, { signal: signal(), kind: 'artifacts' })).rejects.toThrow(/"a.txt" is unsafe \(it uses compression method 93 \(Zstandard\), which berth reads only in caches from a runner's own cache folder or bucket\)/);
  });

  it('calls a garbled Zstandard entry corrupt', async () => {
    const file = await zipOf([{ name: 'a.txt', data: Buffer.from('hello'), mode: 0o100644 }]);
    const buf = await readFile(file);
    const at = 30 + 'a.txt'.length + 4; // the frame header after the zstd magic
    buf.fill(0xff, at, at + 6);
    await writeFile(file, buf);
    const { stream, done } = await archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true });
    stream.on('error', () => undefined).resume();
    await expect(done).rejects.toThrow(/the cache archive .* is corrupt or truncated \(entry "a.txt"\)/);
  });
});
