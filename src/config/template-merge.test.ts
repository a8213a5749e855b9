import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../shared/errors.js';
import { zeroRunnerConfig, type RunnerConfig } from './berth-config.js';
import { parseConfig } from './parse-config.js';
import { fillZeroDefaults, loadRunnerTemplate, mergeTemplate } from './template-merge.js';

const template = (body: string): RunnerConfig => parseConfig(`[[runners]]\n${body}`, { file: 't.toml', env: {}, template: true }).config.runners[0]!;

describe('mergeTemplate (mergo.Merge without override)', () => {
  it('fills empty strings, zeros and empty lists from the template', () => {
    const merged = mergeTemplate(zeroRunnerConfig(), template('  builds_dir = "/b"\n  limit = 3\n  environment = ["A=1"]\n'));
    expect(merged).toMatchObject({ buildsDir: '/b', limit: 3, environment: ['A=1'] });
  });

  it('lets a value from the flags win over the template', () => {
    const dst = zeroRunnerConfig();
    dst.buildsDir = '/flags';
    dst.limit = 1;
    dst.environment = ['B=2'];
    dst.docker.volumes = ['/flag-volume'];
    const merged = mergeTemplate(dst, template('  builds_dir = "/b"\n  limit = 3\n  environment = ["A=1"]\n  [runners.docker]\n    volumes = ["/t"]\n'));
    expect(merged).toMatchObject({ buildsDir: '/flags', limit: 1, environment: ['B=2'] });
    expect(merged.docker.volumes).toEqual(['/flag-volume']);
  });

  it('a bool false from the flags cannot beat a template true', () => {
    const dst = zeroRunnerConfig();
    dst.docker.privileged = false; // as `--docker-privileged=false` gives
    expect(mergeTemplate(dst, template('  [runners.docker]\n    privileged = true\n')).docker.privileged).toBe(true);
  });

  it('Go pointer fields as mergo: a template value beats a flag\'s false or 0, an unset template changes nothing', () => {
    const dst = zeroRunnerConfig();
    dst.docker.servicesPrivileged = false; // --docker-services_privileged=false
    dst.docker.servicesLimit = 0; // --docker-services-limit 0
    dst.cache.s3.pathStyle = false; // --cache-s3-path-style=false
    dst.cache.s3.dualStack = true; // --cache-s3-dual-stack (true is not empty: it stays)
    dst.strictCheckInterval = false;
    const t = template('  strict_check_interval = true\n  [runners.cache.s3]\n    PathStyle = true\n    DualStack = false\n  [runners.docker]\n    services_privileged = true\n    services_limit = 5\n');
    const merged = mergeTemplate(dst, t);
    expect(merged.docker).toMatchObject({ servicesPrivileged: true, servicesLimit: 5 });
    expect(merged.cache.s3).toMatchObject({ pathStyle: true, dualStack: true });
    expect(merged.strictCheckInterval).toBe(true);
    const keep = mergeTemplate(dst, template('  [runners.docker]\n    image = "x"\n'));
    expect(keep.docker).toMatchObject({ servicesPrivileged: false, servicesLimit: 0 });
    expect(keep.cache.s3.pathStyle).toBe(false);
  });

  it('merges nested tables field by field', () => {
    const dst = zeroRunnerConfig();
    dst.docker.image = 'from-flags';
    const merged = mergeTemplate(dst, template('  [runners.docker]\n    image = "from-template"\n    memory = "1g"\n    network_mode = "host"\n'));
    expect(merged.docker).toMatchObject({ image: 'from-flags', memory: '1g', networkMode: 'host' });
  });

  it('merges maps key by key', () => {
    const dst = zeroRunnerConfig();
    dst.docker.sysctls = { a: 'flags' };
    dst.featureFlags = { FF_A: false };
    const merged = mergeTemplate(dst, template('  [runners.feature_flags]\n    FF_A = true\n    FF_B = true\n  [runners.docker.sysctls]\n    a = "t"\n    b = "t"\n'));
    expect(merged.docker.sysctls).toEqual({ a: 'flags', b: 't' });
    expect(merged.featureFlags).toEqual({ FF_A: true, FF_B: true });
  });

  it('takes [[runners.docker.services]] from the template (the docs example)', () => {
    const t = template('  [runners.docker]\n  [[runners.docker.services]]\n    name = "mysql:latest"\n  [[runners.docker.services]]\n    name = "redis:latest"\n');
    expect(mergeTemplate(zeroRunnerConfig(), t).docker.services.map((s) => s.name)).toEqual(['mysql:latest', 'redis:latest']);
  });

  it('keeps the executor from the flags (the docs: template docker, command line shell → shell)', () => {
    const dst = zeroRunnerConfig();
    dst.executor = 'docker';
    expect(mergeTemplate(dst, template('  executor = "kubernetes"\n')).executor).toBe('docker');
  });

  it('fills an unset pointer (services_privileged) from the template, and a set one that points at false (mergo dereferences)', () => {
    const t = template('  [runners.docker]\n    services_privileged = true\n');
    expect(mergeTemplate(zeroRunnerConfig(), t).docker.servicesPrivileged).toBe(true);
    const dst = zeroRunnerConfig();
    dst.docker.servicesPrivileged = false;
    expect(mergeTemplate(dst, t).docker.servicesPrivileged).toBe(true);
  });

  it('does not change its inputs', () => {
    const dst = zeroRunnerConfig();
    const t = template('  limit = 3\n');
    mergeTemplate(dst, t);
    expect(dst.limit).toBe(0);
    expect(t.limit).toBe(3);
  });
});

describe('fillZeroDefaults', () => {
  it('turns zeros that mean "the default" into the default, as gitlab-runner omitting them does', () => {
    const r = fillZeroDefaults(zeroRunnerConfig());
    expect(r).toMatchObject({ outputLimit: 4096, requestConcurrency: 1, unhealthyRequestsLimit: 3, jobStatusFinalUpdateRetryLimit: 10, limit: 0 });
    expect(r.docker.waitForServicesTimeout).toBe(30);
    expect(r.docker.servicesLimit).toBe(-1);
  });
});

describe('loadRunnerTemplate', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-template-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ignores global keys and clears the token', async () => {
    const path = join(dir, 't.toml');
    await writeFile(path, 'concurrent = 9\n[[runners]]\n  token = "glrt-template"\n  [runners.docker]\n    image = "x"\n');
    const { runner } = await loadRunnerTemplate(path, {});
    expect(runner.token).toBe('');
    expect(runner.docker.image).toBe('x');
  });

  it.each([
    ['no runner', 'concurrent = 1\n', 0],
    ['two runners', '[[runners]]\n[[runners]]\n', 2],
  ])('fails with %s, naming the file', async (_n, text, count) => {
    const path = join(dir, 't.toml');
    await writeFile(path, text);
    const err = await loadRunnerTemplate(path, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(`${path}: a configuration template must contain exactly one [[runners]] entry, found ${count}`);
  });
});
