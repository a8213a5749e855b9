/**
 * `berth verify`: asks GitLab whether each runner in config.toml (or the ones selected with
 * --name / --url / --token) is still valid, as gitlab-runner's verify does. With --delete the
 * runners GitLab rejects (403) are removed from config.toml; a runner that could not be checked
 * (network, server error) is never removed.
 */
import type { Command } from 'commander';
import type { RunnerConfig } from '../../config/berth-config.js';
import { resolveConfigPath } from '../../config/config-path.js';
import { shortToken } from '../../gitlab/short-token.js';
import { BerthError, errorMessage, InputError } from '../../shared/errors.js';
import { apiPool, info, printWarnings, resolveDeps, runnerInfo, type ConfigCommandDeps } from './register.js';
import { CONFIG_OPTION } from './config-option.js';
import { configStore } from '../config-store.js';

interface VerifyOptions {
  config?: string;
  name?: string;
  url?: string;
  token?: string;
  delete?: boolean;
}

export function register(program: Command, partialDeps: Partial<ConfigCommandDeps> = {}): void {
  program
    .command('verify')
    .description('Check with GitLab that the runners in config.toml are still registered')
    .option(...CONFIG_OPTION)
    .option('-n, --name <name>', 'Name of the runner to verify')
    .option('-u, --url <url>', 'GitLab URL of the runner to verify')
    .option('-t, --token <token>', 'Token of the runner to verify')
    .option('--delete', 'Remove the runners GitLab no longer accepts from config.toml')
    .action((opts: VerifyOptions) => runVerify(opts, resolveDeps(partialDeps)));
}

/** 403 from GitLab: the token is not valid (any other failure says nothing about the token). */
export function isInvalidTokenError(err: unknown): boolean {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  return e?.status === 403 || e?.statusCode === 403;
}

/** gitlab-runner's RunnerCredentials.SameAs: same token, and the same URL unless either is empty. */
export function matchesCredentials(runner: RunnerConfig, url: string | undefined, token: string | undefined): boolean {
  return !!token && runner.token === token && (!url || !runner.url || runner.url === url);
}

async function runVerify(opts: VerifyOptions, deps: ConfigCommandDeps): Promise<void> {
  const path = resolveConfigPath({ flag: opts.config, env: deps.env });
  const { loadConfig, saveConfig, loadOrCreateSystemId } = await configStore();
  const { config, warnings } = await loadConfig(path, { env: deps.env });
  printWarnings(deps, warnings);
  const hasSelector = !!(opts.name || opts.url || opts.token);
  const systemId = await loadOrCreateSystemId(path);
  const keep: RunnerConfig[] = [];
  let matched = 0;
  let invalid = 0;
  let failed = 0;
  const apis = apiPool(deps);
  try {
    for (const runner of config.runners) {
      if (hasSelector && runner.name !== opts.name && !matchesCredentials(runner, opts.url, opts.token)) {
        keep.push(runner);
        continue;
      }
      matched++;
      const fields = `runner=${shortToken(runner.token)} runner_name=${runner.name}`;
      try {
        await (await apis.get(runner)).verifyRunner(runner.url, runner.token, systemId, runnerInfo(runner));
        info(deps, `Verifying runner... is valid  ${fields}`);
        keep.push(runner);
      } catch (err) {
        if (isInvalidTokenError(err)) {
          info(deps, `Verifying runner... is not valid  ${fields}`);
          invalid++;
        } else {
          deps.stderr.write(`ERROR: Verifying runner... failed  ${fields}: ${errorMessage(err)}\n`);
          failed++;
          keep.push(runner);
        }
      }
    }
  } finally {
    apis.close();
  }
  if (hasSelector && matched === 0) throw new InputError('No runner matches the filtering parameters (--name, --url, --token)');
  if (invalid && opts.delete) {
    config.runners = keep;
    await saveConfig(path, config, { env: deps.env });
    info(deps, `Updated ${path}`);
  }
  if ((invalid && !opts.delete) || failed) {
    const hint = invalid && !opts.delete ? ': run "berth verify --delete" to remove the runners GitLab no longer accepts' : '';
    throw new BerthError('verify_failed', `Failed to verify runners${hint}`);
  }
}
