/**
 * register, verify --delete and unregister rewrite config.toml: what berth does not model (keys
 * of a newer gitlab-runner, another executor's tables, runners of another executor) must come
 * back where it was.
 */
import { writeFile } from 'node:fs/promises';
import { parse } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandHarness } from '../../../test/support/config/command-harness.js';
import { FakeApiError } from '../../../test/support/config/fake-registration-api.js';
import { InputError } from '../../shared/errors.js';
import { register as registerList } from './list.js';
import { register as registerRegister } from './register.js';
import { register as registerUnregister } from './unregister.js';
import { register as registerVerify } from './verify.js';

let h: CommandHarness;
afterEach(() => h.cleanup());

/** gitlab-runner 19.4 keys berth does not use (audit 15, finding 1) and keys nobody knows. */
const KEEP = `concurrent = 2
check_interval = 0
shutdown_timeout = 0
future_global = "kept"
[experimental]
  [experimental.usage_logger]
    enabled = true
    log_dir = "/var/log/runner-usage"
[machine]
  [machine.shutdown_drain]
    enabled = true
[session_server]
  session_timeout = 1800
[[runners]]
  name = "docker-1"
  url = "https://gitlab.test"
  id = 12
  token = "glrt-abcdefghijklmnopqrst"
  token_obtained_at = 2026-12-05T05:00:00Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "docker"
  step_runner_image = "registry.example.com/step-runner:1"
  use_slot_cgroups = true
  slot_cgroup_template = "runner-slot-\${slot}"
  proxy_exec = false
  future_runner_key = 42
  future_list = [1, 2]
  [runners.monitoring]
  [runners.referees]
    [runners.referees.metrics]
      prometheus_address = "http://127.0.0.1:9090"
      queries = ["cpu:rate(node_cpu_seconds_total[1m])"]
  [runners.experimental]
    [runners.experimental.boot_verify]
      enabled = true
      timeout = "2m0s"
  [runners.kubernetes]
    namespace = "ci"
    [[runners.kubernetes.volumes.empty_dir]]
      name = "scratch"
      mount_path = "/scratch"
  [runners.docker]
    image = "alpine:3.20"
    service_slot_cgroup_template = "svc-\${slot}"
    future_docker_key = "d"
    [[runners.docker.services]]
      name = "redis:7"
      suspend_data_path = "/data"
      future_service_key = true
[[runners]]
  name = "plain"
  url = "https://gitlab.test"
  id = 13
  token = "glrt-plain-token-000001"
  executor = "docker"
  [runners.docker]
    image = "alpine"
`;

type Table = Record<string, unknown>;
const at = (doc: Table, ...path: (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v as Table)[k], doc);

/** Every value of `before` berth does not model, as it reads in `after`. */
function expectKept(before: Table, after: Table, runner: number): void {
  for (const key of ['future_global', 'experimental', 'machine']) expect(after[key], key).toEqual(before[key]);
  const r = (doc: Table) => at(doc, 'runners', runner) as Table;
  const rBefore = at(before, 'runners', 0) as Table;
  for (const key of ['step_runner_image', 'use_slot_cgroups', 'slot_cgroup_template', 'proxy_exec', 'future_runner_key', 'future_list', 'monitoring', 'referees', 'experimental', 'kubernetes']) {
    expect(r(after)[key], key).toEqual(rBefore[key]);
  }
  const docker = (doc: Table, i: number) => at(doc, 'runners', i, 'docker') as Table;
  for (const key of ['service_slot_cgroup_template', 'future_docker_key', 'services']) expect(docker(after, runner)[key], key).toEqual(docker(before, 0)[key]);
}

describe('config.toml round trip through register and unregister', () => {
  it('keeps the keys and tables berth does not model, in their table, with the same values', async () => {
    h = await CommandHarness.create({ verify: (token) => ({ id: 99, token, tokenExpiresAt: '' }) });
    await writeFile(h.configPath, KEEP, { mode: 0o600 });
    const before = parse(KEEP) as Table;

    const registered = await h.run(registerRegister, ['register', '-n', '--url', 'https://gitlab.test', '--token', 'glrt-second1234567890', '--name', 'second', '--executor', 'docker', '--docker-image', 'alpine']);
    expect(registered).toBeUndefined();
    const afterRegister = await h.readConfig();
    expectKept(before, parse(afterRegister), 0);
    expect((parse(afterRegister) as { runners: Table[] }).runners.map((r) => r['name'])).toEqual(['docker-1', 'plain', 'second']);

    expect(await h.run(registerUnregister, ['unregister', '--name', 'plain'])).toBeUndefined();
    const text = await h.readConfig();
    expectKept(before, parse(text), 0);
    expect((parse(text) as { runners: Table[] }).runners.map((r) => r['name'])).toEqual(['docker-1', 'second']);
    // The kept tables as text, byte for byte.
    for (const block of [
      'future_global = "kept"\n',
      '\n[experimental]\n  [experimental.usage_logger]\n    enabled = true\n    log_dir = "/var/log/runner-usage"\n',
      '\n[machine]\n  [machine.shutdown_drain]\n    enabled = true\n',
      '  proxy_exec = false\n',
      '  use_slot_cgroups = true\n  slot_cgroup_template = "runner-slot-${slot}"\n',
      '  step_runner_image = "registry.example.com/step-runner:1"\n',
      '  future_runner_key = 42\n  future_list = [1, 2]\n',
      '  [runners.monitoring]\n',
      '  [runners.referees]\n    [runners.referees.metrics]\n      prometheus_address = "http://127.0.0.1:9090"\n      queries = ["cpu:rate(node_cpu_seconds_total[1m])"]\n',
      '  [runners.experimental]\n    [runners.experimental.boot_verify]\n      enabled = true\n      timeout = "2m0s"\n',
      '  [runners.kubernetes]\n    namespace = "ci"\n',
      '    service_slot_cgroup_template = "svc-${slot}"\n',
      '    future_docker_key = "d"\n',
      '      name = "redis:7"\n      suspend_data_path = "/data"\n      future_service_key = true\n',
    ]) {
      expect(text).toContain(block);
    }
  });

  it('calls gitlab-runner 19.4 keys known (not "unknown"), and says unknown keys are kept', async () => {
    h = await CommandHarness.create({ verify: (token) => ({ id: 99, token, tokenExpiresAt: '' }) });
    await writeFile(h.configPath, KEEP, { mode: 0o600 });
    expect(await h.run(registerUnregister, ['unregister', '--name', 'plain'])).toBeUndefined();
    const unknown = h.stderr.split('\n').filter((l) => l.includes('unknown key'));
    expect(unknown.map((l) => /unknown key (\S+)/.exec(l)?.[1])).toEqual([
      'future_global',
      '[[runners]][0].future_runner_key',
      '[[runners]][0].future_list',
      '[[runners]][0].kubernetes',
      '[[runners]][0].docker.future_docker_key',
      '[[runners]][0].docker.services[0].future_service_key',
    ]);
    expect(unknown.every((l) => l.endsWith('is ignored (berth keeps it when it saves this file)'))).toBe(true);
    expect(h.stderr).toContain('runners.step_runner_image is accepted for compatibility with gitlab-runner but berth does not use it');
  });
});

