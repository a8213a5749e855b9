import { mkdirSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandHarness } from '../../../test/support/config/command-harness.js';
import { FakeApiError } from '../../../test/support/config/fake-registration-api.js';
import { GITLAB_RUNNER_WRITTEN } from '../../../test/support/config/gitlab-runner-config.js';
import { BerthError, InputError } from '../../shared/errors.js';
import { register } from './register.js';

let h: CommandHarness;
afterEach(() => h.cleanup());

const DOCKER = ['--executor', 'docker', '--docker-image', 'alpine:3.20'];
const SUCCESS = [
  "Runner registered successfully. Feel free to start it, but if it's running already the config should be automatically reloaded!",
];

function expectedConfig(runner: string): string {
  return `concurrent = 1\ncheck_interval = 0\nshutdown_timeout = 0\n\n[session_server]\n  session_timeout = 1800\n\n${runner}`;
}

const DOCKER_SECTION = `  [runners.docker]
    tls_verify = false
    image = "alpine:3.20"
    privileged = false
    disable_entrypoint_overwrite = false
    oom_kill_disable = false
    disable_cache = false
    volumes = ["/cache"]
    shm_size = 0
    network_mtu = 0
`;

describe('berth register', () => {
  it('registers with a glrt- authentication token (verify) and writes config.toml', async () => {
    h = await CommandHarness.create({ verify: (token) => ({ id: 77, token, tokenExpiresAt: '2025-06-01T00:00:00.000Z' }) });
    const err = await h.run(register, ['register', '-n', '--url', 'https://gitlab.test/', '--token', 'glrt-abcdefghijklmnop', '--name', 'ci-1', ...DOCKER]);
    expect(err).toBeUndefined();
    expect(await h.readConfig()).toBe(
      expectedConfig(`[[runners]]
  name = "ci-1"
  url = "https://gitlab.test/"
  id = 77
  token = "glrt-abcdefghijklmnop"
  token_obtained_at = 2024-06-01T12:34:56Z
  token_expires_at = 2025-06-01T00:00:00Z
  executor = "docker"
${DOCKER_SECTION}`),
    );
    expect((await stat(h.configPath)).mode & 0o777).toBe(0o600);
    const systemId = (await readFile(join(h.dir, '.runner_system_id'), 'utf8')).trim();
    expect(h.api.calls).toEqual([
      { method: 'verifyRunner', url: 'https://gitlab.test/', token: 'glrt-abcdefghijklmnop', systemId, info: expect.objectContaining({ name: 'berth', executor: 'docker', shell: 'bash' }) },
    ]);
    expect(h.stdout.split('\n')).toEqual([...SUCCESS, `Configuration (with the authentication token) was saved in "${h.configPath}"`, '']);
    expect(h.stderr).toBe('');
    expect(h.api.closed).toBe(1);
  });

  it('registers with a legacy registration token and stores the token GitLab returns', async () => {
    h = await CommandHarness.create({ register: () => ({ id: 5, token: 'glrt-returned-token-xyz', tokenExpiresAt: '' }) });
    const err = await h.run(register, [
      'register', '-n', '-u', 'https://gitlab.test', '-r', 'GR1348941secret', '--description', 'legacy', '--tag-list', 'docker,linux', '--locked=false', ...DOCKER,
    ]);
    expect(err).toBeUndefined();
    expect(await h.readConfig()).toBe(
      expectedConfig(`[[runners]]
  name = "legacy"
  url = "https://gitlab.test"
  id = 5
  token = "glrt-returned-token-xyz"
  token_obtained_at = 2024-06-01T12:34:56Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "docker"
${DOCKER_SECTION}`),
    );
    expect(h.api.calls).toEqual([
      {
        method: 'registerRunner',
        url: 'https://gitlab.test',
        req: expect.objectContaining({ registrationToken: 'GR1348941secret', description: 'legacy', tagList: ['docker', 'linux'], runUntagged: false, locked: false, accessLevel: '', maximumTimeout: 0, paused: false, maintenanceNote: '' }),
      },
    ]);
    expect(h.stderr).toMatch(/^WARNING: Support for registration tokens and runner parameters in the 'register' command has been deprecated/);
    expect(h.stdout).toContain('Registering runner... succeeded  runner=returned-');
    expect(h.stdout + h.stderr).not.toContain('GR1348941secret');
  });

  it('keeps existing runners and settings and appends the new one', async () => {
    h = await CommandHarness.create();
    await writeFile(h.configPath, GITLAB_RUNNER_WRITTEN.replace('concurrent = 1', 'concurrent = 8'), { mode: 0o600 });
    expect(await h.run(register, ['register', '-n', '-u', 'https://g.test', '-t', 'glrt-second', ...DOCKER])).toBeUndefined();
    const text = await h.readConfig();
    expect(text).toMatch(/^concurrent = 8\n/);
    expect(text.match(/\[\[runners\]\]/g)).toHaveLength(2);
    expect(text).toContain('name = "docker-runner"');
    expect(text).toContain('name = "test-host"'); // the hostname is the default name
    expect(text.indexOf('docker-runner')).toBeLessThan(text.indexOf('test-host'));
  });

  it('reads flags from gitlab-runner environment variables', async () => {
    h = await CommandHarness.create({}, {
      REGISTER_NON_INTERACTIVE: 'true',
      CI_SERVER_URL: 'https://env.test',
      CI_SERVER_TOKEN: 'glrt-fromenv',
      RUNNER_EXECUTOR: 'docker',
      DOCKER_IMAGE: 'busybox',
      DOCKER_PRIVILEGED: 'true',
      RUNNER_ENV: 'A=1,B=2',
      CI_SERVER_TLS_CA_FILE: '/etc/ca.pem',
    });
    expect(await h.run(register, ['register'])).toBeUndefined();
    const text = await h.readConfig();
    expect(text).toContain('url = "https://env.test"');
    expect(text).toContain('environment = ["A=1", "B=2"]');
    expect(text).toContain('tls-ca-file = "/etc/ca.pem"');
    expect(text).toContain('privileged = true');
    expect(h.api.builtWith).toEqual([{ tlsCaFile: '/etc/ca.pem' }]);
  });

  it('takes gitlab-runner 19.4\'s newer flags and their env forms, written under its keys with its types', async () => {
    const FLAGS = [
      '--docker-pid-mode', 'host', '--docker-volume-keep', '--prepare-timeout', '90s', '--get-sources-timeout', '1h30m',
      '--safe-directory-checkout', '--clean-git-config=false', '--custom_build_dir-enabled', '--step-runner-image', 'reg.test/step:1',
      '--proxy-exec', '--use-slot-cgroups', '--slot-cgroup-template', 'slot-${slot}', '--docker-service-slot-cgroup-template', 'svc-${slot}',
    ];
    const written = [
      '  prepare_timeout = "1m30s"\n', '  get_sources_timeout = "1h30m0s"\n', '  safe_directory_checkout = true\n', '  clean_git_config = false\n',
      '  proxy_exec = true\n', '  use_slot_cgroups = true\n', '  slot_cgroup_template = "slot-${slot}"\n', '  step_runner_image = "reg.test/step:1"\n',
      '  [runners.custom_build_dir]\n    enabled = true\n', '    volume_keep = true\n', '    pid_mode = "host"\n', '    service_slot_cgroup_template = "svc-${slot}"\n',
    ];
    h = await CommandHarness.create();
    expect(await h.run(register, ['register', '-n', '--url', 'https://gitlab.test', '--token', 'glrt-flags', ...DOCKER, ...FLAGS])).toBeUndefined();
    const byFlag = await h.readConfig();
    for (const line of written) expect(byFlag).toContain(line);
    await h.cleanup();

    h = await CommandHarness.create({}, {
      DOCKER_PID_MODE: 'host', DOCKER_VOLUME_KEEP: 'true', RUNNER_PREPARE_TIMEOUT: '90s', RUNNER_GET_SOURCES_TIMEOUT: '1h30m',
      RUNNER_SAFE_DIRECTORY_CHECKOUT: 'true', RUNNER_CLEAN_GIT_CONFIG: 'false', CUSTOM_BUILD_DIR_ENABLED: 'true', STEP_RUNNER_IMAGE: 'reg.test/step:1',
      RUNNER_PROXY_EXEC: 'true', RUNNER_USE_SLOT_CGROUPS: 'true', RUNNER_SLOT_CGROUP_TEMPLATE: 'slot-${slot}', DOCKER_SERVICE_SLOT_CGROUP_TEMPLATE: 'svc-${slot}',
    });
    expect(await h.run(register, ['register', '-n', '--url', 'https://gitlab.test', '--token', 'glrt-flags', ...DOCKER])).toBeUndefined();
    expect(await h.readConfig()).toBe(byFlag);
  });

  it('merges a --template-config file; flags win', async () => {
    h = await CommandHarness.create();
    const template = join(h.dir, 'template.toml');
    await writeFile(template, '[[runners]]\n  limit = 3\n  [runners.docker]\n    image = "ignored"\n    memory = "1g"\n  [[runners.docker.services]]\n    name = "mysql:latest"\n  [[runners.docker.services]]\n    name = "redis:latest"\n');
    expect(await h.run(register, ['register', '-n', '-u', 'https://g.test', '-t', 'glrt-t', '--limit', '2', '--template-config', template, ...DOCKER])).toBeUndefined();
    const text = await h.readConfig();
    expect(text).toContain('  limit = 2\n');
    expect(text).toContain('image = "alpine:3.20"');
    expect(text).toContain('memory = "1g"');
    expect(text).toContain('    [[runners.docker.services]]\n      name = "mysql:latest"\n');
    expect(text).toContain('    [[runners.docker.services]]\n      name = "redis:latest"\n');
  });

  it('a non-glrt --token is only verified, with the hint', async () => {
    h = await CommandHarness.create({ verify: (token) => ({ id: 0, token, tokenExpiresAt: '' }) });
    expect(await h.run(register, ['register', '-n', '-u', 'https://g.test', '-t', 'oldrunnertoken123', ...DOCKER])).toBeUndefined();
    expect(h.stdout).toMatch(/^Token specified trying to verify runner\.\.\.\n/);
    expect(h.stderr).toBe("WARNING: If you want to register use the '-r' instead of '-t'.\n");
    expect(h.api.methods()).toEqual(['verifyRunner']);
    expect(await h.readConfig()).toContain('  id = 0\n  token = "oldrunnertoken123"\n  token_obtained_at = 0001-01-01T00:00:00Z\n');
  });
});

