/**
 * Test support: a real temporary git repository (branch `main`, one commit of `files`), for
 * tests of what berth reads from git (changed files, rules:changes). Git runs with fixed
 * identities and dates, and no signing.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export class GitTestRepos {
  private readonly dirs: string[] = [];

  /** A repository on `main` holding `files` (path → content) in its first commit. */
  async create(files: Record<string, string>): Promise<GitTestRepo> {
    const dir = await realpath(await mkdtemp(join(tmpdir(), 'berth-git-')));
    this.dirs.push(dir);
    const repo = new GitTestRepo(dir);
    repo.git('init', '-q', '-b', 'main');
    repo.git('config', 'user.name', 'Test User');
    repo.git('config', 'user.email', 'tester@example.com');
    repo.git('config', 'commit.gpgsign', 'false');
    await repo.write(files);
    repo.commitAll('First commit');
    return repo;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

export class GitTestRepo {
  constructor(readonly dir: string) {}

  git(...args: string[]): string {
    return execFileSync('git', args, {
      cwd: this.dir,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_DATE: '2024-01-02T03:04:05Z', GIT_COMMITTER_DATE: '2024-01-02T03:04:05Z' },
    }).trim();
  }

  /** Writes `files` (path → content) into the working tree, without staging them. */
  async write(files: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(this.dir, path)), { recursive: true });
      await writeFile(join(this.dir, path), content);
    }
  }

  commitAll(message: string): void {
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
  }
}
