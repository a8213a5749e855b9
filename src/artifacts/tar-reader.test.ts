import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarFormatError } from './tar-header-parse.js';
import { readTar, type TarMember } from './tar-reader.js';
import { padding, TAR_END, tarHeader } from './tar-header.js';

let dir: string;
const LONG_DIR = `deep-${'d'.repeat(120)}`;
const LONG_FILE = `file-${'f'.repeat(140)}.txt`;
const LONG_TARGET = `../${'t'.repeat(150)}`;
const big = Buffer.alloc(3 * 1024 * 1024 + 17);
for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
const T = new Date('2024-05-06T07:08:10Z');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-tar-reader-'));
  const src = join(dir, 'src');
  await mkdir(join(src, 'sub', LONG_DIR), { recursive: true });
  await writeFile(join(src, 'a.txt'), 'alpha\n');
  await writeFile(join(src, 'empty'), '');
  await writeFile(join(src, 'sub', 'big.bin'), big);
  await writeFile(join(src, 'sub', LONG_DIR, LONG_FILE), 'long name\n');
  await symlink(LONG_TARGET, join(src, 'sub', 'link'));
  await symlink('a.txt', join(src, 'short-link'));
  for (const f of ['a.txt', 'empty', 'sub/big.bin', `sub/${LONG_DIR}/${LONG_FILE}`]) await utimes(join(src, f), T, T);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** GNU tar (an independent writer) makes the archive of src/ in `format`. */
function gnuTar(format: string, exclude: string[] = []): Buffer {
  return execFileSync('tar', [`--format=${format}`, '--sort=name', ...exclude.map((e) => `--exclude=${e}`), '-C', join(dir, 'src'), '-cf', '-', '.'], { maxBuffer: 64 * 1024 * 1024 });
}

/** The bytes delivered in pieces of varying size (headers and contents cut anywhere). */
function pieces(b: Buffer, sizes = [1, 511, 7, 4096, 513, 65536, 100_000]): Readable {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < b.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(b.subarray(at, at + n));
    at += n;
  }
  return Readable.from(out, { objectMode: false });
}

interface Seen {
  name: string;
  type: string;
  size: number;
  linkname: string;
  mtime: number;
  sha?: string;
  how?: 'data' | 'body';
}

