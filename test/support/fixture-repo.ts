/** Temporary git repositories with a .gitlab-ci.yml, for end-to-end tests. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FixtureRepo {
  dir: string;
  remove(): void;
}

export function makeRepo(
  files: Record<string, string>,
  opts: { remote?: string; executable?: string[]; git?: boolean } = {},
): FixtureRepo {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  for (const path of opts.executable ?? []) chmodSync(join(dir, path), 0o755);
  if (opts.git !== false) {
    const git = (...args: string[]): void => {
      execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
    };
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'dev@example.invalid');
    git('config', 'user.name', 'Dev Eloper');
    if (opts.remote !== '') git('remote', 'add', 'origin', opts.remote ?? 'git@gitlab.example.com:group/demo-project.git');
    git('add', '-A');
    git('commit', '-q', '-m', 'Initial commit');
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
