import { execFileSync } from 'node:child_process';
import { mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compilePipeline } from '../compile-pipeline.js';
import { projectPathFromRemote, projectWebUrl, stripCredentials } from './git-remote.js';
import { readLocalGitInfo, ZERO_SHA } from './local-git.js';
import { listSourceFiles } from './source-files.js';
import { ProjectFactory, variableMap } from '../../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_DATE: '2024-01-02T03:04:05Z', GIT_COMMITTER_DATE: '2024-01-02T03:04:05Z' },
  }).trim();

async function makeRepo(remote = 'git@gitlab.example.com:group/sub/project.git'): Promise<string> {
  const dir = await realpath(await projects.create({
    '.gitlab-ci.yml': 'job:\n  script: echo $CI_PROJECT_PATH\n',
    'a.txt': 'a\n',
    'b.txt': 'b\n',
    'src/c.txt': 'c\n',
  }));
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'Test User');
  git(dir, 'config', 'user.email', 'tester@example.com');
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'remote', 'add', 'origin', remote);
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'First commit\n\nWith a body.');
  return dir;
}

describe('readLocalGitInfo', () => {
  it('reads commit, branch, remote and user, also from a subdirectory', async () => {
    const dir = await makeRepo();
    const sha = git(dir, 'rev-parse', 'HEAD');
    const info = await readLocalGitInfo(join(dir, 'src'));
    expect(info).toEqual({
      isRepo: true,
      root: dir,
      sha,
      ref: 'main',
      refType: 'branch',
      defaultBranch: 'main',
      remoteUrl: 'git@gitlab.example.com:group/sub/project.git',
      projectPath: 'group/sub/project',
      commit: { message: 'First commit\n\nWith a body.', authorName: 'Test User', authorEmail: 'tester@example.com', timestamp: '2024-01-02T03:04:05+00:00' },
      user: { name: 'Test User', email: 'tester@example.com' },
    });
  });

  it('sees a tag pipeline when HEAD is detached at a tag, and origin/HEAD as the default branch', async () => {
    const dir = await makeRepo();
    git(dir, 'tag', 'v1.2');
    git(dir, 'checkout', '-q', '--detach');
    git(dir, 'symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/develop');
    const info = await readLocalGitInfo(dir);
    expect([info.ref, info.refType, info.defaultBranch]).toEqual(['v1.2', 'tag', 'develop']);
    expect(info.tagMessage).toBe(''); // a lightweight tag has no message
  });

  it('reads an annotated tag\'s message for CI_COMMIT_TAG_MESSAGE; a branch pipeline has none', async () => {
    const dir = await makeRepo();
    expect((await readLocalGitInfo(dir)).tagMessage).toBeUndefined();
    git(dir, 'tag', '-a', 'v2.0', '-m', 'Release 2.0\n\nWith notes.');
    git(dir, 'checkout', '-q', '--detach');
    const info = await readLocalGitInfo(dir);
    expect([info.ref, info.tagMessage]).toEqual(['v2.0', 'Release 2.0\n\nWith notes.']);
    const vars = variableMap(await compilePipeline({ cwd: dir }), 'job');
    expect(vars).toMatchObject({ CI_COMMIT_TAG: 'v2.0', CI_COMMIT_TAG_MESSAGE: 'Release 2.0\n\nWith notes.' });
  });

  it('removes credentials from an https remote and derives the project URL from it', async () => {
    const dir = await makeRepo('https://oauth2:s3cret@git.example.com/team/app.git');
    const info = await readLocalGitInfo(dir);
    expect(info.remoteUrl).toBe('https://git.example.com/team/app.git');
    expect(info.projectPath).toBe('team/app');
    const p = await compilePipeline({ cwd: dir, git: info, listFiles: false });
    expect(variableMap(p, 'job')).toMatchObject({ CI_PROJECT_URL: 'https://git.example.com/team/app', CI_SERVER_HOST: 'git.example.com' });
    expect(JSON.stringify(p)).not.toContain('s3cret');
  });

  it('takes remote and user from the configuration listing: origin before other remotes, values with newlines intact', async () => {
    const dir = await makeRepo('https://git.example.com/team/origin-app.git');
    git(dir, 'remote', 'add', 'aaa', 'https://git.example.com/team/other.git');
    git(dir, 'config', 'user.name', 'Two\nremote.zzz.url=https://evil.example.com/x/y.git');
    git(dir, 'config', 'branch.main.url', 'https://not-a-remote.example.com/a/b.git');
    const info = await readLocalGitInfo(dir);
    expect(info.projectPath).toBe('team/origin-app');
    expect(info.user).toEqual({ name: 'Two\nremote.zzz.url=https://evil.example.com/x/y.git', email: 'tester@example.com' });
    git(dir, 'remote', 'remove', 'origin');
    expect((await readLocalGitInfo(dir)).projectPath).toBe('team/other');
  });

  it('works outside a repository: local/<dir name>', async () => {
    const dir = await realpath(await projects.create({ 'x.txt': '' }));
    const info = await readLocalGitInfo(dir);
    expect(info).toMatchObject({ isRepo: false, root: dir, sha: ZERO_SHA, ref: 'main', projectPath: `local/${dir.split('/').pop()}` });
  });
});

