/** `berth run`: the runner daemon (gitlab-runner run). */
import { InvalidArgumentError, type Command, Option } from 'commander';
import { LOG_LEVEL_NAMES, parseLogLevel, type RunLogLevel } from '../../config/log-level.js';
import { BERTH_VERSION } from '../../shared/version.js';
import { CONFIG_OPTION } from './config-option.js';

/** How long `berth run` lets its last log lines flush after it returned, before it ends itself. */
const EXIT_GRACE_MS = 1_000;

/** gitlab-runner's levels (logrus), mapped onto berth's. */
export function logLevelArg(value: string): RunLogLevel {
  const level = parseLogLevel(value);
  if (!level) throw new InvalidArgumentError(`Allowed choices are ${LOG_LEVEL_NAMES.join(', ')} (in any case).`);
  return level;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('Poll GitLab for jobs and run them in Docker containers (the runner daemon)')
    .option(...CONFIG_OPTION)
    .option('--listen-address <host:port>', 'Serve Prometheus metrics here (default: listen_address from config.toml)')
    .addOption(new Option('--log-level <level>', `Log level: ${LOG_LEVEL_NAMES.join(', ')} (any case, as gitlab-runner)`).argParser(logLevelArg))
    .addOption(new Option('--log-format <format>', 'Log format').choices(['runner', 'text', 'json']))
    .action(async (opts: { config?: string; listenAddress?: string; logLevel?: RunLogLevel; logFormat?: 'runner' | 'text' | 'json' }) => {
      const [{ resolveConfigPath }, { runDaemon }] = await Promise.all([
        import('../../config/config-path.js'),
        import('../../daemon/run-daemon.js'),
      ]);
      const code = await runDaemon({
        configPath: resolveConfigPath({ flag: opts.config }),
        version: BERTH_VERSION,
        ...(opts.listenAddress ? { listenAddress: opts.listenAddress } : {}),
        ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
        ...(opts.logFormat ? { logFormat: opts.logFormat } : {}),
      });
      process.exitCode = code;
      // gitlab-runner's process ends when its run returns. Here, work the shutdown gave up on (a
      // final update still retrying against a GitLab that does not answer, after shutdown_timeout
      // or a second signal) would keep Node alive: end the process once the logs had a moment.
      setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
    });
}
