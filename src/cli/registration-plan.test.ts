import { describe, expect, it } from 'vitest';
import { InputError } from '../shared/errors.js';
import { parseConfig } from '../config/parse-config.js';
import { parseFlagValue, readRegisterInput, registerFlagSpecs, type FlagSpec } from '../config/register-flags.js';
import { planRegistration, RESERVED_ARGUMENTS_MESSAGE } from './registration-plan.js';

const specs = registerFlagSpecs();
const spec = (long: string): FlagSpec => specs.find((s) => s.long === long)!;

/** Parses `--flag value` pairs the way commander would call the table's parsers. */
function input(args: string[], env: NodeJS.ProcessEnv = {}) {
  const values = new Map<FlagSpec, unknown>();
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i]!.replace(/^--?/, '').split(/=(.*)/s);
    const s = specs.find((x) => x.long === name || x.short === name)!;
    if (!s) throw new Error(`no flag ${name}`);
    const raw = inline ?? (s.kind === 'bool' ? undefined : args[++i]);
    values.set(s, raw === undefined ? true : parseFlagValue(s, raw, values.get(s)));
  }
  return readRegisterInput(specs, (s) => values.get(s), env);
}

const BASE = ['-n', '--url', 'https://gitlab.test/', '--executor', 'docker', '--docker-image', 'alpine:3'];