describe('compilePipeline on a git repository', () => {
  it('sets the project variables and lists tracked files that exist in the working tree', async () => {
    const dir = await makeRepo();
    await writeFile(join(dir, 'a.txt'), 'changed\n');
    await rm(join(dir, 'b.txt'));
    await writeFile(join(dir, 'untracked.txt'), 'u\n');
    await mkdir(join(dir, '.berth'), { recursive: true });
    const p = await compilePipeline({ cwd: dir });
    const vars = variableMap(p, 'job');
    expect(vars).toMatchObject({
      CI_PROJECT_PATH: 'group/sub/project',
      CI_PROJECT_NAMESPACE: 'group/sub',
      CI_PROJECT_NAMESPACE_SLUG: 'group-sub',
      CI_PROJECT_ROOT_NAMESPACE: 'group',
      CI_TEMPLATE_REGISTRY_HOST: 'registry.gitlab.com',
      CI_PROJECT_NAME: 'project',
      CI_PROJECT_URL: 'https://gitlab.example.invalid/group/sub/project',
      CI_COMMIT_BRANCH: 'main',
      CI_COMMIT_SHA: git(dir, 'rev-parse', 'HEAD'),
      CI_COMMIT_TITLE: 'First commit',
      CI_COMMIT_DESCRIPTION: 'With a body.',
      GITLAB_USER_EMAIL: 'tester@example.com',
    });
    expect(p.jobs[0]!.spec.sources).toEqual({ kind: 'local-tree', root: dir, files: ['.gitlab-ci.yml', 'a.txt', 'src/c.txt'] });
    expect(p.jobs[0]!.spec.jobInfo.projectFullPath).toBe('group/sub/project');
    expect(vars.CI_PROJECT_NAMESPACE_ID).toMatch(/^[1-9]\d*$/);
  });

  it('lists every regular file except .git and .berth without a repository', async () => {
    const dir = await projects.create({ 'a.txt': '', 'd/b.txt': '', '.berth/logs/x.log': '', '.hidden': '' });
    expect(await listSourceFiles(dir)).toEqual(['.hidden', 'a.txt', 'd/b.txt']);
  });
});

describe('git remotes', () => {
  it.each([
    ['git@gitlab.example.com:group/sub/project.git', 'group/sub/project'],
    ['ssh://git@gitlab.example.com:2222/group/project.git', 'group/project'],
    ['https://user:pw@gitlab.example.com/group/project.git', 'group/project'],
    ['https://gitlab.example.com/group/project', 'group/project'],
    ['/srv/git/project.git', null],
    ['file:///srv/git/group/project.git', null],
    ['git@host:project.git', null],
  ])('%s → %s', (url, path) => {
    expect(projectPathFromRemote(url)).toBe(path);
  });

  it('strips credentials and builds web URLs', () => {
    expect(stripCredentials('https://user:pw@host/a/b.git')).toBe('https://host/a/b.git');
    expect(stripCredentials('ssh://git:pw@host/a/b.git')).toBe('ssh://git@host/a/b.git');
    expect(stripCredentials('git@host:a/b.git')).toBe('git@host:a/b.git');
    expect(projectWebUrl('http://host:8080/a/b.git', 'a/b')).toBe('http://host:8080/a/b');
    expect(projectWebUrl('git@host:a/b.git', 'a/b')).toBe('https://gitlab.example.invalid/a/b');
  });
});
