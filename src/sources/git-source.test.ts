import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../../test/support/git-http-server.js';
import { testJob } from '../../test/support/job-fixtures.js';
import { plainVariable, type JobSpec } from '../job/job-spec.js';
import { stripAnsi } from '../shared/ansi.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { gitEnvironment } from './git-command.js';
import { GitSource, initRepository, listTree, type GitSourceOptions } from './git-source.js';
import type { ProcessLauncher } from './process-launcher.js';
import { ShellLauncher } from './shell-launcher.js';

const TOKEN = 'glcbt-job-token-1234567890';
let root: string;
let server: GitHttpServer;
let shas: string[];
let launcher: ShellLauncher;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'berth-git-src-'));
  const work = join(root, 'work');
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  git(work, 'config', 'user.email', 'a@example.invalid');
  git(work, 'config', 'user.name', 'A');
  shas = [];
  for (const n of [1, 2, 3]) {
    writeFileSync(join(work, 'file.txt'), `version ${n}\n`);
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', `commit ${n}`);
    shas.push(git(work, 'rev-parse', 'HEAD'));
  }
  execFileSync('git', ['clone', '-q', '--bare', work, join(root, 'repos', 'group', 'project.git')]);
  server = await startGitHttpServer(join(root, 'repos'));
  server.tokens.add(TOKEN);
  launcher = new ShellLauncher({ outputDir: join(root, 'launch') });
});

