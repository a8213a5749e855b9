import { afterAll, describe, expect, it } from 'vitest';
import { toJsRegExp } from './keywords/coverage-config.js';
import { ProjectFactory } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

describe('coverage: (GitLab Entry::Coverage)', () => {
  it('keeps the pattern between the slashes, per job; no coverage: is null', async () => {
    const p = await projects.compile(`
unit:
  script: x
  coverage: '/Lines:\\s+(\\d+\\.\\d+)%/'
lint:
  script: x
`);
    expect(p.jobs.find((j) => j.name === 'unit')!.coverage).toBe('Lines:\\s+(\\d+\\.\\d+)%');
    expect(p.jobs.find((j) => j.name === 'lint')!.coverage).toBeNull();
    expect(p.warnings).toEqual([]);
  });

  it('refuses what is not a regular expression between slashes, as GitLab does, naming the job and the line', async () => {
    await expect(projects.compile("j:\n  script: x\n  coverage: 'Total: \\d+%'\n")).rejects.toThrow(/\.gitlab-ci\.yml:3.*job "j": coverage config must be a regular expression with re2 syntax/);
    await expect(projects.compile('j: {script: x, coverage: 85}')).rejects.toThrow(/coverage config must be a regular expression/);
    await expect(projects.compile("j: {script: x, coverage: '//'}")).rejects.toThrow(/coverage config must be a regular expression.*not "\/\/"/);
  });

  it('a pattern JavaScript cannot read is a warning, not a refused pipeline (GitLab reads it with RE2)', async () => {
    const p = await projects.compile("j: {script: x, coverage: '/(?U)a+/'}");
    expect(p.jobs[0]!.coverage).toBe('(?U)a+');
    expect(p.warnings.join('\n')).toMatch(/coverage: berth cannot read \/\(\?U\)a\+\/ .*ungreedy.*not computed/);
  });
});

describe('toJsRegExp: RE2 syntax as JavaScript (the translation of rules/re2-regexp.ts)', () => {
  const re = (pattern: string): RegExp => {
    const js = toJsRegExp(pattern);
    if ('error' in js) throw new Error(js.error);
    return new RegExp(js.source, js.flags);
  };

  it('carries over leading flags, (?P<name>, \\A and \\z', () => {
    expect(re('(?i)total: (\\d+)%').test('TOTAL: 5%')).toBe(true);
    expect(re('(?P<pct>\\d+)%').exec('x 42%')?.groups).toEqual({ pct: '42' });
    expect(re('\\ACoverage \\d+\\z').test('Coverage 12')).toBe(true);
    expect(re('\\ACoverage \\d+\\z').test('Coverage 12 more')).toBe(false);
  });

  it('keeps needless escapes (\\%) readable without the u flag, and uses u for \\p{...}', () => {
    expect(toJsRegExp('TOTAL.*? (\\d+\\%)$')).toEqual({ source: 'TOTAL.*? (\\d+\\%)$', flags: '' });
    expect(toJsRegExp('\\p{Lu}+ (\\d+)%')).toEqual({ source: '\\p{Lu}+ (\\d+)%', flags: 'u' });
  });

  it('says why a pattern cannot be read', () => {
    expect(toJsRegExp('(a')).toHaveProperty('error', expect.stringMatching(/Unterminated group/));
    expect(toJsRegExp('(?U)a+')).toHaveProperty('error', expect.stringMatching(/ungreedy/));
  });
});
