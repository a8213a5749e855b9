/**
 * What berth exec needs to read includes that are not in the repository: remote URLs (over
 * https, cached) and other projects and components (with git). Built once per compile.
 */
import { IncludeCache, defaultIncludeCacheDir } from './include-cache.js';
import { ProjectIncludes } from './project-include.js';
import { fetchRemoteInclude } from './remote-include.js';
import type { Where } from './source-positions.js';

export interface ExternalIncludeOptions {
  /** `--include-cache DIR`; default `$XDG_CACHE_HOME/berth/includes` or `~/.cache/berth/includes`. */
  cacheDir?: string;
  /** `--include-ca FILE`: PEM CA certificates trusted for include:remote, besides the system ones. */
  caFile?: string;
  /** `--include-project group/project=/path/to/checkout` (repeatable). */
  projects?: Record<string, string>;
  /** BERTH_GITLAB_TOKEN (else CI_JOB_TOKEN): for fetching projects and components with git. */
  token?: string;
  /** Per-request timeout of include:remote, default 30 s; a git fetch of include:project/component may take 4 times as long. */
  timeoutMs?: number;
  /** `--offline`: never use the network; only the cache and mapped checkouts. */
  offline?: boolean;
}

/**
 * The projects read from local checkouts: those mapped with `--include-project`, and this
 * repository for its own project path (`own`, null when there is no commit to read). GitLab
 * reads an `include:project` of the project itself, and its own components at `$CI_COMMIT_SHA`
 * (the documented way to test a component), from the same repository; without this, berth
 * fetched them from the server, or skipped them with no remote. A mapping given by the user wins.
 */
export function includeProjectMap(mapped: Readonly<Record<string, string>> | undefined, own: { path: string; root: string } | null): Record<string, string> {
  return { ...(own ? { [own.path]: own.root } : {}), ...mapped };
}

export class ExternalIncludes {
  readonly projects: ProjectIncludes;
  private readonly cache: IncludeCache;

  constructor(
    private readonly opts: ExternalIncludeOptions & { maxBytes: number; serverUrl: string | null; warn(message: string): void },
  ) {
    this.cache = new IncludeCache(opts.cacheDir ?? defaultIncludeCacheDir());
    this.projects = new ProjectIncludes({
      cache: this.cache,
      maxBytes: opts.maxBytes,
      projectMap: new Map(Object.entries(opts.projects ?? {})),
      serverUrl: opts.serverUrl,
      token: opts.token,
      offline: opts.offline ?? false,
      // A whole fetch may take a few request timeouts (include:remote bounds one request).
      timeoutMs: opts.timeoutMs === undefined ? undefined : 4 * opts.timeoutMs,
      warn: (message) => this.opts.warn(message),
    });
  }

  /** `host[:port]` of the GitLab the remote points at (CI_SERVER_FQDN), or null. */
  get serverFqdn(): string | null {
    return this.opts.serverUrl ? new URL(this.opts.serverUrl).host : null;
  }

  /** `shown`: the URL as written, for messages (its variables unexpanded). */
  remote(url: string, shown: string, where: Where | undefined, integrity: string | null): Promise<string> {
    return fetchRemoteInclude(url, shown, where, integrity, {
      cache: this.cache,
      maxBytes: this.opts.maxBytes,
      timeoutMs: this.opts.timeoutMs,
      caFile: this.opts.caFile,
      offline: this.opts.offline ?? false,
      warn: (message) => this.opts.warn(message),
    });
  }
}
