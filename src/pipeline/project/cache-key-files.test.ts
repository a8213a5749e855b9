import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsGuardError } from '../../fs-guard/index.js';
import { CacheKeyFiles, gitBlobId, wildcardRegExp } from './cache-key-files.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-keyfiles-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('CacheKeyFiles', () => {
  it('blob ids are git\'s', async () => {
    const dir = tree({ a: 'hello\n' });
    expect(await gitBlobId(Buffer.from('hello\n'))).toBe(execFileSync('git', ['hash-object', join(dir, 'a')], { encoding: 'utf8' }).trim());
    expect(await gitBlobId(Buffer.alloc(0))).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
  });

  it('wildcards as GitLab\'s search_files_by_wildcard_path: ** any text, * no slash, the rest literal', () => {
    expect(wildcardRegExp('**/yarn.lock').test('a/b/yarn.lock')).toBe(true);
    expect(wildcardRegExp('**/yarn.lock').test('yarn.lock')).toBe(false);
    expect(wildcardRegExp('**yarn.lock').test('yarn.lock')).toBe(true);
    expect(wildcardRegExp('*.lock').test('Gemfile.lock')).toBe(true);
    expect(wildcardRegExp('*.lock').test('sub/Gemfile.lock')).toBe(false);
    expect(wildcardRegExp('*.lock').test('Gemfile_lock')).toBe(false);
    expect(wildcardRegExp('a?[b]{c}*').test('a?[b]{c}x')).toBe(true);
    expect(wildcardRegExp('a?[b]{c}*').test('ax[b]{c}x')).toBe(false);
  });

  it('refuses a file reached through a folder that links out of the repository, and a special file', async () => {
    const outside = tree({ 'lock': 'secret\n' });
    const dir = tree({});
    symlinkSync(outside, join(dir, 'linked'));
    const keys = new CacheKeyFiles(dir, () => Promise.resolve(['linked/lock']));
    const err = await keys.digest(['linked/lock']).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(FsGuardError);
    expect((err as FsGuardError).reason).toBe('outside');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const fifo = await new CacheKeyFiles(dir, () => Promise.resolve(['fifo'])).digest(['fifo']).then(() => null, (e: unknown) => e);
    expect((fifo as FsGuardError).reason).toBe('not-regular');
  });

  it('computes each set of files once and gives null when nothing matches', async () => {
    const dir = tree({ 'x.lock': 'x' });
    let listed = 0;
    const keys = new CacheKeyFiles(dir, () => (listed++, Promise.resolve(['x.lock'])));
    expect(await keys.digest(['nothing', '', 'nope/*'])).toBeNull();
    const a = await keys.digest(['x.lock', 'x.lock']);
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(await keys.digest(['x.lock'])).toBe(a);
    expect(listed).toBe(2);
  });
});
