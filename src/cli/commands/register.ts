/**
 * `berth register`: gitlab-runner's register command for the Docker executor, non-interactive.
 * The flags come from one table (config/register-flags.ts); what to do is decided before anything
 * is sent or written (config/registration-plan.ts); then GitLab is asked, and the runner is added
 * to config.toml. If anything fails after GitLab registered the runner, it is unregistered again
 * unless --leave-runner is given.
 *
 * Also home of what the config.toml commands (register, verify, unregister, list) share: their
 * dependencies and how they print.
 */
import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import type { RunnerConfig } from '../../config/berth-config.js';
import { resolveConfigPath } from '../../config/config-path.js';
import type { ConfigWarning } from '../../config/config-issues.js';
import { parseFlagValue, readRegisterInput, registerFlagSpecs, type FlagSpec } from '../../config/register-flags.js';
import type { RegistrationPlan } from '../registration-plan.js';
import { shortToken } from '../../gitlab/short-token.js';
import type { RunnerCredentials, RunnerInfo, RunnerRegistrationApi } from '../../gitlab/runner-registration-api.js';
import { defaultRunnerInfo } from '../../gitlab/runner-features.js';
import { BerthError, errorMessage } from '../../shared/errors.js';
import { BERTH_REVISION, BERTH_VERSION } from '../../shared/version.js';
import { configStore } from '../config-store.js';

export interface ConfigCommandDeps {
  /** Builds the GitLab client for one runner (its `tls-ca-file`). */
  registrationApi(opts: { tlsCaFile?: string }): Promise<RunnerRegistrationApi>;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  now(): Date;
  hostname(): string;
}

/** The real dependencies; GitLabClient is loaded only when a command talks to GitLab. */
export function resolveDeps(deps: Partial<ConfigCommandDeps> = {}): ConfigCommandDeps {
  return {
    registrationApi: async (opts) => {
      const { GitLabClient } = await import('../../gitlab/gitlab-client.js');
      return new GitLabClient(opts);
    },
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    now: () => new Date(),
    hostname,
    ...deps,
  };
}

/** One GitLab client per `tls-ca-file` for the length of a command; `close()` frees their connections. */
export function apiPool(deps: ConfigCommandDeps): { get(runner: Pick<RunnerConfig, 'tlsCaFile'>): Promise<RunnerRegistrationApi>; close(): void } {
  const clients = new Map<string, Promise<RunnerRegistrationApi>>();
  return {
    get(runner) {
      let client = clients.get(runner.tlsCaFile);
      if (!client) {
        client = deps.registrationApi(runner.tlsCaFile ? { tlsCaFile: runner.tlsCaFile } : {});
        clients.set(runner.tlsCaFile, client);
      }
      return client;
    },
    close() {
      for (const client of clients.values()) void client.then((c) => (c as { close?: () => void }).close?.(), () => undefined);
    },
  };
}

export function info(deps: ConfigCommandDeps, text: string): void {
  deps.stdout.write(`${text}\n`);
}

export function warn(deps: ConfigCommandDeps, text: string): void {
  deps.stderr.write(`WARNING: ${text}\n`);
}

export function printWarnings(deps: ConfigCommandDeps, warnings: readonly ConfigWarning[]): void {
  for (const w of warnings) warn(deps, w.message);
}

/** What the runner tells GitLab about itself. */
export function runnerInfo(runner: RunnerConfig): RunnerInfo {
  return { ...defaultRunnerInfo(BERTH_VERSION, BERTH_REVISION), shell: runner.shell || 'bash' };
}

export function register(program: Command, partialDeps: Partial<ConfigCommandDeps> = {}): void {
  const cmd = program.command('register').description('Register a runner with GitLab and add it to config.toml (gitlab-runner compatible)');
  // The ~90 flags (one per config.toml runner key) are built only when `berth register` runs or
  // shows its help (commander's preSubcommand hook; the beforeHelp event for `berth help
  // register`): an Option and an event listener each, they cost every other command ~10 ms of
  // start-up.
  let options: Map<FlagSpec, Option> | null = null;
  const addFlags = (): Map<FlagSpec, Option> => {
    if (options) return options;
    options = new Map();
    for (const spec of registerFlagSpecs()) {
      const option = toOption(spec);
      options.set(spec, option);
      cmd.addOption(option);
    }
    return options;
  };
  program.hook('preSubcommand', (_program, sub) => {
    if (sub === cmd) addFlags();
  });
  cmd.on('beforeHelp', () => addFlags());
  cmd.action(async () => {
    const flags = addFlags();
    const deps = resolveDeps(partialDeps);
    const input = readRegisterInput([...flags.keys()], (spec) => cmd.getOptionValue(flags.get(spec)!.attributeName()), deps.env);
    await runRegister(input, deps);
  });
}

function toOption(spec: FlagSpec): Option {
  const names = `${spec.short ? `-${spec.short}, ` : ''}--${spec.long}`;
  const arg = spec.kind === 'bool' ? ' [bool]' : ' <value>';
  const env = spec.env ? ` [env ${spec.env}]` : '';
  return new Option(names + arg, spec.description + env).argParser((raw: string, previous: unknown) => parseFlagValue(spec, raw, previous));
}

