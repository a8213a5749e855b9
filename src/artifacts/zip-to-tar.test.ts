import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError } from './archive-error.js';
import { writeZip } from './write-zip.js';
import { zipToTar } from './zip-to-tar.js';
import { inspectZip } from './inspect-zip.js';
import { openZipReader, zipEntries } from './open-zip.js';
import { fileEntries, patternBody, T0, type EntrySpec } from '../../test/support/archive-entries.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-zip-to-tar-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = (): AbortSignal => AbortSignal.timeout(30_000);
const fresh = (ext: string): string => join(dir, `f${++n}${ext}`);

async function zipOf(specs: EntrySpec[], level = 5): Promise<string> {
  const file = fresh('.zip');
  await writeZip(fileEntries(specs), file, { level, signal: signal() });
  return file;
}

/** A zip written by yazl, then byte-patched: `from` → `to` (same length) everywhere it occurs. */
async function patchedZip(specs: EntrySpec[], patches: [string, string][]): Promise<string> {
  const file = await zipOf(specs, 0);
  let buf = await readFile(file);
  for (const [from, to] of patches) {
    const a = Buffer.from(from, 'latin1');
    const b = Buffer.from(to, 'latin1');
    expect(a.length).toBe(b.length);
    let found = 0;
    for (let i = buf.indexOf(a); i !== -1; i = buf.indexOf(a, i + 1)) {
      b.copy(buf, i);
      found++;
    }
    expect(found).toBeGreaterThan(0);
  }
  buf = Buffer.from(buf);
  await writeFile(file, buf);
  return file;
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface TarMember {
  name: string;
  type: string;
  mode: number;
  mtime: number;
  size: number;
  linkname: string;
  data: string;
}

/** Python's tarfile (an independent reader) lists the tar. */
function pyTar(tar: Buffer): TarMember[] {
  const script = `
import io, json, sys, tarfile
t = tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read()))
out = []
for m in t.getmembers():
    kind = 'dir' if m.isdir() else 'symlink' if m.issym() else 'file' if m.isfile() else 'other'
    data = t.extractfile(m).read() if m.isfile() else b''
    out.append(dict(name=m.name, type=kind, mode=m.mode, mtime=m.mtime, size=m.size, linkname=m.linkname,
                    data=data.decode('utf-8', 'replace') if len(data) < 100 else 'sha:' + __import__('hashlib').sha256(data).hexdigest()))
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: tar, encoding: 'utf8' })) as TarMember[];
}

/** Extracts with the system's tar into `into` (what the project directory would get). */
async function extractWithTar(file: string, into: string, opts: { maxEntries?: number } = {}): Promise<void> {
  await mkdir(into, { recursive: true });
  const { stream, done } = await zipToTar(file, { signal: signal(), ...opts });
  const tar = spawn('tar', ['-x', '-C', into], { stdio: ['pipe', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => tar.on('close', resolve));
  await pipeline(stream, tar.stdin);
  await done;
  expect(await exited).toBe(0);
}

const sha = (b: Buffer): string => 'sha:' + createHash('sha256').update(b).digest('hex');

describe('zipToTar: round trips', () => {
  it('streams folders, files (mode, mtime, 0 bytes, unicode and long names) and links as a tar python reads back', async () => {
    const long = `${'deep/'.repeat(25)}ファイル-${'x'.repeat(40)}.txt`;
    const file = await zipOf([
      { path: 'bin', type: 'directory', mode: 0o750 },
      { path: 'bin/run.sh', content: '#!/bin/sh\n', mode: 0o755 },
      { path: 'bin/secret', content: 's', mode: 0o600 },
      { path: 'bin/empty', content: '' },
      { path: 'bin/latest', type: 'symlink', linkTarget: 'run.sh' },
      { path: 'abs-link', type: 'symlink', linkTarget: '/usr/share/doc' },
      { path: 'données/résumé.txt', content: 'unicode ✓' },
      { path: long, content: 'long' },
      { path: 'big.bin', body: () => patternBody(1_000_000, 5), size: 1_000_000 },
    ]);
    const { stream, done } = await zipToTar(file, { signal: signal() });
    const tar = await drain(stream);
    expect(await done).toEqual({ entries: 9, bytes: 10 + 1 + 0 + Buffer.byteLength('unicode ✓') + 4 + 1_000_000 });
    const members = pyTar(tar);
    const by = new Map(members.map((m) => [m.name, m]));
    expect(members.map((m) => m.name)).toEqual([
      'bin',
      'bin/run.sh',
      'bin/secret',
      'bin/empty',
      'bin/latest',
      'abs-link',
      'données/résumé.txt',
      long,
      'big.bin',
    ]);
    expect(by.get('bin')).toMatchObject({ type: 'dir', mode: 0o750 });
    expect(by.get('bin/run.sh')).toMatchObject({ type: 'file', mode: 0o755, data: '#!/bin/sh\n', mtime: T0.getTime() / 1000 });
    expect(by.get('bin/secret')).toMatchObject({ mode: 0o600, data: 's' });
    expect(by.get('bin/empty')).toMatchObject({ type: 'file', size: 0, data: '' });
    expect(by.get('bin/latest')).toMatchObject({ type: 'symlink', linkname: 'run.sh' });
    expect(by.get('abs-link')).toMatchObject({ type: 'symlink', linkname: '/usr/share/doc' });
    expect(by.get('données/résumé.txt')).toMatchObject({ data: 'unicode ✓' });
    expect(by.get(long)).toMatchObject({ data: 'long' });
    const big = await drain(patternBody(1_000_000, 5));
    expect(by.get('big.bin')!.data).toBe(sha(big));
  });

  it('reads a zip written by another writer (python zipfile: unix and MS-DOS attributes, no UT field, ./ names)', async () => {
    const file = fresh('.zip');
    const script = `
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)
def add(name, data, attr, system=3, date=(2021, 3, 4, 5, 6, 8)):
    i = zipfile.ZipInfo(name, date_time=date); i.external_attr = attr; i.create_system = system
    z.writestr(i, data)
add('./', '', (0o40755 << 16) | 0x10)
add('./top/', '', (0o40700 << 16) | 0x10)
add('./top/x.txt', 'x', 0o100640 << 16)
add('top/link', 'x.txt', 0o120777 << 16)
add('fifo', '', 0o10644 << 16)
add('dos/', '', 0x10, system=0)
add('dos/ro.txt', 'ro', 0x01, system=0)
add('dos/rw.txt', 'rw', 0x20, system=0)
z.close()
`;
    execFileSync('python3', ['-c', script, file]);
    const skipped: string[] = [];
    const { stream, done } = await zipToTar(file, { signal: signal(), onSkipped: (s) => skipped.push(s) });
    const members = pyTar(await drain(stream));
    expect((await done).entries).toBe(6);
    expect(skipped).toEqual(['fifo']);
    expect(members.map((m) => [m.name, m.type, m.mode.toString(8)])).toEqual([
      ['top', 'dir', '700'],
      ['top/x.txt', 'file', '640'],
      ['top/link', 'symlink', '777'],
      ['dos', 'dir', '777'],
      ['dos/ro.txt', 'file', '444'],
      ['dos/rw.txt', 'file', '666'],
    ]);
    // without a UT extra field the MS-DOS time counts as UTC (as Go's archive/zip reads it)
    expect(members[1]!.mtime).toBe(Date.UTC(2021, 2, 4, 5, 6, 8) / 1000);
    expect(members[2]!.linkname).toBe('x.txt');
  });

  it('extracts with tar into a directory: files, modes and links land where they should', async () => {
    const file = await zipOf([
      { path: 'a', type: 'directory' },
      { path: 'a/b.txt', content: 'b', mode: 0o640 },
      { path: 'a/c', type: 'symlink', linkTarget: 'b.txt' },
    ]);
    const into = fresh('.d');
    await extractWithTar(file, into);
    expect(await readFile(join(into, 'a/c'), 'utf8')).toBe('b');
    expect(execFileSync('stat', ['-c', '%a %F', join(into, 'a/b.txt'), join(into, 'a/c')], { encoding: 'utf8' })).toBe(
      '640 regular file\n777 symbolic link\n',
    );
  });
});

describe('zipToTar: refuses unsafe archives before producing anything', () => {
  const cases: [string, EntrySpec[], [string, string][], string, string][] = [
    ['a .. segment', [{ path: 'ok.txt', content: 'fine' }, { path: 'ZZ/x', content: 'evil' }], [['ZZ/x', '../x']], '../x', "'..' segment"],
    ['a .. deeper in', [{ path: 'a/ZZ/ZZ/x', content: 'evil' }], [['a/ZZ/ZZ/x', 'a/../../x']], 'a/../../x', "'..' segment"],
    ['a backslash .. (Windows separators)', [{ path: 'ZZQx', content: 'evil' }], [['ZZQx', '..\\x']], '..\\x', "'..' segment"],
    ['an absolute name', [{ path: 'Qabs', content: 'evil' }], [['Qabs', '/abs']], '/abs', 'absolute path'],
    ['a drive letter', [{ path: 'QQwin', content: 'evil' }], [['QQwin', 'C:win']], 'C:win', 'absolute path'],
    ['a NUL byte', [{ path: 'aQQQb', content: 'evil' }], [['aQQQb', 'a\0\0\0b']], 'a\0\0\0b', 'NUL byte'],
  ];
  it.each(cases)('%s', async (_what, specs, patches, entry, reason) => {
    const file = await patchedZip(specs, patches);
    const into = fresh('.d');
    const err = await extractWithTar(file, into).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).entry).toBe(entry);
    expect((err as Error).message).toContain(JSON.stringify(entry));
    expect((err as Error).message).toContain(reason);
    expect((err as Error).message).toContain('nothing was extracted');
    expect(await readdir(into)).toEqual([]);
  });

  it.each([
    ['a link then a file through it', [{ path: 'a', type: 'symlink', linkTarget: '/etc' }, { path: 'a/passwd', content: 'root::0:0::/:/bin/sh\n' }], 'a/passwd', '"a"'],
    ['a file through a link stored after it', [{ path: 'x/y/z', content: 'evil' }, { path: 'x/y', type: 'symlink', linkTarget: '../../..' }], 'x/y/z', '"x/y"'],
    ['a folder through a link', [{ path: 'l', type: 'symlink', linkTarget: '/' }, { path: 'l/tmp', type: 'directory' }], 'l/tmp/', '"l"'],
    ['a link through a link', [{ path: 'p', type: 'symlink', linkTarget: '/' }, { path: 'p/q', type: 'symlink', linkTarget: 'etc' }], 'p/q', '"p"'],
  ] as [string, EntrySpec[], string, string][])('%s', async (_what, specs, entry, link) => {
    const file = await zipOf(specs);
    const into = fresh('.d');
    const err = await extractWithTar(file, into).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).entry).toBe(entry);
    expect((err as Error).message).toContain(`goes through ${link}, a symbolic link stored in the same archive`);
    expect(await readdir(into)).toEqual([]);
  });

  it('refuses an entry with the path of a link (a folder a/ after a -> /etc)', async () => {
    const file = await zipOf([
      { path: 'a', type: 'symlink', linkTarget: '/etc' },
      { path: 'a', type: 'directory', mode: 0o777 },
    ]);
    const into = fresh('.d');
    const err = await extractWithTar(file, into).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).entry).toBe('a/');
    expect((err as Error).message).toContain('it has the same path as a symbolic link stored in the same archive');
    expect(await readdir(into)).toEqual([]);
  });

  it('accepts a link whose name is only a string prefix of other paths (lib → real, lib2/x)', async () => {
    const file = await zipOf([
      { path: 'lib', type: 'symlink', linkTarget: 'real' },
      { path: 'lib2/x', content: 'x' },
      { path: 'real/y', content: 'y' },
    ]);
    const into = fresh('.d');
    await extractWithTar(file, into);
    expect(await readFile(join(into, 'lib2/x'), 'utf8')).toBe('x');
  });

  it('refuses more entries than the bound', async () => {
    const file = await zipOf([
      { path: 'a', content: 'a' },
      { path: 'b', content: 'b' },
      { path: 'c', content: 'c' },
    ]);
    const into = fresh('.d');
    const err = await extractWithTar(file, into, { maxEntries: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toContain('it has 3 entries, more than the 2 berth extracts');
    expect(await readdir(into)).toEqual([]);
  });

  it('refuses a compression method it cannot read (bzip2 in zip), naming the entry', async () => {
    const file = await zipOf([{ path: 'ok.txt', content: 'ok' }, { path: 'z.bin', content: 'zzz' }], 0);
    const buf = await readFile(file);
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    let cd = buf.readUInt32LE(eocd + 16);
    cd += 46 + buf.readUInt16LE(cd + 28) + buf.readUInt16LE(cd + 30) + buf.readUInt16LE(cd + 32); // skip ok.txt
    buf.writeUInt16LE(12, cd + 10);
    await writeFile(file, buf);
    const err = await zipToTar(file, { signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).entry).toBe('z.bin');
    expect((err as Error).message).toContain('compression method 12; berth reads stored, Deflate and Zstandard (93) entries only');
  });
});

describe('zipToTar: one open file for the check and the extraction', () => {
  it('inspectZip given the open reader checks that file, not what its path names now', async () => {
    const unsafe = await zipOf([
      { path: 'a', type: 'symlink', linkTarget: '/etc' },
      { path: 'a/passwd', content: 'x' },
    ]);
    const { zip, reader } = await openZipReader(unsafe, 'cache');
    try {
      // The path now names a harmless zip; the reader still holds the unsafe one.
      await rename(await zipOf([{ path: 'fine.txt', content: 'fine' }]), unsafe);
      await expect(inspectZip(unsafe, { kind: 'cache', maxEntries: 10, signal: signal() })).resolves.toEqual({ entries: 1 });
      await expect(inspectZip(unsafe, { kind: 'cache', maxEntries: 10, signal: signal(), reader })).rejects.toThrow(/"a\/passwd" is unsafe/);
      // The check's own readings of the central directory leave the reader open for the extraction.
      let entries = 0;
      for await (const _ of zipEntries(zip, unsafe, 'cache')) entries++;
      expect(entries).toBe(2);
    } finally {
      zip.close();
    }
  });
});

describe('zipToTar: corrupt or truncated archives', () => {
  it.each([
    ['cut in half', (size: number) => Math.floor(size / 2)],
    ['missing its last bytes', (size: number) => size - 10],
  ])('a zip %s is an ArchiveError before any byte', async (_what, cut) => {
    const file = await zipOf([
      { path: 'a.bin', body: () => patternBody(50_000, 1), size: 50_000 },
      { path: 'b.txt', content: 'b' },
    ]);
    const { size } = await stat(file);
    await truncate(file, cut(size));
    const err = await zipToTar(file, { signal: signal(), kind: 'cache' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toMatch(new RegExp(`^the cache archive ${file} is corrupt or truncated: `));
  });

  it('a flipped byte in a stored file: CRC mismatch, the stream destroyed with the ArchiveError, the file never complete', async () => {
    const content = 'A'.repeat(1000);
    const file = await zipOf(
      [
        { path: 'first.txt', content: 'first' },
        { path: 'data.txt', content },
      ],
      0,
    );
    const buf = await readFile(file);
    const at = buf.indexOf(Buffer.from(content));
    buf[at + 500] = 0x42;
    await writeFile(file, buf);

    const { stream, done } = await zipToTar(file, { signal: signal() });
    const got: Buffer[] = [];
    const streamErr = await (async () => {
      for await (const c of stream) got.push(c as Buffer);
    })().catch((e: unknown) => e);
    const doneErr = await done.catch((e: unknown) => e);
    expect(streamErr).toBeInstanceOf(ArchiveError);
    expect(doneErr).toBe(streamErr);
    expect((doneErr as ArchiveError).entry).toBe('data.txt');
    expect((doneErr as Error).message).toContain('is corrupt or truncated (entry "data.txt"): CRC-32 mismatch');
    // the bad file's content never made it whole into the tar
    expect(Buffer.concat(got).includes(Buffer.from('AAAB' + 'A'.repeat(60)))).toBe(false);
  });

  it('a flipped byte in deflated data is an ArchiveError too', async () => {
    const file = await zipOf([{ path: 'big.bin', body: () => patternBody(200_000, 2), size: 200_000 }], 5);
    const buf = await readFile(file);
    const at = 30 + 'big.bin'.length + 5000;
    buf[at] = buf[at]! ^ 0xff;
    await writeFile(file, buf);
    const { stream, done } = await zipToTar(file, { signal: signal() });
    const streamErr = new Promise((resolve) => stream.on('error', resolve));
    stream.resume();
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toContain('corrupt or truncated (entry "big.bin")');
    expect(await streamErr).toBe(err);
  });
});

describe('zipToTar: stopping', () => {
  it('an abort destroys the stream and rejects done with the abort', async () => {
    const file = await zipOf([{ path: 'big.bin', body: () => patternBody(5_000_000, 2), size: 5_000_000 }], 0);
    const ac = new AbortController();
    const { stream, done } = await zipToTar(file, { signal: ac.signal });
    stream.once('data', () => ac.abort());
    stream.on('error', () => undefined);
    stream.resume();
    const err = await done.catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(stream.destroyed).toBe(true);
  });

  it('a reader that closes the stream early ends the producer with an ArchiveError', async () => {
    const file = await zipOf([{ path: 'big.bin', body: () => patternBody(5_000_000, 2), size: 5_000_000 }], 0);
    const { stream, done } = await zipToTar(file, { signal: signal() });
    stream.once('data', () => stream.destroy());
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toContain('was closed before its end');
  });
});

/** The central directory's records: offset of each record in the file, and its name. */
function centralRecords(buf: Buffer): { at: number; name: string; local: number }[] {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(eocd + 10);
  const out: { at: number; name: string; local: number }[] = [];
  let at = buf.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    const n = buf.readUInt16LE(at + 28);
    out.push({ at, name: buf.subarray(at + 46, at + 46 + n).toString('utf8'), local: buf.readUInt32LE(at + 42) });
    at += 46 + n + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
  }
  return out;
}

async function refusedAsCorrupt(file: string): Promise<ArchiveError> {
  const { stream, done } = await zipToTar(file, { signal: signal() });
  stream.on('error', () => undefined);
  const tar = await drain(stream).catch(() => Buffer.alloc(0));
  const err = await done.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ArchiveError);
  expect(tar.includes(Buffer.from('evil content'))).toBe(false);
  return err as ArchiveError;
}

describe('zipToTar: the local headers must agree with the central directory', () => {
  const specs: EntrySpec[] = [
    { path: 'a.txt', content: 'good content' },
    { path: 'b.txt', content: 'evil content' },
  ];

  it('two entries sharing one local header (overlapping data) are corrupt', async () => {
    const file = await zipOf(specs, 0);
    const buf = await readFile(file);
    const [, b] = centralRecords(buf);
    buf.writeUInt32LE(0, b!.at + 42);
    await writeFile(file, buf);
    const err = await refusedAsCorrupt(file);
    expect(err.entry).toBe('b.txt');
    expect(err.message).toContain('entries out of order or overlapping');
  });

  it('a central directory in another order than the data is corrupt', async () => {
    const file = await zipOf(specs, 0);
    const buf = await readFile(file);
    const [a, b] = centralRecords(buf);
    const recA = Buffer.from(buf.subarray(a!.at, b!.at));
    const recB = Buffer.from(buf.subarray(b!.at, b!.at + recA.length));
    expect(recB.readUInt16LE(28)).toBe(recA.readUInt16LE(28));
    recB.copy(buf, a!.at);
    recA.copy(buf, b!.at);
    await writeFile(file, buf);
    expect(centralRecords(buf).map((r) => r.name)).toEqual(['b.txt', 'a.txt']);
    const err = await refusedAsCorrupt(file);
    expect(err.entry).toBe('a.txt');
    expect(err.message).toContain('entries out of order or overlapping');
  });

  it('a local header with another name than the central directory is corrupt (the checked name is the extracted one)', async () => {
    const file = await zipOf(specs, 0);
    const buf = await readFile(file);
    const [, b] = centralRecords(buf);
    buf.write('../..', b!.local + 30, 'latin1');
    await writeFile(file, buf);
    const err = await refusedAsCorrupt(file);
    expect(err.entry).toBe('b.txt');
    expect(err.message).toContain('its local header holds another name than the central directory');
  });

  it('a local header with another compression method is corrupt', async () => {
    const file = await zipOf(specs, 0);
    const buf = await readFile(file);
    const [, b] = centralRecords(buf);
    buf.writeUInt16LE(8, b!.local + 8);
    await writeFile(file, buf);
    const err = await refusedAsCorrupt(file);
    expect(err.message).toContain('its local header says compression method 8, the central directory 0');
  });

  it.each([
    ['small (read whole)', 5_000],
    ['large (streamed)', 3_000_000],
  ])('a %s entry that inflates to more bytes than the central directory says is corrupt', async (_what, size) => {
    const file = await zipOf([{ path: 'bomb.bin', body: () => patternBody(size, 3), size }], 5);
    const buf = await readFile(file);
    const [rec] = centralRecords(buf);
    buf.writeUInt32LE(size - 1000, rec!.at + 24);
    await writeFile(file, buf);
    const { stream, done } = await zipToTar(file, { signal: signal() });
    stream.on('error', () => undefined);
    stream.resume();
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toMatch(/\(entry "bomb\.bin"\): more than \d+ bytes of content, the central directory says \d+;/);
  });
});

describe('zipToTar: large entries are streamed', () => {
  it.each([
    ['stored', 0],
    ['deflated', 5],
  ])('a %s 3 MB file between small ones comes out whole', async (_what, level) => {
    const file = await zipOf(
      [
        { path: 'a.txt', content: 'a' },
        { path: 'big.bin', body: () => patternBody(3_000_000, 7), size: 3_000_000 },
        { path: 'z.txt', content: 'z' },
      ],
      level,
    );
    const { stream, done } = await zipToTar(file, { signal: signal() });
    const members = pyTar(await drain(stream));
    expect(await done).toEqual({ entries: 3, bytes: 3_000_002 });
    expect(members.map((m) => [m.name, m.size])).toEqual([
      ['a.txt', 1],
      ['big.bin', 3_000_000],
      ['z.txt', 1],
    ]);
    expect(members[1]!.data).toBe(sha(await drain(patternBody(3_000_000, 7))));
  });

  it('stored files of 600-1000 KB (read whole from the reused window) each come out with their own bytes', async () => {
    const sizes = [600_000, 1_000_000, 700_000, 999_999, 650_000];
    const file = await zipOf(sizes.map((size, i) => ({ path: `f${i}.bin`, body: () => patternBody(size, 20 + i), size })), 0);
    const { stream, done } = await zipToTar(file, { signal: signal() });
    // Every chunk is kept as it was pushed (flowing mode: async iteration would join the chunks
    // it finds waiting into a copy) while the extraction reads on, as a slow writer would hold them.
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject));
    const members = pyTar(Buffer.concat(chunks));
    await done;
    expect(members.map((m) => [m.name, m.size])).toEqual(sizes.map((size, i) => [`f${i}.bin`, size]));
    for (const [i, size] of sizes.entries()) expect(members[i]!.data).toBe(sha(await drain(patternBody(size, 20 + i))));
  });

  it('a flipped byte near the end of a large stored file: CRC mismatch, the file never complete in the tar', async () => {
    const size = 3_000_000;
    const file = await zipOf([{ path: 'big.bin', body: () => patternBody(size, 8), size }], 0);
    const buf = await readFile(file);
    const [rec] = centralRecords(buf);
    const at = rec!.local + 30 + 'big.bin'.length + size - 10;
    buf[at] = buf[at]! ^ 0xff;
    await writeFile(file, buf);
    const { stream, done } = await zipToTar(file, { signal: signal() });
    let received = 0;
    const streamErr = await (async () => {
      for await (const c of stream) received += (c as Buffer).length;
    })().catch((e: unknown) => e);
    const err = await done.catch((e: unknown) => e);
    expect(streamErr).toBe(err);
    expect((err as Error).message).toContain('(entry "big.bin"): CRC-32 mismatch');
    expect(received).toBeLessThan(512 + size);
  });
});

describe('zipToTar: the event loop runs while it produces', () => {
  it('a reader that takes every chunk at once still sees the event loop turn about once per 128 KiB of tar', async () => {
    // 400 files of 10 KiB deflated (4 MiB of tar) in one read of the window, and a reader in
    // flowing mode that never pushes back: only the production's own turns let timers and
    // sockets in (without them, the whole production ran in one turn).
    const specs = Array.from({ length: 400 }, (_, i) => ({ path: `d/f${i}.txt`, content: Buffer.alloc(10 * 1024, i % 251) }));
    const file = await zipOf(specs, 5);
    let turns = 0;
    let running = true;
    const tick = (): void => {
      turns++;
      if (running) setImmediate(tick);
    };
    const { stream, done } = await zipToTar(file, { signal: signal() });
    setImmediate(tick);
    let bytes = 0;
    stream.on('data', (c: Buffer) => (bytes += c.length));
    await done;
    running = false;
    expect(bytes).toBeGreaterThan(4 * 1024 * 1024);
    // (4 MiB + 400 headers) / 128 KiB: 32 turns.
    expect(turns).toBeGreaterThanOrEqual(24);
  });
});