afterAll(async () => {
  await launcher.close();
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

function job(overrides: Partial<JobSpec> = {}, sha = shas[2]!): JobSpec {
  const base = testJob();
  return {
    ...base,
    token: TOKEN,
    gitInfo: {
      ...base.gitInfo,
      repoUrl: `${server.url.replace('http://', `http://gitlab-ci-token:${TOKEN}@`)}/group/project.git`,
      sha,
      ref: 'main',
      refspecs: ['+refs/heads/main:refs/remotes/origin/main'],
    },
    sources: { kind: 'git' },
    ...overrides,
  };
}

async function fetchWith(source: GitSource, spec: JobSpec) {
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink);
  const fetched = await source.fetch(spec, log, new AbortController().signal);
  log.end();
  return { fetched, text: stripAnsi(sink.text) };
}


// Every case with git started both ways: forks of the test process (DirectLauncher, berth exec's)
// and the ShellLauncher's shell (berth run's).
describe.each([
  ['forks (DirectLauncher)', () => undefined],
  ['the ShellLauncher', () => launcher],
])('GitSource, git started by %s', (_how, launcherOf: () => ProcessLauncher | undefined) => {
  const withLauncher = (opts: GitSourceOptions): GitSourceOptions => {
    const l = launcherOf();
    return l ? { ...opts, launcher: l } : opts;
  };
  it('clones the job sha with the job token, never printing it, and removes the clone on release', async () => {
    const source = new GitSource(withLauncher({ cacheDir: join(root, 'cache') }));
    const { fetched, text } = await fetchWith(source, job());
    expect(fetched).not.toBeNull();
    expect(readFileSync(join(fetched!.root, 'file.txt'), 'utf8')).toBe('version 3\n');
    expect(fetched!.files).toContain('file.txt');
    expect(fetched!.files.some((f) => f.startsWith('.git/'))).toBe(true);
    expect(text).toContain('Created fresh repository.');
    expect(text).toContain(`Checking out ${shas[2]!.slice(0, 8)} as detached HEAD (ref is main)...`);
    expect(text).not.toContain(TOKEN);
    expect(readFileSync(join(fetched!.root, '.git', 'config'), 'utf8')).not.toContain(TOKEN);
    await fetched!.release();
    expect(existsSync(fetched!.root)).toBe(false);
    expect(server.requests.some((r) => r.authorized)).toBe(true);
  });

  it('a SHA-256 project (git_info.repo_object_format "sha256"): fetched into a SHA-256 repository, as `git init --object-format`', async () => {
    const work = mkdtempSync(join(root, 'work-sha256-'));
    execFileSync('git', ['init', '-q', '-b', 'main', '--object-format=sha256', work]);
    git(work, 'config', 'user.email', 'a@example.invalid');
    git(work, 'config', 'user.name', 'A');
    writeFileSync(join(work, 'file.txt'), 'sha256 content\n');
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'first');
    const sha = git(work, 'rev-parse', 'HEAD');
    const repo = `${basename(work)}.git`;
    execFileSync('git', ['clone', '-q', '--bare', work, join(root, 'repos', 'group', repo)]);
    const base = job({}, sha);
    const spec = { ...base, gitInfo: { ...base.gitInfo, repoUrl: base.gitInfo.repoUrl.replace('/project.git', `/${repo}`), objectFormat: 'sha256' } };
    const { fetched } = await fetchWith(new GitSource(withLauncher({ cacheDir: join(root, 'cache') })), spec);
    expect(readFileSync(join(fetched!.root, 'file.txt'), 'utf8')).toBe('sha256 content\n');
    expect(git(fetched!.root, 'rev-parse', '--show-object-format')).toBe('sha256');
    await fetched!.release();
  });

  it('sends the token as a header with git\'s first request (no 401 round trip, no askpass), in no file', async () => {
    const cacheDir = join(root, 'header-cache');
    const cloneDir = join(root, 'header-clones');
    const source = new GitSource(withLauncher({ cacheDir, cloneDir }));
    const before = server.requests.length;
    const { fetched } = await fetchWith(source, job());
    const requests = server.requests.slice(before);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => !r.authorized)).toEqual([]);
    const basic = Buffer.from(`gitlab-ci-token:${TOKEN}`).toString('base64');
    const leaks = (await listTree(fetched!.root)).filter((f) => {
      const text = readFileSync(join(fetched!.root, f), 'latin1');
      return text.includes(TOKEN) || text.includes(basic);
    });
    expect(leaks).toEqual([]);
    // git's HOME does not exist: no temp folder, and no .gitconfig or .netrc of the host's user.
    expect(existsSync(join(cacheDir, '.no-home'))).toBe(false);
    // The launcher's output files (git's stdout and stderr) are gone once git has ended.
    if (launcherOf()) expect(readdirSync(join(root, 'launch'))).toEqual([]);
    await fetched!.release();
    expect(readdirSync(cloneDir)).toEqual([]);
  });

  it('keeps the repository copies in folders only berth\'s user may enter (0700), also when an older berth made them 0755', async () => {
    const cacheDir = join(mkdtempSync(join(root, 'private-')), 'cache');
    const cloneDir = `${cacheDir}-clones`;
    mkdirSync(cacheDir, { mode: 0o755 });
    chmodSync(cacheDir, 0o755);
    const source = new GitSource(withLauncher({ cacheDir, cloneDir }));
    const cloned = await fetchWith(source, job());
    expect(statSync(cloneDir).mode & 0o777).toBe(0o700);
    expect(statSync(cloned.fetched!.root).mode & 0o777).toBe(0o700);
    await cloned.fetched!.release();
    const fetched = await fetchWith(source, job({ allowGitFetch: true }));
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(fetched.fetched!.root).mode & 0o777).toBe(0o700);
    await fetched.fetched!.release();
  });

  it('makes the clone folder again when it was removed while the runner runs', async () => {
    const cloneDir = join(root, 'removed-clones');
    const source = new GitSource(withLauncher({ cacheDir: join(root, 'cache'), cloneDir }));
    await (await fetchWith(source, job())).fetched!.release();
    rmSync(cloneDir, { recursive: true, force: true });
    const again = await fetchWith(source, job());
    expect(readFileSync(join(again.fetched!.root, 'file.txt'), 'utf8')).toBe('version 3\n');
    expect(statSync(cloneDir).mode & 0o777).toBe(0o700);
    await again.fetched!.release();
  });

  it('creates the repository without git\'s template (no sample hooks copied into every build container)', async () => {
    const source = new GitSource(withLauncher({ cacheDir: join(root, 'cache') }));
    const { fetched } = await fetchWith(source, job());
    expect(fetched!.files).toContain('.git/HEAD');
    expect(fetched!.files.filter((f) => f.startsWith('.git/hooks/') || f === '.git/description' || f === '.git/info/exclude')).toEqual([]);
    expect(git(fetched!.root, 'rev-parse', 'HEAD')).toBe(shas[2]);
    await fetched!.release();
  });

  it('checks out an older sha and honours GIT_DEPTH', async () => {
    const source = new GitSource(withLauncher({ cacheDir: join(root, 'cache') }));
    const spec = job({ variables: [plainVariable('GIT_DEPTH', '2')] }, shas[1]);
    const { fetched, text } = await fetchWith(source, spec);
    expect(text).toContain('Fetching changes with git depth set to 2...');
    expect(readFileSync(join(fetched!.root, 'file.txt'), 'utf8')).toBe('version 2\n');
    await fetched!.release();
  });

  it('reuses the repository with GIT_STRATEGY=fetch and cleans untracked files', async () => {
    const source = new GitSource(withLauncher({ cacheDir: join(root, 'cache') }));
    const spec = job({ variables: [plainVariable('GIT_STRATEGY', 'fetch')] });
    const first = await fetchWith(source, spec);
    writeFileSync(join(first.fetched!.root, 'leftover.txt'), 'x');
    await first.fetched!.release();
    const second = await fetchWith(source, spec);
    expect(second.fetched!.root).toBe(first.fetched!.root);
    expect(second.text).toContain('Reinitialized existing Git repository');
    expect(existsSync(join(second.fetched!.root, 'leftover.txt'))).toBe(false);
    await second.fetched!.release();
    expect(existsSync(second.fetched!.root)).toBe(true);
  });

  it('stops git when the job is aborted, and removes the clone', async () => {
    const cloneDir = mkdtempSync(join(root, 'abort-clones-'));
    const source = new GitSource(withLauncher({ cacheDir: join(root, 'cache'), cloneDir }));
    const before = server.requests.length;
    const release = server.hold();
    const ac = new AbortController();
    try {
      const fetching = source.fetch(job(), new JobLog(new MemoryByteWriter()), ac.signal);
      for (const end = Date.now() + 10_000; !server.requests.slice(before).some((r) => r.path.endsWith('(held)')); ) {
        if (Date.now() > end) throw new Error('git sent no request');
        await new Promise((r) => setTimeout(r, 20));
      }
      ac.abort(new Error('job canceled'));
      await expect(fetching).rejects.toThrow(/^git fetch could not run: /);
    } finally {
      release();
    }
    expect(readdirSync(cloneDir)).toEqual([]);
  });

  it('skips sources with GIT_STRATEGY=none', async () => {
    const source = new GitSource(withLauncher({ cacheDir: join(root, 'cache') }));
    const { fetched, text } = await fetchWith(source, job({ variables: [plainVariable('GIT_STRATEGY', 'none')] }));
    expect(fetched).toBeNull();
    expect(text).toContain('Skipping Git repository setup');
  });

  it('fails with a clear error, without the token, when the token is refused', async () => {
    const source = new GitSource(withLauncher({ cacheDir: join(root, 'cache') }));
    const spec = job();
    spec.gitInfo.repoUrl = spec.gitInfo.repoUrl.replace(TOKEN, 'glcbt-wrong-token');
    const err = await fetchWith(source, spec).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/git fetch failed \(exit code 128\): http:\/\/127\.0\.0\.1:\d+\/group\/project\.git refused the job's credentials/);
    expect((err as Error).message).not.toContain('glcbt-wrong-token');
    expect((err as Error).message).not.toContain(Buffer.from('gitlab-ci-token:glcbt-wrong-token').toString('base64'));
  });

  it('points origin at the repository URL without the token, as `git remote add` does, with git reading the same settings', async () => {
    const source = new GitSource(withLauncher({ cacheDir: join(root, 'cache') }));
    const { fetched } = await fetchWith(source, job());
    expect(git(fetched!.root, 'remote', 'get-url', 'origin')).toBe(`${server.url}/group/project.git`);
    expect(git(fetched!.root, 'config', '--get-all', 'remote.origin.fetch')).toBe('+refs/heads/*:refs/remotes/origin/*');
    expect(git(fetched!.root, 'rev-parse', 'refs/remotes/origin/main')).toBe(shas[2]);
    expect(git(fetched!.root, 'status', '--porcelain')).toBe('');
    await fetched!.release();
  });
});

