/** `berth list`: the runners in config.toml, with their short token only (never the whole token). */
import type { Command } from 'commander';
import { resolveConfigPath } from '../../config/config-path.js';
import { shortToken } from '../../gitlab/short-token.js';
import { info, printWarnings, resolveDeps, type ConfigCommandDeps } from './register.js';
import { CONFIG_OPTION } from './config-option.js';
import { configStore } from '../config-store.js';

export function register(program: Command, partialDeps: Partial<ConfigCommandDeps> = {}): void {
  program
    .command('list')
    .description('List the runners in config.toml')
    .option(...CONFIG_OPTION)
    .action(async (opts: { config?: string }) => {
      const deps = resolveDeps(partialDeps);
      const path = resolveConfigPath({ flag: opts.config, env: deps.env });
      const { loadConfig } = await configStore();
      const { config, warnings } = await loadConfig(path, { env: deps.env });
      printWarnings(deps, warnings);
      info(deps, `Listing configured runners  ConfigFile=${path}`);
      for (const r of config.runners) {
        info(deps, `${r.name.padEnd(36)} Executor=${r.executor} Token=${shortToken(r.token)} URL=${r.url}`);
      }
    });
}
