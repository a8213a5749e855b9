/**
 * `include:project` and `include:component` files, read with git (src/pipeline/project/host-git.ts)
 * at a ref: from a local checkout mapped with `--include-project group/project=/path`, else from
 * the GitLab the repository's remote points at (`<server>/<group/project>.git`), fetched into a
 * bare repository in the include cache. The token (`BERTH_GITLAB_TOKEN`, else `CI_JOB_TOKEN`)
 * reaches git as an `Authorization` header through GIT_CONFIG_* environment variables: never
 * on a command line (visible in ps), never in a message.
 */
import { InputError } from '../../shared/errors.js';
import { runHostGit } from '../project/host-git.js';
import type { IncludeCache } from './include-cache.js';
import { locationPrefix, type Where } from './source-positions.js';
import { IncludeUnavailableError } from './include-unavailable.js';

export interface ProjectSourceOptions {
  cache: IncludeCache;
  maxBytes: number;
  /** `group/project` → a local checkout, used instead of fetching. */
  projectMap: ReadonlyMap<string, string>;
  /** `https://gitlab.example.com` from the git remote, or null without one. */
  serverUrl: string | null;
  token?: string;
  /** `--offline`: a project that is not mapped is not fetched (the include is skipped). */
  offline?: boolean;
}

type Fail = (message: string, cause?: unknown) => never;

/** One project at one ref, as git sees it. */
interface ResolvedRef {
  gitDir: string;
  sha: string;
  /** `--include-project` checkout or the fetched server URL, for messages. */
  origin: string;
}

export class ProjectIncludes {
  private readonly refs = new Map<string, Promise<ResolvedRef>>();
  /** One git at a time: fetches into one cache repository share FETCH_HEAD. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ProjectSourceOptions) {}

  /** The text of `file` in `project` at `ref` (null: the default branch, HEAD). */
  async read(project: string, ref: string | null, file: string, where: Where | undefined, what: string): Promise<string> {
    const fail: Fail = this.failer(where, what);
    const path = file.replace(/^\/+/, '');
    if (path === '' || path.split('/').includes('..')) fail(`the file "${file}" must be a path inside the project`);
    const resolved = await this.resolve(project, ref, where, what);
    const size = await runHostGit(resolved.gitDir, ['cat-file', '-s', `${resolved.sha}:${path}`]).catch(() => null);
    if (size === null) fail(`${path} does not exist in ${project} at ${ref ?? 'the default branch'} (${resolved.origin}); check the file name and the ref`);
    if (Number(size) > this.opts.maxBytes) fail(`${path} is ${size.trim()} bytes, more than the limit of ${this.opts.maxBytes} bytes (4 MiB); split it`);
    return runHostGit(resolved.gitDir, ['cat-file', 'blob', `${resolved.sha}:${path}`], { maxBuffer: this.opts.maxBytes + 1 });
  }

  /** Whether `file` exists in the project at the ref (for a component's two possible paths). */
  async exists(project: string, ref: string | null, file: string, where: Where | undefined, what: string): Promise<boolean> {
    const resolved = await this.resolve(project, ref, where, what);
    return (await runHostGit(resolved.gitDir, ['cat-file', '-e', `${resolved.sha}:${file}`]).then(() => true, () => false));
  }

  /** The project's tags (for a component's `~latest` or partial version). */
  async tags(project: string, where: Where | undefined, what: string): Promise<string[]> {
    const checkout = this.opts.projectMap.get(project);
    if (checkout) {
      const out = await runHostGit(checkout, ['tag', '--list']).catch((err: unknown) => this.failer(where, what)(`cannot list the tags of ${checkout}: ${gitReason(err)}`, err));
      return out.split('\n').filter(Boolean);
    }
    const url = this.projectUrl(project, where, what);
    const gitDir = await this.opts.cache.gitDir(url);
    await this.initBare(gitDir, where, what);
    const out = await runHostGit(gitDir, ['ls-remote', '--tags', '--refs', url], { env: this.authEnv() }).catch((err: unknown) => this.gitFailure(err, url, where, what));
    return out.split('\n').map((l) => l.split('\trefs/tags/')[1] ?? '').filter(Boolean);
  }

  private resolve(project: string, ref: string | null, where: Where | undefined, what: string): Promise<ResolvedRef> {
    const key = `${project}\0${ref ?? ''}`;
    let found = this.refs.get(key);
    if (!found) {
      found = this.queue.then(() => this.resolveOnce(project, ref, where, what));
      this.queue = found.catch(() => undefined);
      this.refs.set(key, found);
    }
    return found;
  }

