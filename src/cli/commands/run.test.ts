import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonOptions } from '../../daemon/run-daemon.js';
import { logLevelArg, register } from './run.js';

describe('berth run --log-level', () => {
  it('takes gitlab-runner\'s levels in any case', () => {
    expect(['trace', 'Debug', 'INFO', 'warning', 'warn', 'fatal', 'panic'].map(logLevelArg)).toEqual(['debug', 'debug', 'info', 'warn', 'warn', 'error', 'error']);
    expect(() => logLevelArg('loud')).toThrow(InvalidArgumentError);
  });
});

describe('berth run: gitlab-runner\'s run options', () => {
  let dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    dirs = [];
  });

  async function parse(argv: string[], env: NodeJS.ProcessEnv = {}) {
    const started: DaemonOptions[] = [];
    const chdirs: string[] = [];
    const exits: number[] = [];
    const program = new Command('berth').exitOverride();
    register(program, {
      env,
      chdir: (d) => chdirs.push(d),
      start: (o) => {
        started.push(o);
        return Promise.resolve(0);
      },
      exit: (c) => exits.push(c),
    });
    await program.parseAsync(['node', 'berth', ...argv]);
    return { opts: started[0]!, chdirs, exits };
  }

  it('takes the options of the unit gitlab-runner install writes, and warns about the ones without effect', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-run-'));
    dirs.push(dir);
    const { opts, chdirs, exits } = await parse(['run', '--config', '/etc/gitlab-runner/config.toml', '--working-directory', dir, '--service', 'gitlab-runner', '--user', 'gitlab-runner', '--syslog']);
    expect(chdirs).toEqual([dir]);
    expect(exits).toEqual([0]);
    expect(opts.configPath).toBe('/etc/gitlab-runner/config.toml');
    expect(opts.warnings).toEqual([
      `--working-directory ${dir}: berth runs in it, but builds and caches of its Docker jobs stay in Docker volumes (gitlab-runner puts a shell executor's there)`,
      '--user gitlab-runner has no effect: it is the user of gitlab-runner\'s shell executor, and berth runs every job in Docker (set [runners.docker] user for the job\'s user)',
      '--service gitlab-runner has no effect: berth installs no system service',
      '--syslog has no effect: berth logs to stderr (journald picks it up under systemd)',
    ]);
    const short = await parse(['run', '-c', 'c.toml', '-d', dir, '-n', 's', '-u', 'u']);
    expect(short.chdirs).toEqual([dir]);
    expect(short.opts.warnings).toHaveLength(3);
  });

  it('global --debug is log level debug; LISTEN_ADDRESS is --listen-address; LOG_SYSLOG is --syslog', async () => {
    const { opts } = await parse(['--debug', 'run', '-c', 'c.toml', '--log-level', 'error'], { LISTEN_ADDRESS: '127.0.0.1:19253', LOG_SYSLOG: 'true' });
    expect(opts).toMatchObject({ configPath: 'c.toml', logLevel: 'debug', listenAddress: '127.0.0.1:19253' });
    expect(opts.warnings).toEqual(['--syslog has no effect: berth logs to stderr (journald picks it up under systemd)']);
    const flagWins = await parse(['run', '-c', 'c.toml', '--listen-address', ':9252', '--log-level', 'WARNING'], { LISTEN_ADDRESS: '127.0.0.1:19253' });
    expect(flagWins.opts).toMatchObject({ listenAddress: ':9252', logLevel: 'warn' });
    expect(flagWins.opts.warnings).toBeUndefined();
  });
});
