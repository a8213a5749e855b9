/**
 * Changes one `[[runners]]` entry of config.toml in place, as gitlab-runner's token reset does
 * (`configfile.Load(WithMutateOnLoad(...))` then `Save()`): the file is read again (so edits
 * made since the daemon last loaded it are kept), the runner with `token` is handed to `change`,
 * and the file is saved (loadConfig + saveConfig, as register and unregister do: atomic, mode
 * 0600) only when `change` returns true. A runner no longer in the file is not an error:
 * the result says so and nothing is written.
 */
import type { RunnerConfig } from './berth-config.js';
import { loadConfig } from './load-config.js';
import { saveConfig } from './save-config.js';

export type RunnerUpdate = 'saved' | 'unchanged' | 'not-found';

export async function updateRunnerInConfig(
  path: string,
  token: string,
  change: (runner: RunnerConfig) => boolean | Promise<boolean>,
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<RunnerUpdate> {
  const env = opts.env ?? process.env;
  const { config } = await loadConfig(path, { env });
  const runner = config.runners.find((r) => r.token === token);
  if (!runner) return 'not-found';
  if (!(await change(runner))) return 'unchanged';
  await saveConfig(path, config, { env });
  return 'saved';
}
