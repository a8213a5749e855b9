import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { extractTarToDir, TarToDirError } from './tar-to-dir.js';

const never = new AbortController().signal;
const made: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-tar-to-dir-'));
  made.push(d);
  return d;
}
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

type E = { name: string; type?: 'file' | 'directory' | 'symlink'; body?: string | Buffer; mode?: number; mtime?: Date; linkname?: string };

function tarOf(entries: E[]): Readable {
  const p = pack();
  void (async () => {
    for (const e of entries) {
      await new Promise<void>((resolve, reject) => {
        const header = { name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), mtime: e.mtime ?? new Date('2021-05-06T07:08:09Z'), ...(e.linkname ? { linkname: e.linkname } : {}) } as const;
        const done = (err?: Error | null): void => (err ? reject(err) : resolve());
        if (e.body === undefined) p.entry(header, done);
        else p.entry({ ...header, size: Buffer.from(e.body).length }, Buffer.from(e.body), done);
      });
    }
    p.finalize();
  })();
  const out = new PassThrough();
  p.pipe(out);
  return out;
}

/** The archive API's part: the names (and bodies) of the entries it was handed, in order. */
function collectingFallback(): { calls: number; names: string[]; bodies: Map<string, string>; fn: (rest: Readable) => Promise<void> } {
  const seen = { calls: 0, names: [] as string[], bodies: new Map<string, string>() };
  return {
    ...seen,
    get calls() {
      return seen.calls;
    },
    fn: async (rest: Readable) => {
      seen.calls++;
      const ex = extract();
      rest.pipe(ex);
      for await (const entry of ex) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        seen.names.push(entry.header.name);
        seen.bodies.set(entry.header.name, Buffer.concat(chunks).toString());
      }
    },
  };
}

