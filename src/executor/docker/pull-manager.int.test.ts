/**
 * PullManager against the real engine, a real htpasswd registry on 127.0.0.1:<port>, a real
 * `docker-credential-pass` store, and scripted helpers: credential sources and precedence,
 * digests, tampered content, pull policies, allow-lists, and a grep of every log for secrets.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../engine/dockerode-engine.js';
import { createHelperDir, createPassStore, fixedHelperBody, type HelperDir, type PassStore } from '../../../test/support/credential-helper.js';
import { freePort, startRegistry, type TestRegistry } from '../../../test/support/registry.js';
import { corruptBlob, manifestLayers, TestImages } from '../../../test/support/registry-images.js';
import { authConfig, PullHarness, variable } from '../../../test/support/registry-pull-harness.js';

const RUN = randomUUID().slice(0, 8);
const LABEL = `berth.test.pull=${RUN}`;
const USER = 'berth-user';
const PASS = `Pull-Secret-${RUN}-1`;
const WRONG = `Wrong-Secret-${RUN}-2`;
const PAYLOAD_PASS = `Payload-Secret-${RUN}-3`;
const EVIL_SECRET = `Evil-Secret-${RUN}-4`;

const engine = new DockerodeEngine();
const harness = new PullHarness(engine);
let reg: TestRegistry;
let images: TestImages;
let pass: PassStore;
let helpers: HelperDir;
let deadHost: string;
let digest: string;
let busyboxId: string;
let bashId: string;

const push = { username: USER, password: PASS, serveraddress: '' };
const helperPath = (): string => `${helpers.dir}:${process.env.PATH}`;
const right = (): [string, string] => [USER, PASS];
const wrong = (): [string, string] => [USER, WRONG];

beforeAll(async () => {
  reg = await startRegistry({ users: { [USER]: PASS } });
  deadHost = `127.0.0.1:${await freePort()}`;
  images = new TestImages(LABEL, [reg.host, deadHost]);
  push.serveraddress = reg.host;
  busyboxId = (await engine.inspectImage('berth-test/busybox:latest'))!.id;
  bashId = (await engine.inspectImage('berth-test/bash:latest'))!.id;
  digest = await images.publish('berth-test/busybox:latest', `${reg.host}/team/app`, '1', push);
  await images.publish('berth-test/busybox:latest', `${reg.host}/other/app`, '1', push);
  pass = createPassStore();
  pass.activate();
  pass.store(reg.host, USER, PASS);
  helpers = createHelperDir();
  helpers.write('broken', 'echo "helper backend unavailable" >&2\nexit 1');
  helpers.write('wrongstore', fixedHelperBody(reg.host, USER, WRONG));
  helpers.write('evil', `touch "${helpers.dir}/evil-ran"\n${fixedHelperBody(reg.host, USER, EVIL_SECRET)}`);
});

afterAll(async () => {
  await images?.cleanup();
  await reg?.stop();
  pass?.dispose();
  helpers?.dispose();
  harness.dispose();
  expect(await images.leftovers()).toEqual([]);
  expect(await engine.listContainers([LABEL])).toEqual([]);
});

describe('credential sources', () => {
  it('without credentials the registry refuses: configuration error, no retry', async () => {
    const r = await harness.run({ image: `${reg.host}/team/app:1` });
    expect(r.failure?.reason).toBe('runner_configuration_error');
    expect(r.pulls).toHaveLength(1);
    expect(r.lines.some((l) => l.startsWith('Authenticating'))).toBe(false);
  });

  it('$DOCKER_AUTH_CONFIG from a job variable (also a file-type one)', async () => {
    const value = authConfig({ [reg.host]: right() });
    for (const v of [variable('DOCKER_AUTH_CONFIG', value), variable('DOCKER_AUTH_CONFIG', value, { file: true })]) {
      const r = await harness.run({ image: `${reg.host}/team/app:1`, variables: [v] });
      expect(r.failure).toBeNull();
      expect(r.pulled?.id).toBe(busyboxId);
      expect(r.pulled?.ref).toBe(busyboxId);
      expect(r.lines).toContain('Authenticating with credentials from $DOCKER_AUTH_CONFIG');
    }
  });

  it('the runner environment, replaced entirely by a job variable', async () => {
    const env = [`DOCKER_AUTH_CONFIG=${authConfig({ [reg.host]: right() })}`];
    const ok = await harness.run({ image: `${reg.host}/team/app:1`, runnerEnvironment: env });
    expect(ok.failure).toBeNull();
    expect(ok.lines).toContain('Authenticating with credentials from $DOCKER_AUTH_CONFIG');
    const job = variable('DOCKER_AUTH_CONFIG', authConfig({ 'elsewhere.test': right() }));
    const replaced = await harness.run({ image: `${reg.host}/team/app:1`, runnerEnvironment: env, variables: [job] });
    expect(replaced.failure?.reason).toBe('runner_configuration_error');
  });

  it('the home config file, and the legacy .dockercfg', async () => {
    const r = await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: authConfig({ [reg.host]: right() }) });
    expect(r.failure).toBeNull();
    expect(r.lines).toContain(`Authenticating with credentials from ${join(r.home, '.docker', 'config.json')}`);
    const legacy = JSON.stringify({ [`https://${reg.host}`]: { auth: Buffer.from(`${USER}:${PASS}`).toString('base64') } });
    const l = await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: legacy, legacyHome: true });
    expect(l.failure).toBeNull();
    expect(l.lines).toContain(`Authenticating with credentials from ${join(l.home, '.dockercfg')}`);
  });

  it('a config Go decodes: {"Auths":{...}} with "Auth", Username/Password in any case, data after the first value', async () => {
    const basic = Buffer.from(`${USER}:${PASS}`).toString('base64');
    for (const value of [
      JSON.stringify({ Auths: { [reg.host]: { Auth: basic } } }),
      JSON.stringify({ auths: { [reg.host]: { Username: USER, PASSWORD: PASS } } }),
      `${authConfig({ [reg.host]: right() })}}`,
    ]) {
      const r = await harness.run({ image: `${reg.host}/team/app:1`, variables: [variable('DOCKER_AUTH_CONFIG', value)] });
      expect(r.failure, value.slice(0, 8)).toBeNull();
      expect(r.lines).toContain('Authenticating with credentials from $DOCKER_AUTH_CONFIG');
      expect(r.lines.filter((l) => l.startsWith('WARNING'))).toEqual([]);
    }
  });

  it('a malformed auth entry drops its whole source, with gitlab-runner\'s warning', async () => {
    const value = JSON.stringify({
      auths: { 'other.test:5000': { auth: Buffer.from(':no-user').toString('base64') }, [reg.host]: { auth: Buffer.from(`${USER}:${PASS}`).toString('base64') } },
    });
    const warning = 'WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG: invalid auth configuration file. Credentials from this source will not be used.';
    const r = await harness.run({ image: `${reg.host}/team/app:1`, variables: [variable('DOCKER_AUTH_CONFIG', value)] });
    expect(r.lines).toContain(warning);
    expect(r.lines.some((l) => l.startsWith('Authenticating'))).toBe(false);
    expect(r.failure?.reason).toBe('runner_configuration_error');
    const home = await harness.run({ image: `${reg.host}/team/app:1`, variables: [variable('DOCKER_AUTH_CONFIG', value)], homeConfig: authConfig({ [reg.host]: right() }) });
    expect(home.lines).toContain(warning);
    expect(home.lines).toContain(`Authenticating with credentials from ${join(home.home, '.docker', 'config.json')}`);
    expect(home.failure).toBeNull();
  });

  it('job payload credentials of type "registry" only', async () => {
    const credentials = [{ type: 'registry' as const, url: reg.host, username: USER, password: PASS }];
    const r = await harness.run({ image: `${reg.host}/team/app:1`, credentials });
    expect(r.failure).toBeNull();
    expect(r.lines).toContain('Authenticating with credentials from job payload (GitLab Registry)');
    const other = [{ type: 'Registry' as unknown as 'registry', url: reg.host, username: USER, password: PASS }];
    expect((await harness.run({ image: `${reg.host}/team/app:1`, credentials: other })).failure?.reason).toBe('runner_configuration_error');
  });

  it('job variable over home file over job payload', async () => {
    const credentials = [{ type: 'registry' as const, url: reg.host, username: USER, password: PAYLOAD_PASS }];
    const job = variable('DOCKER_AUTH_CONFIG', authConfig({ [reg.host]: right() }));
    const a = await harness.run({ image: `${reg.host}/team/app:1`, variables: [job], homeConfig: authConfig({ [reg.host]: wrong() }), credentials });
    expect(a.failure).toBeNull();
    expect(a.lines).toContain('Authenticating with credentials from $DOCKER_AUTH_CONFIG');
    const b = await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: authConfig({ [reg.host]: right() }), credentials });
    expect(b.failure).toBeNull();
    expect(b.lines).toContain(`Authenticating with credentials from ${join(b.home, '.docker', 'config.json')}`);
  });

  it('credsStore (docker-credential-pass) over auths', async () => {
    const config = authConfig({ [reg.host]: wrong() }, { credsStore: 'pass' });
    const r = await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: config });
    expect(r.failure).toBeNull();
  });

  it('credHelpers (docker-credential-pass) over credsStore over auths', async () => {
    const config = authConfig({ [reg.host]: wrong() }, { credsStore: 'wrongstore', credHelpers: { [reg.host]: 'pass' } });
    const r = await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: config, helperPath: helperPath() });
    expect(r.failure).toBeNull();
    const storeWins = authConfig({ [reg.host]: right() }, { credsStore: 'wrongstore' });
    expect((await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: storeWins, helperPath: helperPath() })).failure?.reason).toBe(
      'runner_configuration_error',
    );
  });

  it('a helper without an entry for the registry leaves the static auths in use', async () => {
    const config = authConfig({ [reg.host]: right(), 'unrelated.test': wrong() }, { credHelpers: { [`${reg.host}/team`]: 'pass' } });
    const r = await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: config });
    expect(r.failure).toBeNull();
    expect(r.lines.filter((l) => l.startsWith('WARNING'))).toEqual([]);
  });

  it('the longest matching path wins; a wrong port never matches', async () => {
    const config = authConfig({ [reg.host]: wrong(), [`${reg.host}/team`]: right() });
    expect((await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: config })).failure).toBeNull();
    expect((await harness.run({ image: `${reg.host}/other/app:1`, homeConfig: config })).failure?.reason).toBe('runner_configuration_error');
    const otherPort = authConfig({ [deadHost]: right(), '127.0.0.1': right() });
    const p = await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: otherPort });
    expect(p.failure?.reason).toBe('runner_configuration_error');
    expect(p.lines.some((l) => l.startsWith('Authenticating'))).toBe(false);
  });

  it('a wrong password fails at once, not retried, and the password is nowhere', async () => {
    const r = await harness.run({ image: `${reg.host}/team/app:1`, variables: [variable('DOCKER_AUTH_CONFIG', authConfig({ [reg.host]: wrong() }))] });
    expect(r.failure?.reason).toBe('runner_configuration_error');
    expect(r.pulls).toHaveLength(1);
    expect(r.failure?.message).toMatch(/unauthorized|authentication required/i);
    expect(`${r.failure?.message}\n${r.lines.join('\n')}`).not.toContain(WRONG);
  });
});

describe('credential helper failures and safety', () => {
  it('a missing helper: a warning naming helper, registry and fallback; static auths still used', async () => {
    const config = authConfig({ [reg.host]: right() }, { credHelpers: { [reg.host]: 'absent' } });
    const r = await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: config });
    expect(r.failure).toBeNull();
    const warning = r.lines.find((l) => l.startsWith('WARNING'));
    expect(warning).toContain('docker-credential-absent is not installed');
    expect(warning).toContain(`Its credentials for ${reg.host} are not used; berth uses the "auths" entry "${reg.host}"`);
  });

  it('a failing helper: a warning, then the next source', async () => {
    const credentials = [{ type: 'registry' as const, url: reg.host, username: USER, password: PASS }];
    const config = JSON.stringify({ credHelpers: { [reg.host]: 'broken' } });
    const r = await harness.run({ image: `${reg.host}/team/app:1`, homeConfig: config, credentials, helperPath: helperPath() });
    expect(r.failure).toBeNull();
    expect(r.lines.find((l) => l.startsWith('WARNING'))).toContain(
      'docker-credential-broken failed on get: docker-credential-broken get exited with code 1: helper backend unavailable',
    );
    expect(r.lines).toContain('Authenticating with credentials from job payload (GitLab Registry)');
  });

  it('a helper named by a job variable does not run unless allowed', async () => {
    const marker = join(helpers.dir, 'evil-ran');
    const job = variable('DOCKER_AUTH_CONFIG', JSON.stringify({ credsStore: 'evil', credHelpers: { [reg.host]: 'evil' } }));
    const r = await harness.run({ image: `${reg.host}/team/app:1`, variables: [job], helperPath: helperPath() });
    expect(existsSync(marker)).toBe(false);
    expect(r.failure?.reason).toBe('runner_configuration_error');
    expect(r.lines.filter((l) => l.includes('allowed_credential_helpers'))).toHaveLength(2);
    const allowed = await harness.run({
      image: `${reg.host}/team/app:1`,
      variables: [job],
      helperPath: helperPath(),
      settings: { allowedCredentialHelpers: ['evil'] },
    });
    expect(existsSync(marker)).toBe(true);
    expect(allowed.failure?.reason).toBe('runner_configuration_error');
  });

  it('refuses a helper name with a path', async () => {
    const job = variable('DOCKER_AUTH_CONFIG', JSON.stringify({ credHelpers: { [reg.host]: '../../../bin/sh' } }));
    const r = await harness.run({ image: `${reg.host}/team/app:1`, variables: [job] });
    expect(r.failure?.reason).toBe('runner_configuration_error');
    expect(r.failure?.message).toContain('path traversal is not allowed');
    expect(r.pulls).toEqual([]);
  });

  it('broken JSON: a warning naming the source, never the content', async () => {
    const text = `{"auths": {"${reg.host}": {"auth": "${Buffer.from(`${USER}:${PASS}`).toString('base64')}"`;
    const r = await harness.run({ image: `${reg.host}/team/app:1`, variables: [variable('DOCKER_AUTH_CONFIG', text)] });
    expect(r.lines).toContain(
      `WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG: not valid JSON (unexpected end of input; ${text.length} characters, content not shown). Credentials from this source will not be used.`,
    );
    expect(r.failure?.reason).toBe('runner_configuration_error');
  });
});

describe('digests', () => {
  const auth = (): ReturnType<typeof variable>[] => [variable('DOCKER_AUTH_CONFIG', authConfig({ [reg.host]: right() }))];

  it('pulls by digest and hands out the digest reference', async () => {
    await images.cleanup();
    const r = await harness.run({ image: `${reg.host}/team/app@${digest}`, variables: auth() });
    expect(r.failure).toBeNull();
    expect(r.pulls).toEqual([`${reg.host}/team/app@${digest}`]);
    expect(r.pulled?.ref).toBe(`${reg.host}/team/app@${digest}`);
    expect(r.pulled?.info.repoDigests).toContain(`${reg.host}/team/app@${digest}`);
    expect(r.lines).toContain(`Using docker image ${busyboxId} for ${reg.host}/team/app@${digest} with digest ${reg.host}/team/app@${digest} ...`);
  });

  it('never takes a local image of the same name with another digest', async () => {
    await images.cleanup();
    await images.tag('berth-test/bash:latest', `${reg.host}/team/app`, '1');
    const never = await harness.run({
      image: { name: `${reg.host}/team/app:1@${digest}`, pullPolicy: ['never'] },
      settings: { allowedPullPolicies: ['never', 'if-not-present'] },
    });
    expect(never.failure?.reason).toBe('runner_system_failure');
    expect(never.failure?.message).toMatch(/\[never\]: Error response from daemon: .*No such image: /);
    const r = await harness.run({ image: `${reg.host}/team/app:1@${digest}`, variables: auth(), defaultPullPolicy: 'if-not-present' });
    expect(r.failure).toBeNull();
    expect(r.pulls).toHaveLength(1);
    expect(r.pulled?.id).toBe(busyboxId);
    expect(r.pulled?.id).not.toBe(bashId);
    expect((await engine.inspectImage(`${reg.host}/team/app:1`))?.id).toBe(bashId);
  });

  it('a digest the registry does not have is a configuration error', async () => {
    const r = await harness.run({ image: `${reg.host}/team/app@sha256:${'0'.repeat(64)}`, variables: auth() });
    expect(r.failure?.reason).toBe('runner_configuration_error');
    expect(r.failure?.message).toMatch(/manifest unknown|not found/);
  });

  it('content that does not match its digest fails the pull (image_pull_failure)', async () => {
    const repo = `${reg.host}/tamper/app`;
    await images.importUnique(repo, '1');
    const manifest = await images.push(repo, '1', push);
    await images.untag(`${repo}:1`);
    const [layer] = manifestLayers(reg.storage, manifest);
    corruptBlob(reg.storage, layer!);
    const r = await harness.run({ image: `${repo}:1`, variables: auth() });
    expect(r.failure?.reason).toBe('image_pull_failure');
    expect(r.failure?.message).toMatch(/filesystem layer verification failed for digest sha256:/);
    expect(r.pulls).toHaveLength(1);
    expect(await engine.inspectImage(`${repo}:1`)).toBeNull();
    expect(await engine.listContainers([LABEL])).toEqual([]);
  });
});

describe('pull policies', () => {
  const auth = (): ReturnType<typeof variable>[] => [variable('DOCKER_AUTH_CONFIG', authConfig({ [reg.host]: right() }))];

  it('always pulls every time; if-not-present only when absent; never not at all', async () => {
    await images.cleanup();
    const image = `${reg.host}/team/app:1`;
    const settings = { allowedPullPolicies: ['always', 'if-not-present', 'never'] as const };
    const never = await harness.run({ image: { name: image, pullPolicy: ['never'] }, settings: { ...settings, allowedPullPolicies: [...settings.allowedPullPolicies] } });
    expect(never.failure?.reason).toBe('runner_system_failure');
    // The daemon's own words: dockerd 20.10 says "no such image: <ref>: No such image: <ref>".
    expect(never.failure?.message).toMatch(/^failed to pull image "[^"]+" with specified policies \[never\]: Error response from daemon: (no such image: \S+: )?No such image: \S+$/);
    expect(never.failure?.message).toContain(`No such image: ${image}`);
    expect(never.lines).toContain(`WARNING: Failed to pull image with policy "never": ${never.failure?.message.split('[never]: ')[1]}`);
    expect(never.pulls).toEqual([]);
    const first = await harness.run({ image, variables: auth(), defaultPullPolicy: 'if-not-present' });
    expect(first.pulls).toEqual([image]);
    const second = await harness.run({ image, variables: auth(), defaultPullPolicy: 'if-not-present' });
    expect(second.pulls).toEqual([]);
    expect(second.lines).toContain('Using locally found image version due to "if-not-present" pull policy');
    const always = await harness.run({ image, variables: auth() });
    expect(always.pulls).toEqual([image]);
    const neverPresent = await harness.run({ image: { name: image, pullPolicy: ['never'] }, settings: { allowedPullPolicies: ['never'] } });
    expect(neverPresent.failure).toBeNull();
    expect(neverPresent.pulled?.id).toBe(busyboxId);
  });

  it('an unreachable registry: transient retries, then the if-not-present fallback', async () => {
    const image = `${deadHost}/app:1`;
    await images.tag('berth-test/busybox:latest', `${deadHost}/app`, '1');
    const r = await harness.run({ image, settings: { pullPolicy: ['always', 'if-not-present'] } });
    expect(r.failure).toBeNull();
    expect(r.pulls).toHaveLength(3);
    expect(r.lines.filter((l) => l.includes('Retrying in'))).toHaveLength(2);
    expect(r.lines.some((l) => l.startsWith('WARNING: Failed to pull image with policy "always":') && l.includes('connection refused'))).toBe(true);
    expect(r.lines).toContain('Attempt #2: Trying "if-not-present" pull policy');
    const alone = await harness.run({ image });
    expect(alone.failure?.reason).toBe('runner_external_dependency_failure');
  });

  it('a missing tag fails fast as a configuration error (one attempt per policy)', async () => {
    const r = await harness.run({ image: `${reg.host}/team/nope:1`, variables: auth(), settings: { pullPolicy: ['always', 'always'] } });
    expect(r.failure?.reason).toBe('runner_configuration_error');
    expect(r.pulls).toHaveLength(2);
  });

  it('allowed_pull_policies filters the job list in its order', async () => {
    const image = { name: `${reg.host}/team/app:1`, pullPolicy: ['if-not-present' as const, 'always' as const] };
    const r = await harness.run({ image, variables: auth(), settings: { allowedPullPolicies: ['always'] } });
    expect(r.failure).toBeNull();
    expect(r.lines).toContain(`Using effective pull policy of [always] for container ${reg.host}/team/app:1`);
    expect(r.pulls).toHaveLength(1);
    const refused = await harness.run({ image: { ...image, pullPolicy: ['if-not-present'] }, settings: { allowedPullPolicies: ['always'] } });
    expect(refused.failure?.message).toBe(
      `invalid pull policy for image "${reg.host}/team/app:1": pull_policy ([if-not-present]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([always])`,
    );
    expect(refused.pulls).toEqual([]);
  });

  it('shows layer progress compactly', async () => {
    const repo = `${reg.host}/progress/app`;
    await images.importUnique(repo, '1', 2 * 1024 * 1024);
    await images.push(repo, '1', push);
    await images.untag(`${repo}:1`);
    const r = await harness.run({ image: `${repo}:1`, variables: auth() });
    expect(r.failure).toBeNull();
    const layerLines = r.lines.filter((l) => /^[0-9a-f]{12}: /.test(l));
    expect(layerLines.some((l) => l.endsWith(': Pull complete'))).toBe(true);
    expect(new Set(layerLines).size).toBe(layerLines.length);
    expect(r.lines).toContain(`Pulling docker image ${repo}:1 ...`);
  });
});

describe('allow-lists', () => {
  it('refuses a disallowed image before any pull, allows config images', async () => {
    const settings = { allowedImages: [`${reg.host}/team/*:*`], allowedServices: [`${reg.host}/team/**`], image: `${reg.host}/other/app:1` };
    const refused = await harness.run({ image: `${reg.host}/other/app:2`, settings });
    expect(refused.failure?.reason).toBe('runner_configuration_error');
    expect(refused.pulls).toEqual([]);
    expect(refused.lines).toContain(`ERROR: The "${reg.host}/other/app:2" image is not present on list of allowed images:`);
    expect(refused.lines).toContain(`- ${reg.host}/team/*:*`);
    const auth = [variable('DOCKER_AUTH_CONFIG', authConfig({ [reg.host]: right() }))];
    expect((await harness.run({ image: `${reg.host}/other/app:1`, settings, variables: auth })).failure).toBeNull();
    expect((await harness.run({ image: `${reg.host}/team/app:1`, settings, variables: auth })).failure).toBeNull();
    const service = await harness.run({ image: `${reg.host}/other/app:1`, settings, role: { kind: 'service', index: 0, fromConfig: false } });
    expect(service.lines).toContain(`ERROR: The "${reg.host}/other/app:1" image is not present on list of allowed services:`);
  });
});

describe('secrets', () => {
  it('no secret used in these tests appears in any log line or error', () => {
    const secrets = [PASS, WRONG, PAYLOAD_PASS, EVIL_SECRET, ...[PASS, WRONG].map((p) => Buffer.from(`${USER}:${p}`).toString('base64'))];
    const text = harness.transcript.join('\n');
    expect(harness.transcript.length).toBeGreaterThan(30);
    for (const s of secrets) expect(text.includes(s), `secret ${s.slice(0, 6)}... found in a log`).toBe(false);
  });
});
