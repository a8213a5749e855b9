/**
 * Runs `git` on the runner host for a job's sources. Credentials never appear on a command
 * line or in a URL that git could print: the job token reaches git through GIT_ASKPASS (a
 * tiny script that reads them from the environment of that one git process). Output that git
 * prints is passed through `scrub` before it reaches any log.
 */
import { spawn } from 'node:child_process';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../shared/errors.js';
import { safeGitArgv } from '../shared/safe-git-argv.js';
import { makeGitTempDir } from './git-temp-dir.js';

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
  dispose(): Promise<void>;
}

const ASKPASS = `#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$BERTH_GIT_USERNAME" ;;
  *) printf '%s\\n' "$BERTH_GIT_PASSWORD" ;;
esac
`;

/** `systemId` names the owner of the run's temp folder (git-temp-dir.ts: swept at the next start). */
export async function createGitRunner(credentials: GitCredentials | null, scrub: (text: string) => string, systemId?: string): Promise<GitRunner> {
  const dir = await makeGitTempDir(systemId);
  const askpass = join(dir, 'askpass.sh');
  await writeFile(askpass, ASKPASS, { mode: 0o700 });
  await chmod(askpass, 0o700);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    LANG: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_ASKPASS: askpass,
    BERTH_GIT_USERNAME: credentials?.username ?? '',
    BERTH_GIT_PASSWORD: credentials?.password ?? '',
  };
  return {
    run: (args, cwd, signal) => runGit(args, cwd, env, scrub, signal),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The git command of `args` for messages: the first argument after any `-c key=value` pairs. */
function commandName(args: readonly string[]): string {
  let i = 0;
  while (args[i] === '-c') i += 2;
  return args[i] ?? 'git';
}

function runGit(args: string[], cwd: string, env: NodeJS.ProcessEnv, scrub: (t: string) => string, signal?: AbortSignal): Promise<string> {
  const name = commandName(args);
  return new Promise((resolve, reject) => {
    const child = spawn('git', safeGitArgv(args), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(new GitError(`git ${name} could not run: ${scrub(err.message)}`, { cause: err })));
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new GitError(`git ${name} failed (exit code ${code}): ${scrub(stderr.trim() || stdout.trim())}`));
    });
  });
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
