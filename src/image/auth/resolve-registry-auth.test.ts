import { describe, expect, it } from 'vitest';
import type { AuthInputs } from './auth-sources.js';
import { CredentialHelperError, type HelperAction, type HelperRunner } from './credential-helper.js';
import { HelperNameError } from './helper-policy.js';
import { resolveRegistryAuth } from './resolve-registry-auth.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const auths = (m: Record<string, string>): string =>
  JSON.stringify({ auths: Object.fromEntries(Object.entries(m).map(([k, up]) => [k, { auth: b64(up) }])) });

/** Helpers as a table: name → (action, input) → stdout, or an Error to throw. */
class FakeHelpers implements HelperRunner {
  calls: string[] = [];
  constructor(private readonly table: Record<string, (action: HelperAction, input: string) => string | Error>) {}
  async run(helper: string, action: HelperAction, input: string): Promise<string> {
    this.calls.push(`${helper} ${action} ${action === 'get' ? input : ''}`.trim());
    const fn = this.table[helper];
    if (!fn) throw new CredentialHelperError(`docker-credential-${helper} was not found on PATH`, true);
    const out = fn(action, input);
    if (out instanceof Error) throw out;
    return out;
  }
}

const reply = (user: string, secret: string) => (_a: HelperAction, url: string) => JSON.stringify({ ServerURL: url, Username: user, Secret: secret });

function inputs(over: Partial<AuthInputs> = {}): AuthInputs {
  return { jobAuthConfig: undefined, runnerEnvironment: [], homeDir: '/home/x', payloadCredentials: [], allowedHelpers: [], ...over };
}

function deps(files: Record<string, string> = {}, helpers = new FakeHelpers({})) {
  return { readFile: async (p: string) => files[p] ?? null, helpers };
}

const IMG = 'reg.test:5000/team/app';

