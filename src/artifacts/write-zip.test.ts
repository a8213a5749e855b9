import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError } from './archive-error.js';
import { writeZip } from './write-zip.js';
import type { FileEntry } from './file-entry.js';
import { fileEntries, patternBody, T0, type EntrySpec } from '../../test/support/archive-entries.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-write-zip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = (): AbortSignal => AbortSignal.timeout(30_000);

interface PyInfo {
  name: string;
  mode: number;
  compress: number;
  size: number;
  flag: number;
  system: number;
  date: number[];
  content: string;
}

/** Reads the zip with Python's zipfile (an independent reader): entries, testzip(). */
function pyRead(file: string): { infos: PyInfo[]; bad: string | null } {
  const script = `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
out = []
for i in z.infolist():
    out.append(dict(name=i.filename, mode=i.external_attr >> 16, compress=i.compress_type, size=i.file_size,
                    flag=i.flag_bits, system=i.create_system, date=list(i.date_time),
                    content=z.read(i).decode('utf-8', 'replace') if i.file_size < 100 else ''))
print(json.dumps(dict(infos=out, bad=z.testzip())))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as { infos: PyInfo[]; bad: string | null };
}

describe('writeZip', () => {
  it('writes folders as name/, files with mode and mtime, links as S_IFLNK with the target as content, UTF-8 names; python reads it and testzip() passes', async () => {
    const file = join(dir, 'round.zip');
    const stats = await writeZip(
      fileEntries([
        { path: 'bin', type: 'directory', mode: 0o750 },
        { path: 'bin/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
        { path: 'bin/empty', content: '' },
        { path: 'bin/latest', type: 'symlink', linkTarget: 'run.sh' },
        { path: 'données/résumé-✓.txt', content: 'unicode' },
        { path: 'big.bin', body: () => patternBody(300_000, 7), size: 300_000 },
      ]),
      file,
      { level: 5, signal: signal() },
    );
    expect(stats.entries).toBe(6);
    const { infos, bad } = pyRead(file);
    expect(bad).toBeNull();
    expect(stats.bytes).toBe((await import('node:fs')).statSync(file).size);
    const by = new Map(infos.map((i) => [i.name, i]));
    expect([...by.keys()]).toEqual(['bin/', 'bin/run.sh', 'bin/empty', 'bin/latest', 'données/résumé-✓.txt', 'big.bin']);
    expect(by.get('bin/')!.mode).toBe(0o040750);
    expect(by.get('bin/run.sh')!.mode).toBe(0o100755);
    expect(by.get('bin/run.sh')!.content).toBe('#!/bin/sh\necho hi\n');
    expect(by.get('bin/run.sh')!.compress).toBe(8);
    expect(by.get('bin/empty')!.size).toBe(0);
    expect(by.get('bin/latest')!.mode).toBe(0o120777);
    expect(by.get('bin/latest')!.content).toBe('run.sh');
    expect(by.get('big.bin')!.size).toBe(300_000);
    const unicode = by.get('données/résumé-✓.txt')!;
    expect(unicode.flag & 0x800).toBe(0x800);
    expect(unicode.content).toBe('unicode');
    // made on unix (so readers take the mode from the high 16 bits)
    expect(infos.every((i) => i.system === 3)).toBe(true);
    // the DOS time is local time in yazl; the UT extra field carries UTC. Compare the UTC minute.
    const d = by.get('bin/run.sh')!.date;
    const local = new Date(d[0]!, d[1]! - 1, d[2], d[3], d[4], d[5]);
    expect(local.getTime()).toBe(T0.getTime());
  });

  it('compresses thousands of small files on worker threads, in order: python reads every one back with the right CRC', async () => {
    const file = join(dir, 'many.zip');
    const n = 3000;
    const text = (i: number): string => `file ${i} `.repeat(1 + (i % 400));
    const specs = function* (): Generator<EntrySpec> {
      for (let i = 0; i < n; i++) {
        if (i % 500 === 0) yield { path: `d${i / 500}`, type: 'directory' };
        yield { path: `d${Math.floor(i / 500)}/f${i}.txt`, content: text(i) };
      }
    };
    const stats = await writeZip(fileEntries(specs()), file, { level: 5, signal: signal(), deflateThreads: 2 });
    expect(stats.entries).toBe(n + 6);
    const { infos, bad } = pyRead(file);
    expect(bad).toBeNull();
    const files = infos.filter((i) => !i.name.endsWith('/'));
    expect(files.map((i) => i.name)).toEqual(Array.from({ length: n }, (_, i) => `d${Math.floor(i / 500)}/f${i}.txt`));
    expect(files.every((i, k) => i.size === Buffer.byteLength(text(k)) && i.compress === 8)).toBe(true);
    expect(files[7]!.content).toBe(text(7));
  });

  it("codes files without repeats with Huffman codes alone (LiteralCoder): BusyBox's unzip, its own inflate, extracts them all", async () => {
    const file = join(dir, 'literal.zip');
    const out = join(dir, 'literal-out');
    // base64 (a kind LZ77 cannot shorten), some with a byte base64 has no code for; random bytes (stored when smaller).
    const contents = Array.from({ length: 120 }, (_, i) => {
      const text = Buffer.from(randomBytes(3000 + i * 13).toString('base64'));
      return i % 17 === 5 ? Buffer.concat([text, Buffer.from('\n\t~'), text.subarray(0, 999)]) : text;
    });
    const binaries = Array.from({ length: 10 }, (_, i) => randomBytes(5000 + i));
    const specs: EntrySpec[] = [...contents.map((content, i) => ({ path: `b64/f${i}.txt`, content })), ...binaries.map((content, i) => ({ path: `bin/r${i}.dat`, content }))];
    await writeZip(fileEntries(specs), file, { level: 5, signal: signal() });
    const busybox = existsSync('/bin/busybox') ? '/bin/busybox' : 'busybox';
    execFileSync(busybox, ['unzip', '-q', '-o', file, '-d', out]);
    for (const spec of specs) expect(readFileSync(join(out, spec.path)).equals(spec.content as Buffer)).toBe(true);
  });

  it('takes a file held in memory (FileEntry.data) without reading its body', async () => {
    const file = join(dir, 'data.zip');
    async function* entries(): AsyncGenerator<FileEntry> {
      for (let i = 0; i < 300; i++) {
        const data = Buffer.from(`in memory ${i} `.repeat(500));
        const body = new Readable({
          read(): void {
            this.destroy(new Error('the body of an in-memory file was read'));
          },
        });
        yield { path: `m${i}.txt`, type: 'file', mode: 0o644, mtime: T0, size: data.length, linkTarget: '', body, data };
      }
    }
    await writeZip(entries(), file, { level: 5, signal: signal() });
    const { infos, bad } = pyRead(file);
    expect(bad).toBeNull();
    expect(infos).toHaveLength(300);
    expect(infos[299]!.size).toBe(Buffer.byteLength('in memory 299 '.repeat(500)));
  });

  it('stores without compression at level 0 and deflates at 1-9', async () => {
    const stored = join(dir, 'store.zip');
    await writeZip(fileEntries([{ path: 'a.txt', content: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }]), stored, { level: 0, signal: signal() });
    expect(pyRead(stored).infos[0]!.compress).toBe(0);
    const deflated = join(dir, 'deflate.zip');
    await writeZip(fileEntries([{ path: 'a.txt', content: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }]), deflated, { level: 9, signal: signal() });
    expect(pyRead(deflated).infos[0]!.compress).toBe(8);
  });

  it('skips pipes, sockets and devices and says which', async () => {
    const file = join(dir, 'other.zip');
    const ignored: string[] = [];
    const stats = await writeZip(
      fileEntries([
        { path: 'fifo', type: 'other' },
        { path: 'a.txt', content: 'a' },
      ]),
      file,
      { level: 5, signal: signal(), onIgnored: (p) => ignored.push(p) },
    );
    expect(stats.entries).toBe(1);
    expect(ignored).toEqual(['fifo']);
    expect(pyRead(file).infos.map((i) => i.name)).toEqual(['a.txt']);
  });

  it('fails with an ArchiveError naming the entry, and removes the file, when a body fails', async () => {
    const file = join(dir, 'broken.zip');
    const failing = (): Readable =>
      new Readable({
        read(): void {
          this.destroy(new Error('read error: device gone'));
        },
      });
    const err = await writeZip(
      fileEntries([
        { path: 'ok.txt', content: 'ok' },
        { path: 'bad.bin', body: failing, size: 10 },
      ]),
      file,
      { level: 5, signal: signal() },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).entry).toBe('bad.bin');
    expect((err as Error).message).toContain('bad.bin');
    expect((err as Error).message).toContain('device gone');
    expect(existsSync(file)).toBe(false);
  });

  it('streams large files at the level, whatever their first bytes (DeflateStrategy judges only the small files): python reads both back', async () => {
    const file = join(dir, 'large.zip');
    const random = Buffer.from(randomBytes(1_800_000).toString('base64')); // 2.4 MB, nothing for LZ77 (yet not judged)
    const text = Buffer.from('const repeated = require("./repeated");\n'.repeat(60_000)); // 2.4 MB of repeats
    const stats = await writeZip(
      fileEntries([
        { path: 'random.b64', body: () => Readable.from(chunked(random)), size: random.length },
        { path: 'text.js', body: () => Readable.from(chunked(text)), size: text.length },
      ]),
      file,
      { level: 5, signal: signal() },
    );
    const { infos, bad } = pyRead(file);
    expect(bad).toBeNull();
    expect(infos.map((i) => [i.name, i.size, i.compress])).toEqual([
      ['random.b64', random.length, 8],
      ['text.js', text.length, 8],
    ]);
    // Each entry's compressed bytes as stored (after its local header), as Python's zipfile finds them.
    const raw = (name: string): Buffer => {
      const script = `import struct,sys,zipfile
z = zipfile.ZipFile(sys.argv[1]); i = z.getinfo(sys.argv[2]); f = open(sys.argv[1], 'rb'); f.seek(i.header_offset)
h = f.read(30); n, e = struct.unpack('<HH', h[26:30]); f.seek(i.header_offset + 30 + n + e)
sys.stdout.buffer.write(f.read(i.compress_size))`;
      return execFileSync('python3', ['-c', script, file, name], { maxBuffer: 8 << 20 });
    };
    expect(raw('random.b64').equals(deflateRawSync(random, { level: 5 }))).toBe(true);
    expect(raw('text.js').equals(deflateRawSync(text, { level: 5 }))).toBe(true);
    expect(stats.entries).toBe(2);
  });

  it('fails with an ArchiveError, and removes the file, when a large file\'s body fails after its first bytes', async () => {
    const file = join(dir, 'large-broken.zip');
    const failing = (): Readable =>
      Readable.from(
        (async function* () {
          yield Buffer.alloc(200_000, 'a');
          throw new Error('read error: device gone');
        })(),
      );
    const err = await writeZip(fileEntries([{ path: 'large.bin', body: failing, size: 3_000_000 }]), file, { level: 5, signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toContain('large.bin');
    expect((err as Error).message).toContain('device gone');
    expect(existsSync(file)).toBe(false);
  });

  it('fails when a body is shorter than its announced size', async () => {
    const file = join(dir, 'short.zip');
    const err = await writeZip(fileEntries([{ path: 'short.bin', content: 'abc', size: 10 }]), file, { level: 5, signal: signal() }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toContain('short.bin');
    expect(existsSync(file)).toBe(false);
  });

  it('stops on abort and removes the file', async () => {
    const file = join(dir, 'abort.zip');
    const ac = new AbortController();
    async function* slow(): AsyncGenerator<import('./file-entry.js').FileEntry> {
      for await (const e of fileEntries([{ path: 'a', content: 'a' }])) yield e;
      ac.abort();
      for await (const e of fileEntries([{ path: 'b', content: 'b' }])) yield e;
    }
    const err = await writeZip(slow(), file, { level: 5, signal: ac.signal }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(existsSync(file)).toBe(false);
  });
});

/** `b` in 64 KiB chunks, as a socket hands a body over. */
function* chunked(b: Buffer): Generator<Buffer> {
  for (let at = 0; at < b.length; at += 65536) yield b.subarray(at, at + 65536);
}
