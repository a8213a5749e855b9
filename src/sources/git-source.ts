/**
 * GitSource: `berth run`'s job sources, fetched with git on the runner host at git_info.sha and
 * copied into the build directory (no helper image). GIT_STRATEGY clone (fresh) / fetch (a
 * repository reused per project under `cacheDir`) / none, GIT_DEPTH, GIT_CHECKOUT,
 * GIT_CLEAN_FLAGS, `clone_url`. Log lines as gitlab-runner prints them; the job token never.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { access, chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobSpec } from '../job/job-spec.js';
import { submoduleSettings } from '../job/submodule-settings.js';
import { variableValue } from '../job/variables.js';
import type { JobLog } from '../log/job-log.js';
import { maskPhrasesForJob, maskText } from '../log/masker.js';
import type { FetchedSources, SourceProvider } from '../executor/source-provider.js';
import { createGitRunner, GitError, splitCredentials } from './git-command.js';
import { KeyedMutex } from './keyed-mutex.js';
import { submoduleGitConfig } from './submodule-git-config.js';
import { checkUpdateFlags, updateSubmodules } from './submodule-update.js';
import type { ProcessLauncher } from './process-launcher.js';

export interface GitSourceOptions {
  /** Where GIT_STRATEGY=fetch keeps one repository per project. */
  cacheDir: string;
  /**
   * Where GIT_STRATEGY=clone makes its per-job clones (default: the system temp folder). The
   * daemon gives each runner its own folder and empties it at start, so a killed process
   * leaves no clones behind for long.
   */
  cloneDir?: string;
  /** `[[runners]] clone_url`: replaces the scheme and host of the repository URL. */
  cloneUrl?: string;
  /**
   * The runner's system id. Unused since git needs no temp folder (git-command.ts); the daemon's
   * start-up sweep still removes the folders an older berth left (git-temp-dir.ts).
   */
  systemId?: string;
  /** How git is started (default: a fork of berth; the daemon gives a ShellLauncher). */
  launcher?: ProcessLauncher;
}

const DEFAULT_REFSPECS = ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'];

export class GitSource implements SourceProvider {
  readonly header = 'Getting source from Git repository';
  private readonly locks = new KeyedMutex();

  /** The runner's private folders, made (or made private) once per runner, not per job. */
  private readonly privateDirs = new Map<string, Promise<void>>();

  constructor(private readonly opts: GitSourceOptions) {}

  private privateDir(dir: string, again = false): Promise<void> {
    let made = again ? undefined : this.privateDirs.get(dir);
    if (!made) {
      made = makePrivateDir(dir);
      this.privateDirs.set(dir, made);
      made.catch(() => this.privateDirs.delete(dir));
    }
    return made;
  }

