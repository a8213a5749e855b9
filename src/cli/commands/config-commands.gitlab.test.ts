/**
 * register → list → verify → unregister with the real GitLabClient against the in-process GitLab
 * test server (GitLab's documented runner API), no Docker needed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabTestServer } from '../../../test/support/gitlab-test-server.js';
import { CommandHarness } from '../../../test/support/config/command-harness.js';
import { register as registerList } from './list.js';
import { register as registerRegister } from './register.js';
import { register as registerUnregister } from './unregister.js';
import { register as registerVerify } from './verify.js';

let gl: GitLabTestServer;
let h: CommandHarness;
beforeEach(async () => {
  gl = await GitLabTestServer.start();
  h = await CommandHarness.create();
  h.realGitLab = true;
});
afterEach(async () => {
  await gl.close();
  await h.cleanup();
});

const DOCKER = ['--executor', 'docker', '--docker-image', 'alpine:3.20'];

describe('config commands against the GitLab test server', () => {
  it('registers a glrt- runner, lists, verifies and unregisters it', async () => {
    const token = gl.runnerToken;
    expect(await h.run(registerRegister, ['register', '-n', '-u', gl.url, '-t', token, '--name', 'e2e', ...DOCKER])).toBeUndefined();
    const systemId = (await readFile(join(h.dir, '.runner_system_id'), 'utf8')).trim();
    const text = await h.readConfig();
    expect(text).toContain(`  token = "${token}"\n`);
    expect(text).toContain(`  id = ${gl.runner(token)!.id}\n`);

    expect(await h.run(registerList, ['list'])).toBeUndefined();
    expect(h.stdout).toContain(`e2e${' '.repeat(33)} Executor=docker Token=`);

    expect(await h.run(registerVerify, ['verify'])).toBeUndefined();
    expect(h.stdout).toContain('Verifying runner... is valid  runner=');

    expect(await h.run(registerUnregister, ['unregister', '--name', 'e2e'])).toBeUndefined();
    expect(await h.readConfig()).not.toContain('[[runners]]');
    const managerDelete = gl.requests.find((r) => r.method === 'DELETE' && r.path.endsWith('/runners/managers'));
    expect(managerDelete?.json).toEqual({ token, system_id: systemId });
  });

  it('registers with the legacy registration token and stores the new token', async () => {
    expect(await h.run(registerRegister, ['register', '-n', '-u', gl.url, '-r', gl.options.registrationToken, '--tag-list', 'a,b', ...DOCKER])).toBeUndefined();
    const token = /token = "([^"]+)"/.exec(await h.readConfig())![1]!;
    expect(token).not.toBe(gl.options.registrationToken);
    expect(gl.runner(token)).toBeDefined();
  });

  it('verify --delete removes a runner GitLab no longer knows', async () => {
    const entry = (name: string, token: string) => `[[runners]]\n  name = "${name}"\n  url = "${gl.url}"\n  token = "${token}"\n  executor = "docker"\n`;
    await writeFile(h.configPath, entry('known', gl.runnerToken) + entry('gone', 'glrt-unknown-to-gitlab'), { mode: 0o600 });
    const err = await h.run(registerVerify, ['verify']);
    expect((err as Error).message).toMatch(/^Failed to verify runners/);
    expect(h.stdout).toContain('Verifying runner... is not valid  runner=unknown-t runner_name=gone');
    expect(await h.run(registerVerify, ['verify', '--delete'])).toBeUndefined();
    const text = await h.readConfig();
    expect(text).toContain('name = "known"');
    expect(text).not.toContain('name = "gone"');
  });
});
