/**
 * Runs git on the host in the user's repository (`berth exec`), with every configuration key
 * that names a program switched off (see shared/safe-git-argv.ts): the fixed keys always, and
 * the driver keys this repository's configuration defines, read first with
 * `git config --list --name-only` (which runs nothing) and remembered per repository.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { driverOverrides, safeGitArgv } from '../../shared/safe-git-argv.js';

const execFileAsync = promisify(execFile);

const overridesByRoot = new Map<string, Promise<string[]>>();

/** git's stdout; rejects when git cannot run or fails (the error carries git's stderr). */
export async function runHostGit(
  root: string,
  args: readonly string[],
  opts: { maxBuffer?: number; /** Added to the environment, e.g. GIT_CONFIG_* carrying an auth header: never on the command line. */ env?: Record<string, string> } = {},
): Promise<string> {
  let overrides = overridesByRoot.get(root);
  if (!overrides) {
    overrides = execGit(root, safeGitArgv(['config', '-z', '--list', '--name-only']), 64 * 1024 * 1024)
      .catch(() => '')
      .then((names) => driverOverrides(names.split('\0')));
    overridesByRoot.set(root, overrides);
  }
  return execGit(root, safeGitArgv(args, await overrides), opts.maxBuffer ?? 64 * 1024 * 1024, opts.env);
}

async function execGit(cwd: string, argv: string[], maxBuffer: number, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await execFileAsync('git', argv, { cwd, maxBuffer, encoding: 'utf8', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', ...env } });
  return stdout;
}