  /**
   * A new private folder for a per-job clone. The folder and the empty repository in it
   * (initRepository) are made with synchronous calls: a handful of metadata operations, well
   * under a millisecond, where the promise API queues each one behind the libuv pool's other
   * work (other jobs' file copies) and took 30-60 ms before `git fetch` could start on a loaded host.
   */
  private async newCloneDir(): Promise<string> {
    const parent = this.opts.cloneDir;
    if (!parent) return mkdtempSync(join(tmpdir(), 'berth-src-'));
    await this.privateDir(parent);
    try {
      return mkdtempSync(join(parent, 'berth-src-'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.privateDir(parent, true); // removed since it was made
      return mkdtempSync(join(parent, 'berth-src-'));
    }
  }

  async fetch(job: JobSpec, log: JobLog, signal: AbortSignal): Promise<FetchedSources | null> {
    const vars = job.variables;
    const strategy = variableValue(vars, 'GIT_STRATEGY') || (job.allowGitFetch ? 'fetch' : 'clone');
    if (strategy === 'none' || strategy === 'empty') {
      log.println('Skipping Git repository setup');
      return null;
    }
    const depth = Number(variableValue(vars, 'GIT_DEPTH') ?? job.gitInfo.depth) || 0;
    // GIT_SUBMODULE_*: read before anything is fetched (an unknown strategy fails the job first, as in gitlab-runner).
    const submodules = submoduleSettings(vars, depth);
    for (const warning of submodules.warnings) log.warning(warning);
    checkUpdateFlags(submodules.updateFlags);
    const { url, credentials } = splitCredentials(withCloneUrl(job.gitInfo.repoUrl, this.opts.cloneUrl));
    // Submodules: https/http only, the job token for the whole GitLab server (submodule-git-config.ts).
    const forSubmodules = submodules.strategy === 'none' ? {} : submoduleGitConfig(url, splitCredentials(job.gitInfo.repoUrl).url, job.jobInfo.projectFullPath, vars, submodules.forceHttps);
    const reuse = strategy === 'fetch';
    const dir = reuse ? join(this.opts.cacheDir, `project-${job.jobInfo.projectId}-${hash(url)}`) : await this.newCloneDir();
    const unlock = reuse ? await this.locks.lock(dir) : () => undefined;
    // Whatever git prints goes through the job's masking (its token, masked variables, token prefixes).
    const phrases = maskPhrasesForJob(job);
    const scrub = (text: string): string => maskText(text, phrases, job.features.tokenMaskPrefixes);
    try {
      // HOME: a folder that does not exist, in the runner's private cache (git-command.ts).
      const git = createGitRunner({ url, credentials, home: join(this.opts.cacheDir, '.no-home'), scrub, ...forSubmodules, ...(this.opts.launcher ? { launcher: this.opts.launcher } : {}) });
      // A per-job clone is a new empty folder; a reused repository exists once its .git does.
      const fresh = !reuse || !(await exists(join(dir, '.git')));
      // gitlab-runner runs `git init`, `git remote add|set-url origin`, `git fetch`, `git checkout`
      // (shells/abstract.go writeRefspecFetchCmd). Every git process costs a process start (a
      // fork of berth, which blocks the event loop of every running job until the child has
      // started: 2 ms on a quiet host, 10-20 ms on a loaded one; or, under `berth run`, a line
      // to the ShellLauncher's shell, which is cheaper but still a process), so berth starts only the two that
      // need git: the empty repository with its origin is a handful of files berth writes
      // itself (initRepository), and a reused repository keeps its URL (its folder is named
      // after the URL's hash, so `set-url` could only write the same one).
      if (fresh) {
        if (reuse) {
          await this.privateDir(this.opts.cacheDir);
          await mkdir(dir, { recursive: true, mode: 0o700 });
        }
        await initRepository(dir, url, job.gitInfo.objectFormat);
        log.println('Created fresh repository.');
      } else {
        log.println(`Reinitialized existing Git repository`);
      }
      log.println(depth ? `Fetching changes with git depth set to ${depth}...` : 'Fetching changes...');
      const refspecs = job.gitInfo.refspecs.length ? job.gitInfo.refspecs : DEFAULT_REFSPECS;
      // A per-job clone is removed after the job: git's automatic maintenance (one more git
      // process after every fetch) would only tidy a repository about to be deleted. Its
      // objects stay in the one pack they came in (fetch.unpackLimit=1; git unpacks fewer than
      // 100 into a file and a folder each), so fewer files are listed, copied into the build
      // container and removed afterwards.
      // Nor does it need its pack and index flushed to disk (core.fsync=none: index-pack fsyncs
      // both by default, tens of milliseconds on a busy disk), nor its checkout.
      const noFsync = reuse ? [] : ['-c', 'core.fsync=none'];
      const perJob = reuse ? [] : [...noFsync, '-c', 'maintenance.auto=false', '-c', 'gc.auto=0', '-c', 'fetch.unpackLimit=1'];
      // --no-recurse-submodules: a reused repository whose submodules an earlier job checked out
      // would otherwise fetch them too (git's on-demand default), whatever this job's strategy.
      await git.run([...perJob, 'fetch', '--quiet', '--prune', '--no-recurse-submodules', ...(depth ? [`--depth=${depth}`] : []), 'origin', ...refspecs], dir, signal);
      // Empty: gitlab-runner's default (common/build_settings.go), not a `git clean` without -f.
      const clean = variableValue(vars, 'GIT_CLEAN_FLAGS') || '-ffdx';
      const cleanFlags = clean === 'none' ? [] : clean.split(/\s+/).filter(Boolean);
      if (variableValue(vars, 'GIT_CHECKOUT') === 'false') {
        log.println('Skipping Git checkout');
      } else {
        log.println(`Checking out ${job.gitInfo.sha.slice(0, 8)} as detached HEAD (ref is ${job.gitInfo.ref})...`);
        await git.run([...noFsync, 'checkout', '-f', '-q', job.gitInfo.sha], dir, signal);
        if (!fresh && cleanFlags.length) await git.run(['clean', ...cleanFlags], dir, signal);
      }
      if (submodules.strategy === 'none') log.println('Skipping Git submodules setup');
      else await updateSubmodules({ git, dir, log, settings: submodules, cleanFlags, fresh, prefix: perJob, signal });
      const files = await listTree(dir);
      return {
        root: dir,
        files,
        description: `Copying ${files.length} files of ${job.gitInfo.sha.slice(0, 8)} into the build directory`,
        release: async () => {
          unlock();
          if (!reuse) await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      unlock();
      if (!reuse) await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
}

/**
 * The repository copies are the projects' sources (private repositories included): only the
 * user berth runs as may enter their folders. The folder is 0700, also when an older berth
 * made it 0755; the files inside keep git's modes (0644/0755), unreachable through it, and
 * only their execute bit reaches the build container (sources-archive.ts).
 */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/**
 * What `git init -q --template=` followed by `git remote add origin <url>` leave in `dir`: an
 * empty repository (format version 0, SHA-1; every git reads it) whose origin is `url` with
 * git's default fetch refspec. No template: its sample hooks and info files would only be
 * copied into every build container. The URL is quoted only when git's config syntax needs it.
 * `objectFormat` is the payload's `git_info.repo_object_format`: `sha256` makes what
 * `git init --object-format=sha256` makes (format version 1), as gitlab-runner does
 * (common/build.go GetRepositoryObjectFormat); a SHA-1 repository cannot fetch from a SHA-256 one.
 */
export async function initRepository(dir: string, url: string, objectFormat = ''): Promise<void> {
  if (/[\n\r\0]/.test(url)) throw new GitError('The repository URL contains a line break or NUL: check the project\'s repository URL (or clone_url)');
  if (objectFormat !== '' && objectFormat !== 'sha1' && objectFormat !== 'sha256') {
    throw new GitError(`GitLab asked for the repository object format "${objectFormat}", which git does not know: expected sha1 or sha256`);
  }
  const sha256 = objectFormat === 'sha256';
  const quoted = /^\s|\s$|["\\#;]/.test(url) ? `"${url.replace(/[\\"]/g, (c) => `\\${c}`)}"` : url;
  const gitDir = join(dir, '.git');
  // Synchronous: see GitSource.newCloneDir.
  mkdirSync(gitDir);
  for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) mkdirSync(join(gitDir, sub), { recursive: true });
  writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/master\n');
  writeFileSync(
    join(gitDir, 'config'),
    [
      '[core]',
      `\trepositoryformatversion = ${sha256 ? 1 : 0}`,
      '\tfilemode = true',
      '\tbare = false',
      '\tlogallrefupdates = true',
      ...(sha256 ? ['[extensions]', '\tobjectformat = sha256'] : []),
      '[remote "origin"]',
      `\turl = ${quoted}`,
      '\tfetch = +refs/heads/*:refs/remotes/origin/*',
      '',
    ].join('\n'),
  );
}

function withCloneUrl(repoUrl: string, cloneUrl?: string): string {
  if (!cloneUrl) return repoUrl;
  try {
    const repo = new URL(repoUrl);
    const base = new URL(cloneUrl);
    repo.protocol = base.protocol;
    repo.host = base.host;
    return repo.toString();
  } catch {
    return repoUrl;
  }
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * Every file, symlink and sub-folder's file under `root`, relative, the .git folder included;
 * links to folders are listed, never followed. The folders of one level are read at once:
 * node's recursive readdir reads them one after the other, one thread-pool round trip each
 * (a checkout's .git alone has a dozen folders).
 */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(rel ? join(root, rel) : root, { withFileTypes: true });
    const folders: Promise<void>[] = [];
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) folders.push(walk(path));
      else if (e.isFile() || e.isSymbolicLink()) out.push(path);
    }
    await Promise.all(folders);
  };
  await walk('');
  return out.sort();
}
