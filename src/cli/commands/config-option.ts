/** The `--config` option of the commands that read config.toml (flags and help as gitlab-runner's). */
export const CONFIG_OPTION = ['-c, --config <path>', 'Config file [env CONFIG_FILE]'] as const;