function planError(args: string[], env: NodeJS.ProcessEnv = {}): InputError {
  try {
    planRegistration(input(args, env), undefined, 'host1');
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('register flags table', () => {
  it('has gitlab-runner flags and environment variables', () => {
    expect(spec('docker-privileged')).toMatchObject({ env: 'DOCKER_PRIVILEGED', kind: 'bool', target: { runner: ['docker', 'privileged'] } });
    expect(spec('docker-volumes')).toMatchObject({ env: 'DOCKER_VOLUMES', repeatable: true });
    expect(spec('docker-tlsverify').env).toBe('DOCKER_TLS_VERIFY');
    expect(spec('docker-cert-path').target).toEqual({ runner: ['docker', 'tlsCertPath'] });
    expect(spec('env')).toMatchObject({ env: 'RUNNER_ENV', target: { runner: ['environment'] } });
    expect(spec('url')).toMatchObject({ short: 'u', env: 'CI_SERVER_URL' });
    expect(spec('token')).toMatchObject({ short: 't', env: 'CI_SERVER_TOKEN' });
    expect(spec('registration-token')).toMatchObject({ short: 'r', env: 'REGISTRATION_TOKEN' });
    expect(spec('non-interactive')).toMatchObject({ short: 'n', env: 'REGISTER_NON_INTERACTIVE' });
    expect(spec('config')).toMatchObject({ short: 'c', env: 'CONFIG_FILE' });
    expect(spec('template-config').env).toBe('TEMPLATE_CONFIG_FILE');
    // services have no flag in gitlab-runner: template only.
    expect(specs.some((s) => 'runner' in s.target && s.target.runner.join('.') === 'docker.services')).toBe(false);
    expect(new Set(specs.map((s) => s.long)).size).toBe(specs.length);
  });

  it('parses values by kind and names the flag on a bad one', () => {
    expect(parseFlagValue(spec('limit'), '3')).toBe(3);
    expect(() => parseFlagValue(spec('limit'), 'three')).toThrow('--limit: "three" is not a whole number');
    expect(parseFlagValue(spec('docker-privileged'), 'false')).toBe(false);
    expect(() => parseFlagValue(spec('docker-privileged'), 'maybe')).toThrow('--docker-privileged: "maybe" is not a boolean (use true or false)');
    expect(parseFlagValue(spec('docker-pull-policy'), 'never', ['always'])).toEqual(['always', 'never']);
    expect(() => parseFlagValue(spec('docker-pull-policy'), 'sometimes')).toThrow(
      '--docker-pull-policy: "sometimes" is not one of always, if-not-present, never',
    );
    expect(parseFlagValue(spec('docker-tmpfs'), '{"/tmp":"rw"}')).toEqual({ '/tmp': 'rw' });
    expect(parseFlagValue(spec('docker-sysctls'), 'b=2', { a: '1' })).toEqual({ a: '1', b: '2' });
    expect(parseFlagValue(spec('feature-flags'), 'FF_X=true')).toEqual({ FF_X: true });
    expect(parseFlagValue(spec('unhealthy-interval'), '1h30m')).toBe(90 * 60_000);
    expect(() => parseFlagValue(spec('access-level'), 'everyone')).toThrow('--access-level: "everyone" is not one of not_protected, ref_protected');
  });

  it('falls back to environment variables, command line first', () => {
    const i = input(['--docker-image', 'cli'], {
      DOCKER_IMAGE: 'env',
      DOCKER_VOLUMES: '/a,/b:/b',
      REGISTER_LOCKED: 'false',
      RUNNER_NAME: 'env-name',
      DOCKER_PRIVILEGED: 'true',
    });
    expect(i.runner.docker.image).toBe('cli');
    expect(i.runner.docker.volumes).toEqual(['/a', '/b:/b']);
    expect(i.runner.docker.privileged).toBe(true);
    expect(i.runner.name).toBe('env-name');
    expect(i.options.locked).toBe(false);
    expect(input(['--name', 'cli-name'], { RUNNER_NAME: 'env-name' }).runner.name).toBe('cli-name');
  });

  it('starts from Go zero values (so a template can fill them)', () => {
    const i = input([]);
    expect(i.runner.requestConcurrency).toBe(0);
    expect(i.runner.outputLimit).toBe(0);
    expect(i.options).toMatchObject({ locked: true, nonInteractive: false });
  });
});

describe('planRegistration', () => {
  it('a glrt- token with --token is verified', () => {
    const plan = planRegistration(input([...BASE, '-t', 'glrt-abc']), undefined, 'host1');
    expect(plan).toMatchObject({ mode: 'authentication-token', url: 'https://gitlab.test/', token: 'glrt-abc', notes: [] });
    expect(plan.runner).toMatchObject({ name: 'host1', executor: 'docker', token: 'glrt-abc', outputLimit: 4096, requestConcurrency: 1 });
    expect(plan.runner.docker).toMatchObject({ image: 'alpine:3', volumes: ['/cache'], waitForServicesTimeout: 30 });
  });

  it('a registration token registers, with the server-side arguments', () => {
    const plan = planRegistration(
      input([...BASE, '-r', 'GR1348941xyz', '--name', 'n1', '--tag-list', 'a, b', '--locked=false', '--access-level', 'ref_protected', '--maximum-timeout', '600', '--paused', '--maintenance-note', 'note']),
      undefined,
      'host1',
    );
    expect(plan.mode).toBe('registration-token');
    expect(plan.legacy).toEqual({ description: 'n1', tagList: ['a', 'b'], runUntagged: false, locked: false, accessLevel: 'ref_protected', maximumTimeout: 600, paused: true, maintenanceNote: 'note' });
    expect(plan.notes[0]!.text).toMatch(/^Support for registration tokens and runner parameters in the 'register' command has been deprecated/);
  });

  it('runs untagged jobs when the tag list is empty', () => {
    expect(planRegistration(input([...BASE, '-r', 'GR1348941xyz']), undefined, 'h').legacy.runUntagged).toBe(true);
  });

  it('a non-glrt -t token is only verified, with the hint to use -r', () => {
    const plan = planRegistration(input([...BASE, '-t', 'legacy-runner-token']), undefined, 'h');
    expect(plan.mode).toBe('verify-only');
    expect(plan.notes).toEqual([
      { level: 'info', text: 'Token specified trying to verify runner...' },
      { level: 'warning', text: "If you want to register use the '-r' instead of '-t'." },
    ]);
  });

  it('server-side flags with a glrt- token are fatal with --token, and ignored with a warning with -r', () => {
    expect(planError([...BASE, '-t', 'glrt-abc', '--tag-list', 'x']).message).toBe(RESERVED_ARGUMENTS_MESSAGE);
    expect(planError([...BASE, '-t', 'glrt-abc', '--locked=false']).message).toBe(RESERVED_ARGUMENTS_MESSAGE);
    const plan = planRegistration(input([...BASE, '-r', 'glrt-abc', '--paused']), undefined, 'h');
    expect(plan.mode).toBe('authentication-token');
    expect(plan.notes[0]!.text).toMatch(/^You have specified an authentication token in the legacy parameter --registration-token/);
  });

  it('the same glrt- token in --token and --registration-token with server-side flags is a warning, as gitlab-runner (RegistrationToken == Token)', () => {
    const plan = planRegistration(input([...BASE, '-t', 'glrt-same', '-r', 'glrt-same', '--tag-list', 'a']), undefined, 'h');
    expect(plan.mode).toBe('authentication-token');
    expect(plan.token).toBe('glrt-same');
    expect(plan.notes.map((n) => n.level)).toEqual(['warning']);
    expect(plan.notes[0]!.text).toMatch(/^You have specified an authentication token in the legacy parameter --registration-token/);
    expect(planError([...BASE, '-t', 'glrt-one', '-r', 'glrt-two', '--tag-list', 'a']).message).toBe(RESERVED_ARGUMENTS_MESSAGE);
  });

  it.each([
    ['url', ['-n', '-t', 'glrt-a', '--executor', 'docker', '--docker-image', 'x']],
    ['registration-token', ['-n', '--url', 'https://g', '--executor', 'docker', '--docker-image', 'x']],
    ['docker-image', ['-n', '--url', 'https://g', '-t', 'glrt-a', '--executor', 'docker']],
  ])('missing %s: "The %s needs to be entered"', (key, args) => {
    expect(planError(args).message).toBe(`The ${key} needs to be entered`);
  });

  it('needs a name when the host has none', () => {
    expect(() => planRegistration(input([...BASE, '-t', 'glrt-a']), undefined, '')).toThrow('The name needs to be entered');
  });

  it('accepts only the docker executor', () => {
    expect(planError(['-n', '--url', 'https://g', '-t', 'glrt-a', '--executor', 'shell', '--docker-image', 'x']).message).toBe(
      'Invalid executor specified: "shell". berth runs every job in Docker: pass --executor docker',
    );
    expect(planError(['-n', '--url', 'https://g', '-t', 'glrt-a', '--docker-image', 'x']).message).toMatch(/^Invalid executor specified: ""/);
  });

  it('requires --non-interactive for now', () => {
    expect(planError(['--url', 'https://g', '-t', 'glrt-a']).message).toMatch(/^berth register has no interactive prompts yet: pass --non-interactive/);
  });

  it('adds /cache unless a volume already ends in /cache or the cache is disabled', () => {
    const volumes = (extra: string[]) => planRegistration(input([...BASE, '-t', 'glrt-a', ...extra]), undefined, 'h').runner.docker.volumes;
    expect(volumes(['--docker-volumes', '/data'])).toEqual(['/data', '/cache']);
    expect(volumes(['--docker-volumes', '/srv/cache:/cache'])).toEqual(['/srv/cache:/cache']);
    expect(volumes(['--docker-disable-cache'])).toEqual([]);
  });

  it('takes url, token, name, executor and image from flags only, the rest from the template', () => {
    const template = parseConfig(
      '[[runners]]\n  name = "t-name"\n  url = "https://template"\n  executor = "kubernetes"\n  limit = 4\n  [runners.docker]\n    image = "t-image"\n    privileged = true\n    [[runners.docker.services]]\n      name = "redis"\n',
      { file: 't', env: {}, template: true },
    ).config.runners[0]!;
    expect(() => planRegistration(input(['-n', '--url', 'https://g', '-t', 'glrt-a', '--executor', 'docker']), template, 'h')).toThrow(
      'The docker-image needs to be entered',
    );
    const plan = planRegistration(input([...BASE, '-t', 'glrt-a', '--limit', '2']), template, 'host1');
    expect(plan.runner).toMatchObject({ name: 'host1', url: 'https://gitlab.test/', executor: 'docker', limit: 2 });
    expect(plan.runner.docker).toMatchObject({ image: 'alpine:3', privileged: true, services: [{ name: 'redis' }] });
  });
});
