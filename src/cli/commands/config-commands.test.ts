import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandHarness } from '../../../test/support/config/command-harness.js';
import { FakeApiError, type FakeScript } from '../../../test/support/config/fake-registration-api.js';
import { BerthError, InputError } from '../../shared/errors.js';
import { register as registerList } from './list.js';
import { register as registerUnregister } from './unregister.js';
import { register as registerVerify } from './verify.js';

const runner = (name: string, token: string, url = 'https://gitlab.test') =>
  `[[runners]]\n  name = "${name}"\n  url = "${url}"\n  id = 1\n  token = "${token}"\n  executor = "docker"\n  [runners.docker]\n    image = "alpine"\n`;
const THREE = `concurrent = 2\n${runner('alpha', 'glrt-alpha-token-0001')}${runner('beta', 'glrt-beta-token-00002')}${runner('gamma', 'legacytokengamma3')}`;

let h: CommandHarness;
afterEach(() => h.cleanup());

async function setup(script: FakeScript = {}, text = THREE): Promise<CommandHarness> {
  h = await CommandHarness.create(script);
  await writeFile(h.configPath, text, { mode: 0o600 });
  return h;
}

const names = async () => [...(await h.readConfig()).matchAll(/name = "(\w+)"/g)].map((m) => m[1]);
const forbidden = () => new FakeApiError('Verifying runner... is not valid (GitLab answered 403 Forbidden)', 403);

describe('berth verify', () => {
  it('prints one line per runner', async () => {
    await setup();
    expect(await h.run(registerVerify, ['verify'])).toBeUndefined();
    expect(h.stdout).toBe(
      [
        'Verifying runner... is valid  runner=alpha-tok runner_name=alpha',
        'Verifying runner... is valid  runner=beta-toke runner_name=beta',
        'Verifying runner... is valid  runner=legacytok runner_name=gamma',
        '',
      ].join('\n'),
    );
    expect(h.api.methods()).toEqual(['verifyRunner', 'verifyRunner', 'verifyRunner']);
  });

  it('fails on an invalid runner and leaves config.toml alone without --delete', async () => {
    await setup({ verify: (t) => (t.startsWith('glrt-beta') ? forbidden() : { id: 1, token: t, tokenExpiresAt: '' }) });
    const err = await h.run(registerVerify, ['verify']);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as Error).message).toBe('Failed to verify runners: run "berth verify --delete" to remove the runners GitLab no longer accepts');
    expect(h.stdout).toContain('Verifying runner... is not valid  runner=beta-toke runner_name=beta\n');
    expect(await h.readConfig()).toBe(THREE);
  });

  it('--delete removes the runners GitLab rejects, never ones it could not check', async () => {
    await setup({
      verify: (t) => (t.startsWith('glrt-beta') ? forbidden() : t.startsWith('legacy') ? new FakeApiError('503 Service Unavailable', 503) : { id: 1, token: t, tokenExpiresAt: '' }),
    });
    const err = await h.run(registerVerify, ['verify', '--delete']);
    expect((err as Error).message).toBe('Failed to verify runners');
    expect(await names()).toEqual(['alpha', 'gamma']);
    expect(h.stdout).toContain(`Updated ${h.configPath}`);
    expect(h.stderr).toContain('ERROR: Verifying runner... failed  runner=legacytok runner_name=gamma: 503 Service Unavailable');
  });

  it('--name verifies one runner; an unknown name is an input error', async () => {
    await setup();
    expect(await h.run(registerVerify, ['verify', '--name', 'beta'])).toBeUndefined();
    expect(h.api.calls).toEqual([expect.objectContaining({ method: 'verifyRunner', token: 'glrt-beta-token-00002' })]);
    const err = await h.run(registerVerify, ['verify', '--name', 'nope']);
    expect(err).toBeInstanceOf(InputError);
  });
});

