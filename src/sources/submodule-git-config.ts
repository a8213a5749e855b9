/**
 * git configuration for a job that updates submodules on the runner host (GIT_SUBMODULE_STRATEGY
 * normal or recursive), given to every git process of the job through the environment
 * (GIT_CONFIG_COUNT, which `git submodule` passes on to the git processes it starts):
 *
 * - Transports: https and http only (`protocol.allow=never`, `protocol.https.allow=always`,
 *   `protocol.http.allow=always`). `.gitmodules` comes with the repository, which may be a fork's:
 *   an ssh URL would use the host's ssh (and whatever keys it finds), a local path or `file://`
 *   would copy a folder of the host into the job, `ext::` would run a program.
 * - The job token's header is sent to the GitLab server's base URL (scheme://host[:port]/ and the
 *   relative URL root GitLab is installed under) instead of the project's URL only, so that
 *   submodules on the same server (relative URLs such as `../other.git`, or absolute ones) are
 *   fetched with it, as gitlab-runner's insteadOf rules do (helpers/url/gitauth.go); never
 *   another host's. With `clone_url`, the project URL's own server gets it too (gitlab-runner's
 *   repoBaseInsteadOf).
 * - GIT_SUBMODULE_FORCE_HTTPS: `git@<ssh host>:` and `ssh://git@<ssh host>[:port]/` become the
 *   server's https base URL (gitlab-runner's sshInsteadOfs), the ssh host being
 *   CI_SERVER_SHELL_SSH_HOST, else CI_SERVER_HOST.
 */
import type { JobVariable } from '../job/job-spec.js';
import { variableValue } from '../job/variables.js';

export const SUBMODULE_TRANSPORTS: readonly (readonly [string, string])[] = [
  ['protocol.allow', 'never'],
  ['protocol.https.allow', 'always'],
  ['protocol.http.allow', 'always'],
];

export interface SubmoduleGitConfig {
  /** Where the job token's header goes (with a trailing '/'). */
  headerUrls: string[];
  config: (readonly [string, string])[];
}

/**
 * `url`: the project's URL as fetched (credentials removed, clone_url applied); `originalUrl`:
 * the payload's (credentials removed), which differs with clone_url; `projectPath`: the
 * project's full path (`group/project`, the payload's job_info.project_full_path).
 */
export function submoduleGitConfig(url: string, originalUrl: string, projectPath: string, vars: readonly JobVariable[], forceHttps: boolean): SubmoduleGitConfig {
  const serverUrl = variableValue(vars, 'CI_SERVER_URL');
  if (!URL.canParse(url) || !URL.canParse(originalUrl)) return { headerUrls: [url], config: [...SUBMODULE_TRANSPORTS] };
  const base = serverBaseUrl(url, projectPath, serverUrl);
  const headerUrls = [base];
  const other = serverBaseUrl(originalUrl, projectPath, serverUrl);
  if (other !== base && new URL(other).origin !== new URL(base).origin) headerUrls.push(other);
  const config: (readonly [string, string])[] = [...SUBMODULE_TRANSPORTS];
  if (forceHttps) {
    const host = variableValue(vars, 'CI_SERVER_SHELL_SSH_HOST') || variableValue(vars, 'CI_SERVER_HOST') || new URL(originalUrl).hostname;
    const port = variableValue(vars, 'CI_SERVER_SHELL_SSH_PORT') ?? '';
    if (port === '' || port === '22') {
      config.push([`url.${base}.insteadOf`, `git@${host}:`], [`url.${base}.insteadOf`, `ssh://git@${host}/`]);
    } else {
      config.push([`url.${base}.insteadOf`, `ssh://git@${host}:${port}/`]);
    }
  }
  return { headerUrls, config };
}

/**
 * The GitLab server's base URL for a project URL, with a trailing '/': the URL without the
 * project's path (`CI_PROJECT_PATH`, with or without `.git`), which keeps a relative URL root
 * (`https://host/gitlab/group/p.git` → `https://host/gitlab/`); else, when the URL is under
 * CI_SERVER_URL's path, scheme://host[:port] with that path; else scheme://host[:port]/.
 */
export function serverBaseUrl(url: string, projectPath: string | undefined, serverUrl: string | undefined): string {
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, '');
  if (projectPath) {
    for (const suffix of [`/${projectPath}.git`, `/${projectPath}`]) {
      if (path.endsWith(suffix)) return `${u.origin}${path.slice(0, -suffix.length)}/`;
    }
  }
  if (serverUrl) {
    try {
      const root = new URL(serverUrl).pathname.replace(/\/+$/, '');
      if (root && path.startsWith(`${root}/`)) return `${u.origin}${root}/`;
    } catch {
      // not a URL: the host alone
    }
  }
  return `${u.origin}/`;
}
