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
  /** `--offline`: a project that is not mapped is not fetched (its cached copy is used, else the include is skipped). */
  offline?: boolean;
  /** Warning lines (an include read from the cache says so). */
  warn?(message: string): void;
  /** Bound of one `git fetch` or `git ls-remote`; default 120 s. */
  timeoutMs?: number;
  /** The clock of the fetch records (tests). */
  now?: () => Date;
}

/** Why the server did not give a ref. */
interface FetchFailure {
  kind: 'missing-ref' | 'refused' | 'not-found' | 'unreachable' | 'offline';
  /** What happened, naming the URL (never the token). */
  reason: string;
  cause?: unknown;
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
  /** Servers that did not answer in this compile: later includes go to the cache at once. */
  private readonly down = new Map<string, FetchFailure>();
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

  /** The project's tags (for a component's `~latest` or partial version); the cached list when the server cannot give them. */
  async tags(project: string, where: Where | undefined, what: string): Promise<string[]> {
    const checkout = this.opts.projectMap.get(project);
    if (checkout) {
      const out = await runHostGit(checkout, ['tag', '--list']).catch((err: unknown) => this.failer(where, what)(`cannot list the tags of ${checkout}: ${gitReason(err)}`, err));
      return out.split('\n').filter(Boolean);
    }
    const url = this.projectUrl(project, where, what);
    const listed = this.offlineOrDown(url) ?? (await this.listTags(url, where, what));
    if (Array.isArray(listed)) return listed;
    const cached = await this.opts.cache.readTags(url);
    if (cached) {
      this.warn(where, what, `the tags of ${project} come from the include cache of ${shownDate(cached.fetchedAt)} (${this.opts.cache.dir}) because ${listed.reason}`);
      return cached.tags;
    }
    return this.throwFailure(listed, url, project, where, what, null);
  }

