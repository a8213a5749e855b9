/**
 * Runs `git` on the runner host for a job's sources. The job token reaches git as an HTTP
 * header set through git's environment (GIT_CONFIG_COUNT / GIT_CONFIG_KEY_0 / GIT_CONFIG_VALUE_0:
 * `http.<repository URL>.extraHeader = Authorization: Basic <base64 user:password>`), the way
 * GitLab accepts a job token for git over HTTP (GL: lib/gitlab/auth.rb, user `gitlab-ci-token`).
 * So it is never on a command line, in a URL git could print, or in a file; git sends it with its
 * first request (no 401 round trip, no askpass program, no temp folder). Output that git prints is
 * passed through `scrub` before it reaches any log.
 */
import { BerthError } from '../shared/errors.js';
import { safeGitArgv } from '../shared/safe-git-argv.js';
import { DirectLauncher, type ProcessLauncher } from './process-launcher.js';

export interface GitCredentials {
  username: string;
  password: string;
}

export class GitError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('git_error', message, options);
  }
}

export interface GitRunner {
  run(args: string[], cwd: string, signal?: AbortSignal): Promise<string>;
}

export interface GitRunnerOptions {
  /** The repository URL without credentials: the header is sent only to it (unless headerUrls). */
  url: string;
  credentials: GitCredentials | null;
  /**
   * Where the header is sent instead of `url` (git's `http.<url>.*` matching: these URLs and
   * everything under them): the GitLab server's base URL when submodules on the same server are
   * fetched with the job token (submodule-git-config.ts).
   */
  headerUrls?: readonly string[];
  /** More configuration for every git process of the job (and those git starts), through the environment too. */
  config?: readonly (readonly [string, string])[];
  /**
   * git's HOME: a folder that does not exist and that only berth's user could create (under
   * the runner's private git cache), so that no `.gitconfig`, `.netrc` or `.config/git` of the
   * host user reaches the job's git.
   */
  home: string;
  scrub: (text: string) => string;
  /** How git is started (default: a fork of berth, DirectLauncher). */
  launcher?: ProcessLauncher;
}

/** The environment of every git process of one job: nothing inherited but PATH. */
export function gitEnvironment(opts: Pick<GitRunnerOptions, 'url' | 'credentials' | 'home' | 'headerUrls' | 'config'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: opts.home,
    LANG: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  const entries: (readonly [string, string])[] = [];
  if (opts.credentials) {
    const basic = Buffer.from(`${opts.credentials.username}:${opts.credentials.password}`, 'utf8').toString('base64');
    for (const url of opts.headerUrls ?? [opts.url]) entries.push([`http.${url}.extraHeader`, `Authorization: Basic ${basic}`]);
  }
  if (opts.config) entries.push(...opts.config);
  for (const [i, [key, value]] of entries.entries()) {
    if (/[\n\r\0]/.test(key) || /\0/.test(value)) throw new GitError('The repository URL contains a line break or NUL: check the project\'s repository URL (or clone_url)');
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  }
  if (entries.length) env.GIT_CONFIG_COUNT = String(entries.length);
  return env;
}

export function createGitRunner(opts: GitRunnerOptions): GitRunner {
  const env = gitEnvironment(opts);
  // A refused header makes git ask for a user name, which it may not (GIT_TERMINAL_PROMPT=0, no
  // askpass): "could not read Username ... terminal prompts disabled" says nothing of the cause.
  const explain = (detail: string): string =>
    opts.credentials && /could not read (Username|Password) for/.test(detail)
      ? `${opts.url} refused the job's credentials (the job token, sent as an HTTP Authorization header); the token may have expired or the project may not allow this job to read it: retry the job, or check the project's CI/CD job token settings (git: ${detail})`
      : detail;
  const launcher = opts.launcher ?? new DirectLauncher();
  return { run: (args, cwd, signal) => runGit(launcher, args, cwd, env, (text) => explain(opts.scrub(text)), signal) };
}

/** The git command of `args` for messages: the first argument after any `-c key=value` pairs. */
function commandName(args: readonly string[]): string {
  let i = 0;
  while (args[i] === '-c') i += 2;
  return args[i] ?? 'git';
}

async function runGit(launcher: ProcessLauncher, args: string[], cwd: string, env: NodeJS.ProcessEnv, scrub: (t: string) => string, signal?: AbortSignal): Promise<string> {
  const name = commandName(args);
  let result;
  try {
    result = await launcher.launch({ file: 'git', args: safeGitArgv(args), cwd, env, ...(signal ? { signal } : {}) });
  } catch (err) {
    throw new GitError(`git ${name} could not run: ${scrub((err as Error).message)}`, { cause: err });
  }
  const { code, stdout, stderr } = result;
  if (code === 0) return stdout;
  throw new GitError(`git ${name} failed (${code === null ? `ended by ${result.signal}` : `exit code ${code}`}): ${scrub(stderr.trim() || stdout.trim())}`);
}

/** The URL without user and password, and the credentials that were in it. */
export function splitCredentials(url: string): { url: string; credentials: GitCredentials | null } {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return { url, credentials: null };
    const credentials = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
    u.username = '';
    u.password = '';
    return { url: u.toString(), credentials };
  } catch {
    return { url, credentials: null };
  }
}