describe('listTree', () => {
  it('lists what node\'s recursive readdir lists: files and links (a link to a folder not followed), no folders, sorted', async () => {
    const dir = mkdtempSync(join(root, 'tree-'));
    for (const d of ['a/b/c', 'a/empty', '.git/objects/pack', 'z']) mkdirSync(join(dir, d), { recursive: true });
    for (const f of ['top.txt', 'a/b/c/deep.txt', 'a/b/mid.txt', '.git/HEAD', '.git/objects/pack/p.pack', 'z/Z', 'B.txt']) writeFileSync(join(dir, f), f);
    symlinkSync('a/b', join(dir, 'link-to-folder'));
    symlinkSync('top.txt', join(dir, 'a/link-to-file'));
    const reference = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() || e.isSymbolicLink())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
    expect(await listTree(dir)).toEqual(reference);
    expect(reference).toContain('link-to-folder');
    expect(reference).not.toContain('link-to-folder/mid.txt');
    expect(reference).toHaveLength(9);
  });
});

describe('gitEnvironment', () => {
  const url = 'https://gitlab.example.com/group/project.git';

  it('carries the credentials only as an Authorization header for the repository URL, nothing of the host\'s environment', () => {
    const env = gitEnvironment({ url, credentials: { username: 'gitlab-ci-token', password: TOKEN }, home: '/nowhere/.no-home' });
    expect(env).toEqual({
      PATH: process.env.PATH,
      HOME: '/nowhere/.no-home',
      LANG: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `http.${url}.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`gitlab-ci-token:${TOKEN}`).toString('base64')}`,
    });
    expect(Object.values(env).some((v) => v?.includes(TOKEN))).toBe(false);
  });

  it('sets no header without credentials (a public repository)', () => {
    const env = gitEnvironment({ url, credentials: null, home: '/nowhere' });
    expect(Object.keys(env).filter((k) => k.startsWith('GIT_CONFIG_') && k !== 'GIT_CONFIG_NOSYSTEM' && k !== 'GIT_CONFIG_GLOBAL')).toEqual([]);
  });

  it('refuses a URL with a line break (it would end the config key)', () => {
    expect(() => gitEnvironment({ url: `${url}\n`, credentials: { username: 'u', password: 'p' }, home: '/nowhere' })).toThrow(/line break/);
  });

  it('is read by git as the header of that URL only', () => {
    const env = gitEnvironment({ url, credentials: { username: 'gitlab-ci-token', password: TOKEN }, home: '/nowhere' });
    const get = (key: string): string => execFileSync('git', ['config', '--get-urlmatch', 'http.extraHeader', key], { env, cwd: root, encoding: 'utf8' }).trim();
    expect(get(`${url}/info/refs`)).toBe(env.GIT_CONFIG_VALUE_0);
    expect(() => get('https://other.example.com/group/project.git/info/refs')).toThrow();
  });
});