describe('berth unregister', () => {
  it('--name with a glrt- token removes this runner manager and the config entry', async () => {
    await setup();
    expect(await h.run(registerUnregister, ['unregister', '--name', 'alpha'])).toBeUndefined();
    const systemId = (await readFile(join(h.dir, '.runner_system_id'), 'utf8')).trim();
    expect(h.api.calls).toEqual([{ method: 'unregisterRunnerManager', url: 'https://gitlab.test', token: 'glrt-alpha-token-0001', systemId }]);
    expect(await names()).toEqual(['beta', 'gamma']);
    expect((await h.readConfig()).startsWith('concurrent = 2\n')).toBe(true);
    expect(h.stdout).toBe(`Unregistering runner from GitLab succeeded  runner=alpha-tok\nUpdated ${h.configPath}\n`);
  });

  it('--url --token with a legacy token deletes the runner', async () => {
    await setup();
    expect(await h.run(registerUnregister, ['unregister', '--url', 'https://gitlab.test', '--token', 'legacytokengamma3'])).toBeUndefined();
    expect(h.api.calls).toEqual([{ method: 'unregisterRunner', url: 'https://gitlab.test', token: 'legacytokengamma3' }]);
    expect(await names()).toEqual(['alpha', 'beta']);
  });

  it('keeps the runner in config.toml when GitLab refuses', async () => {
    await setup({ unregister: () => new FakeApiError('Unregistering runner... forbidden', 403) });
    const err = await h.run(registerUnregister, ['unregister', '--name', 'beta']);
    expect((err as Error).message).toBe('Failed to unregister runner "beta": Unregistering runner... forbidden');
    expect(await h.readConfig()).toBe(THREE);
  });

  it('--all-runners keeps the ones that failed', async () => {
    await setup({ unregister: (t) => (t.startsWith('glrt-beta') ? new FakeApiError('boom', 500) : undefined) });
    const err = await h.run(registerUnregister, ['unregister', '--all-runners']);
    expect((err as Error).message).toBe(`Failed to unregister 1 runner(s); they stay in ${h.configPath}`);
    expect(await names()).toEqual(['beta']);
    expect(h.stderr).toMatch(/^WARNING: Unregistering all runners\nERROR: Failed to unregister runner "beta": boom\n$/);
  });

  it('an unknown name is an input error and nothing is called', async () => {
    await setup();
    const err = await h.run(registerUnregister, ['unregister', '--name', 'zeta']);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe("Could not find a runner with the name 'zeta' in the config file");
    expect(h.api.calls).toEqual([]);
  });

  it('takes --url and --token from CI_SERVER_URL and CI_SERVER_TOKEN, as gitlab-runner', async () => {
    h = await CommandHarness.create({}, { CI_SERVER_TOKEN: 'legacytokengamma3', CI_SERVER_URL: 'https://gitlab.test' });
    await writeFile(h.configPath, THREE, { mode: 0o600 });
    expect(await h.run(registerUnregister, ['unregister'])).toBeUndefined();
    expect(h.api.calls).toEqual([{ method: 'unregisterRunner', url: 'https://gitlab.test', token: 'legacytokengamma3' }]);
    expect(await names()).toEqual(['alpha', 'beta']);
  });

  it('needs a selector', async () => {
    await setup();
    expect(await h.run(registerUnregister, ['unregister'])).toBeInstanceOf(InputError);
  });

  it('--url and --token of a runner not in config.toml still unregister it from GitLab', async () => {
    await setup();
    expect(await h.run(registerUnregister, ['unregister', '-u', 'https://other.test', '-t', 'glrt-elsewhere'])).toBeUndefined();
    expect(h.api.methods()).toEqual(['unregisterRunnerManager']);
    expect(await h.readConfig()).toBe(THREE);
  });
});

describe('berth list', () => {
  it('lists name, executor, url and only the short token', async () => {
    await setup();
    expect(await h.run(registerList, ['list'])).toBeUndefined();
    const lines = h.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Listing configured runners  ConfigFile=${h.configPath}`);
    expect(lines.slice(1)).toEqual([
      `${'alpha'.padEnd(36)} Executor=docker Token=alpha-tok URL=https://gitlab.test`,
      `${'beta'.padEnd(36)} Executor=docker Token=beta-toke URL=https://gitlab.test`,
      `${'gamma'.padEnd(36)} Executor=docker Token=legacytok URL=https://gitlab.test`,
    ]);
    expect(h.stdout).not.toContain('glrt-alpha-token-0001');
    expect(h.api.calls).toEqual([]);
  });

  it('prints config warnings on stderr', async () => {
    await setup({}, `${THREE}    unknown_key = 1\n`);
    await chmod(h.configPath, 0o644);
    expect(await h.run(registerList, ['list'])).toBeUndefined();
    expect(h.stderr).toContain(`WARNING: ${h.configPath} is readable by other users (mode 0644): run chmod 600 ${h.configPath}\n`);
    expect(h.stderr).toContain(`WARNING: ${h.configPath}:26: unknown key [[runners]][2].docker.unknown_key is ignored`);
  });
});