async function collect(source: Readable, inMemoryMax = 1024 * 1024): Promise<Seen[]> {
  const seen: Seen[] = [];
  for await (const m of readTar(source, { where: 'test.tar', inMemoryMax })) {
    const s: Seen = { name: m.name.replace(/^\.\//, ''), type: m.type, size: m.size, linkname: m.linkname, mtime: m.mtime.getTime() };
    if (m.data) Object.assign(s, { sha: sha(m.data), how: 'data' });
    if (m.body) {
      const parts: Buffer[] = [];
      for await (const c of m.body) parts.push(c as Buffer);
      Object.assign(s, { sha: sha(Buffer.concat(parts)), how: 'body' });
    }
    seen.push(s);
  }
  return seen;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`stalled: ${what}`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

describe('readTar', () => {
  for (const format of ['gnu', 'pax', 'ustar']) {
    it(`reads GNU tar's ${format} format: names, kinds, link targets, contents (small in memory, large streamed)`, async () => {
      // ustar cannot hold the long names: left out for it.
      const tar = format === 'ustar' ? gnuTar(format, [LONG_DIR, 'link']) : gnuTar(format);
      const seen = await collect(pieces(tar));
      const byName = new Map(seen.map((s) => [s.name.replace(/\/$/, ''), s]));
      expect(byName.get('a.txt')).toMatchObject({ type: 'file', size: 6, sha: sha(Buffer.from('alpha\n')), how: 'data', mtime: T.getTime() });
      expect(byName.get('empty')).toMatchObject({ type: 'file', size: 0, sha: sha(Buffer.alloc(0)), how: 'data' });
      expect(byName.get('sub/big.bin')).toMatchObject({ type: 'file', size: big.length, sha: sha(big), how: 'body' });
      expect(byName.get('short-link')).toMatchObject({ type: 'symlink', linkname: 'a.txt', size: 0 });
      expect(byName.get('sub')).toMatchObject({ type: 'directory', size: 0 });
      if (format !== 'ustar') {
        expect(byName.get(`sub/${LONG_DIR}/${LONG_FILE}`)).toMatchObject({ type: 'file', sha: sha(Buffer.from('long name\n')) });
        expect(byName.get('sub/link')).toMatchObject({ type: 'symlink', linkname: LONG_TARGET });
      }
    });
  }

  it('hands a large body out as a stream that a reader may skip: the next member is still right', async () => {
    const tar = gnuTar('pax');
    const names: string[] = [];
    let smallAfterBig: Buffer | undefined;
    let sawBig = false;
    for await (const m of readTar(pieces(tar), { where: 'test.tar', inMemoryMax: 1024 })) {
      names.push(m.name);
      if (m.body) sawBig = true;
      if (sawBig && m.name.endsWith(LONG_FILE)) smallAfterBig = m.data;
    }
    expect(sawBig).toBe(true);
    expect(smallAfterBig?.toString()).toBe('long name\n');
    expect(names.length).toBeGreaterThan(6);
  });

  it('a large body goes through stream.pipeline and Transforms of any buffer size to its end (no lost read request)', async () => {
    for (const hwm of [1, 1024, 64 * 1024, 1024 * 1024]) {
      for (const chunks of [[1, 511, 7, 4096, 513, 65536, 100_000], [200_000]]) {
        let got: Buffer | undefined;
        for await (const m of readTar(pieces(gnuTar('gnu'), chunks), { where: 'test.tar', inMemoryMax: 1024 })) {
          if (!m.name.endsWith('big.bin')) continue;
          const parts: Buffer[] = [];
          const hash = new Transform({ highWaterMark: hwm, transform: (c: Buffer, _e, done) => setImmediate(() => done(null, c)) });
          const slow = new Writable({ highWaterMark: hwm, write: (c: Buffer, _e, done) => (parts.push(c), setTimeout(done, 0)) });
          await withTimeout(pipeline(m.body!, new PassThrough({ highWaterMark: hwm }), hash, slow), 20_000, `hwm ${hwm}`);
          got = Buffer.concat(parts);
        }
        expect(got?.equals(big), `hwm ${hwm}`).toBe(true);
      }
    }
  }, 60_000);

  it('a body left half read is destroyed (its reader never sees a short file end normally)', async () => {
    const tar = gnuTar('gnu');
    let body: Readable | undefined;
    const after: string[] = [];
    for await (const m of readTar(pieces(tar), { where: 'test.tar', inMemoryMax: 1024 })) {
      if (m.body && !body) {
        body = m.body;
        await new Promise<void>((resolve) => body!.once('readable', resolve));
        body.read(1000);
      } else if (body) after.push(m.name);
    }
    expect(body!.destroyed).toBe(true);
    expect(body!.readableEnded).toBe(false);
    expect(after.length).toBeGreaterThan(0);
  });

  it('reads base-256 sizes, pax sizes and pax mtimes with fractions', async () => {
    const content = Buffer.from('x'.repeat(700));
    const header = tarHeader({ name: 'b256.txt', type: 'file', mode: 0o644, mtime: T, size: content.length });
    // Base-256: the high bit of the first byte, the value in the remaining bytes.
    header.fill(0, 124, 136);
    header[124] = 0x80;
    header.writeUInt32BE(content.length, 132);
    fixChecksum(header);
    const pax = paxMember('mtime=1700000000.25\n', 'size=5\n');
    const paxed = tarHeader({ name: 'paxed.txt', type: 'file', mode: 0o644, mtime: T, size: 0 });
    const tar = Buffer.concat([header, content, Buffer.alloc(padding(content.length)), pax, paxed, Buffer.from('hello'), Buffer.alloc(padding(5)), TAR_END]);
    const seen = await collect(pieces(tar));
    expect(seen).toEqual([
      { name: 'b256.txt', type: 'file', size: 700, linkname: '', mtime: T.getTime(), sha: sha(content), how: 'data' },
      { name: 'paxed.txt', type: 'file', size: 5, linkname: '', mtime: 1700000000250, sha: sha(Buffer.from('hello')), how: 'data' },
    ]);
  });

  it('a tar without its end-of-archive blocks ends after its last whole member', async () => {
    const tar = gnuTar('ustar', [LONG_DIR, 'link', 'big.bin']);
    const cut = tar.subarray(0, tar.length - 1024 * 8).subarray(0, endOfLastMember(tar));
    const seen = await collect(pieces(cut));
    expect(seen.map((s) => s.name).filter((n) => n === 'a.txt')).toHaveLength(1);
  });

  it('a wrong checksum, a stream cut inside a member, a malformed pax record, a sparse file: TarFormatErrors naming the archive', async () => {
    const good = gnuTar('ustar', [LONG_DIR, 'link', 'big.bin']);
    const bad = Buffer.from(good);
    bad[0] = bad[0]! ^ 0x01;
    await expect(collect(pieces(bad))).rejects.toThrow(/test\.tar: invalid tar header: its checksum does not match/);
    await expect(collect(pieces(bad))).rejects.toBeInstanceOf(TarFormatError);

    const file = tarHeader({ name: 'cut.txt', type: 'file', mode: 0o644, mtime: T, size: 5000 });
    await expect(collect(pieces(Buffer.concat([file, Buffer.alloc(100)])))).rejects.toThrow(/test\.tar: the archive ended inside cut\.txt/);

    const bigHeader = tarHeader({ name: 'big-cut.bin', type: 'file', mode: 0o644, mtime: T, size: 3_000_000 });
    await expect(collect(pieces(Buffer.concat([bigHeader, Buffer.alloc(100_000)])), 1024)).rejects.toThrow(/test\.tar: the archive ended inside big-cut\.bin/);

    const badPax = Buffer.concat([paxMember('99 path=x\n'), tarHeader({ name: 'p', type: 'file', mode: 0o644, mtime: T, size: 0 }), TAR_END]);
    await expect(collect(pieces(badPax))).rejects.toThrow(/malformed pax extended header record/);

    const sparse = tarHeader({ name: 'holes', type: 'file', mode: 0o644, mtime: T, size: 0 });
    sparse[156] = 'S'.charCodeAt(0);
    fixChecksum(sparse);
    await expect(collect(pieces(Buffer.concat([sparse, TAR_END])))).rejects.toThrow(/holes is a sparse file/);
  });

  it('pauses its source while more than highWater bytes wait, and destroys it when the reader stops early', async () => {
    const tar = gnuTar('gnu');
    const source = pieces(tar, [64 * 1024]);
    const it = readTar(source, { where: 'test.tar', inMemoryMax: 1024, highWater: 128 * 1024 });
    const first = (await it.next()).value as TarMember;
    expect(first).toBeDefined();
    // Give the source time to push: it must stop at the high-water mark.
    await new Promise((r) => setTimeout(r, 50));
    const pausedSeen = source.isPaused();
    await it.return(undefined);
    expect(pausedSeen).toBe(true);
    expect(source.destroyed).toBe(true);
  });
});

/** A pax extended header member holding `records` (each "key=value\n"; lengths added here unless given). */
function paxMember(...records: string[]): Buffer {
  const body = Buffer.from(
    records
      .map((r) => {
        if (/^\d+ /.test(r)) return r;
        const rest = r.length + 1;
        let len = rest + String(rest).length;
        if (String(len).length !== String(rest).length) len = rest + String(len).length;
        return `${len} ${r}`;
      })
      .join(''),
  );
  const h = tarHeader({ name: 'PaxHeader', type: 'file', mode: 0o644, mtime: T, size: body.length });
  h[156] = 'x'.charCodeAt(0);
  fixChecksum(h);
  return Buffer.concat([h, body, Buffer.alloc(padding(body.length))]);
}

function fixChecksum(h: Buffer): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i]!;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}

/** The offset just after the last member of a tar (before its end blocks). */
function endOfLastMember(tar: Buffer): number {
  let at = 0;
  let end = 0;
  while (at + 512 <= tar.length && tar[at] !== 0) {
    const size = parseInt(tar.toString('latin1', at + 124, at + 136).replace(/\0.*$/, '').trim() || '0', 8);
    at += 512 + size + padding(size);
    end = at;
  }
  return end;
}

describe('readTar on a stream that is already over', () => {
  it('a stream destroyed before reading starts is an error at once, not a wait', async () => {
    const source = new Readable({ read: () => undefined });
    source.on('error', () => undefined);
    source.destroy(new Error('socket hang up'));
    await new Promise((r) => setImmediate(r));
    await expect(collect(source)).rejects.toThrow(/socket hang up/);
  });
});

describe('readTar when the source fails inside a large member nobody reads', () => {
  it('the failure comes out of the next step, and nothing is left unhandled', async () => {
    const header = tarHeader({ name: 'large.bin', type: 'file', mode: 0o644, mtime: T, size: 3_000_000 });
    const source = new Readable({ read: () => undefined });
    source.push(Buffer.concat([header, Buffer.alloc(200_000)]));
    setTimeout(() => source.destroy(new Error('engine connection reset')), 20);
    const names: string[] = [];
    const run = (async () => {
      for await (const m of readTar(source, { where: 'test.tar', inMemoryMax: 1024 })) names.push(m.name);
    })();
    await expect(run).rejects.toThrow(/engine connection reset/);
    expect(names).toEqual(['large.bin']);
  });
});
