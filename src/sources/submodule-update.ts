/**
 * GIT_SUBMODULE_STRATEGY normal / recursive for `berth run`: the submodules of the checked-out
 * repository updated on the runner host with gitlab-runner's commands and log lines
 * (shells/abstract.go writeSubmoduleUpdateCmd):
 *
 *   Updating/initializing submodules[ recursively][ with git depth set to N]...
 *   git submodule init
 *   git submodule sync [--recursive] [-- paths]
 *   git submodule foreach [--recursive] git clean <GIT_CLEAN_FLAGS or -ffdx>
 *   git submodule foreach [--recursive] git reset --hard
 *   git submodule update --init [--recursive] [--depth N] [flags] [-- paths]
 *     → "Updated submodules", git submodule sync ...
 *     ✗ "Updating submodules failed. Retrying...", [foreach git fetch origin +refs/heads/*:refs/remotes/origin/* with --remote],
 *       git submodule sync ..., git submodule update ..., git submodule foreach ... git reset --hard
 *   git submodule foreach [--recursive] git clean <flags>
 *
 * In a fresh clone (GIT_STRATEGY clone, or a first fetch) no submodule is checked out before the
 * update, so the steps that only act on checked-out submodules (the cleans, the resets, the
 * syncs: `init` has just written the URLs `sync` would write) have nothing to do and are not run:
 * two git processes instead of seven. gitlab-runner's last steps (`include.path` of its credentials
 * file in each submodule, `git lfs pull`) have no counterpart: berth keeps no credentials file,
 * and runs no git-lfs on the host.
 *
 * `git submodule foreach git ...` gives git its arguments as they are (no shell: git runs a
 * command through the shell only when it is one argument or its first word holds shell
 * characters). Flags in GIT_SUBMODULE_UPDATE_FLAGS are checked against the list of those that
 * only choose how to update (`--reference /path` would read another repository of the host).
 */
import type { SubmoduleSettings } from '../job/submodule-settings.js';
import type { JobLog } from '../log/job-log.js';
import { GitError, type GitRunner } from './git-command.js';

export interface SubmoduleCommands {
  init: string[];
  sync: string[];
  update: string[];
  clean: string[];
  reset: string[];
  /** `--remote` among the flags: the retry first fetches every branch of the submodules. */
  fetchHeads: string[] | null;
}

/** Flags of `git submodule update` that choose how, never what of the host is read or run. */
const PLAIN_FLAGS = new Set([
  '--remote',
  '--force',
  '-f',
  '--checkout',
  '--merge',
  '--rebase',
  '--no-fetch',
  '-N',
  '--recommend-shallow',
  '--no-recommend-shallow',
  '--single-branch',
  '--no-single-branch',
  '--progress',
  '--quiet',
  '-q',
  '--init',
  '--recursive',
]);
/** Flags with a value: `--name=value`, or the value as the next word. */
const VALUE_FLAGS: Record<string, RegExp> = {
  '--jobs': /^\d+$/,
  '-j': /^\d+$/,
  '--depth': /^\d+$/,
  '--filter': /^[A-Za-z0-9:=_.+-]+$/,
};

/** Throws a GitError naming the first flag berth does not pass to git on the host. */
export function checkUpdateFlags(flags: readonly string[]): void {
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    if (PLAIN_FLAGS.has(flag)) continue;
    const eq = flag.indexOf('=');
    const name = eq > 0 ? flag.slice(0, eq) : flag;
    const pattern = VALUE_FLAGS[name];
    if (pattern && eq > 0 && pattern.test(flag.slice(eq + 1))) continue;
    if (pattern && eq < 0 && flags[i + 1] !== undefined && pattern.test(flags[i + 1]!)) {
      i++;
      continue;
    }
    throw new GitError(
      `GIT_SUBMODULE_UPDATE_FLAGS: berth runs git submodule update on the runner host and does not pass ${JSON.stringify(flag)} to it; ` +
        `use only ${[...PLAIN_FLAGS].filter((f) => f.startsWith('--')).join(', ')}, --jobs N, --depth N, --filter=SPEC`,
    );
  }
}

