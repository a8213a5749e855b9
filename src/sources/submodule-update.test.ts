import { describe, expect, it } from 'vitest';
import type { SubmoduleSettings } from '../job/submodule-settings.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { stripAnsi } from '../shared/ansi.js';
import { GitError, type GitRunner } from './git-command.js';
import { checkUpdateFlags, refusedTransport, submoduleCommands, submoduleNotice, updateSubmodules } from './submodule-update.js';

const settings = (s: Partial<SubmoduleSettings>): SubmoduleSettings => ({ strategy: 'normal', paths: [], depth: 0, updateFlags: [], forceHttps: false, warnings: [], ...s });

describe('submoduleCommands (gitlab-runner shells/abstract.go writeSubmoduleUpdateCmd)', () => {
  it('normal, no depth, no paths', () => {
    expect(submoduleCommands(settings({}), [])).toEqual({
      init: ['submodule', 'init'],
      sync: ['submodule', 'sync'],
      update: ['submodule', 'update', '--init'],
      clean: ['submodule', 'foreach', 'git', 'clean', '-ffdx'],
      reset: ['submodule', 'foreach', 'git', 'reset', '--hard'],
      fetchHeads: null,
    });
  });

  it('recursive with depth, flags, paths and GIT_CLEAN_FLAGS', () => {
    const c = submoduleCommands(settings({ strategy: 'recursive', depth: 5, updateFlags: ['--remote', '--jobs', '4'], paths: ['libs', ':(exclude)libs/x'] }), ['-fdx', '-e', 'keep']);
    expect(c.sync).toEqual(['submodule', 'sync', '--recursive', '--', 'libs', ':(exclude)libs/x']);
    expect(c.update).toEqual(['submodule', 'update', '--init', '--recursive', '--depth', '5', '--remote', '--jobs', '4', '--', 'libs', ':(exclude)libs/x']);
    expect(c.clean).toEqual(['submodule', 'foreach', '--recursive', 'git', 'clean', '-fdx', '-e', 'keep']);
    expect(c.reset).toEqual(['submodule', 'foreach', '--recursive', 'git', 'reset', '--hard']);
    expect(c.fetchHeads).toEqual(['submodule', 'foreach', '--recursive', 'git', 'fetch', 'origin', '+refs/heads/*:refs/remotes/origin/*']);
  });

  it('the notice', () => {
    expect(submoduleNotice(settings({}))).toBe('Updating/initializing submodules...');
    expect(submoduleNotice(settings({ depth: 3 }))).toBe('Updating/initializing submodules with git depth set to 3...');
    expect(submoduleNotice(settings({ strategy: 'recursive' }))).toBe('Updating/initializing submodules recursively...');
    expect(submoduleNotice(settings({ strategy: 'recursive', depth: 1 }))).toBe('Updating/initializing submodules recursively with git depth set to 1...');
  });
});

describe('checkUpdateFlags', () => {
  it('passes the flags that only choose how to update', () => {
    expect(() => checkUpdateFlags(['--remote', '--merge', '--jobs', '4', '--jobs=2', '-j', '3', '--depth=1', '--filter=blob:none', '--no-fetch', '--force'])).not.toThrow();
  });

  it.each([['--reference', '/srv/other.git'], ['--reference=/srv/other.git'], ['--dissociate'], ['--jobs', 'x'], ['--upload-pack=evil'], ['-c'], ['--']])('refuses %j', (...flags) => {
    expect(() => checkUpdateFlags(flags)).toThrow(`does not pass ${JSON.stringify(flags[0])}`);
  });
});

/** A GitRunner that records each command and fails those `fail` says. */
function fakeGit(fail: (args: string[], n: number) => string | null): { git: GitRunner; calls: string[] } {
  const calls: string[] = [];
  const seen = new Map<string, number>();
  return {
    calls,
    git: {
      run: (args) => {
        const line = args.join(' ');
        calls.push(line);
        const n = (seen.get(line) ?? 0) + 1;
        seen.set(line, n);
        const err = fail(args, n);
        return err ? Promise.reject(new GitError(err)) : Promise.resolve('');
      },
    },
  };
}

async function update(fail: (args: string[], n: number) => string | null, s: Partial<SubmoduleSettings>, fresh: boolean) {
  const { git, calls } = fakeGit(fail);
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink);
  const result = await updateSubmodules({ git, dir: '/repo', log, settings: settings(s), cleanFlags: [], fresh, prefix: ['-c', 'core.fsync=none'], signal: new AbortController().signal }).catch((e: Error) => e);
  log.end();
  return { calls, text: stripAnsi(sink.text), result };
}

describe('updateSubmodules', () => {
  it('a failed update is retried after a sync, with gitlab-runner\'s warning, then the submodules reset', async () => {
    const { calls, text, result } = await update((args, n) => (args.includes('update') && n === 1 ? 'git submodule failed (exit code 1): fatal: early EOF' : null), { updateFlags: ['--remote'] }, false);
    expect(result).toBeUndefined();
    expect(text).toContain('Updating submodules failed. Retrying...');
    expect(text).not.toContain('Updated submodules');
    expect(calls.map((c) => c.replace('-c core.fsync=none ', ''))).toEqual([
      'submodule init',
      'submodule sync',
      'submodule foreach git clean -ffdx',
      'submodule foreach git reset --hard',
      'submodule update --init --remote',
      'submodule foreach git fetch origin +refs/heads/*:refs/remotes/origin/*',
      'submodule sync',
      'submodule update --init --remote',
      'submodule foreach git reset --hard',
      'submodule foreach git clean -ffdx',
    ]);
    expect(calls.every((c) => c.startsWith('-c core.fsync=none submodule '))).toBe(true);
  });

  it('a second failure fails the job', async () => {
    const { text, result } = await update((args) => (args.includes('update') ? 'git submodule failed (exit code 1): fatal: early EOF' : null), {}, true);
    expect(text).toContain('Updating submodules failed. Retrying...');
    expect((result as Error).message).toContain('early EOF');
  });

  it('a refused transport is not retried', async () => {
    const stderr = "git submodule failed (exit code 1): fatal: transport 'ssh' not allowed\nfatal: clone of 'git@gitlab.example.com:g/p.git' into submodule path '/x/p' failed";
    const { calls, text, result } = await update((args) => (args.includes('update') ? stderr : null), {}, true);
    expect(text).not.toContain('Retrying');
    expect(calls).toHaveLength(2);
    expect((result as Error).message).toMatch(/^A submodule's URL \(git@gitlab\.example\.com:g\/p\.git\) uses git's ssh transport, which berth run refuses/);
    expect(refusedTransport(new Error('fatal: early EOF'))).toBeNull();
  });
});