describe('berth register failures', () => {
  async function expectNothingWritten(): Promise<void> {
    expect(await readdir(h.dir)).toEqual([]);
  }

  it.each([
    ['url', ['register', '-n', '-t', 'glrt-a', ...DOCKER]],
    ['registration-token', ['register', '-n', '-u', 'https://g', ...DOCKER]],
    ['docker-image', ['register', '-n', '-u', 'https://g', '-t', 'glrt-a', '--executor', 'docker']],
  ])('missing %s: input error, nothing sent or written', async (key, args) => {
    h = await CommandHarness.create();
    const err = await h.run(register, args);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(`The ${key} needs to be entered`);
    expect(h.api.calls).toEqual([]);
    await expectNothingWritten();
  });

  it('rejects another executor before contacting GitLab', async () => {
    h = await CommandHarness.create();
    const err = await h.run(register, ['register', '-n', '-u', 'https://g', '-t', 'glrt-a', '--executor', 'shell', '--docker-image', 'x']);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^Invalid executor specified/);
    expect(h.api.calls).toEqual([]);
    await expectNothingWritten();
  });

  it('rejects server-side flags with a glrt- --token', async () => {
    h = await CommandHarness.create();
    const err = await h.run(register, ['register', '-n', '-u', 'https://g', '-t', 'glrt-a', '--tag-list', 'x', ...DOCKER]);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^Runner configuration other than name and executor configuration is reserved/);
    expect(h.api.calls).toEqual([]);
    await expectNothingWritten();
  });

  it('requires -n', async () => {
    h = await CommandHarness.create();
    const err = await h.run(register, ['register', '-u', 'https://g', '-t', 'glrt-a', ...DOCKER]);
    expect(err).toBeInstanceOf(InputError);
    await expectNothingWritten();
  });

  it('fails when GitLab rejects the token, and writes no config', async () => {
    h = await CommandHarness.create({ verify: () => new FakeApiError('Verifying runner... is not valid (GitLab answered 403 Forbidden)', 403) });
    const err = await h.run(register, ['register', '-n', '-u', 'https://g', '-t', 'glrt-a', ...DOCKER]);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as Error).message).toBe('Failed to verify the runner: Verifying runner... is not valid (GitLab answered 403 Forbidden)');
    expect(await readdir(h.dir)).toEqual(['.runner_system_id']);
  });

  it('fails when GitLab returns no runner id for a glrt- token', async () => {
    h = await CommandHarness.create({ verify: (token) => ({ id: 0, token, tokenExpiresAt: '' }) });
    const err = await h.run(register, ['register', '-n', '-u', 'https://g', '-t', 'glrt-a', ...DOCKER]);
    expect((err as Error).message).toMatch(/^Failed to verify the runner: GitLab returned no runner id/);
    expect(h.api.methods()).toEqual(['verifyRunner']);
    expect(await readdir(h.dir)).toEqual(['.runner_system_id']);
  });

  /** The fake GitLab turns config.toml into a non-empty directory while registering: saving then fails. */
  const breakConfigOnCall = (path: () => string) => () => {
    mkdirSync(join(path(), 'x'), { recursive: true });
  };

  it('unregisters a legacy-registered runner again when saving fails', async () => {
    let breakIt: () => void = () => undefined;
    h = await CommandHarness.create({
      register: () => {
        breakIt();
        return { id: 5, token: 'glrt-newtoken12345', tokenExpiresAt: '' };
      },
    });
    breakIt = breakConfigOnCall(() => h.configPath);
    const err = await h.run(register, ['register', '-n', '-u', 'https://g', '-r', 'GR1348941reg', ...DOCKER]);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as Error).message).toMatch(/^Failed to save config file /);
    expect(h.api.calls.map((c) => [c.method, 'token' in c ? c.token : ''])).toEqual([
      ['registerRunner', ''],
      ['unregisterRunner', 'glrt-newtoken12345'],
    ]);
    expect(h.stderr).toContain('WARNING: Registration did not complete: unregistering the runner from GitLab again (pass --leave-runner to keep it)');
  });

  it('removes only the runner manager of a glrt- runner when saving fails', async () => {
    let breakIt: () => void = () => undefined;
    h = await CommandHarness.create({
      verify: (token) => {
        breakIt();
        return { id: 8, token, tokenExpiresAt: '' };
      },
    });
    breakIt = breakConfigOnCall(() => h.configPath);
    const err = await h.run(register, ['register', '-n', '-u', 'https://g', '-t', 'glrt-auth', ...DOCKER]);
    expect(err).toBeInstanceOf(BerthError);
    const systemId = (await readFile(join(h.dir, '.runner_system_id'), 'utf8')).trim();
    expect(h.api.calls.at(-1)).toEqual({ method: 'unregisterRunnerManager', url: 'https://g', token: 'glrt-auth', systemId });
  });

  it('leaves the runner registered with --leave-runner', async () => {
    let breakIt: () => void = () => undefined;
    h = await CommandHarness.create({
      register: () => {
        breakIt();
        return { id: 5, token: 'glrt-newtoken12345', tokenExpiresAt: '' };
      },
    });
    breakIt = breakConfigOnCall(() => h.configPath);
    const err = await h.run(register, ['register', '-n', '-u', 'https://g', '-r', 'GR1348941reg', '--leave-runner', ...DOCKER]);
    expect(err).toBeInstanceOf(BerthError);
    expect(h.api.methods()).toEqual(['registerRunner']);
  });

  it('reports a failed unregister but keeps the original error', async () => {
    let breakIt: () => void = () => undefined;
    h = await CommandHarness.create({
      register: () => {
        breakIt();
        return { id: 5, token: 'glrt-newtoken12345', tokenExpiresAt: '' };
      },
      unregister: () => new FakeApiError('connection refused', 0),
    });
    breakIt = breakConfigOnCall(() => h.configPath);
    const err = await h.run(register, ['register', '-n', '-u', 'https://g', '-r', 'GR1348941reg', ...DOCKER]);
    expect((err as Error).message).toMatch(/^Failed to save config file /);
    expect(h.stderr).toContain('ERROR: Failed to unregister the runner newtoken1 from GitLab: connection refused.');
    expect(h.stderr).not.toContain('glrt-newtoken12345');
  });
});