/** A shell runner between two docker runners, in the layout berth writes (so text compares). */
const SHELL = `[[runners]]
  name = "shell-1"
  url = "https://gitlab.test"
  id = 5
  token = "glrt-shell-token-0000001"
  token_obtained_at = 2026-12-05T05:00:00Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "shell"
  shell = "zsh"
  [runners.custom_build_dir]
    enabled = true
`;
const dockerRunner = (name: string, token: string) => `[[runners]]
  name = "${name}"
  url = "https://gitlab.test"
  id = 1
  token = "${token}"
  token_obtained_at = 0001-01-01T00:00:00Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "docker"
  [runners.docker]
    tls_verify = false
    image = "alpine"
    privileged = false
    disable_entrypoint_overwrite = false
    oom_kill_disable = false
    disable_cache = false
    shm_size = 0
    network_mtu = 0
`;
const MIXED = `concurrent = 2\ncheck_interval = 0\nshutdown_timeout = 0\n\n[session_server]\n  session_timeout = 1800\n\n${dockerRunner('docker-1', 'glrt-docker-one-000001')}\n${SHELL}\n${dockerRunner('docker-2', 'glrt-docker-two-000002')}`;

describe('a config.toml with a runner of another executor', () => {
  const skipped = (path: string) => `WARNING: ${path}:33: [[runners]][1] "shell-1": executor "shell" is not supported by berth (it runs every job in Docker): this runner is skipped and kept as it is in the file\n`;

  it('list shows the docker runners and warns about the other one', async () => {
    h = await CommandHarness.create();
    await writeFile(h.configPath, MIXED, { mode: 0o600 });
    expect(await h.run(registerList, ['list'])).toBeUndefined();
    expect(h.stderr).toBe(skipped(h.configPath));
    expect(h.stdout).toContain('docker-1 ');
    expect(h.stdout).toContain('docker-2 ');
    expect(h.stdout).not.toContain('shell-1');
  });

  it('unregister, verify --delete and register leave it untouched, in its place', async () => {
    h = await CommandHarness.create({ verify: (token) => (token.includes('two') ? new FakeApiError('forbidden', 403) : { id: 7, token, tokenExpiresAt: '' }) });
    await writeFile(h.configPath, MIXED, { mode: 0o600 });
    expect(await h.run(registerUnregister, ['unregister', '--name', 'shell-1'])).toBeInstanceOf(InputError);
    expect(await h.run(registerRegister, ['register', '-n', '--url', 'https://gitlab.test', '--token', 'glrt-docker-new-000003', '--name', 'docker-3', '--executor', 'docker', '--docker-image', 'alpine'])).toBeUndefined();
    const names = async () => [...(await h.readConfig()).matchAll(/^ {2}name = "([\w-]+)"/gm)].map((m) => m[1]);
    expect(await names()).toEqual(['docker-1', 'shell-1', 'docker-2', 'docker-3']);
    expect(await h.readConfig()).toContain(`\n${SHELL}\n[[runners]]\n  name = "docker-2"`);
    expect(await h.run(registerVerify, ['verify', '--delete'])).toBeUndefined();
    expect(await names()).toEqual(['docker-1', 'shell-1', 'docker-3']);
    expect(await h.run(registerUnregister, ['unregister', '--name', 'docker-1'])).toBeUndefined();
    expect(await h.run(registerUnregister, ['unregister', '--all-runners'])).toBeUndefined();
    expect(await h.readConfig()).toBe(`concurrent = 2\ncheck_interval = 0\nshutdown_timeout = 0\n\n[session_server]\n  session_timeout = 1800\n\n${SHELL}`);
    expect(JSON.stringify(h.api.calls)).not.toContain('glrt-shell-token-0000001');
  });
});
