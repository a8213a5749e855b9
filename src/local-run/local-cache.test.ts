import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { stripAnsi } from '../shared/ansi.js';
import { openLocalCache } from './local-cache.js';

let base: string;
let repo: string;
const signal = new AbortController().signal;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'berth-local-cache-'));
  repo = join(base, 'repo');
  mkdirSync(repo);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

function log(): { log: JobLog; text: () => string } {
  const sink = new MemoryByteWriter();
  return { log: new JobLog(sink), text: () => stripAnsi(sink.text) };
}

describe('berth exec local cache (.berth/cache)', () => {
  it('a restore of keys never saved leaves no folder behind; a save makes its key folder', async () => {
    const cache = await openLocalCache(repo);
    for (const key of ['missing-key', 'feature/x-cache']) expect(await cache.restore(key, log().log, signal)).toBeNull();
    expect(readdirSync(join(repo, '.berth/cache'))).toEqual([]);
    const file = join(base, 'archive.zip');
    writeFileSync(file, 'zip bytes');
    expect(await cache.save('saved', file, log().log, signal)).toBe(true);
    expect(existsSync(join(repo, '.berth/cache/saved/cache.zip'))).toBe(true);
    expect(readdirSync(join(repo, '.berth/cache'))).toEqual(['saved']);
  });

  it('refuses to restore through a link planted in .berth/cache', async () => {
    const outside = join(base, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'cache.zip'), 'not yours');
    const cache = await openLocalCache(repo);
    symlinkSync(outside, join(repo, '.berth/cache/planted'));
    const l = log();
    expect(await cache.restore('planted', l.log, signal)).toBeNull();
    l.log.end();
    expect(l.text()).toMatch(/WARNING: .*link/i);
  });

  it('FF_HASH_CACHE_KEYS: stored under sha256(key); an archive under the alternate name is renamed, unless a link leads to it', async () => {
    const cache = await openLocalCache(repo);
    const file = join(base, 'archive.zip');
    writeFileSync(file, 'zip bytes');
    writeFileSync(join(base, 'old.zip'), 'old');
    expect(await cache.save('old', join(base, 'old.zip'), log().log, signal)).toBe(true);
    const name = (key: string) => ({ key, storageKey: `${key}-sha`, alternateKey: key, hashed: true });
    const renamed = log();
    expect(await cache.save(name('old'), file, renamed.log, signal)).toBe(true);
    renamed.log.end();
    expect(renamed.text()).toContain('Renamed alternate cache file to primary');
    expect(existsSync(join(repo, '.berth/cache/old/cache.zip'))).toBe(false);
    expect(readFileSync(join(repo, '.berth/cache/old-sha/cache.zip'), 'utf8')).toBe('zip bytes');

    // A planted link as the alternate folder: the file behind it stays where it is.
    const outside = join(base, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'cache.zip'), 'not yours');
    symlinkSync(outside, join(repo, '.berth/cache/planted'));
    const l = log();
    expect(await cache.save(name('planted'), file, l.log, signal)).toBe(true);
    l.log.end();
    expect(l.text()).not.toContain('Renamed');
    expect(readFileSync(join(outside, 'cache.zip'), 'utf8')).toBe('not yours');
  });
});