  /** `git ls-remote --tags`, recorded in the cache; the failure when the server does not answer. */
  private async listTags(url: string, where: Where | undefined, what: string): Promise<string[] | FetchFailure> {
    const gitDir = await this.opts.cache.gitDir(url);
    await this.initBare(gitDir, where, what);
    const out = await runHostGit(gitDir, ['ls-remote', '--tags', '--refs', url], this.networkOptions()).catch((err: unknown) => this.classify(err, url));
    if (typeof out !== 'string') return out;
    const tags = out.split('\n').map((l) => l.split('\trefs/tags/')[1] ?? '').filter(Boolean);
    await this.opts.cache.writeTags(url, tags, this.now().toISOString()).catch(() => undefined); // only a later fallback misses it
    return tags;
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
      // A branch the checkout only has as a remote-tracking one (origin/main, no local main) counts too.
      const revs = ref === null ? ['HEAD'] : [ref, `refs/remotes/origin/${ref}`];
      let sha: string | null = null;
      for (const rev of revs) {
        sha ??= await runHostGit(checkout, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).catch(() => null);
      }
      if (sha === null) fail(`ref "${ref ?? 'HEAD'}" does not exist in ${checkout} (the local checkout of ${project}); check the ref`);
      return { gitDir: checkout, sha: sha.trim(), origin: checkout };
    }
    const url = this.projectUrl(project, where, what);
    // --offline, or a server that already failed: the cache only (no repository is created for nothing).
    const failure = this.offlineOrDown(url) ?? (await this.fetch(url, ref, where, what));
    if (failure.kind === 'fetched') {
      const sha = (await runHostGit(failure.gitDir, ['rev-parse', '--verify', 'FETCH_HEAD^{commit}'])).trim();
      await this.opts.cache.writeFetchedRef(url, ref, { sha, fetchedAt: this.now().toISOString() }).catch((err: unknown) =>
        this.warn(where, what, `fetched, but not recorded in the include cache ${this.opts.cache.dir} (${gitReason(err)}); it cannot stand in when ${url} is not reachable`),
      );
      return { gitDir: failure.gitDir, sha, origin: url };
    }
    // The server did not give the ref (unreachable, refused, no such project, --offline): the
    // copy fetched earlier stands in, as include:remote's cached copy does. A ref the server
    // says does not exist is an error: the cache would only hide a mistake.
    const cached = failure.kind === 'missing-ref' ? null : await this.opts.cache.readFetchedRef(url, ref);
    if (cached) {
      const gitDir = await this.opts.cache.gitDir(url);
      const present = await runHostGit(gitDir, ['rev-parse', '--verify', '--quiet', `${cached.sha}^{commit}`]).then(() => true, () => false);
      if (present) {
        this.warn(where, what, `${ref === null ? 'the default branch' : `ref "${ref}"`} comes from the include cache of ${shownDate(cached.fetchedAt)} (${this.opts.cache.dir}) because ${failure.reason}`);
        return { gitDir, sha: cached.sha, origin: `${url}, cached` };
      }
    }
    return this.throwFailure(failure, url, project, where, what, ref);
  }

  /** `git fetch` of the ref into the cache repository (kept under refs/berth/ so that git keeps it), or why not. */
  private async fetch(url: string, ref: string | null, where: Where | undefined, what: string): Promise<FetchFailure | { kind: 'fetched'; gitDir: string }> {
    const gitDir = await this.opts.cache.gitDir(url);
    await this.initBare(gitDir, where, what);
    const refspec = `+${ref ?? 'HEAD'}:refs/berth/cache/${Buffer.from(ref ?? 'HEAD').toString('hex')}`;
    return runHostGit(gitDir, ['fetch', '--quiet', '--no-tags', '--depth=1', url, refspec], this.networkOptions()).then(
      () => ({ kind: 'fetched' as const, gitDir }),
      (err: unknown) => this.classify(err, url),
    );
  }

  /** --offline, or the server already failed in this compile (one timeout, not one per include). */
  private offlineOrDown(url: string): FetchFailure | null {
    if (this.opts.offline) return { kind: 'offline', reason: 'berth exec runs --offline' };
    return this.down.get(url) ?? null;
  }

  private classify(err: unknown, url: string): FetchFailure {
    const reason = gitReason(err, this.opts.token);
    const timedOut = typeof err === 'object' && err !== null && 'killed' in err && err.killed === true;
    let failure: FetchFailure;
    if (timedOut) failure = { kind: 'unreachable', reason: `${url} did not answer within ${this.gitTimeoutMs() / 1000} s`, cause: err };
    else {
      const kind = gitFailureKind(reason);
      const said = { 'missing-ref': reason, refused: `${url} refused access (${reason})`, 'not-found': `${url} is not found (${reason})`, unreachable: `${url} is not reachable (${reason})` }[kind];
      failure = { kind, reason: said, cause: err };
    }
    if (failure.kind === 'unreachable') this.down.set(url, failure);
    return failure;
  }

  private throwFailure(failure: FetchFailure, url: string, project: string, where: Where | undefined, what: string, ref: string | null): never {
    const fail: Fail = this.failer(where, what);
    switch (failure.kind) {
      case 'missing-ref':
        return fail(`ref "${ref ?? 'HEAD'}" does not exist in ${url}; check the ref`, failure.cause);
      case 'refused':
        return fail(`${failure.reason}; set BERTH_GITLAB_TOKEN to a token that can read the project`, failure.cause);
      case 'not-found':
        return fail(`${failure.reason}; check the project path`, failure.cause);
      case 'offline':
        return this.failer(where, what, IncludeUnavailableError)(`not fetched (--offline); map the project to a checkout with --include-project ${project}=/path/to/checkout`);
      case 'unreachable':
        return this.failer(where, what, IncludeUnavailableError)(`${failure.reason}; check the network, or map the project with --include-project`, failure.cause);
    }
  }

  private warn(where: Where | undefined, what: string, message: string): void {
    this.opts.warn?.(`${locationPrefix(where)}${what}: ${message}`);
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private gitTimeoutMs(): number {
    return this.opts.timeoutMs ?? 120_000;
  }

  /** The auth header and a bound on the whole git run (a server that accepts and never answers). */
  private networkOptions(): { env: Record<string, string>; timeoutMs: number } {
    return { env: this.authEnv(), timeoutMs: this.gitTimeoutMs() };
  }

  private async initBare(gitDir: string, where: Where | undefined, what: string): Promise<void> {
    await runHostGit(gitDir, ['init', '--quiet', '--bare']).catch((err: unknown) => this.failer(where, what)(`cannot create the cache repository ${gitDir}: ${gitReason(err)}`, err));
  }

  private projectUrl(project: string, where: Where | undefined, what: string): string {
    if (this.opts.offline && !this.opts.serverUrl) {
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

  private failer(where: Where | undefined, what: string, Kind: typeof InputError = InputError): Fail {
    return (message, cause) => {
      throw new Kind(`${locationPrefix(where)}${what}: ${message}`, { file: where?.file, line: where?.line }, { cause: cause === undefined ? undefined : new Error(gitReason(cause, this.opts.token)) });
    };
  }
}

/** `2026-12-03 08:55 UTC` from an ISO date. */
function shownDate(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

/** git's last meaningful stderr line, without the token should git ever echo it. */
function gitReason(err: unknown, token?: string): string {
  const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr) : '';
  const line = stderr.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? (err instanceof Error ? 'git failed' : String(err));
  const clean = line.replace(/^fatal:\s*/, '').slice(0, 300);
  return token ? clean.split(token).join('[MASKED]') : clean;
}

/**
 * What a failed `git fetch`/`ls-remote` says, by git's and curl's words. HTTP statuses are read
 * only as curl reports them ("The requested URL returned error: 403"): the message also holds
 * the URL, whose port or path may contain 401, 403 or 404.
 */
export function gitFailureKind(reason: string): 'missing-ref' | 'refused' | 'not-found' | 'unreachable' {
  if (/couldn't find remote ref|not our ref|unadvertised object/i.test(reason)) return 'missing-ref';
  if (/authentication failed|returned error: 40[13]\b|could not read username/i.test(reason)) return 'refused';
  if (/not found|returned error: 404\b|does not appear to be a git repository/i.test(reason)) return 'not-found';
  return 'unreachable';
}
