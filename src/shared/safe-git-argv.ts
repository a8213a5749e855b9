/**
 * The argv of every git process berth runs on the host. A repository's own configuration
 * (`.git/config` and what it includes) is as untrusted as the repository: it must not make
 * the host run a program of its choosing while berth reads the repository (`berth exec` runs
 * as root next to the Docker socket). git runs programs named by configuration for:
 *
 *   core.fsmonitor (status, ls-files, any index refresh), hooks (core.hooksPath, .git/hooks:
 *   post-checkout, reference-transaction, post-index-change...), core.sshCommand, ssh.variant,
 *   core.askPass, credential.helper, core.alternateRefsCommand, core.pager and pager.<cmd>
 *   (--no-pager), core.editor, sequence.editor, gpg.program, gpg.<fmt>.program,
 *   gpg.ssh.defaultKeyCommand, the ext:: transport, and per driver: filter.<d>.clean / smudge /
 *   process (content conversion on add, status, checkout), diff.<d>.command / textconv,
 *   merge.<d>.driver, remote.<r>.uploadpack / receivepack.
 * Not covered, because berth runs no such command: diff.external (a diff or `log -p` must pass
 * --no-ext-diff --no-textconv), core.gitProxy (git:// URLs), uploadpack.packObjectsHook (read
 * from protected configuration only, never from a repository's).
 *
 * Command-line `-c` settings win over every configuration file, so each git gets fixed values
 * for the fixed keys, and callers that work on a repository they did not create pass the
 * per-driver keys the repository defines (from `git config --list --name-only`, which runs
 * nothing) through `driverOverrides`. System and global configuration (the host's own) and
 * git's `safe.directory` ownership check are left alone: berth never adds `safe.directory`.
 */
import { BerthError } from './errors.js';

/** `-c` values that switch off every fixed configuration key that names a program. */
export const PROGRAM_FREE_CONFIG: readonly string[] = [
  'core.fsmonitor=false',
  'core.hooksPath=/dev/null',
  'core.sshCommand=ssh',
  'ssh.variant=ssh',
  'core.askPass=',
  'credential.helper=',
  'core.alternateRefsCommand=',
  'core.pager=cat',
  'core.editor=true',
  'sequence.editor=true',
  'gpg.program=gpg',
  'gpg.openpgp.program=gpg',
  'gpg.x509.program=gpgsm',
  'gpg.ssh.program=ssh-keygen',
  'gpg.ssh.defaultKeyCommand=',
  'log.showSignature=false',
  'protocol.ext.allow=never',
];

/** Per-driver keys that name a program; `<section>.<name>.<key>`, the name may hold dots. */
const DRIVER_KEY = /^(filter\.(.+)\.(clean|smudge|process)|diff\.(.+)\.(command|textconv)|merge\.(.+)\.driver|remote\.(.+)\.(uploadpack|receivepack))$/is;

export class UnsafeGitConfigError extends BerthError {
  constructor(message: string) {
    super('git_error', message);
  }
}

/**
 * `-c` values that empty every per-driver program key among `names` (the output of
 * `git config -z --list --name-only`, split on NUL), so that git runs none of them.
 */
export function driverOverrides(names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of names) {
    const name = raw.trim();
    if (!name || !DRIVER_KEY.test(name)) continue;
    if (/[=\n\0]/.test(name)) {
      throw new UnsafeGitConfigError(
        `the repository's git configuration defines the program key "${name.replace(/[\n\0]/g, ' ')}", which berth cannot switch off; ` +
          'remove it from .git/config (or the file it includes) and run berth again',
      );
    }
    // An empty driver command means "no driver" (git skips it).
    out.add(`${name}=`);
  }
  return [...out];
}

/** `git [safe -c settings] [overrides] ...args`, without the `git` itself. */
export function safeGitArgv(args: readonly string[], overrides: readonly string[] = []): string[] {
  return ['--no-pager', ...[...PROGRAM_FREE_CONFIG, ...overrides].flatMap((c) => ['-c', c]), ...args];
}
