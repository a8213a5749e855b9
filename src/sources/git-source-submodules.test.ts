/**
 * GIT_SUBMODULE_STRATEGY for berth run's GitSource, with real git against the git HTTP test
 * server: `group/project` has the submodule `libs/sub` (`../sub.git`, which has the nested
 * submodule `deep` at `../../other/nested.git`) and `vendor/plain` (`../../other/nested.git`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../../test/support/git-http-server.js';
import { testJob } from '../../test/support/job-fixtures.js';
import { plainVariable, type JobSpec } from '../job/job-spec.js';
import { stripAnsi } from '../shared/ansi.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { GitSource } from './git-source.js';
import type { LaunchRequest, LaunchResult, ProcessLauncher } from './process-launcher.js';
import { ShellLauncher } from './shell-launcher.js';

const TOKEN = 'glcbt-submodule-token-0987654321';
let root: string;
let server: GitHttpServer;
let shell: ShellLauncher;
const sha: Record<string, string> = {};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** A repository `name` (served as `repos/<name>.git`) with `files`, `links` (path → target) and `gitlinks` (path → sha); returns its commit. */
function commitRepo(name: string, files: Record<string, string>, opts: { links?: Record<string, string>; gitlinks?: Record<string, string>; as?: string } = {}): string {
  const work = join(root, 'work', opts.as ?? name);
  rmSync(work, { recursive: true, force: true });
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  git(work, 'config', 'user.email', 'a@example.invalid');
  git(work, 'config', 'user.name', 'A');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), content);
  }
  for (const [path, target] of Object.entries(opts.links ?? {})) symlinkSync(target, join(work, path));
  git(work, 'add', '-A');
  for (const [path, commit] of Object.entries(opts.gitlinks ?? {})) git(work, 'update-index', '--add', '--cacheinfo', `160000,${commit},${path}`);
  git(work, 'commit', '-q', '-m', 'commit');
  const bare = join(root, 'repos', `${name}.git`);
  rmSync(bare, { recursive: true, force: true });
  execFileSync('git', ['clone', '-q', '--bare', work, bare]);
  return git(work, 'rev-parse', 'HEAD');
}

const gitmodules = (entries: Record<string, string>): string =>
  Object.entries(entries)
    .map(([path, url]) => `[submodule "${path}"]\n\tpath = ${path}\n\turl = ${url}\n`)
    .join('');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'berth-git-sub-'));
  sha.nested = commitRepo('other/nested', { 'nested.txt': 'nested content\n' });
  sha.sub = commitRepo(
    'group/sub',
    { 'sub.txt': 'submodule content\n', '.gitmodules': gitmodules({ deep: '../../other/nested.git' }) },
    { links: { 'link-to-file': 'sub.txt', 'link-out': '/etc/hostname' }, gitlinks: { deep: sha.nested } },
  );
  const project = (name: string, urls: Record<string, string>): string =>
    commitRepo(name, { 'main.txt': 'main\n', '.gitmodules': gitmodules(urls) }, { gitlinks: Object.fromEntries(Object.keys(urls).map((p) => [p, p === 'libs/sub' ? sha.sub! : sha.nested!])) });
  sha.project = project('group/project', { 'libs/sub': '../sub.git', 'vendor/plain': '../../other/nested.git' });
  sha.ssh = project('group/ssh', { 'libs/sub': 'git@127.0.0.1:group/sub.git' });
  sha.file = project('group/file', { 'libs/sub': join(root, 'repos', 'group', 'sub.git') });
  server = await startGitHttpServer(join(root, 'repos'));
  server.tokens.add(TOKEN);
  shell = new ShellLauncher({ outputDir: join(root, 'launch') });
});

