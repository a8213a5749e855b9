/**
 * Where config.toml is: `--config`/`-c`, else `$CONFIG_FILE`, else `/etc/berth/config.toml` for
 * root and `~/.berth/config.toml` for anyone else (gitlab-runner: /etc/gitlab-runner, ~/.gitlab-runner).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ConfigPathSources {
  /** The `--config` flag, if given. */
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  isRoot?: boolean;
  home?: string;
}

export function defaultConfigPath(opts: Pick<ConfigPathSources, 'isRoot' | 'home'> = {}): string {
  const isRoot = opts.isRoot ?? process.getuid?.() === 0;
  return isRoot ? '/etc/berth/config.toml' : join(opts.home ?? homedir(), '.berth', 'config.toml');
}

export function resolveConfigPath(opts: ConfigPathSources = {}): string {
  return opts.flag || (opts.env ?? process.env).CONFIG_FILE || defaultConfigPath(opts);
}
