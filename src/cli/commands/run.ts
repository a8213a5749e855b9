/** `berth run`: the runner daemon (gitlab-runner run). */
import { Command, Option } from 'commander';
import { BERTH_VERSION } from '../../shared/version.js';
import { CONFIG_OPTION } from './config-option.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('Poll GitLab for jobs and run them in Docker containers (the runner daemon)')
    .option(...CONFIG_OPTION)
    .option('--listen-address <host:port>', 'Serve Prometheus metrics here (default: listen_address from config.toml)')
    .addOption(new Option('--log-level <level>', 'Log level').choices(['debug', 'info', 'warn', 'error']))
    .addOption(new Option('--log-format <format>', 'Log format').choices(['runner', 'text', 'json']))
    .action(async (opts: { config?: string; listenAddress?: string; logLevel?: 'debug' | 'info' | 'warn' | 'error'; logFormat?: 'runner' | 'text' | 'json' }) => {
      const [{ resolveConfigPath }, { runDaemon }] = await Promise.all([
        import('../../config/config-path.js'),
        import('../../daemon/run-daemon.js'),
      ]);
      process.exitCode = await runDaemon({
        configPath: resolveConfigPath({ flag: opts.config }),
        version: BERTH_VERSION,
        ...(opts.listenAddress ? { listenAddress: opts.listenAddress } : {}),
        ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
        ...(opts.logFormat ? { logFormat: opts.logFormat } : {}),
      });
    });
}