describe('extractTarToDir', () => {
  it('writes files, folders and links with their modes and mtimes; missing parents are made 0755; nothing goes to the archive API', async () => {
    const dir = tempDir();
    const fallback = collectingFallback();
    const when = new Date('2020-01-02T03:04:05Z');
    const big = Buffer.alloc(3 * 1024 * 1024, 'b');
    await extractTarToDir(
      { dir, owner: null },
      tarOf([
        { name: 'dist/', type: 'directory', mode: 0o750, mtime: when },
        { name: 'dist/a.txt', body: 'A', mode: 0o600, mtime: when },
        { name: 'dist/run.sh', body: 'R', mode: 0o755 },
        { name: 'deep/er/x.txt', body: 'X' },
        { name: 'dist/link', type: 'symlink', linkname: '/etc/passwd' },
        { name: 'big.bin', body: big },
        ...Array.from({ length: 40 }, (_, i) => ({ name: `many/f${i}.txt`, body: `file ${i}` })),
      ]),
      fallback.fn,
      never,
    );
    expect(fallback.calls).toBe(0);
    expect(readFileSync(join(dir, 'dist/a.txt'), 'utf8')).toBe('A');
    expect(statSync(join(dir, 'dist/a.txt')).mode & 0o7777).toBe(0o600);
    expect(statSync(join(dir, 'dist/a.txt')).mtime.toISOString()).toBe(when.toISOString());
    expect(statSync(join(dir, 'dist/run.sh')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(dir, 'dist')).mode & 0o7777).toBe(0o750);
    // The folder's mtime is set after its files were written into it.
    expect(statSync(join(dir, 'dist')).mtime.toISOString()).toBe(when.toISOString());
    expect(statSync(join(dir, 'deep/er')).mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(dir, 'deep/er/x.txt'), 'utf8')).toBe('X');
    expect(lstatSync(join(dir, 'dist/link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'dist/link'))).toBe('/etc/passwd');
    expect(readFileSync(join(dir, 'big.bin')).equals(big)).toBe(true);
    expect(readdirSync(join(dir, 'many')).length).toBe(40);
    for (let i = 0; i < 40; i++) expect(readFileSync(join(dir, `many/f${i}.txt`), 'utf8')).toBe(`file ${i}`);
  });

  it('replaces what is there as the engine does: a file, a link (never followed), a folder by a file; a folder into a folder keeps its content', async () => {
    const dir = tempDir();
    const outside = tempDir();
    writeFileSync(join(outside, 'secret'), 'keep');
    writeFileSync(join(dir, 'file.txt'), 'old');
    symlinkSync(join(outside, 'secret'), join(dir, 'was-link'));
    mkdirSync(join(dir, 'was-folder/sub'), { recursive: true });
    writeFileSync(join(dir, 'was-folder/sub/x'), 'x');
    mkdirSync(join(dir, 'kept'));
    writeFileSync(join(dir, 'kept/old.txt'), 'old');
    const fallback = collectingFallback();
    await extractTarToDir(
      { dir, owner: null },
      tarOf([
        { name: 'file.txt', body: 'new' },
        { name: 'was-link', body: 'plain now' },
        { name: 'was-folder', body: 'a file now' },
        { name: 'kept/', type: 'directory', mode: 0o700 },
        { name: 'kept/new.txt', body: 'new' },
        { name: 'twice.txt', body: 'first' },
        { name: 'twice.txt', body: 'second' },
      ]),
      fallback.fn,
      never,
    );
    expect(fallback.calls).toBe(0);
    expect(readFileSync(join(dir, 'file.txt'), 'utf8')).toBe('new');
    expect(lstatSync(join(dir, 'was-link')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'was-link'), 'utf8')).toBe('plain now');
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('keep');
    expect(readFileSync(join(dir, 'was-folder'), 'utf8')).toBe('a file now');
    expect(readFileSync(join(dir, 'kept/old.txt'), 'utf8')).toBe('old');
    expect(readFileSync(join(dir, 'kept/new.txt'), 'utf8')).toBe('new');
    expect(statSync(join(dir, 'kept')).mode & 0o7777).toBe(0o700);
    expect(readFileSync(join(dir, 'twice.txt'), 'utf8')).toBe('second');
  });

  it('hands the first entry under a linked folder, and every entry after it, to the archive API in order; nothing is written through the link', async () => {
    const dir = tempDir();
    const outside = tempDir();
    symlinkSync(outside, join(dir, 'linked'));
    const fallback = collectingFallback();
    await extractTarToDir(
      { dir, owner: null },
      tarOf([
        { name: 'before.txt', body: 'B' },
        { name: 'linked/into.txt', body: 'I' },
        { name: 'after.txt', body: 'A' },
        { name: 'sub/', type: 'directory' },
      ]),
      fallback.fn,
      never,
    );
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(dir, 'before.txt'), 'utf8')).toBe('B');
    expect(existsSync(join(dir, 'after.txt'))).toBe(false);
    expect(fallback.calls).toBe(1);
    expect(fallback.names).toEqual(['linked/into.txt', 'after.txt', 'sub/']);
    expect(fallback.bodies.get('linked/into.txt')).toBe('I');
    expect(fallback.bodies.get('after.txt')).toBe('A');
  });

  it('a link made by the archive itself is not written through either', async () => {
    const dir = tempDir();
    const outside = tempDir();
    const fallback = collectingFallback();
    await extractTarToDir({ dir, owner: null }, tarOf([{ name: 'l', type: 'symlink', linkname: outside }, { name: 'l/x.txt', body: 'X' }]), fallback.fn, never);
    expect(readdirSync(outside)).toEqual([]);
    expect(fallback.names).toEqual(['l/x.txt']);
  });

  it('a project folder that is a link: everything goes to the archive API', async () => {
    const base = tempDir();
    const outside = tempDir();
    symlinkSync(outside, join(base, 'project'));
    const fallback = collectingFallback();
    await extractTarToDir({ dir: join(base, 'project'), owner: null }, tarOf([{ name: 'a.txt', body: 'A' }]), fallback.fn, never);
    expect(readdirSync(outside)).toEqual([]);
    expect(fallback.names).toEqual(['a.txt']);
  });

  it('refuses an entry that climbs out of the project folder, writing nothing for it', async () => {
    const base = tempDir();
    const dir = join(base, 'project');
    mkdirSync(dir);
    const fallback = collectingFallback();
    const err = await extractTarToDir({ dir, owner: null }, tarOf([{ name: '../escape.txt', body: 'E' }]), fallback.fn, never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TarToDirError);
    expect(String(err)).toContain('../escape.txt');
    expect(existsSync(join(base, 'escape.txt'))).toBe(false);
  });

  it('a tar that ends inside a file: the error comes through and no half-written file is left', async () => {
    const dir = tempDir();
    const whole = tarOf([{ name: 'ok.txt', body: 'fine' }, { name: 'cut.bin', body: Buffer.alloc(2 * 1024 * 1024, 'c') }]);
    const chunks: Buffer[] = [];
    for await (const c of whole) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const cut = new PassThrough();
    cut.write(bytes.subarray(0, 1024 * 1024));
    setTimeout(() => cut.destroy(new Error('the zip was corrupt')), 50);
    const fallback = collectingFallback();
    const err = await extractTarToDir({ dir, owner: null }, cut, fallback.fn, never).catch((e: unknown) => e);
    expect(String(err)).toContain('the zip was corrupt');
    expect(readFileSync(join(dir, 'ok.txt'), 'utf8')).toBe('fine');
    expect(existsSync(join(dir, 'cut.bin'))).toBe(false);
  });
});
