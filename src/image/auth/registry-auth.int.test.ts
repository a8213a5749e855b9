/**
 * Registry auth end to end over TLS (registry.test:5000, needs scripts/setup-registry.sh) and
 * over Bearer tokens (a real registry with token auth and a test token service): pulls through
 * PullManager, and `berth auth explain --check` against both. Ends with a grep for secrets.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAuthExplain, type AuthExplainOptions } from '../../cli/commands/auth.js';
import { DockerodeEngine } from '../../engine/dockerode-engine.js';
import { createPassStore, type PassStore } from '../../../test/support/credential-helper.js';
import { startRegistry, type TestRegistry } from '../../../test/support/registry.js';
import { TestImages } from '../../../test/support/registry-images.js';
import { authConfig, PullHarness, variable } from '../../../test/support/registry-pull-harness.js';
import { startTokenServer, type TokenServer } from '../../../test/support/registry-token-server.js';

const RUN = randomUUID().slice(0, 8);
const LABEL = `berth.test.regauth=${RUN}`;
const USER = 'tls-user';
const PASS = `Tls-Secret-${RUN}-1`;
const WRONG = `Tls-Wrong-${RUN}-2`;

const engine = new DockerodeEngine();
const harness = new PullHarness(engine);
const outputs: string[] = [];
let tls: TestRegistry;
let tokens: TokenServer;
let tokenReg: TestRegistry;
let images: TestImages;
let pass: PassStore;
let refresh: string;
let tlsDigest: string;
let scratch: string;

beforeAll(async () => {
  tls = await startRegistry({ users: { [USER]: PASS }, tls: true });
  tokens = await startTokenServer({ [USER]: PASS });
  tokenReg = await startRegistry({ users: {}, token: tokens });
  images = new TestImages(LABEL, [tls.host, tokenReg.host]);
  tlsDigest = await images.publish('berth-test/busybox:latest', `${tls.host}/tls/app`, '1', { username: USER, password: PASS, serveraddress: tls.host });
  await images.publish('berth-test/busybox:latest', `${tokenReg.host}/tok/app`, '1', { username: USER, password: PASS, serveraddress: tokenReg.host });
  refresh = tokens.issueRefreshToken(USER);
  pass = createPassStore();
  pass.activate();
  pass.store(tls.host, USER, PASS);
  scratch = mkdtempSync(join(tmpdir(), 'berth-regauth-'));
});

afterAll(async () => {
  await images?.cleanup();
  await tls?.stop();
  await tokenReg?.stop();
  await tokens?.stop();
  pass?.dispose();
  harness.dispose();
  rmSync(scratch, { recursive: true, force: true });
  expect(await images.leftovers()).toEqual([]);
});

async function explain(image: string, over: Partial<AuthExplainOptions> = {}): Promise<{ code: number; text: string }> {
  let text = '';
  const out = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
  const code = await runAuthExplain(
    { image, variables: [], check: true, helperPath: process.env.PATH ?? '', homeDir: join(scratch, 'no-home'), ...over },
    out,
  );
  outputs.push(text);
  return { code, text };
}

describe('TLS registry registry.test:5000', () => {
  it('pulls with a trusted credHelpers entry (docker-credential-pass) from the runner environment', async () => {
    const env = [`DOCKER_AUTH_CONFIG=${JSON.stringify({ credHelpers: { [tls.host]: 'pass' } })}`];
    const r = await harness.run({ image: `${tls.host}/tls/app:1`, runnerEnvironment: env });
    expect(r.failure).toBeNull();
    expect(r.lines).toContain('Authenticating with credentials from $DOCKER_AUTH_CONFIG');
    const byDigest = await harness.run({ image: `${tls.host}/tls/app@${tlsDigest}`, runnerEnvironment: env });
    expect(byDigest.pulled?.ref).toBe(`${tls.host}/tls/app@${tlsDigest}`);
  });

  it('a key without the port does not match', async () => {
    const value = authConfig({ 'registry.test': [USER, PASS] });
    const r = await harness.run({ image: `${tls.host}/tls/app:1`, variables: [variable('DOCKER_AUTH_CONFIG', value)] });
    // Anonymous pull. dockerd treats 127.0.0.0/8 (registry.test → 127.0.0.2) as insecure: after
    // the HTTPS 401 it retries over plain HTTP, and reports that attempt's error (a 400).
    expect(r.failure).not.toBeNull();
    expect(r.lines.some((l) => l.startsWith('Authenticating'))).toBe(false);
    const e = await explain(`${tls.host}/tls/app:1`, { variables: [{ key: 'DOCKER_AUTH_CONFIG', value }] });
    expect(e.text).toMatch(/registry\.test +\[auths\] +no match: port differs \(key registry\.test, image registry\.test:5000\)/);
  });

  it('explain --check: accepted, refused, and no credentials (TLS verified against certs.d)', async () => {
    const ok = await explain(`${tls.host}/tls/app:1`, { variables: [{ key: 'DOCKER_AUTH_CONFIG', value: authConfig({ [tls.host]: [USER, PASS] }) }] });
    expect(ok.code).toBe(0);
    expect(ok.text).toContain('Check:     ACCEPTED: the registry accepts these credentials');
    expect(ok.text).toContain(`GET https://${tls.host}/v2/ → 401 (Basic realm="berth-test")`);
    expect(ok.text).toContain(`GET https://${tls.host}/v2/ with basic auth for "${USER}" → 200`);
    const bad = await explain(`${tls.host}/tls/app:1`, { variables: [{ key: 'DOCKER_AUTH_CONFIG', value: authConfig({ [tls.host]: [USER, WRONG] }) }] });
    expect(bad.code).toBe(1);
    expect(bad.text).toContain('Check:     REFUSED: the registry does not accept these credentials');
    const none = await explain(`${tls.host}/tls/app:1`);
    expect(none.code).toBe(1);
    expect(none.text).toContain('Result:    no credentials: the image is pulled anonymously.');
    expect(none.text).toContain('REFUSED: the registry wants credentials and none would be sent');
  });

  it('explain --config: the runner environment, the job variable that replaces it, and allowed helpers', async () => {
    const config = join(scratch, 'config.toml');
    const runnerValue = JSON.stringify({ credHelpers: { [tls.host]: 'pass' } });
    const toml = (allowed: string): string =>
      `concurrent = 1\n[[runners]]\nname = "main"\ntoken = "glrt-not-a-real-token"\nenvironment = [${JSON.stringify(`DOCKER_AUTH_CONFIG=${runnerValue}`)}]\n[runners.docker]\nallowed_credential_helpers = [${allowed}]\n`;
    writeFileSync(config, toml(''));
    const runner = await explain(`${tls.host}/tls/app:1`, { config });
    expect(runner.code).toBe(0);
    expect(runner.text).toContain('1. $DOCKER_AUTH_CONFIG (runner environment):');
    expect(runner.text).toMatch(/registry\.test:5000 +\[credHelpers "pass"\] +WINS/);
    const job = { key: 'DOCKER_AUTH_CONFIG', value: JSON.stringify({ credsStore: 'pass' }) };
    const replaced = await explain(`${tls.host}/tls/app:1`, { config, variables: [job] });
    expect(replaced.text).toContain('note: the job variable replaces the runner environment value entirely (nothing is merged)');
    expect(replaced.text).toContain('not listed in [runners.docker] allowed_credential_helpers');
    expect(replaced.code).toBe(1);
    writeFileSync(config, toml('"pass"'));
    const allowed = await explain(`${tls.host}/tls/app:1`, { config, variables: [job] });
    expect(allowed.text).toMatch(/registry\.test:5000 +\[credsStore "pass"\] +WINS/);
    expect(allowed.code).toBe(0);
    expect(allowed.text).not.toContain('glrt-not-a-real-token');
  });
});

describe('Bearer token registry', () => {
  it('pulls with a password and with an identity token', async () => {
    const basic = await harness.run({ image: `${tokenReg.host}/tok/app:1`, variables: [variable('DOCKER_AUTH_CONFIG', authConfig({ [tokenReg.host]: [USER, PASS] }))] });
    expect(basic.failure).toBeNull();
    const before = tokens.requests.filter((r) => r === 'POST refresh_token').length;
    const identity = JSON.stringify({ auths: { [tokenReg.host]: { identitytoken: refresh } } });
    const id = await harness.run({ image: `${tokenReg.host}/tok/app:1`, variables: [variable('DOCKER_AUTH_CONFIG', identity)] });
    expect(id.failure).toBeNull();
    expect(tokens.requests.filter((r) => r === 'POST refresh_token').length).toBeGreaterThan(before);
    const wrong = JSON.stringify({ auths: { [tokenReg.host]: { identitytoken: 'refresh-not-issued' } } });
    expect((await harness.run({ image: `${tokenReg.host}/tok/app:1`, variables: [variable('DOCKER_AUTH_CONFIG', wrong)] })).failure?.reason).toBe(
      'runner_configuration_error',
    );
  });

  it('explain --check follows the Bearer realm (plain HTTP on loopback)', async () => {
    const ok = await explain(`${tokenReg.host}/tok/app:1`, { variables: [{ key: 'DOCKER_AUTH_CONFIG', value: authConfig({ [tokenReg.host]: [USER, PASS] }) }] });
    expect(ok.code).toBe(0);
    expect(ok.text).toContain(`a loopback registry may speak plain HTTP`);
    expect(ok.text).toContain(`GET http://${tokenReg.host}/v2/ → 401 (Bearer realm="${tokens.realm}"`);
    expect(ok.text).toContain(`GET ${tokens.realm} (token, basic auth for "${USER}") → 200`);
    expect(ok.text).toContain('ACCEPTED');
    const identity = JSON.stringify({ auths: { [tokenReg.host]: { identitytoken: refresh } } });
    const id = await explain(`${tokenReg.host}/tok/app:1`, { variables: [{ key: 'DOCKER_AUTH_CONFIG', value: identity }] });
    expect(id.text).toContain(`POST ${tokens.realm} (token, identity token) → 200`);
    expect(id.code).toBe(0);
    const bad = await explain(`${tokenReg.host}/tok/app:1`, { variables: [{ key: 'DOCKER_AUTH_CONFIG', value: authConfig({ [tokenReg.host]: [USER, WRONG] }) }] });
    expect(bad.text).toContain(`GET ${tokens.realm} (token, basic auth for "${USER}") → 401`);
    expect(bad.code).toBe(1);
  });
});

describe('secrets', () => {
  it('no secret appears in any log, error or explain output', () => {
    const text = [...harness.transcript, ...outputs].join('\n');
    expect(outputs.length).toBeGreaterThan(8);
    for (const s of [PASS, WRONG, refresh, Buffer.from(`${USER}:${PASS}`).toString('base64')]) {
      expect(text.includes(s), `secret ${s.slice(0, 6)}... found`).toBe(false);
    }
  });
});
