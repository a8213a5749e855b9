/**
 * berth exec's submodule files: a working tree whose submodule `libs/sub` (with the nested `deep`)
 * is checked out, and `vendor/missing` that is not.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors.js';
import { listSourceFiles } from './source-files.js';
import { LocalSubmodules } from './submodule-files.js';

let base: string;
let tree: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'protocol.file.allow=always', '-c', 'user.email=a@b.invalid', '-c', 'user.name=A', ...args], { cwd, encoding: 'utf8' }).trim();
}

function repo(name: string, files: Record<string, string>, submodules: Record<string, string> = {}): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  for (const [path, url] of Object.entries(submodules)) git(dir, 'submodule', 'add', '-q', url, path);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'x');
  return dir;
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'berth-exec-sub-'));
  const nested = repo('nested', { 'nested.txt': 'n\n' });
  const sub = repo('sub', { 'sub.txt': 's\n' }, { deep: nested });
  const missing = repo('missing', { 'm.txt': 'm\n' });
  const main = repo('main', { 'main.txt': 'main\n' }, { 'libs/sub': sub, 'vendor/missing': missing });
  tree = join(base, 'tree');
  git(base, 'clone', '-q', main, tree);
  git(tree, 'submodule', 'update', '-q', '--init', '--recursive', '--', 'libs/sub');
  // A submodule's file that is not committed is copied (the working tree as it is); an untracked one is not.
  writeFileSync(join(tree, 'libs/sub/sub.txt'), 'changed\n');
  writeFileSync(join(tree, 'libs/sub/untracked.txt'), 'u\n');
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('LocalSubmodules', () => {
  it('recursive: the tracked files of each checked-out submodule and of theirs; a warning names one that is not checked out', async () => {
    const listed = await new LocalSubmodules(tree).list(true, []);
    expect(listed.files).toEqual(['libs/sub/.gitmodules', 'libs/sub/deep/nested.txt', 'libs/sub/sub.txt']);
    expect(listed.warnings).toEqual([
      'The submodule vendor/missing is not checked out in the working tree: its files are not copied into the job (berth exec never fetches). Check it out with: git submodule update --init --recursive',
    ]);
  });

  it('normal: the first level only; GIT_SUBMODULE_PATHS chooses among them', async () => {
    const subs = new LocalSubmodules(tree);
    const normal = await subs.list(false, []);
    expect(normal.files).toEqual(['libs/sub/.gitmodules', 'libs/sub/sub.txt']);
    expect(normal.warnings[0]).toMatch(/vendor\/missing .* git submodule update --init$/);
    expect(await subs.list(false, [':(exclude)vendor/missing'])).toEqual({ files: ['libs/sub/.gitmodules', 'libs/sub/sub.txt'], warnings: [] });
    expect(await subs.list(true, ['vendor'])).toMatchObject({ files: [] });
  });

  it('the listing of the top repository (what every job gets) still leaves submodules out', async () => {
    expect(await listSourceFiles(tree, true)).toEqual(['.gitmodules', 'main.txt']);
  });

  it('a submodule\'s own git configuration runs nothing (core.fsmonitor)', async () => {
    const marker = join(base, 'fsmonitor-ran');
    const gitdir = git(join(tree, 'libs/sub'), 'rev-parse', '--absolute-git-dir');
    const script = join(base, 'monitor.sh');
    writeFileSync(script, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    git(tree, 'config', '--file', join(gitdir, 'config'), 'core.fsmonitor', script);
    try {
      await new LocalSubmodules(tree).list(true, []);
      expect(existsSync(marker)).toBe(false);
    } finally {
      git(tree, 'config', '--file', join(gitdir, 'config'), '--unset', 'core.fsmonitor');
    }
  });

  it('refuses a submodule whose folder is now a link out of the repository', async () => {
    const linked = join(base, 'linked');
    git(base, 'clone', '-q', join(base, 'main'), linked);
    mkdirSync(join(base, 'outside', '.git'), { recursive: true });
    writeFileSync(join(base, 'outside/sub.txt'), 'HOST SECRET\n');
    rmSync(join(linked, 'libs/sub'), { recursive: true, force: true });
    symlinkSync(join(base, 'outside'), join(linked, 'libs/sub'));
    const err = await new LocalSubmodules(linked).list(false, []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain('Refusing to copy the submodule libs/sub into the jobs: libs/sub is a symbolic link');
  });
});
