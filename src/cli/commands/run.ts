/**
 * `berth run`: the runner daemon (gitlab-runner run). Takes gitlab-runner's run options too, so
 * the unit `gitlab-runner install` writes (`run --config ... --working-directory ... --service ...
 * --user ... [--syslog]`) starts berth unchanged; the ones that only mean something to its shell
 * executor or its service manager are accepted with a warning.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { LOG_LEVEL_NAMES, parseLogLevel, type RunLogLevel } from '../../config/log-level.js';
import { InputError, errorMessage } from '../../shared/errors.js';
import { BERTH_VERSION } from '../../shared/version.js';
import { CONFIG_OPTION } from './config-option.js';
import type { DaemonOptions } from '../../daemon/run-daemon.js';
import { parseGoBool } from '../../shared/go-bool.js';

/** How long `berth run` lets its last log lines flush after it returned, before it ends itself. */
const EXIT_GRACE_MS = 1_000;

export interface RunFlags {
  config?: string;
  listenAddress?: string;
  logLevel?: RunLogLevel;
  logFormat?: 'runner' | 'text' | 'json';
  workingDirectory?: string;
  service?: string;
  user?: string;
  syslog?: boolean;
}

export interface RunCommandDeps {
  env: NodeJS.ProcessEnv;
  chdir(dir: string): void;
  /** Starts the daemon; resolves with the exit code. */
  start(opts: DaemonOptions): Promise<number>;
  /** Called with the exit code once the daemon returned (default: end the process after a grace). */
  exit(code: number): void;
}


/** gitlab-runner's levels (logrus), mapped onto berth's. */
export function logLevelArg(value: string): RunLogLevel {
  const level = parseLogLevel(value);
  if (!level) throw new InvalidArgumentError(`Allowed choices are ${LOG_LEVEL_NAMES.join(', ')} (in any case).`);
  return level;
}

/** The daemon's options from the flags of `run` and the global `--debug`, with the notes to log. */
export async function daemonOptions(flags: RunFlags, debug: boolean, deps: Pick<RunCommandDeps, 'env' | 'chdir'>): Promise<DaemonOptions> {
  const warnings: string[] = [];
  if (flags.workingDirectory) {
    // gitlab-runner changes to it before it reads the config (a relative --config is found there).
    try {
      deps.chdir(flags.workingDirectory);
    } catch (err) {
      throw new InputError(`--working-directory ${flags.workingDirectory}: ${errorMessage(err)}`, { key: '--working-directory' }, { cause: err });
    }
    warnings.push(`--working-directory ${flags.workingDirectory}: berth runs in it, but builds and caches of its Docker jobs stay in Docker volumes (gitlab-runner puts a shell executor's there)`);
  }
  if (flags.user) warnings.push(`--user ${flags.user} has no effect: it is the user of gitlab-runner's shell executor, and berth runs every job in Docker (set [runners.docker] user for the job's user)`);
  if (flags.service) warnings.push(`--service ${flags.service} has no effect: berth installs no system service`);
  if (flags.syslog || parseGoBool(deps.env['LOG_SYSLOG']) === true) warnings.push('--syslog has no effect: berth logs to stderr (journald picks it up under systemd)');
  const { resolveConfigPath } = await import('../../config/config-path.js');
  const listenAddress = flags.listenAddress || deps.env['LISTEN_ADDRESS'];
  const logLevel = debug ? 'debug' : flags.logLevel;
  return {
    configPath: resolveConfigPath({ flag: flags.config, env: deps.env }),
    version: BERTH_VERSION,
    ...(listenAddress ? { listenAddress } : {}),
    ...(logLevel ? { logLevel } : {}),
    ...(flags.logFormat ? { logFormat: flags.logFormat } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
}

export function register(program: Command, partialDeps: Partial<RunCommandDeps> = {}): void {
  const deps: RunCommandDeps = {
    env: process.env,
    chdir: (dir) => process.chdir(dir),
    start: async (opts) => (await import('../../daemon/run-daemon.js')).runDaemon(opts),
    // gitlab-runner's process ends when its run returns. Here, work the shutdown gave up on (a
    // final update still retrying against a GitLab that does not answer, after shutdown_timeout
    // or a second signal) would keep Node alive: end the process once the logs had a moment.
    exit: (code) => {
      process.exitCode = code;
      setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
    },
    ...partialDeps,
  };
  if (!program.options.some((o) => o.long === '--debug')) {
    program.addOption(new Option('--debug', 'Debug log level (as gitlab-runner\'s global --debug; berth run)'));
  }
  program
    .command('run')
    .description('Poll GitLab for jobs and run them in Docker containers (the runner daemon)')
    .option(...CONFIG_OPTION)
    .option('--listen-address <host:port>', 'Serve Prometheus metrics here (default: $LISTEN_ADDRESS, else listen_address from config.toml)')
    .addOption(new Option('--log-level <level>', `Log level: ${LOG_LEVEL_NAMES.join(', ')} (any case, as gitlab-runner)`).argParser(logLevelArg))
    .addOption(new Option('--log-format <format>', 'Log format').choices(['runner', 'text', 'json']))
    .option('-d, --working-directory <dir>', 'Change to this directory first (gitlab-runner; builds of Docker jobs do not go there)')
    .option('-n, --service <name>', 'Accepted for gitlab-runner compatibility; no effect')
    .option('-u, --user <user>', 'Accepted for gitlab-runner compatibility (its shell executor\'s user); no effect')
    .option('--syslog', 'Accepted for gitlab-runner compatibility ($LOG_SYSLOG); berth logs to stderr')
    .action(async (flags: RunFlags, cmd: Command) => {
      const debug = cmd.optsWithGlobals<{ debug?: boolean }>().debug === true;
      deps.exit(await deps.start(await daemonOptions(flags, debug, deps)));
    });
}
