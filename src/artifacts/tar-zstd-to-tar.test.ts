/**
 * tarZstdToTar / archiveToTar on archives made the way gitlab-runner's CACHE_COMPRESSION_FORMAT=
 * tarzstd makes them: a tar (GNU tar's ustar, pax and gnu formats here, Go's archive/tar writes
 * ustar or pax) in a zstd stream made by the zstd tool. Unsafe ones are crafted with tar-stream.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError } from './archive-error.js';
import { archiveToTar } from './archive-to-tar.js';
import { tarZstdToTar } from './tar-zstd-to-tar.js';
import { collectGarbageBefore, FULL_GC_ARCHIVE_BYTES } from './garbage-budget.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-tar-zstd-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = (): AbortSignal => AbortSignal.timeout(60_000);
const fresh = (ext: string): string => join(dir, `f${++n}${ext}`);
const zstd = (input: Buffer): Buffer => execFileSync('zstd', ['-q', '-c', '-3'], { input, maxBuffer: 1 << 30 });
const MTIME = new Date('2024-05-06T07:08:09Z');
const LONG = `${'deep-folder-name/'.repeat(7)}a-file-whose-path-is-longer-than-one-hundred-bytes.txt`;
const BIG = randomBytes(3 * 1024 * 1024 + 17);

/** A project folder as a job leaves it: files, an executable, an empty file, a link, a long path. */
async function projectTree(): Promise<string> {
  const root = await mkdtemp(join(dir, 'tree-'));
  await mkdir(join(root, 'vendor/bin'), { recursive: true });
  await mkdir(join(root, 'vendor', LONG, '..'), { recursive: true });
  await writeFile(join(root, 'vendor/stamp'), '42\n');
  await writeFile(join(root, 'vendor/empty'), '');
  await writeFile(join(root, 'vendor/big.bin'), BIG);
  await writeFile(join(root, 'vendor/bin/run.sh'), '#!/bin/sh\necho run\n');
  await chmod(join(root, 'vendor/bin/run.sh'), 0o755);
  await writeFile(join(root, 'vendor', LONG), 'long\n');
  await symlink('stamp', join(root, 'vendor/link'));
  for (const p of ['vendor/stamp', 'vendor/empty', 'vendor/big.bin', 'vendor/bin/run.sh', `vendor/${LONG}`]) await utimes(join(root, p), MTIME, MTIME);
  return root;
}

/** GNU tar of `vendor` in `root` in the given format, compressed by the zstd tool. */
async function gnuTarZstd(root: string, format: 'pax' | 'gnu' | 'ustar', paths = ['vendor']): Promise<string> {
  const file = fresh('.zip'); // the name gitlab-runner keeps for every cache format
  const tar = execFileSync('tar', ['-C', root, `--format=${format}`, '-cf', '-', ...paths], { maxBuffer: 1 << 30 });
  await writeFile(file, zstd(tar));
  return file;
}

type Member = { name: string; type: string; mode: number; mtime: Date; linkname: string | null; data: Buffer };

async function membersOf(stream: Readable): Promise<Map<string, Member>> {
  const out = new Map<string, Member>();
  const ex = extract();
  stream.pipe(ex);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const h = entry.header;
    out.set(h.name, { name: h.name, type: h.type, mode: h.mode, mtime: h.mtime, linkname: h.linkname, data: Buffer.concat(chunks) });
  }
  return out;
}

async function extracted(file: string, onSkipped?: (name: string) => void): Promise<{ members: Map<string, Member>; stats: { entries: number; bytes: number } }> {
  const { stream, done } = await archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true, onSkipped });
  const [members, stats] = await Promise.all([membersOf(stream), done]);
  return { members, stats };
}