describe('resolveRegistryAuth: sources', () => {
  it('finds nothing when there is nothing', async () => {
    const r = await resolveRegistryAuth(IMG, inputs(), deps());
    expect(r.winner).toBeNull();
    expect(r.warnings).toEqual([]);
    expect(r.sources.map((s) => [s.label, s.state])).toEqual([
      ['$DOCKER_AUTH_CONFIG', 'absent'],
      ['/home/x/.docker/config.json', 'absent'],
      ['job payload (GitLab Registry)', 'absent'],
    ]);
  });

  it('the job variable replaces the runner environment value entirely', async () => {
    const r = await resolveRegistryAuth(
      IMG,
      inputs({
        jobAuthConfig: auths({ 'other.test': 'j:jp' }),
        runnerEnvironment: [`DOCKER_AUTH_CONFIG=${auths({ 'reg.test:5000': 'r:rp' })}`],
      }),
      deps(),
    );
    expect(r.winner).toBeNull();
    expect(r.sources[0]).toMatchObject({ origin: 'job variable', detail: expect.stringContaining('replaces the runner environment') });
  });

  it('uses the runner environment value when the job has none (last definition wins)', async () => {
    const env = [`DOCKER_AUTH_CONFIG=${auths({ 'reg.test:5000': 'a:1' })}`, `DOCKER_AUTH_CONFIG=${auths({ 'reg.test:5000': 'b:2' })}`];
    const r = await resolveRegistryAuth(IMG, inputs({ runnerEnvironment: env }), deps());
    expect(r.winner).toMatchObject({ source: '$DOCKER_AUTH_CONFIG', credential: { username: 'b', password: '2' } });
  });

  it('reads config.json, else .dockercfg', async () => {
    const cfg = auths({ 'reg.test:5000': 'h:hp' });
    expect((await resolveRegistryAuth(IMG, inputs(), deps({ '/home/x/.docker/config.json': cfg }))).winner?.source).toBe('/home/x/.docker/config.json');
    const legacy = JSON.stringify({ 'https://reg.test:5000': { auth: b64('l:lp') } });
    expect((await resolveRegistryAuth(IMG, inputs(), deps({ '/home/x/.dockercfg': legacy }))).winner).toMatchObject({
      source: '/home/x/.dockercfg',
      credential: { username: 'l' },
    });
  });

  it('takes job payload credentials of type exactly "registry"', async () => {
    const payload = [
      { type: 'Registry', url: 'reg.test:5000', username: 'x', password: 'nope-1' },
      { type: 'registry', url: 'reg.test:5000', username: 'gitlab-ci-token', password: 'job-token-1' },
    ];
    const r = await resolveRegistryAuth(IMG, inputs({ payloadCredentials: payload }), deps());
    expect(r.winner).toMatchObject({ source: 'job payload (GitLab Registry)', credential: { username: 'gitlab-ci-token' } });
    expect(r.sources[2]?.keys).toHaveLength(1);
  });

  it('the first source keeps a key; the longest key wins across sources', async () => {
    const job = auths({ 'reg.test:5000': 'job:1' });
    const home = auths({ 'reg.test:5000': 'home:2', 'reg.test:5000/team': 'home-team:3' });
    const payload = [{ type: 'registry', url: 'reg.test:5000', username: 'ci', password: 'payload-4' }];
    const r = await resolveRegistryAuth(IMG, inputs({ jobAuthConfig: job, payloadCredentials: payload }), deps({ '/home/x/.docker/config.json': home }));
    expect(r.winner).toMatchObject({ source: '/home/x/.docker/config.json', key: 'reg.test:5000/team', credential: { username: 'home-team' } });
    const other = await resolveRegistryAuth('reg.test:5000/other/app', inputs({ jobAuthConfig: job, payloadCredentials: payload }), deps({ '/home/x/.docker/config.json': home }));
    expect(other.winner).toMatchObject({ source: '$DOCKER_AUTH_CONFIG', credential: { username: 'job' } });
  });

  it('does not match another port', async () => {
    const r = await resolveRegistryAuth(IMG, inputs({ jobAuthConfig: auths({ 'reg.test:5001': 'a:b1', 'reg.test': 'a:b2' }) }), deps());
    expect(r.winner).toBeNull();
    expect(r.sources[0]?.keys.map((k) => k.detail)).toEqual([expect.stringMatching(/port differs/), expect.stringMatching(/port differs/)]);
  });

  it('collects every secret it meets', async () => {
    const r = await resolveRegistryAuth(IMG, inputs({ jobAuthConfig: auths({ 'reg.test:5000': 'u:pw-123', 'x.test': 'v:pw-456' }) }), deps());
    expect(r.secrets).toEqual(expect.arrayContaining(['pw-123', 'pw-456', b64('u:pw-123')]));
  });
});

describe('resolveRegistryAuth: one config', () => {
  it('credHelpers > credsStore > auths for the same key', async () => {
    const helpers = new FakeHelpers({
      store: (a, url) => (a === 'list' ? JSON.stringify({ 'reg.test:5000': 's' }) : reply('store-user', 's-secret')(a, url)),
      special: reply('helper-user', 'h-secret'),
    });
    const config = JSON.stringify({
      auths: { 'reg.test:5000': { auth: b64('auth-user:a-secret') } },
      credsStore: 'store',
      credHelpers: { 'reg.test:5000': 'special' },
    });
    const home = { '/home/x/.docker/config.json': config };
    expect((await resolveRegistryAuth(IMG, inputs(), deps(home, helpers))).winner).toMatchObject({ via: 'credHelpers', credential: { username: 'helper-user' } });
    const noHelper = JSON.stringify({ ...JSON.parse(config), credHelpers: undefined });
    expect((await resolveRegistryAuth(IMG, inputs(), deps({ '/home/x/.docker/config.json': noHelper }, helpers))).winner).toMatchObject({
      via: 'credsStore',
      credential: { username: 'store-user' },
    });
  });

  it('runs helpers only for keys that could match the image', async () => {
    const helpers = new FakeHelpers({
      store: (a, url) => (a === 'list' ? JSON.stringify({ 'reg.test:5000': 's', 'other.test': 'o' }) : reply('s', 'x-secret')(a, url)),
      h: reply('h', 'y-secret'),
    });
    const config = JSON.stringify({ credsStore: 'store', credHelpers: { 'far.test': 'h', 'reg.test:5000/team': 'h' } });
    await resolveRegistryAuth(IMG, inputs(), deps({ '/home/x/.docker/config.json': config }, helpers));
    expect(helpers.calls).toEqual(['store list', 'store get reg.test:5000', 'h get reg.test:5000/team']);
  });

  it('reads "<token>" as an identity token, and an empty answer as no credentials', async () => {
    const helpers = new FakeHelpers({ tok: reply('<token>', 'refresh-tok'), empty: reply('', '') });
    const cfg = (h: string) => ({ '/home/x/.docker/config.json': JSON.stringify({ credHelpers: { 'reg.test:5000': h } }) });
    expect((await resolveRegistryAuth(IMG, inputs(), deps(cfg('tok'), helpers))).winner?.credential).toEqual({
      kind: 'identity-token',
      identityToken: 'refresh-tok',
      username: '',
      serverAddress: 'reg.test:5000',
    });
    const none = await resolveRegistryAuth(IMG, inputs(), deps(cfg('empty'), helpers));
    expect(none.winner).toBeNull();
    expect(none.sources[1]?.keys[0]).toMatchObject({ status: 'none' });
  });
});

