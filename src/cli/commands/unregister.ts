/**
 * `berth unregister`: removes a runner from GitLab and from config.toml, selected by --name,
 * by --token (and --url), or all of them with --all-runners. `glrt-` tokens remove only this
 * host's runner manager (`DELETE /runners/managers`), others the runner (`DELETE /runners`).
 */
import type { Command } from 'commander';
import type { RunnerConfig } from '../../config/berth-config.js';
import { resolveConfigPath } from '../../config/config-path.js';
import { shortToken } from '../../gitlab/short-token.js';
import { BerthError, errorMessage, InputError } from '../../shared/errors.js';
import { apiPool, info, printWarnings, resolveDeps, warn, type ConfigCommandDeps } from './register.js';
import { matchesCredentials } from './verify.js';
import { CONFIG_OPTION } from './config-option.js';
import { configStore } from '../config-store.js';

interface UnregisterOptions {
  config?: string;
  name?: string;
  url?: string;
  token?: string;
  allRunners?: boolean;
}

type Credentials = Pick<RunnerConfig, 'name' | 'url' | 'token' | 'tlsCaFile'>;

export function register(program: Command, partialDeps: Partial<ConfigCommandDeps> = {}): void {
  program
    .command('unregister')
    .description('Unregister a runner from GitLab and remove it from config.toml')
    .option(...CONFIG_OPTION)
    .option('-n, --name <name>', 'Name of the runner to unregister')
    .option('-u, --url <url>', 'GitLab URL of the runner to unregister [env CI_SERVER_URL]')
    .option('-t, --token <token>', 'Token of the runner to unregister [env CI_SERVER_TOKEN]')
    .option('--all-runners', 'Unregister all runners')
    .action((opts: UnregisterOptions) => runUnregister(opts, resolveDeps(partialDeps)));
}

async function runUnregister(flags: UnregisterOptions, deps: ConfigCommandDeps): Promise<void> {
  // gitlab-runner's unregister embeds RunnerCredentials: --url and --token fall back to these.
  const opts: UnregisterOptions = { ...flags, url: flags.url || deps.env['CI_SERVER_URL'], token: flags.token || deps.env['CI_SERVER_TOKEN'] };
  const path = resolveConfigPath({ flag: opts.config, env: deps.env });
  const { loadConfig, saveConfig, loadOrCreateSystemId } = await configStore();
  const { isAuthenticationToken } = await import('../registration-plan.js');
  const { config, warnings } = await loadConfig(path, { env: deps.env, allowMissing: !!(opts.url && opts.token) });
  printWarnings(deps, warnings);
  const target = opts.allRunners ? undefined : selectRunner(config.runners, opts);
  const systemId = await loadOrCreateSystemId(path);
  const apis = apiPool(deps);
  const unregister = async (r: Credentials): Promise<void> => {
    try {
      const api = await apis.get(r);
      if (isAuthenticationToken(r.token)) await api.unregisterRunnerManager(r.url, r.token, systemId);
      else await api.unregisterRunner(r.url, r.token);
    } catch (err) {
      throw new BerthError('unregister_failed', `Failed to unregister runner ${JSON.stringify(r.name || shortToken(r.token))}: ${errorMessage(err)}`, { cause: err });
    }
    info(deps, `Unregistering runner from GitLab succeeded  runner=${shortToken(r.token)}`);
  };

  let remaining: RunnerConfig[];
  const failures: string[] = [];
  try {
    if (!target) {
      warn(deps, 'Unregistering all runners');
      remaining = [];
      for (const runner of config.runners) {
        try {
          await unregister(runner);
        } catch (err) {
          failures.push(errorMessage(err));
          deps.stderr.write(`ERROR: ${errorMessage(err)}\n`);
          remaining.push(runner);
        }
      }
    } else {
      await unregister(target);
      remaining = config.runners.filter((r) => !(r.url === target.url && r.token === target.token));
    }
  } finally {
    apis.close();
  }
  if (remaining.length !== config.runners.length) {
    config.runners = remaining;
    await saveConfig(path, config, { env: deps.env });
    info(deps, `Updated ${path}`);
  }
  if (failures.length) throw new BerthError('unregister_failed', `Failed to unregister ${failures.length} runner(s); they stay in ${path}`);
}

function selectRunner(runners: RunnerConfig[], opts: UnregisterOptions): Credentials {
  if (!opts.name && !opts.token) {
    throw new InputError('berth unregister needs --name, --token (with --url) or --all-runners', { key: '--name' });
  }
  const found = runners.find(
    (r) => (!opts.name || r.name === opts.name) && (!opts.token || matchesCredentials(r, opts.url, opts.token)),
  );
  if (found) return found;
  // Like older gitlab-runner releases: a runner not in config.toml can still be removed from GitLab.
  if (opts.url && opts.token) return { name: opts.name ?? '', url: opts.url, token: opts.token, tlsCaFile: '' };
  const what = opts.name ? `the name '${opts.name}'` : `the token '${shortToken(opts.token ?? '')}'`;
  throw new InputError(`Could not find a runner with ${what} in the config file`, { key: opts.name ? '--name' : '--token' });
}