/** A crafted tar (tar-stream) of the given members, zstd-compressed. */
async function crafted(members: { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo'; linkname?: string; data?: string }[]): Promise<string> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const m of members) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name: m.name, type: m.type ?? 'file', linkname: m.linkname, mode: 0o644, mtime: MTIME }, m.data ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await ended;
  const file = fresh('.zip');
  await writeFile(file, zstd(Buffer.concat(chunks)));
  return file;
}

describe('tarZstdToTar: a cache that gitlab-runner saved as tar+zstd', () => {
  for (const format of ['pax', 'gnu'] as const) {
    it(`gives every file, folder and link with content, mode and mtime (GNU tar --format=${format})`, async () => {
      const file = await gnuTarZstd(await projectTree(), format);
      const { members, stats } = await extracted(file);
      expect(members.get('vendor/')?.type).toBe('directory');
      expect(members.get('vendor/bin/')?.type).toBe('directory');
      expect(members.get('vendor/stamp')).toMatchObject({ type: 'file', mode: 0o644, mtime: MTIME, data: Buffer.from('42\n') });
      expect(members.get('vendor/empty')).toMatchObject({ type: 'file', data: Buffer.alloc(0) });
      expect(members.get('vendor/bin/run.sh')).toMatchObject({ type: 'file', mode: 0o755 });
      expect(members.get('vendor/big.bin')?.data.equals(BIG)).toBe(true);
      expect(members.get(`vendor/${LONG}`)?.data.toString()).toBe('long\n');
      expect(members.get('vendor/link')).toMatchObject({ type: 'symlink', linkname: 'stamp' });
      expect(stats.bytes).toBe(3 + BIG.length + 'long\n'.length + '#!/bin/sh\necho run\n'.length);
      expect(stats.entries).toBe(members.size);
    });
  }

  it('reads a tar split over several zstd frames, with a skippable frame between them', async () => {
    const root = await projectTree();
    const tar = execFileSync('tar', ['-C', root, '--format=ustar', '-cf', '-', 'vendor/stamp', 'vendor/big.bin', 'vendor/bin'], { maxBuffer: 1 << 30 });
    const cut = 1024 * 1024 + 333;
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from([4, 0, 0, 0]), Buffer.from('skip')]);
    const file = fresh('.zip');
    await writeFile(file, Buffer.concat([zstd(tar.subarray(0, cut)), skippable, zstd(tar.subarray(cut))]));
    const { members } = await extracted(file);
    expect([...members.keys()].sort()).toEqual(['vendor/big.bin', 'vendor/bin/', 'vendor/bin/run.sh', 'vendor/stamp']);
    expect(members.get('vendor/big.bin')?.data.equals(BIG)).toBe(true);
  });

  it('keeps memory bounded for a file of zeros that zstd stores in a few bytes per 128 KiB', async () => {
    const zeros = 256 * 1024 * 1024;
    const root = await mkdtemp(join(dir, 'zeros-'));
    await mkdir(join(root, 'vendor'));
    execFileSync('truncate', ['-s', String(zeros), join(root, 'vendor/zeros')]);
    const file = await gnuTarZstd(root, 'pax');
    expect((await readFile(file)).length).toBeLessThan(256 * 1024);
    const held = (): number => {
      // Twice: the second collection finishes sweeping the Buffers the first freed.
      expect(collectGarbageBefore(FULL_GC_ARCHIVE_BYTES) && collectGarbageBefore(FULL_GC_ARCHIVE_BYTES)).toBe(true);
      return process.memoryUsage().arrayBuffers;
    };
    const base = held();
    const { stream, done } = await tarZstdToTar(file, { signal: signal(), kind: 'cache' });
    let bytes = 0;
    let chunks = 0;
    let peak = 0;
    for await (const chunk of stream) {
      bytes += (chunk as Buffer).length;
      // The memory held, not what the GC has yet to free (that depends on its timing: peaks of
      // 75-102 MiB over 10 runs, measured without the GC): after full GCs, the Buffers' growth
      // (38 MB in every run).
      if (++chunks % 8 === 0) peak = Math.max(peak, held() - base);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await done;
    expect(bytes).toBeGreaterThan(zeros);
    // Decoded in slices (at most 16 MiB of blocks at once) and handed on with backpressure:
    // fed whole, the stream's 256 MiB would be held at once.
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);

  it('skips pipes, as gitlab-runner does, and hard links (gitlab-runner would make an empty file), and says which', async () => {
    const file = await crafted([
      { name: 'vendor/a', data: 'a' },
      { name: 'vendor/hard', type: 'link', linkname: 'vendor/a' },
      { name: 'vendor/pipe', type: 'fifo' },
    ]);
    const skipped: string[] = [];
    const { members } = await extracted(file, (name) => skipped.push(name));
    expect([...members.keys()]).toEqual(['vendor/a']);
    expect(skipped).toEqual(['vendor/hard', 'vendor/pipe']);
  });

  it('keeps a backslash as part of a name (tar is POSIX), and drops setuid, setgid and sticky bits', async () => {
    const root = await mkdtemp(join(dir, 'modes-'));
    await mkdir(join(root, 'vendor'));
    await writeFile(join(root, 'vendor/back\\slash'), 'b');
    await writeFile(join(root, 'vendor/suid'), 's');
    await chmod(join(root, 'vendor/suid'), 0o7755);
    const { members } = await extracted(await gnuTarZstd(root, 'pax'));
    expect(members.get('vendor/back\\slash')?.data.toString()).toBe('b');
    expect(members.get('vendor/suid')?.mode).toBe(0o755);
  });

  it('extracts what it checked: the file opened for the check is the one read, even when the path is replaced after', async () => {
    const good = await gnuTarZstd(await projectTree(), 'pax');
    const bad = await crafted([{ name: 'a', type: 'symlink', linkname: '/etc' }, { name: 'a/passwd', data: 'x' }]);
    const { stream, done } = await tarZstdToTar(good, { signal: signal(), kind: 'cache' });
    await rename(bad, good);
    const [members] = await Promise.all([membersOf(stream), done]);
    expect(members.get('vendor/stamp')?.data.toString()).toBe('42\n');
    expect(members.has('a/passwd')).toBe(false);
  });

  it('an abort ends the extraction with the abort\'s reason, not as a corrupt archive', async () => {
    const file = await gnuTarZstd(await projectTree(), 'pax');
    const controller = new AbortController();
    const { stream, done } = await tarZstdToTar(file, { signal: controller.signal, kind: 'cache' });
    stream.on('error', () => undefined);
    const reason = new Error('execution took longer than 1h');
    stream.once('data', () => controller.abort(reason));
    stream.resume();
    await expect(done).rejects.toBe(reason);
  });

  it('writes names relative to the project folder: ./ and empty segments dropped, the root itself left out', async () => {
    const file = await crafted([{ name: './', type: 'directory' }, { name: './vendor//x', data: 'x' }]);
    const { members } = await extracted(file);
    expect([...members.keys()]).toEqual(['vendor/x']);
  });
});

describe('tarZstdToTar: refused before anything is produced', () => {
  const unsafe: [string, Parameters<typeof crafted>[0], RegExp][] = [
    ['an absolute name', [{ name: 'ok', data: 'x' }, { name: '/etc/cron.d/x', data: 'x' }], /"\/etc\/cron.d\/x" is unsafe \(its name is an absolute path\)/],
    ['a .. segment', [{ name: 'vendor/../../x', data: 'x' }], /is unsafe \(its name has a '\.\.' segment\)/],
    ['a path through a link of the same archive', [{ name: 'a', type: 'symlink', linkname: '/etc' }, { name: 'a/passwd', data: 'x' }], /"a\/passwd" is unsafe \(its path goes through "a"/],
    ['a path through a link that comes after it', [{ name: 'a/passwd', data: 'x' }, { name: 'a', type: 'symlink', linkname: '/etc' }], /"a\/passwd" is unsafe \(its path goes through "a"/],
    ['a file with the path of a link', [{ name: 'l', type: 'symlink', linkname: '/etc/passwd' }, { name: 'l', data: 'x' }], /same path as a symbolic link/],
  ];
  for (const [what, members, message] of unsafe) {
    it(`refuses ${what}`, async () => {
      const file = await crafted(members);
      const err = await archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArchiveError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain('nothing was extracted');
      expect((err as Error).message).toContain(file);
    });
  }

  it('refuses a link with an empty target, and more members than allowed', async () => {
    const empty = await crafted([{ name: 'l', type: 'symlink', linkname: '' }]);
    await expect(tarZstdToTar(empty, { signal: signal(), kind: 'cache' })).rejects.toThrow(/cache archive .* is corrupt or truncated \(entry "l"\): a symbolic link with an empty/);
    const many = await crafted(['a', 'b', 'c', 'd'].map((name) => ({ name, data: name })));
    await expect(tarZstdToTar(many, { signal: signal(), kind: 'cache', maxEntries: 3 })).rejects.toThrow(/has more than 3 entries, more than the 3 berth extracts/);
  });

  it('calls a truncated, garbled or non-tar archive corrupt, naming the file', async () => {
    const good = await readFile(await gnuTarZstd(await projectTree(), 'pax'));
    const truncated = fresh('.zip');
    await writeFile(truncated, good.subarray(0, Math.floor(good.length / 2)));
    await expect(archiveToTar(truncated, { signal: signal(), kind: 'cache', zstd: true })).rejects.toThrow(new RegExp(`the cache archive ${truncated} is corrupt or truncated.*unexpected EOF; the next job that saves this cache will replace it`));
    const garbled = fresh('.zip');
    await writeFile(garbled, Buffer.concat([good.subarray(0, 4), Buffer.alloc(64, 0xff)]));
    await expect(archiveToTar(garbled, { signal: signal(), kind: 'cache', zstd: true })).rejects.toThrow(/is corrupt or truncated/);
    const notTar = fresh('.zip');
    await writeFile(notTar, zstd(Buffer.alloc(4096, 'x')));
    await expect(archiveToTar(notTar, { signal: signal(), kind: 'cache', zstd: true })).rejects.toThrow(/is corrupt or truncated.*[Ii]nvalid tar header/);
  });

  /** A zstd frame made by hand: no checksum, the window descriptor `wd`, then the blocks. */
  function frame(wd: number, blocks: { type: 0 | 1; size: number; last?: boolean }[]): Buffer {
    const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, wd])];
    for (const b of blocks) {
      const h = (b.size << 3) | (b.type << 1) | (b.last ? 1 : 0);
      parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), Buffer.alloc(b.type === 1 ? 1 : b.size, 0x61));
    }
    return Buffer.concat(parts);
  }
  const zstdFile = async (bytes: Buffer): Promise<string> => {
    const file = fresh('.zip');
    await writeFile(file, bytes);
    return file;
  };

  it('refuses a frame whose window is larger than any gitlab-runner writes (fzstd would allocate it)', async () => {
    // 0xa7: a window of 1.875 GiB; twelve 1-byte blocks.
    const file = await zstdFile(frame(0xa7, [...Array.from({ length: 11 }, () => ({ type: 0 as const, size: 1 })), { type: 0, size: 1, last: true }]));
    await expect(archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true })).rejects.toThrow(/is corrupt or truncated: a zstd frame declares a window of 2013265920 bytes, more than the 32 MiB \(33554432\) berth decodes/);
  });

  it('refuses a block above the 128 KiB block maximum (fzstd does not)', async () => {
    const file = await zstdFile(frame(0x58, [{ type: 1, size: 2 * 1024 * 1024 - 1, last: true }]));
    await expect(archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true })).rejects.toThrow(/a block of 2097151 bytes, more than the block maximum of 131072/);
  });

  it('refuses a stream of tiny blocks (each one a full window move in fzstd)', async () => {
    const file = await zstdFile(frame(0x58, [...Array.from({ length: 5000 }, () => ({ type: 0 as const, size: 1 })), { type: 0, size: 1, last: true }]));
    await expect(archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true })).rejects.toThrow(/a zstd stream that moves \d+ bytes of window for \d+ bytes of output: berth refuses streams of tiny blocks or frames/);
  });

  it('refuses a name longer than PATH_MAX without keeping it (a pax name may be 4 MiB)', async () => {
    const file = await crafted([{ name: `${'n'.repeat(5000)}`, data: 'x' }]);
    await expect(archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true })).rejects.toThrow(/the entry "n{100}…" is unsafe \(its name is 5000 bytes long, more than the 4096 a path may have\)/);
  });

  it('refuses a frame made with a dictionary (fzstd would ignore it and give wrong bytes)', async () => {
    const file = await zstdFile(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x01, 0x58, 0x07, 0x01, 0x00, 0x00, 0x61]));
    await expect(archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true })).rejects.toThrow(/a zstd frame made with a dictionary/);
  });

  it('reads Zstandard only when told the file comes from a runner-written store (a repository or GitLab could plant a crafted one)', async () => {
    const file = await gnuTarZstd(await projectTree(), 'pax');
    await expect(archiveToTar(file, { signal: signal(), kind: 'cache' })).rejects.toThrow(/is a tar\+zstd archive, which berth reads only as a cache from a runner's own cache folder or bucket/);
  });

  it('refuses a gzip file with what berth reads instead (gitlab-runner has no extractor for it either)', async () => {
    const file = fresh('.zip');
    await writeFile(file, execFileSync('gzip', ['-c'], { input: 'x' }));
    await expect(archiveToTar(file, { signal: signal(), kind: 'cache', zstd: true })).rejects.toThrow(/is a gzip file, which berth \(like gitlab-runner\) does not extract: it extracts zip and tar\+zstd/);
  });
});
