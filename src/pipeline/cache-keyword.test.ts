import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CacheSpec } from '../job/job-spec.js';
import { compilePipeline } from './compile-pipeline.js';
import { fakeGit, ProjectFactory } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

const cacheOf = async (yaml: string, job = 'job'): Promise<CacheSpec[]> => {
  const p = await projects.compile(yaml);
  const found = p.jobs.find((j) => j.name === job);
  if (!found) throw new Error(`no job ${job}`);
  return found.spec.cache;
};

const spec = (over: Partial<CacheSpec>): CacheSpec => ({ key: 'default', untracked: false, policy: 'pull-push', paths: [], when: 'on_success', fallbackKeys: [], ...over });

const git = (dir: string, ...args: string[]): string => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();

/** A git repository with `files` committed, compiled as berth exec does (tracked files of the working tree). */
async function compileRepo(files: Record<string, string>, links: Record<string, string> = {}) {
  const dir = await projects.create(files);
  for (const [path, target] of Object.entries(links)) symlinkSync(target, join(dir, path));
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, '-c', 'user.email=a@example.invalid', '-c', 'user.name=A', 'commit', '-q', '-m', 'init');
  const p = await compilePipeline({ cwd: dir, git: fakeGit(dir, { isRepo: true }), pipelineId: 1, listFiles: false });
  return { dir, p, cache: (job: string) => p.jobs.find((j) => j.name === job)!.spec.cache };
}

/** GitLab's digest: SHA1 of the sorted unique blob ids joined by '-'. */
const digestOf = (ids: string[]): string => createHash('sha1').update([...new Set(ids)].sort().join('-')).digest('hex');

