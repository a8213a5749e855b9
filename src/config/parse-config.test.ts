import { describe, expect, it } from 'vitest';
import { InputError } from '../shared/errors.js';
import { defaultConfig } from './berth-config.js';
import { parseConfig } from './parse-config.js';
import { FULL_CONFIG, GITLAB_RUNNER_WRITTEN } from '../../test/support/config/gitlab-runner-config.js';

const parseText = (text: string, env: NodeJS.ProcessEnv = {}, template = false) =>
  parseConfig(text, { file: 'config.toml', env, ...(template ? { template } : {}) });

function errorOf(text: string): InputError {
  try {
    parseText(text);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

const RUNNER = '[[runners]]\n  name = "r"\n  url = "https://gitlab.test"\n  token = "glrt-x"\n  executor = "docker"\n';

describe('parseConfig: defaults', () => {
  it('gives gitlab-runner defaults to absent keys', () => {
    const { config, warnings } = parseText(RUNNER);
    expect(warnings).toEqual([]);
    expect(config.concurrent).toBe(1);
    expect(config.checkInterval).toBe(3);
    expect(config.shutdownTimeout).toBe(30);
    expect(config.connectionMaxAge).toBe(15 * 60_000);
    expect(config.sessionServer.sessionTimeout).toBe(1800);
    const r = config.runners[0]!;
    expect(r.requestConcurrency).toBe(1);
    expect(r.outputLimit).toBe(4096);
    expect(r.unhealthyRequestsLimit).toBe(3);
    expect(r.unhealthyInterval).toBe(3_600_000);
    expect(r.jobStatusFinalUpdateRetryLimit).toBe(10);
    expect(r.limit).toBe(0);
    expect(r.docker.waitForServicesTimeout).toBe(30);
    expect(r.docker.servicesLimit).toBe(-1);
    expect(r.docker.servicesPrivileged).toBeNull();
    expect(r.docker.pullPolicy).toEqual([]);
    expect(r.customBuildDir.enabled).toBeNull();
  });

  it('an empty file is the default config', () => {
    expect(parseText('').config).toEqual(defaultConfig());
  });

  it('reads a config.toml written by gitlab-runner without warnings', () => {
    const { config, warnings } = parseText(GITLAB_RUNNER_WRITTEN);
    expect(warnings).toEqual([]);
    expect(config.checkInterval).toBe(0);
    const r = config.runners[0]!;
    expect(r).toMatchObject({ name: 'docker-runner', id: 42, executor: 'docker', tokenObtainedAt: '2024-05-06T07:08:09Z', tokenExpiresAt: '' });
    expect(r.docker).toMatchObject({ image: 'alpine:latest', volumes: ['/cache'], privileged: false });
  });

  it('reads every kind of value', () => {
    const { config, warnings } = parseText(FULL_CONFIG);
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({ concurrent: 4, logLevel: 'warning', logFormat: 'json', connectionMaxAge: 20 * 60_000 });
    const r = config.runners[0]!;
    expect(r.unhealthyInterval).toBe(90 * 60_000);
    expect(r.strictCheckInterval).toBe(true);
    expect(r.preBuildScript).toBe('echo pre\necho "quoted"\n');
    expect(r.featureFlags).toEqual({ FF_NETWORK_PER_BUILD: true, FF_USE_FASTZIP: false });
    expect(r.customBuildDir.enabled).toBe(true);
    expect(r.docker.pullPolicy).toEqual(['if-not-present', 'always']);
    expect(r.docker.tmpfs).toEqual({ '/tmp': 'rw,size=64m' });
    expect(r.docker.services).toEqual([
      { name: 'redis:7', alias: 'cache,kv store', entrypoint: [], command: [], environment: [], suspendDataPath: '' },
      { name: 'postgres:16', alias: '', entrypoint: ['docker-entrypoint.sh'], command: ['postgres', '-c', 'fsync=off'], environment: ['POSTGRES_PASSWORD=secret'], suspendDataPath: '' },
    ]);
  });

  it('accepts pull_policy as a string or a list, and services as plain names', () => {
    const text = `${RUNNER}  [runners.docker]\n    pull_policy = "never"\n    services = ["redis:7", { name = "pg", alias = "db" }]\n`;
    const d = parseText(text).config.runners[0]!.docker;
    expect(d.pullPolicy).toEqual(['never']);
    expect(d.services.map((s) => [s.name, s.alias])).toEqual([['redis:7', ''], ['pg', 'db']]);
  });

  it('reads a Go duration given as integer nanoseconds', () => {
    expect(parseText('connection_max_age = 60000000000\n').config.connectionMaxAge).toBe(60_000);
  });

  it('reads [runners.artifact] upload_timeout and response_header_timeout (gitlab-runner\'s ArtifactConfig), without warnings', () => {
    const { config, warnings } = parseText(`${RUNNER}  [runners.artifact]\n    upload_timeout = "30m"\n    response_header_timeout = "90s"\n`);
    expect(warnings).toEqual([]);
    expect(config.runners[0]!.artifact).toEqual({ uploadTimeout: 30 * 60_000, responseHeaderTimeout: 90_000 });
    expect(parseText(RUNNER).config.runners[0]!.artifact).toEqual({ uploadTimeout: 0, responseHeaderTimeout: 0 });
  });
});

describe('parseConfig: errors name file, line and key', () => {
  it('rejects an invalid pull policy', () => {
    const text = `concurrent = 1\n\n${RUNNER}  [runners.docker]\n    image = "x"\n    pull_policy = "sometimes"\n`;
    const err = errorOf(text);
    expect(err.message).toBe('config.toml:10: [[runners]][0].docker.pull_policy: "sometimes" is not one of always, if-not-present, never');
    expect(err).toMatchObject({ file: 'config.toml', line: 10, key: '[[runners]][0].docker.pull_policy' });
  });

  it('finds the line inside the second runner and a service table', () => {
    const text = `${RUNNER}${RUNNER}  [runners.docker]\n    [[runners.docker.services]]\n      name = "a"\n    [[runners.docker.services]]\n      name = 7\n`;
    expect(errorOf(text).message).toBe('config.toml:15: [[runners]][1].docker.services[1].name: expected a string, got 7');
  });

  it('names the bad value type', () => {
    expect(errorOf('concurrent = "4"\n').message).toBe('config.toml:1: concurrent: expected a whole number, got "4"');
    expect(errorOf(`${RUNNER}  limit = 1.5\n`).message).toBe('config.toml:6: [[runners]][0].limit: expected a whole number, got 1.5');
    expect(errorOf(`${RUNNER}  [runners.docker]\n    privileged = "yes"\n`).message).toBe(
      'config.toml:7: [[runners]][0].docker.privileged: expected true or false, got "yes"',
    );
    expect(errorOf(`${RUNNER}  unhealthy_interval = "5 minutes"\n`).message).toMatch(
      /^config\.toml:6: \[\[runners\]\]\[0\]\.unhealthy_interval: "5 minutes" is not a duration/,
    );
    expect(errorOf(`log_format = "xml"\n`).message).toBe('config.toml:1: log_format: "xml" is not one of runner, text, json');
  });

  it('never echoes the token', () => {
    const err = errorOf('[[runners]]\n  token = 123456789\n');
    expect(err.message).toBe('config.toml:2: [[runners]][0].token: expected a string');
  });

  it('makes concurrent = 0 fatal', () => {
    expect(errorOf('concurrent = 0\n').message).toBe('config.toml:1: concurrent: 0 is not allowed: use 1 or more');
  });

  it('skips a runner with another executor than docker, with a warning naming it, and keeps it for saving', () => {
    const shell = '[[runners]]\n  name = "shell-1"\n  executor = "shell"\n  [runners.custom_build_dir]\n    enabled = "not a bool"\n';
    const autoscaler = '[[runners]]\n  executor = "docker-autoscaler"\n';
    const text = `${shell}${RUNNER}${autoscaler}${RUNNER.replace('"r"', '"r2"')}  limit = -1\n`;
    expect(errorOf(text).message).toBe('config.toml:18: [[runners]][3].limit: -1 is not allowed: use 0 or more');
    const { config, warnings } = parseText(text.replace('limit = -1', 'limit = 1'));
    expect(config.runners.map((r) => r.name)).toEqual(['r', 'r2']);
    expect(warnings.map((w) => w.message)).toEqual([
      'config.toml:3: [[runners]][0] "shell-1": executor "shell" is not supported by berth (it runs every job in Docker): this runner is skipped and kept as it is in the file',
      'config.toml:12: [[runners]][2]: executor "docker-autoscaler" is not supported by berth (it runs every job in Docker): this runner is skipped and kept as it is in the file',
    ]);
    expect(config.runnerOrder?.map((r) => ('skipped' in r ? `skipped ${r.executor}` : r.name))).toEqual(['skipped shell', 'r', 'skipped docker-autoscaler', 'r2']);
    expect(parseText(RUNNER).config.runnerOrder).toBeUndefined();
  });

  it('reads log_level as logrus.ParseLevel does: any case, trace, warning, fatal, panic', () => {
    for (const level of ['trace', 'INFO', 'Debug', 'warning', 'WARN', 'fatal', 'panic', 'error']) {
      expect(parseText(`log_level = "${level}"\n`).config.logLevel).toBe(level);
    }
    expect(errorOf('log_level = "verbose"\n').message).toBe(
      'config.toml:1: log_level: "verbose" is not a log level: use one of panic, fatal, error, warn, warning, info, debug, trace (in any case)',
    );
  });

  it('needs an executor', () => {
    expect(errorOf('[[runners]]\n  name = "x"\n').message).toBe(
      'config.toml:1: [[runners]][0]: executor is missing: set executor = "docker" (berth runs every job in Docker)',
    );
  });

  it('a template needs no executor', () => {
    expect(parseText('[[runners]]\n  [runners.docker]\n    image = "x"\n', {}, true).config.runners[0]!.executor).toBe('');
  });

  it('reports TOML syntax errors with line and column', () => {
    const err = errorOf('concurrent = 1\ncheck_interval = \n');
    expect(err.message).toBe('config.toml:2:18: invalid TOML: invalid value');
    expect(err.line).toBe(2);
  });
});

describe('parseConfig: warnings', () => {
  it('warns about unknown keys with their line', () => {
    const text = `concurrent = 1\nfoo = 2\n${RUNNER}  [runners.docker]\n    image = "x"\n    imgae = "typo"\n  [runners.kubernetes]\n    host = "k"\n`;
    const { warnings } = parseText(text);
    expect(warnings.map((w) => w.message)).toEqual([
      'config.toml:2: unknown key foo is ignored (berth keeps it when it saves this file)',
      'config.toml:11: unknown key [[runners]][0].kubernetes is ignored (berth keeps it when it saves this file)',
      'config.toml:10: unknown key [[runners]][0].docker.imgae is ignored (berth keeps it when it saves this file)',
    ]);
    expect(warnings[2]).toMatchObject({ file: 'config.toml', line: 10, key: '[[runners]][0].docker.imgae' });
  });

  it('warns once per key about set keys berth does not use, never about defaults', () => {
    const runner = (n: number) => `${RUNNER.replace('"r"', `"r${n}"`)}  [runners.docker]\n    helper_image = "h"\n    disable_cache = false\n`;
    const text = `${runner(1)}${runner(2)}  [runners.cache]\n    Type = "s3"\n    [runners.cache.s3]\n      BucketName = "b"\n      RoleARN = "arn:aws:iam::1:role/r"\n`;
    const messages = parseText(text).warnings.map((w) => w.message);
    expect(messages).toEqual([
      'config.toml:7: runners.docker.helper_image is accepted for compatibility with gitlab-runner but berth does not use it',
      'config.toml:21: runners.cache.s3.RoleARN is accepted for compatibility with gitlab-runner but berth does not use it',
    ]);
  });
});

describe('parseConfig: $VAR in url and token', () => {
  it('expands $VAR and ${VAR} from the environment and remembers the text', () => {
    const text = '[[runners]]\n  url = "$GL_URL"\n  token = "${GL_TOKEN}"\n  executor = "docker"\n';
    const r = parseText(text, { GL_URL: 'https://gitlab.test', GL_TOKEN: 'glrt-secret' }).config.runners[0]!;
    expect(r.url).toBe('https://gitlab.test');
    expect(r.token).toBe('glrt-secret');
    expect(r.expandedFrom).toEqual({ url: '$GL_URL', token: '${GL_TOKEN}' });
  });

  it('expands only url and token, and an unset variable to ""', () => {
    const text = '[[runners]]\n  name = "$NAME"\n  url = "https://$HOSTX/"\n  executor = "docker"\n';
    const r = parseText(text, { NAME: 'n' }).config.runners[0]!;
    expect(r.name).toBe('$NAME');
    expect(r.url).toBe('https:///');
  });
});
