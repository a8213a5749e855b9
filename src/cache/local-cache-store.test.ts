import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryProjectFiles } from '../../test/support/memory-project-files.js';
import { testJob } from '../../test/support/job-fixtures.js';
import { zipToTar } from '../artifacts/zip-to-tar.js';
import { archiveCaches } from '../executor/job-files/cache-stages.js';
import { StageContext } from '../executor/job-files/stage-context.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { stripAnsi } from '../shared/ansi.js';
import { CacheError } from './cache-error.js';
import { createCacheTransport } from './create-cache-transport.js';
import { LocalCacheStore } from './local-cache-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-local-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(): { log: JobLog; text: () => string } {
  const sink = new MemoryByteWriter();
  return { log: new JobLog(sink, { traceSections: false }), text: () => stripAnsi(sink.text) };
}

describe('LocalCacheStore', () => {
  it('copies the archive to <cacheDir>/<key>/cache.zip with metadata.json, keeps the caller\'s file, leaves no temporary file', async () => {
    const store = new LocalCacheStore(join(dir, 'cache'));
    const file = join(dir, 'made.zip');
    await writeFile(file, 'zip content');
    const path = await store.store('main/default-protected', file);
    expect(path).toBe(join(dir, 'cache', 'main', 'default-protected', 'cache.zip'));
    expect(await readFile(path, 'utf8')).toBe('zip content');
    expect(JSON.parse(await readFile(join(dir, 'cache', 'main', 'default-protected', 'metadata.json'), 'utf8'))).toEqual({ cachekey: 'main/default-protected' });
    expect(await readFile(file, 'utf8')).toBe('zip content');
    expect((await readdir(join(dir, 'cache', 'main', 'default-protected'))).sort()).toEqual(['cache.zip', 'metadata.json']);
    expect(await store.modified('main/default-protected')).toEqual((await stat(path)).mtime);
    expect(await store.modified('other')).toBeNull();
  });

  it('replaces an existing archive; commit sets the given mtime', async () => {
    const store = new LocalCacheStore(dir);
    const file = join(dir, 'a.zip');
    await writeFile(file, 'one');
    await store.store('k', file);
    const temp = await store.tempFile('k');
    await writeFile(temp, 'two');
    const when = new Date('2026-01-02T03:04:05Z');
    const path = await store.commit('k', temp, when, { cachekey: 'k', extra: 'x' });
    expect(await readFile(path, 'utf8')).toBe('two');
    expect((await stat(path)).mtime).toEqual(when);
    expect(JSON.parse(await readFile(join(dir, 'k', 'metadata.json'), 'utf8'))).toEqual({ cachekey: 'k', extra: 'x' });
    expect((await readdir(join(dir, 'k'))).sort()).toEqual(['cache.zip', 'metadata.json']);
  });

  it('refuses keys that would leave the cache folder', () => {
    const store = new LocalCacheStore(join(dir, 'cache'));
    for (const key of ['', '.', '..', '../x', 'a/../../x', '/etc/passwd', 'a\0b']) {
      expect(() => store.archivePath(key), key).toThrow(CacheError);
    }
    expect(() => store.archivePath('..')).toThrow(`Cache key ".." is refused: it does not name a folder inside the cache directory ${join(dir, 'cache')}`);
    expect(store.archivePath('a/b c')).toBe(join(dir, 'cache', 'a', 'b c', 'cache.zip'));
  });
});

