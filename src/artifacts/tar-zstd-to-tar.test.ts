/**
 * tarZstdToTar / archiveToTar on archives made the way gitlab-runner's CACHE_COMPRESSION_FORMAT=
 * tarzstd makes them: a tar (GNU tar's ustar, pax and gnu formats here, Go's archive/tar writes
 * ustar or pax) in a zstd stream made by the zstd tool. Unsafe ones are crafted with tar-stream.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError } from './archive-error.js';
import { archiveToTar } from './archive-to-tar.js';
import { tarZstdToTar } from './tar-zstd-to-tar.js';

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
  const { stream, done } = await archiveToTar(file, { signal: signal(), kind: 'cache', onSkipped });
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
    const { stream, done } = await tarZstdToTar(file, { signal: signal(), kind: 'cache' });
    let bytes = 0;
    let peak = 0;
    for await (const chunk of stream) {
      bytes += (chunk as Buffer).length;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await done;
    expect(bytes).toBeGreaterThan(zeros);
    // Decoded in slices (at most 16 MiB of blocks at once) and handed on with backpressure:
    // fed whole, the stream's 256 MiB would be in memory at once.
    expect(peak).toBeLessThan(96 * 1024 * 1024);
  }, 120_000);

  it('skips hard links, pipes and the like, as gitlab-runner does, and says which', async () => {
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
      const err = await archiveToTar(file, { signal: signal(), kind: 'cache' }).catch((e: unknown) => e);
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
    await expect(archiveToTar(truncated, { signal: signal(), kind: 'cache' })).rejects.toThrow(new RegExp(`the cache archive ${truncated} is corrupt or truncated.*unexpected EOF; the next job that saves this cache will replace it`));
    const garbled = fresh('.zip');
    await writeFile(garbled, Buffer.concat([good.subarray(0, 4), Buffer.alloc(64, 0xff)]));
    await expect(archiveToTar(garbled, { signal: signal(), kind: 'cache' })).rejects.toThrow(/is corrupt or truncated/);
    const notTar = fresh('.zip');
    await writeFile(notTar, zstd(Buffer.alloc(4096, 'x')));
    await expect(archiveToTar(notTar, { signal: signal(), kind: 'cache' })).rejects.toThrow(/is corrupt or truncated.*[Ii]nvalid tar header/);
  });

  it('refuses a gzip file with what berth reads instead (gitlab-runner has no extractor for it either)', async () => {
    const file = fresh('.zip');
    await writeFile(file, execFileSync('gzip', ['-c'], { input: 'x' }));
    await expect(archiveToTar(file, { signal: signal(), kind: 'cache' })).rejects.toThrow(/is a gzip file, which berth \(like gitlab-runner\) does not extract: it extracts zip and tar\+zstd/);
  });
});
