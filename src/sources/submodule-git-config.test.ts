import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { plainVariable } from '../job/job-spec.js';
import { gitEnvironment } from './git-command.js';
import { serverBaseUrl, submoduleGitConfig } from './submodule-git-config.js';

const vars = (entries: Record<string, string>) => Object.entries(entries).map(([k, v]) => plainVariable(k, v));

describe('serverBaseUrl', () => {
  it('the project URL without the project path, keeping a relative URL root', () => {
    expect(serverBaseUrl('https://gitlab.example.com/group/sub/project.git', 'group/sub/project', undefined)).toBe('https://gitlab.example.com/');
    expect(serverBaseUrl('https://gitlab.example.com:8443/gitlab/group/project.git', 'group/project', undefined)).toBe('https://gitlab.example.com:8443/gitlab/');
    expect(serverBaseUrl('https://gitlab.example.com/gitlab/group/project', 'group/project', undefined)).toBe('https://gitlab.example.com/gitlab/');
  });

  it('else CI_SERVER_URL\'s path when the URL is under it, else the host', () => {
    expect(serverBaseUrl('https://h.example/gitlab/x/y.git', 'other/path', 'https://h.example/gitlab')).toBe('https://h.example/gitlab/');
    expect(serverBaseUrl('https://h.example/x/y.git', 'other/path', 'https://h.example/gitlab')).toBe('https://h.example/');
  });
});

describe('submoduleGitConfig', () => {
  const TOKEN = 'glcbt-abc';
  const credentials = { username: 'gitlab-ci-token', password: TOKEN };
  const get = (env: NodeJS.ProcessEnv, key: string, url: string): string | null => {
    try {
      return execFileSync('git', ['config', '--get-urlmatch', key, url], { env, cwd: tmpdir(), encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  };

  it('sends the job token to every project of the GitLab server (its relative URL root included), never to another host or path', () => {
    const url = 'https://gitlab.example.com/gitlab/group/project.git';
    const cfg = submoduleGitConfig(url, url, 'group/project', vars({}), false);
    expect(cfg.headerUrls).toEqual(['https://gitlab.example.com/gitlab/']);
    const env = gitEnvironment({ url, credentials, home: '/nowhere', ...cfg });
    const header = `Authorization: Basic ${Buffer.from(`gitlab-ci-token:${TOKEN}`).toString('base64')}`;
    expect(get(env, 'http.extraHeader', 'https://gitlab.example.com/gitlab/other/lib.git/info/refs')).toBe(header);
    expect(get(env, 'http.extraHeader', 'https://gitlab.example.com/elsewhere/lib.git/info/refs')).toBeNull();
    expect(get(env, 'http.extraHeader', 'https://gitlab.example.com.evil.example/gitlab/lib.git')).toBeNull();
    expect(get(env, 'http.extraHeader', 'http://gitlab.example.com/gitlab/lib.git')).toBeNull();
    expect(get(env, 'http.extraHeader', 'https://github.com/gitlab/lib.git')).toBeNull();
  });

  it('only https and http transports, for git and what it starts', () => {
    const url = 'https://gitlab.example.com/group/project.git';
    const env = gitEnvironment({ url, credentials: null, home: '/nowhere', ...submoduleGitConfig(url, url, 'group/project', vars({}), false) });
    const value = (key: string): string => execFileSync('git', ['config', '--get', key], { env, cwd: tmpdir(), encoding: 'utf8' }).trim();
    expect(value('protocol.allow')).toBe('never');
    expect(value('protocol.https.allow')).toBe('always');
    expect(value('protocol.http.allow')).toBe('always');
  });

  it('with clone_url, the project URL\'s own server gets the header too (gitlab-runner repoBaseInsteadOf)', () => {
    const cfg = submoduleGitConfig('http://gitlab-internal:8080/group/project.git', 'https://gitlab.example.com/group/project.git', 'group/project', vars({}), false);
    expect(cfg.headerUrls).toEqual(['http://gitlab-internal:8080/', 'https://gitlab.example.com/']);
  });

  it('GIT_SUBMODULE_FORCE_HTTPS: ssh URLs of the server\'s ssh host become its https base URL', () => {
    const url = 'https://gitlab.example.com/group/project.git';
    const env = (v: Record<string, string>) => gitEnvironment({ url, credentials: null, home: '/nowhere', ...submoduleGitConfig(url, url, 'group/project', vars(v), true) });
    const rewrite = (e: NodeJS.ProcessEnv, from: string): string =>
      execFileSync('git', ['ls-remote', '--get-url', from], { env: e, cwd: tmpdir(), encoding: 'utf8' }).trim();
    const plain = env({ CI_SERVER_HOST: 'gitlab.example.com' });
    expect(rewrite(plain, 'git@gitlab.example.com:group/lib.git')).toBe('https://gitlab.example.com/group/lib.git');
    expect(rewrite(plain, 'ssh://git@gitlab.example.com/group/lib.git')).toBe('https://gitlab.example.com/group/lib.git');
    expect(rewrite(plain, 'git@github.com:group/lib.git')).toBe('git@github.com:group/lib.git');
    const ported = env({ CI_SERVER_HOST: 'gitlab.example.com', CI_SERVER_SHELL_SSH_HOST: 'ssh.gitlab.example.com', CI_SERVER_SHELL_SSH_PORT: '2222' });
    expect(rewrite(ported, 'ssh://git@ssh.gitlab.example.com:2222/group/lib.git')).toBe('https://gitlab.example.com/group/lib.git');
    expect(rewrite(ported, 'git@gitlab.example.com:group/lib.git')).toBe('git@gitlab.example.com:group/lib.git');
    expect(submoduleGitConfig(url, url, 'group/project', vars({}), false).config.filter(([k]) => k.startsWith('url.'))).toEqual([]);
  });
});
