import { describe, expect, it } from 'vitest';
import { defaultDockerSettings } from '../executor/docker/docker-settings.js';
import { defaultConfigPath, resolveConfigPath } from '../config/config-path.js';
import { effectiveGlobals, effectiveRunnerSettings } from '../config/effective-settings.js';
import { parseConfig } from '../config/parse-config.js';
import { FULL_CONFIG, GITLAB_RUNNER_WRITTEN } from '../../test/support/config/gitlab-runner-config.js';
import { toDockerSettings } from './to-docker-settings.js';
import { toRunnerIdentity } from './to-runner-identity.js';

const full = parseConfig(FULL_CONFIG, { file: 'c', env: {} }).config;
const written = parseConfig(GITLAB_RUNNER_WRITTEN, { file: 'c', env: {} }).config;

describe('toDockerSettings', () => {
  it('maps a plain gitlab-runner config onto the executor defaults', () => {
    expect(toDockerSettings(written.runners[0]!)).toEqual({ ...defaultDockerSettings(), image: 'alpine:latest', volumes: ['/cache'] });
  });

  it('maps every used key and turns services into ServiceSpecs', () => {
    const s = toDockerSettings(full.runners[0]!);
    expect(s).toMatchObject({
      host: 'unix:///run/docker.sock',
      image: 'busybox:1',
      memory: '512m',
      cpus: '1.5',
      cpuShares: 512,
      privileged: true,
      servicesPrivileged: false,
      user: '1000',
      allowedUsers: ['1000', 'root'],
      pullPolicy: ['if-not-present', 'always'],
      allowedPullPolicies: ['always', 'if-not-present'],
      allowedCredentialHelpers: ['pass'],
      waitForServicesTimeout: -1,
      shmSize: 67108864,
      tmpfs: { '/tmp': 'rw,size=64m' },
      containerLabels: { 'com.example/team': 'ci' },
    });
    expect(s.services).toEqual([
      { name: 'redis:7', aliases: ['cache', 'kv', 'store'], variables: [] },
      {
        name: 'postgres:16',
        aliases: [],
        variables: [{ key: 'POSTGRES_PASSWORD', value: 'secret' }],
        entrypoint: ['docker-entrypoint.sh'],
        command: ['postgres', '-c', 'fsync=off'],
      },
    ]);
  });
});

describe('toRunnerIdentity', () => {
  it('carries name, short token, ids and the job-facing settings', () => {
    expect(toRunnerIdentity(full.runners[0]!, 's_0123456789ab', '1.2.3')).toEqual({
      name: 'full',
      shortToken: 'fullfullf',
      systemId: 's_0123456789ab',
      runnerId: 9,
      buildsDir: '/b',
      environment: ['A=1', 'B=two words'],
      preGetSourcesScript: '',
      postGetSourcesScript: '',
      preBuildScript: 'echo pre\necho "quoted"\n',
      postBuildScript: 'echo post',
      debugTraceDisabled: true,
      prepareTimeoutMs: 0,
      featureFlags: { FF_NETWORK_PER_BUILD: true, FF_USE_FASTZIP: false },
      version: '1.2.3',
    });
    expect(toRunnerIdentity(written.runners[0]!, 's_x', 'v').buildsDir).toBe('/builds');
    // prepare_timeout = "1m30s"
    expect(toRunnerIdentity({ ...written.runners[0]!, prepareTimeout: 90_000 }, 's_x', 'v').prepareTimeoutMs).toBe(90_000);
  });
});

describe('effective settings', () => {
  it('turns 0 (as gitlab-runner writes it) into the default', () => {
    expect(effectiveGlobals(written)).toEqual({ concurrent: 1, checkIntervalMs: 3000, shutdownTimeoutMs: 30_000, connectionMaxAgeMs: 900_000 });
    const r = { ...written.runners[0]!, requestConcurrency: 0, outputLimit: -1 };
    expect(effectiveRunnerSettings(r)).toMatchObject({ requestConcurrency: 1, outputLimitBytes: 4096 * 1024, unhealthyRequestsLimit: 3, finalUpdateRetryLimit: 10 });
  });

  it('keeps set values', () => {
    expect(effectiveGlobals(full)).toMatchObject({ concurrent: 4, checkIntervalMs: 5000, shutdownTimeoutMs: 60_000, connectionMaxAgeMs: 1_200_000 });
    expect(effectiveRunnerSettings(full.runners[0]!)).toEqual({
      limit: 2,
      requestConcurrency: 2,
      outputLimitBytes: 8192 * 1024,
      unhealthyRequestsLimit: 5,
      unhealthyIntervalMs: 5_400_000,
      finalUpdateRetryLimit: 4,
      strictCheckInterval: true,
    });
  });
});

describe('config path', () => {
  it('is /etc/berth for root and ~/.berth otherwise; --config and CONFIG_FILE win', () => {
    expect(defaultConfigPath({ isRoot: true })).toBe('/etc/berth/config.toml');
    expect(defaultConfigPath({ isRoot: false, home: '/home/u' })).toBe('/home/u/.berth/config.toml');
    expect(resolveConfigPath({ env: { CONFIG_FILE: '/x.toml' }, isRoot: true })).toBe('/x.toml');
    expect(resolveConfigPath({ flag: '/flag.toml', env: { CONFIG_FILE: '/x.toml' } })).toBe('/flag.toml');
    expect(resolveConfigPath({ env: {}, isRoot: false, home: '/h' })).toBe('/h/.berth/config.toml');
  });
});