describe('resolveRegistryAuth: helper failures and safety', () => {
  it('a missing helper costs only its keys, and the warning names helper, registry and fallback', async () => {
    const job = JSON.stringify({ auths: { 'reg.test:5000': { auth: b64('static:st-pw') } }, credHelpers: { 'reg.test:5000': 'gone' } });
    const r = await resolveRegistryAuth(IMG, inputs({ jobAuthConfig: job, allowedHelpers: ['gone'] }), deps());
    expect(r.winner).toMatchObject({ via: 'auths', credential: { username: 'static' } });
    expect(r.warnings).toEqual([
      '$DOCKER_AUTH_CONFIG (job variable): credential helper docker-credential-gone is not installed (not found on the runner host\'s PATH). ' +
        'Its credentials for reg.test:5000 are not used; berth uses the "auths" entry "reg.test:5000" of $DOCKER_AUTH_CONFIG instead.',
    ]);
  });

  it('a failing helper falls back to the next source, and says so', async () => {
    const helpers = new FakeHelpers({ broken: () => new CredentialHelperError('docker-credential-broken get exited with code 1: boom', false, 'boom') });
    const home = { '/home/x/.docker/config.json': JSON.stringify({ credHelpers: { 'reg.test:5000': 'broken' } }) };
    const payload = [{ type: 'registry', url: 'reg.test:5000', username: 'ci', password: 'payload-pw' }];
    const r = await resolveRegistryAuth(IMG, inputs({ payloadCredentials: payload }), deps(home, helpers));
    expect(r.winner?.source).toBe('job payload (GitLab Registry)');
    expect(r.warnings[0]).toContain('docker-credential-broken failed on get');
    expect(r.warnings[0]).toContain('berth uses the job payload (GitLab Registry) credentials for reg.test:5000 instead');
  });

  it('does not run a helper named by a job variable unless allowed', async () => {
    const helpers = new FakeHelpers({ evil: reply('e', 'evil-secret') });
    const job = JSON.stringify({ credsStore: 'evil', credHelpers: { 'reg.test:5000': 'evil' } });
    const r = await resolveRegistryAuth(IMG, inputs({ jobAuthConfig: job }), deps({}, helpers));
    expect(helpers.calls).toEqual([]);
    expect(r.winner).toBeNull();
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toContain('not listed in [runners.docker] allowed_credential_helpers');
    expect(r.warnings[0]).toContain('stricter than gitlab-runner');
    expect(r.warnings[0]).toContain('berth pulls this image without credentials');
    const allowed = await resolveRegistryAuth(IMG, inputs({ jobAuthConfig: job, allowedHelpers: ['evil'] }), deps({}, helpers));
    expect(allowed.winner?.credential).toMatchObject({ username: 'e' });
  });

  it('trusts helpers from the runner environment, also when the job repeats the same value', async () => {
    const helpers = new FakeHelpers({ pass: reply('p', 'pass-secret') });
    const value = JSON.stringify({ credHelpers: { 'reg.test:5000': 'pass' } });
    const env = [`DOCKER_AUTH_CONFIG=${value}`];
    expect((await resolveRegistryAuth(IMG, inputs({ runnerEnvironment: env }), deps({}, helpers))).winner).not.toBeNull();
    expect((await resolveRegistryAuth(IMG, inputs({ runnerEnvironment: env, jobAuthConfig: value }), deps({}, helpers))).winner).not.toBeNull();
  });

  it('refuses helper names with a path (CVE-2020-13347), before running anything', async () => {
    const helpers = new FakeHelpers({});
    for (const bad of ['../../../bin/sh', '/bin/sh', 'a\\b', '..']) {
      const job = JSON.stringify({ credHelpers: { 'far.test': bad } });
      await expect(resolveRegistryAuth(IMG, inputs({ jobAuthConfig: job, allowedHelpers: [bad] }), deps({}, helpers))).rejects.toThrow(HelperNameError);
      await expect(resolveRegistryAuth(IMG, inputs({ jobAuthConfig: job }), deps({}, helpers))).rejects.toThrow('path traversal is not allowed');
    }
    await expect(resolveRegistryAuth(IMG, inputs({ jobAuthConfig: JSON.stringify({ credsStore: '../x' }) }), deps())).rejects.toThrow(HelperNameError);
    expect(helpers.calls).toEqual([]);
  });

  it('broken JSON: a warning naming the source only', async () => {
    const text = '{"auths": {"reg.test:5000": {"auth": "c2VjcmV0OnNlY3JldA=="';
    const r = await resolveRegistryAuth(IMG, inputs({ jobAuthConfig: text }), deps());
    expect(r.warnings).toEqual([
      `Failed to resolve credentials from $DOCKER_AUTH_CONFIG: not valid JSON (unexpected end of input; ${text.length} characters, content not shown). Credentials from this source will not be used.`,
    ]);
    expect(r.secrets).toContain(text);
  });

  it('decodes as Go does: {"Auths":...} with Username/Password, and trailing data after the first value', async () => {
    for (const job of [
      `{"Auths":{"reg.test:5000":{"Auth":"${b64('cased:c-pw')}"}}}`,
      '{"auths":{"reg.test:5000":{"Username":"cased","PASSWORD":"c-pw"}}}',
      `{"auths":{"reg.test:5000":{"auth":"${b64('cased:c-pw')}"}}}}`,
    ]) {
      const r = await resolveRegistryAuth(IMG, inputs({ jobAuthConfig: job }), deps());
      expect(r.winner, job).toMatchObject({ source: '$DOCKER_AUTH_CONFIG', credential: { kind: 'basic', username: 'cased', password: 'c-pw' } });
      expect(r.warnings, job).toEqual([]);
    }
  });

  it('a malformed auth entry drops the whole source with gitlab-runner\'s warning; the next source is used', async () => {
    const home = { '/home/x/.docker/config.json': auths({ 'reg.test:5000': 'home:home-pw' }) };
    const cases: [string, string][] = [
      [b64(':no-user-secret'), 'invalid auth configuration file'],
      [b64('no-colon-secret'), 'invalid auth configuration file'],
      [b64('user:pw').replace(/=+$/, ''), 'illegal base64 data at input byte 8'],
    ];
    for (const [bad, error] of cases) {
      const job = JSON.stringify({ auths: { 'other.test:5000': { auth: bad }, 'reg.test:5000': { auth: b64('job:job-pw') } } });
      const r = await resolveRegistryAuth(IMG, inputs({ jobAuthConfig: job }), deps(home));
      expect(r.warnings).toEqual([`Failed to resolve credentials from $DOCKER_AUTH_CONFIG: ${error}. Credentials from this source will not be used.`]);
      expect(r.sources[0]).toMatchObject({ state: 'unreadable', keys: [] });
      expect(r.winner).toMatchObject({ source: '/home/x/.docker/config.json', credential: { username: 'home' } });
      for (const w of r.warnings) for (const secret of [bad, 'job-pw', 'no-user-secret', 'no-colon-secret']) expect(w).not.toContain(secret);
    }
  });
});