afterAll(async () => {
  await shell.close();
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** The ShellLauncher (berth run's), recording every git command line. */
class RecordingLauncher implements ProcessLauncher {
  readonly argv: string[][] = [];
  launch(req: LaunchRequest): Promise<LaunchResult> {
    this.argv.push([...req.args]);
    return shell.launch(req);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** The commands, without the safe `-c` settings and the per-job ones. */
  commands(): string[] {
    return this.argv.map((a) => {
      const out: string[] = [];
      for (let i = 0; i < a.length; i++) {
        if (a[i] === '-c') i++;
        else if (a[i] !== '--no-pager') out.push(a[i]!);
      }
      return out.join(' ');
    });
  }
}

function job(variables: [string, string][], repo = 'project'): JobSpec {
  const base = testJob();
  return {
    ...base,
    token: TOKEN,
    jobInfo: { ...base.jobInfo, projectFullPath: `group/${repo}` },
    gitInfo: {
      ...base.gitInfo,
      repoUrl: `${server.url.replace('http://', `http://gitlab-ci-token:${TOKEN}@`)}/group/${repo}.git`,
      sha: sha[repo]!,
      ref: 'main',
      refspecs: ['+refs/heads/main:refs/remotes/origin/main'],
    },
    variables: [...base.variables, plainVariable('CI_SERVER_HOST', '127.0.0.1'), ...variables.map(([k, v]) => plainVariable(k, v))],
    sources: { kind: 'git' },
  };
}

async function fetchWith(spec: JobSpec, cacheDir = join(root, 'cache')) {
  const launcher = new RecordingLauncher();
  const source = new GitSource({ cacheDir, launcher });
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink);
  const before = server.requests.length;
  try {
    const fetched = await source.fetch(spec, log, new AbortController().signal);
    return { fetched: fetched!, text: () => stripAnsi(sink.text), launcher, requests: server.requests.slice(before) };
  } catch (err) {
    log.end();
    return Promise.reject(Object.assign(err as Error, { log: stripAnsi(sink.text), commands: launcher.commands(), requests: server.requests.slice(before) }));
  }
}

// Real git processes and clones: seconds on a loaded host.
describe('GitSource with GIT_SUBMODULE_STRATEGY', { timeout: 30_000 }, () => {
  it('recursive: relative submodule URLs on the same server, with the job token, nested ones too; the job sees their files', async () => {
    const { fetched, text, launcher, requests } = await fetchWith(job([['GIT_SUBMODULE_STRATEGY', 'recursive']]));
    try {
      const r = fetched.root;
      expect(readFileSync(join(r, 'libs/sub/sub.txt'), 'utf8')).toBe('submodule content\n');
      expect(readFileSync(join(r, 'libs/sub/deep/nested.txt'), 'utf8')).toBe('nested content\n');
      expect(readFileSync(join(r, 'vendor/plain/nested.txt'), 'utf8')).toBe('nested content\n');
      // Copied into the build container as they are: the submodule's .git file points inside the project.
      expect(readFileSync(join(r, 'libs/sub/.git'), 'utf8')).toBe('gitdir: ../../.git/modules/libs/sub\n');
      expect(readFileSync(join(r, 'libs/sub/deep/.git'), 'utf8')).toBe('gitdir: ../../../.git/modules/libs/sub/modules/deep\n');
      expect(fetched.files).toEqual(expect.arrayContaining(['libs/sub/sub.txt', 'libs/sub/.git', 'libs/sub/deep/nested.txt', '.git/modules/libs/sub/HEAD', 'libs/sub/link-out']));
      // Links inside a submodule are listed as links, never followed.
      expect(lstatSync(join(r, 'libs/sub/link-out')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(r, 'libs/sub/link-to-file'))).toBe('sub.txt');
      expect(git(join(r, 'libs/sub'), 'rev-parse', 'HEAD')).toBe(sha.sub);
      const log = text();
      expect(log).toContain('Updating/initializing submodules recursively...');
      expect(log).toContain('Updated submodules');
      expect(log).not.toContain('Skipping Git submodules setup');
      expect(log).not.toContain(TOKEN);
      expect(requests.some((q) => q.path.startsWith('/group/sub.git/'))).toBe(true);
      expect(requests.some((q) => q.path.startsWith('/other/nested.git/'))).toBe(true);
      expect(requests.filter((q) => !q.authorized)).toEqual([]);
      // A fresh clone: no submodule to clean or sync before the update.
      expect(launcher.commands()).toEqual([
        expect.stringMatching(/^fetch --quiet --prune --no-recurse-submodules /),
        `checkout -f -q ${sha.project}`,
        'submodule init',
        'submodule update --init --recursive',
      ]);
      // Nothing of the token in a file the build container gets.
      const basic = Buffer.from(`gitlab-ci-token:${TOKEN}`).toString('base64');
      const leaks = fetched.files.filter((f) => {
        if (lstatSync(join(r, f)).isSymbolicLink()) return false;
        const content = readFileSync(join(r, f), 'latin1');
        return content.includes(TOKEN) || content.includes(basic);
      });
      expect(leaks).toEqual([]);
    } finally {
      await fetched.release();
    }
  });

  it('normal, GIT_SUBMODULE_DEPTH and GIT_SUBMODULE_PATHS: only the first level, shallow, the paths given', async () => {
    const { fetched, text, launcher } = await fetchWith(
      job([
        ['GIT_SUBMODULE_STRATEGY', 'normal'],
        ['GIT_SUBMODULE_DEPTH', '1'],
        ['GIT_SUBMODULE_PATHS', ':(exclude)vendor/plain'],
      ]),
    );
    try {
      const r = fetched.root;
      expect(existsSync(join(r, 'libs/sub/sub.txt'))).toBe(true);
      expect(existsSync(join(r, 'libs/sub/deep/nested.txt'))).toBe(false);
      expect(existsSync(join(r, 'vendor/plain/nested.txt'))).toBe(false);
      expect(git(join(r, 'libs/sub'), 'rev-parse', '--is-shallow-repository')).toBe('true');
      expect(text()).toContain('Updating/initializing submodules with git depth set to 1...');
      expect(launcher.commands().slice(2)).toEqual(['submodule init', 'submodule update --init --depth 1 -- :(exclude)vendor/plain']);
    } finally {
      await fetched.release();
    }
  });

  it('GIT_STRATEGY=fetch: the submodules of the reused repository are synced, cleaned, reset and updated in place', async () => {
    const cacheDir = mkdtempSync(join(root, 'reuse-'));
    const spec = job([
      ['GIT_STRATEGY', 'fetch'],
      ['GIT_SUBMODULE_STRATEGY', 'recursive'],
    ]);
    const first = await fetchWith(spec, cacheDir);
    writeFileSync(join(first.fetched.root, 'libs/sub/untracked.txt'), 'x');
    writeFileSync(join(first.fetched.root, 'libs/sub/deep/nested.txt'), 'changed');
    await first.fetched.release();
    const second = await fetchWith(spec, cacheDir);
    try {
      const r = second.fetched.root;
      expect(r).toBe(first.fetched.root);
      expect(existsSync(join(r, 'libs/sub/untracked.txt'))).toBe(false);
      expect(readFileSync(join(r, 'libs/sub/deep/nested.txt'), 'utf8')).toBe('nested content\n');
      expect(second.text()).toContain('Updated submodules');
      expect(second.launcher.commands().slice(3)).toEqual([
        'submodule init',
        'submodule sync --recursive',
        'submodule foreach --recursive git clean -ffdx',
        'submodule foreach --recursive git reset --hard',
        'submodule update --init --recursive',
        'submodule sync --recursive',
        'submodule foreach --recursive git clean -ffdx',
      ]);
    } finally {
      await second.fetched.release();
    }
  });

  it.each([
    ['an ssh URL', 'ssh', "transport 'ssh'"],
    ['a local path', 'file', "transport 'file'"],
  ])('refuses a submodule with %s, saying what to do, and sends nothing there', async (_what, repo, transport) => {
    const err = await fetchWith(job([['GIT_SUBMODULE_STRATEGY', 'recursive']], repo)).catch((e: Error & { log: string }) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain(`A submodule's URL`);
    expect(message).toContain(`uses git's ${transport.slice(11, -1)} transport, which berth run refuses`);
    expect(message).toContain('use a relative URL (e.g. ../other-project.git');
    expect(message).toContain('GIT_SUBMODULE_FORCE_HTTPS=true');
    expect(message).not.toContain(TOKEN);
    // Refused at once: retrying cannot help.
    expect((err as Error & { log: string }).log).not.toContain('Retrying');
  });

  it('GIT_SUBMODULE_FORCE_HTTPS: a git@<GitLab host>: URL is fetched over http(s) with the job token', async () => {
    const { fetched, text } = await fetchWith(
      job(
        [
          ['GIT_SUBMODULE_STRATEGY', 'normal'],
          ['GIT_SUBMODULE_FORCE_HTTPS', 'true'],
        ],
        'ssh',
      ),
    );
    try {
      expect(readFileSync(join(fetched.root, 'libs/sub/sub.txt'), 'utf8')).toBe('submodule content\n');
      expect(text()).toContain('Updated submodules');
    } finally {
      await fetched.release();
    }
  });

  it('none (the default): no submodule command, the same two git processes as ever (the fetch never recursing into submodules)', async () => {
    for (const vars of [[], [['GIT_SUBMODULE_STRATEGY', 'none']]] as [string, string][][]) {
      const { fetched, text, launcher } = await fetchWith(job(vars));
      expect(text()).toContain('Skipping Git submodules setup');
      expect(launcher.commands()).toEqual([expect.stringMatching(/^fetch --quiet --prune --no-recurse-submodules /), `checkout -f -q ${sha.project}`]);
      expect(launcher.commands().join('\n')).not.toContain('submodule ');
      expect(existsSync(join(fetched.root, 'libs/sub/sub.txt'))).toBe(false);
      await fetched.release();
    }
  });

  it('fails before fetching anything on an unknown strategy, a lone :(exclude) or a flag berth does not pass', async () => {
    for (const [vars, message] of [
      [[['GIT_SUBMODULE_STRATEGY', 'deep']], `unknown GIT_SUBMODULE_STRATEGY: expected either 'normal', 'recursive' or 'none' got "deep"`],
      [
        [
          ['GIT_SUBMODULE_STRATEGY', 'normal'],
          ['GIT_SUBMODULE_PATHS', ':(exclude) vendor/plain'],
        ],
        'GIT_SUBMODULE_PATHS: invalid submodule pathspec',
      ],
    ] as [[string, string][], string][]) {
      const err = await fetchWith(job(vars)).catch((e: Error & { requests: unknown[] }) => e);
      expect((err as Error).message).toContain(message);
      expect((err as Error & { requests: unknown[] }).requests).toEqual([]);
    }
    const err = await fetchWith(
      job([
        ['GIT_SUBMODULE_STRATEGY', 'normal'],
        ['GIT_SUBMODULE_UPDATE_FLAGS', '--reference /etc'],
      ]),
    ).catch((e: Error & { commands: string[] }) => e);
    expect((err as Error).message).toContain('GIT_SUBMODULE_UPDATE_FLAGS: berth runs git submodule update on the runner host and does not pass "--reference"');
    expect((err as Error & { commands: string[] }).commands.join('\n')).not.toContain('submodule');
  });
});