/** The argv of each step; `cleanFlags` is GIT_CLEAN_FLAGS as split (empty: `none` or unset → -ffdx). */
export function submoduleCommands(s: SubmoduleSettings, cleanFlags: readonly string[]): SubmoduleCommands {
  const recursive = s.strategy === 'recursive' ? ['--recursive'] : [];
  const paths = s.paths.length ? ['--', ...s.paths] : [];
  const foreach = ['submodule', 'foreach', ...recursive];
  return {
    init: ['submodule', 'init'],
    sync: ['submodule', 'sync', ...recursive, ...paths],
    update: ['submodule', 'update', '--init', ...recursive, ...(s.depth > 0 ? ['--depth', String(s.depth)] : []), ...s.updateFlags, ...paths],
    clean: [...foreach, 'git', 'clean', ...(cleanFlags.length ? cleanFlags : ['-ffdx'])],
    reset: [...foreach, 'git', 'reset', '--hard'],
    fetchHeads: s.updateFlags.some((f) => f.toLowerCase() === '--remote') ? [...foreach, 'git', 'fetch', 'origin', '+refs/heads/*:refs/remotes/origin/*'] : null,
  };
}

export function submoduleNotice(s: SubmoduleSettings): string {
  return `Updating/initializing submodules${s.strategy === 'recursive' ? ' recursively' : ''}${s.depth > 0 ? ` with git depth set to ${s.depth}` : ''}...`;
}

export interface SubmoduleUpdate {
  git: GitRunner;
  dir: string;
  log: JobLog;
  settings: SubmoduleSettings;
  cleanFlags: readonly string[];
  /** A new repository: no submodule is checked out yet. */
  fresh: boolean;
  /** `-c` settings before each command (a per-job clone's: no fsync, no maintenance), passed on to the git processes it starts. */
  prefix?: readonly string[];
  signal: AbortSignal;
}

export async function updateSubmodules(u: SubmoduleUpdate): Promise<void> {
  const { git, dir, log, signal } = u;
  const cmd = submoduleCommands(u.settings, u.cleanFlags);
  const run = (args: string[]): Promise<string> => git.run([...(u.prefix ?? []), ...args], dir, signal);
  log.println(submoduleNotice(u.settings));
  await run(cmd.init);
  if (!u.fresh) {
    await run(cmd.sync);
    await run(cmd.clean);
    await run(cmd.reset);
  }
  try {
    await run(cmd.update);
    log.println('Updated submodules');
    if (!u.fresh) await run(cmd.sync);
  } catch (err) {
    if (signal.aborted) throw err;
    const refused = refusedTransport(err);
    if (refused) throw refused;
    log.notice('Updating submodules failed. Retrying...'); // gitlab-runner's shell Warningf: yellow, no WARNING: prefix
    if (cmd.fetchHeads) await run(cmd.fetchHeads);
    await run(cmd.sync);
    try {
      await run(cmd.update);
    } catch (again) {
      throw refusedTransport(again) ?? again;
    }
    await run(cmd.reset);
  }
  if (!u.fresh) await run(cmd.clean);
}

/**
 * git's "transport 'ssh' not allowed" (protocol.allow, submodule-git-config.ts) as an error that
 * says what to change; null for any other failure.
 */
export function refusedTransport(err: unknown): GitError | null {
  const text = err instanceof Error ? err.message : String(err);
  const m = /transport '([^']+)' not allowed/.exec(text);
  if (!m) return null;
  const url = /clone of '([^']+)' into submodule path/.exec(text)?.[1];
  return new GitError(
    `A submodule's URL${url ? ` (${url})` : ''} uses git's ${m[1]} transport, which berth run refuses: git runs on the runner host, ` +
      'where a repository must not make it use the host\'s ssh keys, read its folders or run programs. ' +
      'In .gitmodules, use a relative URL (e.g. ../other-project.git, for a project on the same GitLab) or an https URL; ' +
      'set GIT_SUBMODULE_FORCE_HTTPS=true to fetch ssh URLs of this GitLab server (git@host:group/project.git) over https with the job token',
    { cause: err },
  );
}