describe('cache: → the payload cache[]', () => {
  it('a map with every key, GitLab\'s defaults, no -protected suffix', async () => {
    expect(await cacheOf('job: {script: x, cache: {paths: [vendor/]}}\n')).toEqual([spec({ paths: ['vendor/'] })]);
    expect(await cacheOf(`
job:
  script: x
  cache:
    key: "$CI_COMMIT_REF_SLUG-deps"
    paths: [node_modules/]
    untracked: true
    policy: pull
    when: always
    unprotect: true
    fallback_keys: [main-deps, default]
`)).toEqual([spec({ key: '$CI_COMMIT_REF_SLUG-deps', paths: ['node_modules/'], untracked: true, policy: 'pull', when: 'always', fallbackKeys: ['main-deps', 'default'] })]);
    expect(await cacheOf('job: {script: x, cache: {key: k, policy: $CACHE_POLICY}}\n')).toEqual([spec({ key: 'k', policy: '$CACHE_POLICY' })]);
    expect(await cacheOf('job: {script: x, cache: {key: k, policy: ""}}\n')).toEqual([spec({ key: 'k', policy: '' })]);
  });

  it('a list of up to 4 caches, nested lists flattened', async () => {
    expect(await cacheOf(`
.gems: {key: gems, paths: [vendor/]}
job:
  script: x
  cache:
    - !reference [.gems]
    - [{key: npm, paths: [node_modules/], policy: push}]
`)).toEqual([spec({ key: 'gems', paths: ['vendor/'] }), spec({ key: 'npm', paths: ['node_modules/'], policy: 'push' })]);
  });

  it('top-level cache (deprecated) and default:cache are inherited; the job\'s own cache, [] or inherit:default win', async () => {
    const p = await projects.compile(`
cache: {key: legacy, paths: [a/]}
one: {script: x}
two: {script: x, cache: []}
three: {script: x, cache: {key: own}}
four: {script: x, inherit: {default: false}}
five: {script: x, inherit: {default: [cache]}}
`);
    const keys = Object.fromEntries(p.jobs.map((j) => [j.name, j.spec.cache.map((c) => c.key)]));
    expect(keys).toEqual({ one: ['legacy'], two: [], three: ['own'], four: [], five: ['legacy'] });
    const q = await projects.compile('default: {cache: {key: d, paths: [p/]}}\njob: {script: x}\n');
    expect(q.jobs[0]!.spec.cache).toEqual([spec({ key: 'd', paths: ['p/'] })]);
  });

  it('key:files: the digest of the files\' git blob ids, as `git hash-object` gives them, with GitLab\'s default prefix', async () => {
    const { dir, cache } = await compileRepo({
      'package-lock.json': '{"lockfileVersion": 3}\n',
      'Gemfile.lock': 'GEM\n  remote: https://rubygems.org/\n',
      'same.txt': '{"lockfileVersion": 3}\n',
      'frontend/yarn.lock': '# yarn\n',
      'backend/yarn.lock': '# other yarn\n',
      '.gitlab-ci.yml': `
one: {script: x, cache: {key: {files: [package-lock.json]}, paths: [node_modules/]}}
two: {script: x, cache: [{key: {files: [Gemfile.lock, package-lock.json], prefix: deps}}, {key: {files: [package-lock.json]}}]}
same: {script: x, cache: {key: {files: [package-lock.json, same.txt], prefix: p}}}
glob: {script: x, cache: {key: {files: ["**/yarn.lock"]}}}
star: {script: x, cache: {key: {files: ["*.lock"]}}}
none: {script: x, cache: [{key: {files: [missing.lock]}}, {key: {files: [missing.lock], prefix: pre}}, {key: {files: ["frontend"]}}]}
`,
    });
    const hash = (path: string): string => git(dir, 'hash-object', path);
    const lock = hash('package-lock.json');
    expect(cache('one')).toEqual([spec({ key: `0_package-lock-${digestOf([lock])}`, paths: ['node_modules/'] })]);
    expect(cache('two').map((c) => c.key)).toEqual([`deps-${digestOf([hash('Gemfile.lock'), lock])}`, `1_package-lock-${digestOf([lock])}`]);
    // Two files with the same content: one blob id.
    expect(cache('same').map((c) => c.key)).toEqual([`p-${digestOf([lock])}`]);
    // `**` spans folders (and needs the '/' before the name); `*` stays in one folder.
    expect(cache('glob').map((c) => c.key)).toEqual([`0_**/yarn-${digestOf([hash('frontend/yarn.lock'), hash('backend/yarn.lock')])}`]);
    expect(cache('star').map((c) => c.key)).toEqual([`0_*-${digestOf([hash('Gemfile.lock')])}`]);
    // Nothing matched (a folder is not a blob): the digest is `default`.
    expect(cache('none').map((c) => c.key)).toEqual(['0_missing-default', 'pre-default', '2_frontend-default']);
  });

  it('key:files_commits: the digest of the last commit of each path (committed changes only); the prefix defaults to the index', async () => {
    const { dir } = await compileRepo({ 'a.lock': '1\n', 'b.lock': 'b\n', '.gitlab-ci.yml': 'x: {script: x}\n' });
    const commit = (message: string): void => {
      git(dir, 'add', '-A');
      git(dir, '-c', 'user.email=a@example.invalid', '-c', 'user.name=A', 'commit', '-q', '-m', message);
    };
    writeFileSync(join(dir, 'a.lock'), '2\n');
    commit('second');
    writeFileSync(join(dir, 'b.lock'), 'uncommitted\n');
    writeFileSync(join(dir, '.gitlab-ci.yml'), `
job:
  script: x
  cache:
    - {key: {files_commits: [a.lock, b.lock]}}
    - {key: {files_commits: [a.lock], prefix: p}}
    - {key: {files_commits: [missing.lock, "*.lock"]}}
`);
    commit('ci');
    const p = await compilePipeline({ cwd: dir, git: fakeGit(dir, { isRepo: true }), pipelineId: 1, listFiles: false });
    const last = (path: string): string => git(dir, 'log', '-1', '--format=%H', '--', path);
    expect(last('a.lock')).not.toBe(last('b.lock'));
    expect(p.jobs[0]!.spec.cache.map((c) => c.key)).toEqual([`0-${digestOf([last('a.lock'), last('b.lock')])}`, `p-${digestOf([last('a.lock')])}`, '2-default']);
  });

  it('key:files and key:files_commits drop leading slashes as GitLab\'s Entry::Files does (`/package-lock.json` is `package-lock.json`)', async () => {
    const { dir, cache } = await compileRepo({
      'package-lock.json': '{"lockfileVersion": 3}\n',
      'Gemfile.lock': 'GEM\n',
      '.gitlab-ci.yml': `
one: {script: x, cache: {key: {files: [/package-lock.json]}}}
two: {script: x, cache: {key: {files: [//Gemfile.lock, "/*.json"]}}}
commits: {script: x, cache: {key: {files_commits: [/package-lock.json]}}}
`,
    });
    const hash = (path: string): string => git(dir, 'hash-object', path);
    expect(cache('one').map((c) => c.key)).toEqual([`0_package-lock-${digestOf([hash('package-lock.json')])}`]);
    expect(cache('two').map((c) => c.key)).toEqual([`0_Gemfile_*-${digestOf([hash('Gemfile.lock'), hash('package-lock.json')])}`]);
    expect(cache('commits').map((c) => c.key)).toEqual([`0-${digestOf([git(dir, 'log', '-1', '--format=%H', '--', 'package-lock.json')])}`]);
  });

  it('key:files reads a tracked symbolic link as git does (its target text), never through it', async () => {
    const { dir, cache } = await compileRepo(
      { '.gitlab-ci.yml': 'job: {script: x, cache: {key: {files: [lock], prefix: l}}}\n' },
      { lock: '/etc/passwd' },
    );
    const indexed = git(dir, 'ls-files', '-s', 'lock').split(/\s+/)[1]!;
    expect(indexed).toBe(createHash('sha1').update('blob 11\0/etc/passwd').digest('hex'));
    expect(cache('job')).toEqual([spec({ key: `l-${digestOf([indexed])}` })]);
  });

  it('key:files without a git repository uses the files of the folder', async () => {
    const p = await projects.compile('job: {script: x, cache: {key: {files: [a.lock]}}}\n', { files: { 'a.lock': 'x\n' } });
    const blob = createHash('sha1').update('blob 2\0x\n').digest('hex');
    expect(p.jobs[0]!.spec.cache.map((c) => c.key)).toEqual([`0_a-${digestOf([blob])}`]);
  });

  it.each([
    ['cache: a', '.gitlab-ci.yml:3: job "job": cache config can only be a Hash or an Array, not a string'],
    ['cache: [{key: a}, {key: b}, {key: c}, {key: d}, {key: e}]', '.gitlab-ci.yml:3: job "job": cache config no more than 4 caches can be created'],
    ['cache: [a]', '.gitlab-ci.yml:3: job "job": cache:0 config should be a hash, not a string'],
    ['cache: {keys: a}', '.gitlab-ci.yml:3: job "job": cache config contains unknown keys: keys'],
    ['cache: {key: a/b}', '.gitlab-ci.yml:3: job "job": cache:key config cannot contain the "/" character'],
    ['cache: {key: a%2Fb}', '.gitlab-ci.yml:3: job "job": cache:key config cannot contain the "/" character'],
    ['cache: {key: ".."}', '.gitlab-ci.yml:3: job "job": cache:key config cannot be "." or ".."'],
    ['cache: {key: "%2e"}', '.gitlab-ci.yml:3: job "job": cache:key config cannot be "." or ".."'],
    ['cache: {key: 1}', '.gitlab-ci.yml:3: job "job": cache:key should be a hash, a string or a symbol'],
    ['cache: {key: {prefix: p}}', '.gitlab-ci.yml:3: job "job": cache:key config must use exactly one of these keys: files, files_commits'],
    ['cache: {key: {files: [a], files_commits: [a]}}', '.gitlab-ci.yml:3: job "job": cache:key config must use exactly one of these keys: files, files_commits'],
    ['cache: {key: {files_commits: [a, b, c]}}', '.gitlab-ci.yml:3: job "job": cache:key:files_commits config has too many items (maximum is 2)'],
    ['cache: {key: {files: [a], name: b}}', '.gitlab-ci.yml:3: job "job": cache:key config contains unknown keys: name'],
    ['cache: {key: {files: []}}', '.gitlab-ci.yml:3: job "job": cache:key:files config requires at least 1 item'],
    ['cache: {key: {files: [a, b, c]}}', '.gitlab-ci.yml:3: job "job": cache:key:files config has too many items (maximum is 2)'],
    ['cache: {key: {files: a}}', '.gitlab-ci.yml:3: job "job": cache:key:files should be an array of strings'],
    ['cache: {key: {files: [a], prefix: x/y}}', '.gitlab-ci.yml:3: job "job": cache:key:prefix config cannot contain the "/" character'],
    ['cache: {paths: vendor}', '.gitlab-ci.yml:3: job "job": cache:paths should be an array of strings'],
    ['cache: {untracked: 1}', '.gitlab-ci.yml:3: job "job": cache:untracked must be true or false, not a number'],
    ['cache: {unprotect: "no"}', '.gitlab-ci.yml:3: job "job": cache:unprotect must be true or false, not a string'],
    ['cache: {policy: keep}', '.gitlab-ci.yml:3: job "job": cache:policy should be a variable or one of: pull-push, push, pull'],
    ['cache: {policy: [pull]}', '.gitlab-ci.yml:3: job "job": cache:policy should be a string, not a list'],
    ['cache: {when: never}', '.gitlab-ci.yml:3: job "job": cache:when should be one of: on_success, on_failure, always'],
    ['cache: {fallback_keys: [a, b, c, d, e, f]}', '.gitlab-ci.yml:3: job "job": cache:fallback_keys has to many entries (maximum 5)'],
    ['cache: {fallback_keys: a}', '.gitlab-ci.yml:3: job "job": cache:fallback_keys should be an array of strings'],
  ])('%s is refused', async (keyword, message) => {
    const err = await projects.error(`stages: [test]\njob:\n  ${keyword}\n  script: x\n`);
    expect(err.message).toBe(message);
    expect(err.key).toBe('cache');
    expect(err.line).toBe(3);
  });

  it('an error in a top-level cache names the job that inherits it', async () => {
    const err = await projects.error('cache:\n  key: a/b\njob: {script: x}\n');
    expect(err.message).toBe('.gitlab-ci.yml:2: job "job": cache:key config cannot contain the "/" character');
  });
});