  private async resolveOnce(project: string, ref: string | null, where: Where | undefined, what: string): Promise<ResolvedRef> {
    const fail: Fail = this.failer(where, what);
    if (ref !== null && (ref === '' || ref.startsWith('-') || /[\s\0~^:?*[\\]|\.\.|@\{/.test(ref))) fail(`"${ref}" is not a valid git ref`);
    const checkout = this.opts.projectMap.get(project);
    if (checkout) {
      const sha = await runHostGit(checkout, ['rev-parse', '--verify', '--quiet', `${ref ?? 'HEAD'}^{commit}`]).catch(() => null);
      if (sha === null) fail(`ref "${ref ?? 'HEAD'}" does not exist in ${checkout} (mapped with --include-project ${project}=...); check the ref`);
      return { gitDir: checkout, sha: sha.trim(), origin: checkout };
    }
    const url = this.projectUrl(project, where, what);
    const gitDir = await this.opts.cache.gitDir(url);
    await this.initBare(gitDir, where, what);
    await runHostGit(gitDir, ['fetch', '--quiet', '--no-tags', '--depth=1', url, ref ?? 'HEAD'], { env: this.authEnv() }).catch((err: unknown) =>
      this.gitFailure(err, url, where, what, ref),
    );
    const sha = await runHostGit(gitDir, ['rev-parse', '--verify', 'FETCH_HEAD^{commit}']);
    return { gitDir, sha: sha.trim(), origin: url };
  }

  private async initBare(gitDir: string, where: Where | undefined, what: string): Promise<void> {
    await runHostGit(gitDir, ['init', '--quiet', '--bare']).catch((err: unknown) => this.failer(where, what)(`cannot create the cache repository ${gitDir}: ${gitReason(err)}`, err));
  }

  private projectUrl(project: string, where: Where | undefined, what: string): string {
    if (this.opts.offline) {
      this.failer(where, what, IncludeUnavailableError)(`not fetched (--offline); map the project to a checkout with --include-project ${project}=/path/to/checkout`);
    }
    if (!this.opts.serverUrl) {
      this.failer(where, what, IncludeUnavailableError)(`the repository has no http(s) or ssh git remote to tell which GitLab holds ${project}; map the project to a checkout with --include-project ${project}=/path/to/checkout`);
    }
    return `${this.opts.serverUrl}/${project}.git`;
  }

  /** GIT_CONFIG_* (git 2.31+) carries the header: the environment of git, not its command line. */
  private authEnv(): Record<string, string> {
    const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
    if (!this.opts.token) return env;
    const basic = Buffer.from(`gitlab-ci-token:${this.opts.token}`).toString('base64');
    return { ...env, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
  }

  private gitFailure(err: unknown, url: string, where: Where | undefined, what: string, ref?: string | null): never {
    const reason = gitReason(err, this.opts.token);
    const fail: Fail = this.failer(where, what);
    if (/couldn't find remote ref|not our ref|unadvertised object/i.test(reason)) fail(`ref "${ref ?? 'HEAD'}" does not exist in ${url}; check the ref`, err);
    if (/authentication failed|401|403|could not read username/i.test(reason)) {
      fail(`${url} refused access (${reason}); set BERTH_GITLAB_TOKEN to a token that can read the project`, err);
    }
    if (/not found|404|does not appear to be a git repository/i.test(reason)) fail(`${url} is not found (${reason}); check the project path`, err);
    return this.failer(where, what, IncludeUnavailableError)(`${url} is not reachable (${reason}); check the network, or map the project with --include-project`, err);
  }

  private failer(where: Where | undefined, what: string, Kind: typeof InputError = InputError): Fail {
    return (message, cause) => {
      throw new Kind(`${locationPrefix(where)}${what}: ${message}`, { file: where?.file, line: where?.line }, { cause: cause === undefined ? undefined : new Error(gitReason(cause, this.opts.token)) });
    };
  }
}

/** git's last meaningful stderr line, without the token should git ever echo it. */
function gitReason(err: unknown, token?: string): string {
  const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr) : '';
  const line = stderr.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? (err instanceof Error ? 'git failed' : String(err));
  const clean = line.replace(/^fatal:\s*/, '').slice(0, 300);
  return token ? clean.split(token).join('[MASKED]') : clean;
}