async function runRegister(input: ReturnType<typeof readRegisterInput>, deps: ConfigCommandDeps): Promise<void> {
  const [{ loadConfig, saveConfig, loadOrCreateSystemId }, { planRegistration }, { loadRunnerTemplate }] = await Promise.all([
    configStore(),
    import('../registration-plan.js'),
    import('../../config/template-merge.js'),
  ]);
  const template = input.options.templateConfig ? await loadRunnerTemplate(input.options.templateConfig, deps.env) : undefined;
  if (template) printWarnings(deps, template.warnings);
  const plan = planRegistration(input, template?.runner, deps.hostname());
  for (const note of plan.notes) (note.level === 'info' ? info : warn)(deps, note.text);

  const configPath = resolveConfigPath({ flag: input.options.config, env: deps.env });
  const { config, warnings } = await loadConfig(configPath, { env: deps.env, allowMissing: true });
  printWarnings(deps, warnings);
  if (plan.mode === 'authentication-token' && config.runners.some((r) => r.token === plan.token)) {
    warn(deps, 'A runner with this system ID and token has already been registered.');
  }
  const systemId = await loadOrCreateSystemId(configPath);
  const apis = apiPool(deps);
  try {
    const api = await apis.get(plan.runner);
    const { runner, registered } = await contactGitLab(plan, api, systemId, deps);
    try {
      config.runners.push(runner);
      await saveConfig(configPath, config, { env: deps.env });
    } catch (err) {
      if (registered && !input.options.leaveRunner) await unregisterAfterFailure(api, plan, runner, systemId, deps);
      throw err;
    }
  } finally {
    apis.close();
  }
  const runner = config.runners[config.runners.length - 1]!;
  for (const [what, value] of [['job concurrency limit', runner.limit], ['request concurrency', runner.requestConcurrency]] as const) {
    if (config.concurrent < value) {
      warn(deps, `The specified runner ${what} (${value}) is larger than current global concurrency limit (${config.concurrent}). The global concurrent limit will not be increased and takes precedence.`);
    }
  }
  info(deps, "Runner registered successfully. Feel free to start it, but if it's running already the config should be automatically reloaded!");
  info(deps, `Configuration (with the authentication token) was saved in ${JSON.stringify(configPath)}`);
}

async function contactGitLab(
  plan: RegistrationPlan,
  api: RunnerRegistrationApi,
  systemId: string,
  deps: ConfigCommandDeps,
): Promise<{ runner: RunnerConfig; registered: boolean }> {
  const runnerInfoSent = runnerInfo(plan.runner);
  const { toIsoDateTime } = await import('../../config/go-values.js');
  const obtainedAt = toIsoDateTime(new Date(Math.floor(deps.now().getTime() / 1000) * 1000));
  const withCredentials = (c: RunnerCredentials, token: string): RunnerConfig => ({
    ...plan.runner,
    id: c.id,
    token,
    tokenObtainedAt: obtainedAt,
    tokenExpiresAt: c.tokenExpiresAt ? toIsoDateTime(new Date(c.tokenExpiresAt)) : '',
  });
  if (plan.mode === 'registration-token') {
    const c = await call('Failed to register the runner', () =>
      api.registerRunner(plan.url, { ...plan.legacy, registrationToken: plan.token, info: runnerInfoSent }),
    );
    info(deps, `Registering runner... succeeded  runner=${shortToken(c.token)}`);
    return { runner: withCredentials(c, c.token), registered: true };
  }
  const c = await call(
    plan.mode === 'verify-only' ? 'Failed to verify the runner. You may be having network problems' : 'Failed to verify the runner',
    () => api.verifyRunner(plan.url, plan.token, systemId, runnerInfoSent),
  );
  if (plan.mode === 'verify-only') return { runner: plan.runner, registered: false };
  if (!c.id) {
    throw new BerthError('register_failed', 'Failed to verify the runner: GitLab returned no runner id. Runner authentication tokens need GitLab 15.10 or newer');
  }
  return { runner: withCredentials(c, plan.token), registered: true };
}

async function call<T>(failure: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new BerthError('register_failed', `${failure}: ${errorMessage(err)}`, { cause: err });
  }
}

async function unregisterAfterFailure(
  api: RunnerRegistrationApi,
  plan: RegistrationPlan,
  runner: RunnerConfig,
  systemId: string,
  deps: ConfigCommandDeps,
): Promise<void> {
  warn(deps, 'Registration did not complete: unregistering the runner from GitLab again (pass --leave-runner to keep it)');
  try {
    if (plan.mode === 'authentication-token') await api.unregisterRunnerManager(runner.url, runner.token, systemId);
    else await api.unregisterRunner(runner.url, runner.token);
  } catch (err) {
    deps.stderr.write(`ERROR: Failed to unregister the runner ${shortToken(runner.token)} from GitLab: ${errorMessage(err)}. Remove it in GitLab's runner settings\n`);
  }
}
