/**
 * What a git remote URL says about the project: the path `namespace/project`, the URL without
 * credentials, and the web URL GitLab would show (CI_PROJECT_URL).
 */

export const PLACEHOLDER_SERVER = 'https://gitlab.example.invalid';

/** `https://user:token@host/a/b.git` → `https://host/a/b.git`; ssh passwords are removed too. */
export function stripCredentials(url: string): string {
  const parsed = parseUrl(url);
  if (!parsed) return url;
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  }
  if (parsed.password) {
    parsed.password = '';
    return parsed.toString();
  }
  return url;
}

/**
 * `git@host:ns/sub/proj.git`, `ssh://git@host:2222/ns/proj.git`, `https://host/ns/proj.git`
 * → `ns/sub/proj`. Null for local paths and file URLs, and when there is no namespace.
 */
export function projectPathFromRemote(url: string): string | null {
  let path: string | undefined;
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.+)$/.exec(url);
  const parsed = parseUrl(url);
  if (parsed && ['http:', 'https:', 'ssh:', 'git:', 'git+ssh:', 'ssh+git:'].includes(parsed.protocol)) {
    path = decodeURIComponent(parsed.pathname);
  } else if (!parsed && scp && scp[1]!.length > 1) {
    path = scp[2];
  }
  if (!path) return null;
  const segments = path
    .replace(/\.git\/?$/, '')
    .split('/')
    .filter((s) => s !== '' && s !== '.' && s !== '..' && !s.startsWith('~'));
  return segments.length >= 2 ? segments.join('/') : null;
}

/** The web URL of the project: from an http(s) remote, else a placeholder server. */
export function projectWebUrl(remoteUrl: string, projectPath: string): string {
  const parsed = parseUrl(remoteUrl);
  if (parsed && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) {
    return `${parsed.protocol}//${parsed.host}/${projectPath}`;
  }
  return `${PLACEHOLDER_SERVER}/${projectPath}`;
}

/**
 * The GitLab server to fetch `include:project` and `include:component` from: the origin of an
 * http(s) remote, `https://host` for an ssh remote; null for local paths and file URLs.
 */
export function gitServerUrl(remoteUrl: string): string | null {
  const parsed = parseUrl(remoteUrl);
  if (parsed && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) return parsed.origin;
  if (parsed && ['ssh:', 'git+ssh:', 'ssh+git:'].includes(parsed.protocol)) return `https://${parsed.hostname}`;
  const scp = parsed ? null : /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.+)$/.exec(remoteUrl);
  return scp && scp[1]!.length > 1 ? `https://${scp[1]}` : null;
}

function parseUrl(url: string): URL | null {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