describe('createCacheTransport without a distributed cache', () => {
  it('restores the local copy in gitlab-runner\'s words, and warns when there is none', async () => {
    const transport = createCacheTransport({ cacheDir: dir, distributed: null, projectId: 1, timeoutSeconds: 3600 });
    const signal = new AbortController().signal;
    const first = capture();
    expect(await transport.restore('k', first.log, signal)).toBeNull();
    expect(first.text()).toBe(
      'No URL provided, cache will not be downloaded from shared cache server. Instead a local version of cache will be extracted.\nWARNING: Cache file does not exist\n',
    );
    const file = join(dir, 'in.zip');
    await writeFile(file, 'zip');
    const save = capture();
    expect(await transport.save('k', file, save.log, signal)).toBe(true);
    expect(save.text()).toBe('No URL provided, cache will not be uploaded to shared cache server. Cache will be stored only locally.\n');
    const restored = await transport.restore('k', capture().log, signal);
    expect(restored?.path).toBe(join(dir, 'k', 'cache.zip'));
    expect(await readFile(restored!.path, 'utf8')).toBe('zip');
    await restored!.release();
  });

  it('warns instead of throwing when the cache folder cannot be written', async () => {
    const notADir = join(dir, 'file');
    await writeFile(notADir, '');
    const transport = createCacheTransport({ cacheDir: notADir, distributed: null, projectId: 1, timeoutSeconds: 60 });
    const c = capture();
    expect(await transport.save('k', await writeFile(join(dir, 'a.zip'), 'a').then(() => join(dir, 'a.zip')), c.log, new AbortController().signal)).toBe(false);
    expect(c.text()).toBe(`WARNING: Failed to create the cache folder ${join(notADir, 'k')}: ENOTDIR: not a directory, mkdir '${join(notADir, 'k')}'\n`);
  });

  it('warns instead of throwing for a refused key', async () => {
    const transport = createCacheTransport({ cacheDir: dir, distributed: null, projectId: 1, timeoutSeconds: 60 });
    const signal = new AbortController().signal;
    const c = capture();
    expect(await transport.restore('../up', c.log, signal)).toBeNull();
    expect(await transport.save('../up', join(dir, 'nope.zip'), c.log, signal)).toBe(false);
    expect(c.text()).toContain('WARNING: Cache key "../up" is refused');
  });

  it('saveWritten: the archive is written in the key\'s folder and renamed into place (no copy, nothing else left)', async () => {
    const transport = createCacheTransport({ cacheDir: dir, distributed: null, projectId: 1, timeoutSeconds: 60 });
    const signal = new AbortController().signal;
    const c = capture();
    let writtenTo = '';
    const ok = await transport.saveWritten!('k', async (file) => {
      writtenTo = file;
      await writeFile(file, 'zip bytes');
      return 'store';
    }, c.log, signal);
    expect(ok).toBe(true);
    expect(writtenTo.startsWith(join(dir, 'k', '.cache.zip.'))).toBe(true);
    expect((await readdir(join(dir, 'k'))).sort()).toEqual(['cache.zip', 'metadata.json']);
    expect(await readFile(join(dir, 'k', 'cache.zip'), 'utf8')).toBe('zip bytes');
    expect(c.text()).toBe('No URL provided, cache will not be uploaded to shared cache server. Cache will be stored only locally.\n');
  });

  it('saveWritten: nothing to store leaves no file nor folder; a failed write is thrown and keeps the old archive', async () => {
    const transport = createCacheTransport({ cacheDir: dir, distributed: null, projectId: 1, timeoutSeconds: 60 });
    const signal = new AbortController().signal;
    expect(await transport.saveWritten!('empty', (file) => writeFile(file, '').then(() => 'nothing'), capture().log, signal)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    await transport.saveWritten!('k', (file) => writeFile(file, 'old').then(() => 'store'), capture().log, signal);
    const failed = transport.saveWritten!('k', async (file) => {
      await writeFile(file, 'half');
      throw new Error('could not write the zip archive');
    }, capture().log, signal);
    await expect(failed).rejects.toThrow('could not write the zip archive');
    expect((await readdir(join(dir, 'k'))).sort()).toEqual(['cache.zip', 'metadata.json']);
    expect(await readFile(join(dir, 'k', 'cache.zip'), 'utf8')).toBe('old');
  });

  it('saveWritten: `write` is told the stored archive\'s time; `unchanged` keeps that archive untouched, with gitlab-runner\'s lines', async () => {
    const transport = createCacheTransport({ cacheDir: dir, distributed: null, projectId: 1, timeoutSeconds: 60 });
    const signal = new AbortController().signal;
    const seen: (Date | null)[] = [];
    const first = capture();
    await transport.saveWritten!('k', async (file, stored) => {
      seen.push(stored);
      await writeFile(file, 'old');
      return 'store';
    }, first.log, signal);
    const archive = join(dir, 'k', 'cache.zip');
    const then = new Date('2026-01-02T03:04:05Z');
    await utimes(archive, then, then);
    // A plain key (no other naming scheme): gitlab-runner's `Archive is up to date!`.
    const plain = capture();
    expect(await transport.saveWritten!('k', async (file, stored) => {
      seen.push(stored);
      await writeFile(file, 'new');
      return 'unchanged';
    }, plain.log, signal)).toBe(true);
    expect(plain.text()).toBe('Archive is up to date!\n');
    expect(seen).toEqual([null, then]);
    expect(await readFile(archive, 'utf8')).toBe('old');
    expect((await stat(archive)).mtime).toEqual(then);
    expect((await readdir(join(dir, 'k'))).sort()).toEqual(['cache.zip', 'metadata.json']);
    // With the other naming scheme's name (FF_HASH_CACHE_KEYS either way) and no shared cache:
    // uploadExistingArchiveIfNeeded finds no primary object remotely and "uploads" locally.
    const named = capture();
    const name = { key: 'k', storageKey: 'k', alternateKey: 'other', hashed: false };
    expect(await transport.saveWritten!(name, (file) => writeFile(file, 'new').then(() => 'unchanged'), named.log, signal)).toBe(true);
    expect(named.text()).toBe(
      'Primary cache does not exist remotely, uploading existing archive\n' +
        'No URL provided, cache will not be uploaded to shared cache server. Cache will be stored only locally.\n',
    );
    expect(await readFile(archive, 'utf8')).toBe('old');
    expect((await stat(archive)).mtime).toEqual(then);
  });
});

describe('archive_cache with the runner cache', () => {
  it('zips straight into <cacheDir>/<key>/cache.zip: nothing in the job\'s temporary folder, the archive extracts back', async () => {
    const tempRoot = join(dir, 'tmp');
    const cacheDir = join(dir, 'cache');
    await mkdir(tempRoot);
    const files = new MemoryProjectFiles({ 'vendor/a.txt': 'a'.repeat(5000), 'vendor/sub/b.txt': 'b' });
    const c = capture();
    const job = testJob({ cache: [{ key: 'deps', untracked: false, policy: 'pull-push', paths: ['vendor/'], when: 'on_success', fallbackKeys: [] }] });
    const transport = createCacheTransport({ cacheDir, distributed: null, projectId: 1, timeoutSeconds: 60 });
    const ctx = new StageContext(job, files, [], { artifacts: null, cache: transport, tempRoot }, c.log, new AbortController().signal);
    await archiveCaches(ctx, true);
    expect(await readdir(tempRoot)).toEqual([]);
    await ctx.dispose();
    expect(c.text()).toContain('Created cache\n');
    expect((await readdir(join(cacheDir, 'deps'))).sort()).toEqual(['cache.zip', 'metadata.json']);
    const back = new MemoryProjectFiles();
    const { stream, done } = await zipToTar(join(cacheDir, 'deps', 'cache.zip'), { signal: new AbortController().signal, kind: 'cache' });
    await Promise.all([back.write(stream), done]);
    expect(back.content('vendor/a.txt')).toBe('a'.repeat(5000));
    expect(back.content('vendor/sub/b.txt')).toBe('b');
  });

  it('keeps the stored archive while no selected path is newer than it (whole seconds: the same second counts as newer)', async () => {
    const tempRoot = join(dir, 'tmp');
    const cacheDir = join(dir, 'cache');
    await mkdir(tempRoot);
    const files = new MemoryProjectFiles({ 'vendor/a.txt': 'a', 'vendor/sub/b.txt': 'b' });
    const job = testJob({ cache: [{ key: 'deps', untracked: false, policy: 'pull-push', paths: ['vendor/'], when: 'on_success', fallbackKeys: [] }] });
    const transport = createCacheTransport({ cacheDir, distributed: null, projectId: 1, timeoutSeconds: 60 });
    const archive = async (): Promise<string> => {
      const c = capture();
      const ctx = new StageContext(job, files, [], { artifacts: null, cache: transport, tempRoot }, c.log, new AbortController().signal);
      await archiveCaches(ctx, true);
      await ctx.dispose();
      expect(await readdir(tempRoot)).toEqual([]);
      expect((await readdir(join(cacheDir, 'deps'))).sort()).toEqual(['cache.zip', 'metadata.json']);
      return c.text();
    };
    expect(await archive()).toContain('Created cache\n');
    const zip = join(cacheDir, 'deps', 'cache.zip');
    const then = new Date('2026-06-01T12:00:00Z');
    await utimes(zip, then, then);
    const before = await readFile(zip);
    const kept = [
      'Creating cache deps...',
      'vendor/: found 4 matching artifact files and directories',
      'Primary cache does not exist remotely, uploading existing archive',
      'No URL provided, cache will not be uploaded to shared cache server. Cache will be stored only locally.',
      'Created cache',
      '',
    ].join('\n');
    expect(await archive()).toBe(kept);
    files.mtimes.set('vendor/sub/b.txt', new Date(then.getTime() - 1000));
    expect(await archive()).toBe(kept);
    expect((await stat(zip)).mtime).toEqual(then);
    expect(await readFile(zip)).toEqual(before);
    // Modified in the archive's second: the Engine would give its whole second, which may be a
    // time after the archive's; the archive is made again.
    files.mtimes.set('vendor/sub/b.txt', new Date(then.getTime() - 999));
    files.set('vendor/sub/b.txt', 'changed');
    const made = await archive();
    expect(made).not.toContain('Primary cache');
    expect(made).toContain('Created cache\n');
    expect((await stat(zip)).mtime.getTime()).toBeGreaterThan(then.getTime());
    expect(await readFile(zip)).not.toEqual(before);
  });
});
