import { describe, expect, it } from 'vitest';
import { driverOverrides, safeGitArgv, UnsafeGitConfigError } from './safe-git-argv.js';

describe('safeGitArgv', () => {
  it('puts the program-free settings before the command, fsmonitor and hooks first', () => {
    const argv = safeGitArgv(['ls-files', '-z'], ['filter.evil.clean=']);
    expect(argv.slice(0, 5)).toEqual(['--no-pager', '-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null']);
    expect(argv.slice(-4)).toEqual(['-c', 'filter.evil.clean=', 'ls-files', '-z']);
    expect(argv).toContain('credential.helper=');
    expect(argv).toContain('protocol.ext.allow=never');
  });
});

describe('driverOverrides', () => {
  it('empties every per-driver program key the repository defines, and nothing else', () => {
    const names = ['core.fsmonitor', 'filter.evil.clean', 'filter.a.b.smudge', 'filter.x.process', 'filter.x.required', 'diff.d.textconv', 'diff.d.command',
      'merge.m.driver', 'remote.origin.uploadpack', 'remote.origin.url', 'user.name', ''];
    expect(driverOverrides(names)).toEqual(['filter.evil.clean=', 'filter.a.b.smudge=', 'filter.x.process=', 'diff.d.textconv=', 'diff.d.command=',
      'merge.m.driver=', 'remote.origin.uploadpack=']);
  });

  it('refuses a driver name that a -c setting cannot express', () => {
    expect(() => driverOverrides(['filter.a=b.clean'])).toThrow(UnsafeGitConfigError);
  });
});
