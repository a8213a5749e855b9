import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
});
