/**
 * Runs git on the host in the user's repository (`berth exec`), with every configuration key
 * that names a program switched off (see shared/safe-git-argv.ts): the fixed keys always, and
 * the driver keys this repository's configuration defines, read first with `git config --list`
 * (which runs nothing) and remembered per repository; readHostGitConfig gives callers that
 * listing (and refreshes what is remembered), so that they need no second git process.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { driverOverrides, safeGitArgv } from '../../shared/safe-git-argv.js';

const execFileAsync = promisify(execFile);

const overridesByRoot = new Map<string, Promise<string[]>>();

/**
 * The repository's effective configuration as `git config -z --list` prints it (entries
 * `name\nvalue` separated by NUL, in precedence order: the last one of a name wins), read now;
 * '' when git cannot read it. The driver keys runHostGit switches off are taken from this
 * listing too (and remembered for the repository), so that a caller who needs configuration
 * values and then runs git costs one git process less.
 */
export function readHostGitConfig(root: string): Promise<string> {
  const config = execGit(root, safeGitArgv(['config', '-z', '--list']), 64 * 1024 * 1024).catch(() => '');
  // Names only: a name ends at the newline before its value (names hold no newline).
  const overrides = config.then((list) => driverOverrides(list.split('\0').map((entry) => entry.split('\n', 1)[0]!)));
  overrides.catch(() => undefined); // runHostGit reports it; not an unhandled rejection meanwhile
  overridesByRoot.set(root, overrides);
  return config;
}

/** git's stdout; rejects when git cannot run or fails (the error carries git's stderr). */
export async function runHostGit(
  root: string,
  args: readonly string[],
  opts: {
    maxBuffer?: number;
    /** Added to the environment, e.g. GIT_CONFIG_* carrying an auth header: never on the command line. */
    env?: Record<string, string>;
    /** git is killed after this long (the error then has `killed: true`); for commands that use the network. */
    timeoutMs?: number;
  } = {},
): Promise<string> {
  if (!overridesByRoot.has(root)) void readHostGitConfig(root);
  const overrides = await overridesByRoot.get(root)!;
  return execGit(root, safeGitArgv(args, overrides), opts.maxBuffer ?? 64 * 1024 * 1024, opts.env, opts.timeoutMs);
}

async function execGit(cwd: string, argv: string[], maxBuffer: number, env: Record<string, string> = {}, timeout = 0): Promise<string> {
  const { stdout } = await execFileAsync('git', argv, { cwd, maxBuffer, timeout, encoding: 'utf8', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', ...env } });
  return stdout;
}