describe('initRepository', () => {
  // URLs git's config syntax must quote (comment characters, quotes, backslashes, spaces at the ends) and one it need not.
  it.each(['https://gitlab.example.com/group/project.git', 'https://h.example/a#b;c"d\\e.git', ' https://h.example/x.git '])(
    'leaves what `git init -q --template=` and `git remote add origin %j` leave',
    async (url) => {
      const mine = mkdtempSync(join(root, 'init-berth-'));
      const gits = mkdtempSync(join(root, 'init-git-'));
      await initRepository(mine, url);
      git(gits, 'init', '-q', '--template=');
      git(gits, 'remote', 'add', 'origin', url);
      const settings = (dir: string): string => git(dir, 'config', '--local', '--list');
      expect(settings(mine)).toBe(settings(gits));
      expect(execFileSync('git', ['config', '--get', 'remote.origin.url'], { cwd: mine, encoding: 'utf8' })).toBe(`${url}\n`);
      expect(git(mine, 'symbolic-ref', 'HEAD')).toBe(git(gits, 'symbolic-ref', 'HEAD'));
      const tree = (dir: string): string => execFileSync('find', ['.git', '-type', 'd'], { cwd: dir, encoding: 'utf8' }).split('\n').sort().join('\n');
      expect(tree(mine)).toBe(tree(gits));
      expect(git(mine, 'rev-parse', '--is-inside-work-tree')).toBe('true');
    },
  );

  it('sha256: leaves what `git init -q --template= --object-format=sha256` and `git remote add origin` leave', async () => {
    const url = 'https://gitlab.example.com/group/project.git';
    const mine = mkdtempSync(join(root, 'init-berth-'));
    const gits = mkdtempSync(join(root, 'init-git-'));
    await initRepository(mine, url, 'sha256');
    git(gits, 'init', '-q', '--template=', '--object-format=sha256');
    git(gits, 'remote', 'add', 'origin', url);
    expect(git(mine, 'config', '--local', '--list')).toBe(git(gits, 'config', '--local', '--list'));
    expect(git(mine, 'rev-parse', '--show-object-format')).toBe('sha256');
    await expect(initRepository(mkdtempSync(join(root, 'init-bad-')), url, 'md5')).rejects.toThrow(/object format "md5"/);
  });

  it('refuses a URL with a line break (it would add settings to the config)', async () => {
    const dir = mkdtempSync(join(root, 'init-bad-'));
    await expect(initRepository(dir, 'https://h.example/x.git\n[core]\n\tfsmonitor = evil')).rejects.toThrow(/line break/);
  });
});
