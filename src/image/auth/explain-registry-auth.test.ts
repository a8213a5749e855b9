import { describe, expect, it } from 'vitest';
import { CredentialHelperError, type HelperRunner } from './credential-helper.js';
import { explainRegistryAuth, type ExplainOptions } from './explain-registry-auth.js';
import { formatExplanation } from './format-explanation.js';
import { readRunnerAuthConfig } from './runner-config-auth.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const missingHelpers: HelperRunner = {
  run: async (helper) => {
    throw new CredentialHelperError(`docker-credential-${helper} was not found on PATH`, true);
  },
};

function opts(over: Partial<ExplainOptions> = {}): ExplainOptions {
  return { image: 'reg.test:5000/team/app:1', jobVariables: [], runnerEnvironment: [], allowedHelpers: [], homeDir: '/h', helperPath: '', ...over };
}

async function explain(over: Partial<ExplainOptions>, files: Record<string, string> = {}) {
  const e = await explainRegistryAuth(opts(over), { readFile: async (p) => files[p] ?? null, helpers: missingHelpers });
  return { e, text: formatExplanation(e).join('\n') };
}

describe('explainRegistryAuth', () => {
  it('gives every key a verdict and says why', async () => {
    const job = JSON.stringify({
      auths: {
        'reg.test:5000': { auth: b64('job:job-secret-1') },
        'reg.test:5000/team': { auth: b64('team:team-secret-2') },
        'reg.test:5001': { auth: b64('x:port-secret-3') },
        'reg.test:5000/team/app': {},
      },
      credHelpers: { 'reg.test:5000': 'ecr-login' },
    });
    const home = JSON.stringify({ auths: { 'reg.test:5000/team': { auth: b64('home:home-secret-4') } } });
    const { e, text } = await explain({ jobVariables: [{ key: 'DOCKER_AUTH_CONFIG', value: job }], allowedHelpers: ['ecr-login'] }, { '/h/.docker/config.json': home });
    const verdicts = e.sources.flatMap((s) => s.keys.map((k) => `${s.label} ${k.key} ${k.via} ${k.verdict}: ${k.why}`));
    expect(verdicts).toEqual([
      '$DOCKER_AUTH_CONFIG reg.test:5000 auths loses: reg.test:5000/team is a longer match for the image',
      '$DOCKER_AUTH_CONFIG reg.test:5000/team auths wins: static credentials; username "team" and a password',
      '$DOCKER_AUTH_CONFIG reg.test:5001 auths no-match: port differs (key reg.test:5001, image reg.test:5000): the port must match exactly',
      '$DOCKER_AUTH_CONFIG reg.test:5000/team/app auths unusable: empty entry (no "auth", "username" or "identitytoken")',
      "$DOCKER_AUTH_CONFIG reg.test:5000 credHelpers helper-problem: credential helper docker-credential-ecr-login is not installed (not found on the runner host's PATH)",
      '/h/.docker/config.json reg.test:5000/team auths loses: $DOCKER_AUTH_CONFIG already supplies reg.test:5000/team and comes first',
    ]);
    expect(e.winner).toEqual({ text: 'the "auths" entry "reg.test:5000/team" of $DOCKER_AUTH_CONFIG', source: '$DOCKER_AUTH_CONFIG', credential: 'username "team" and a password' });
    expect(text).toContain('Lookup:    reg.test:5000/team/app, reg.test:5000/team, reg.test:5000 (longest first; the port must match)');
    expect(text).toContain('The job log says: Authenticating with credentials from $DOCKER_AUTH_CONFIG');
    expect(text).toContain('WARNING: $DOCKER_AUTH_CONFIG (job variable): credential helper docker-credential-ecr-login is not installed');
    for (const s of ['job-secret-1', 'team-secret-2', 'port-secret-3', 'home-secret-4', b64('team:team-secret-2')]) expect(text).not.toContain(s);
  });

  it('says when a helper overrides static auths in the same config', async () => {
    const helpers: HelperRunner = { run: async (_h, _a, url) => JSON.stringify({ ServerURL: url, Username: 'h', Secret: 'helper-secret' }) };
    const home = JSON.stringify({ auths: { 'reg.test:5000': { auth: b64('a:auth-secret') } }, credHelpers: { 'reg.test:5000': 'pass' } });
    const e = await explainRegistryAuth(opts(), { readFile: async (p) => (p === '/h/.docker/config.json' ? home : null), helpers });
    expect(e.sources[1]?.keys.map((k) => [k.via, k.verdict, k.why])).toEqual([
      ['auths', 'loses', 'overridden by credHelpers for the same registry in this source'],
      ['credHelpers', 'wins', 'from docker-credential-pass; username "h" and a password'],
    ]);
  });

  it('reports broken JSON as an ignored source, without its content', async () => {
    const text = '{"auths": {"reg.test:5000": {"auth": "c2VjcmV0OnNlY3JldA=="';
    const r = await explain({ jobVariables: [{ key: 'DOCKER_AUTH_CONFIG', value: text }] });
    expect(r.text).toContain(`1. $DOCKER_AUTH_CONFIG (job variable): IGNORED, not valid JSON (unexpected end of input; ${text.length} characters, content not shown)`);
    expect(r.text).not.toContain('c2VjcmV0OnNlY3JldA==');
    expect(r.text).toContain('Result:    no credentials: the image is pulled anonymously.');
  });

  it('reports a refused helper name as a failing job', async () => {
    const r = await explain({ jobVariables: [{ key: 'DOCKER_AUTH_CONFIG', value: JSON.stringify({ credsStore: '../../bin/sh' }) }] });
    expect(r.e.refusal).toContain('path traversal is not allowed');
    expect(r.text).toContain('A job with this configuration fails (runner_configuration_error).');
  });

  it('normalises Docker Hub names as gitlab-runner does', async () => {
    const r = await explain({ image: 'ruby:3', jobVariables: [{ key: 'DOCKER_AUTH_CONFIG', value: JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('u:hub-secret') } } }) }] });
    expect(r.text).toContain('Registry:  docker.io');
    expect(r.text).toContain('Lookup:    docker.io/ruby, docker.io');
    expect(r.e.winner?.text).toBe('the "auths" entry "https://index.docker.io/v1/" of $DOCKER_AUTH_CONFIG');
  });

  it('refuses an image ID or a bad reference', async () => {
    await expect(explain({ image: `sha256:${'a'.repeat(64)}` })).rejects.toThrow('an image ID is never pulled');
    await expect(explain({ image: 'Bad/Name' })).rejects.toThrow('lowercase');
  });
});

describe('readRunnerAuthConfig', () => {
  const toml = '[[runners]]\nname = "a"\ntoken = "glrt-secret"\nenvironment = ["X=1", "DOCKER_AUTH_CONFIG={}"]\n[runners.docker]\nallowed_credential_helpers = ["pass"]\n[[runners]]\nname = "b"\n';

  it('reads the first runner, or the named one', () => {
    expect(readRunnerAuthConfig(toml, 'c.toml')).toEqual({
      runnerName: 'a',
      environment: ['X=1', 'DOCKER_AUTH_CONFIG={}'],
      allowedCredentialHelpers: ['pass'],
      note: 'c.toml has 2 runners; using the first, "a" (choose with --runner)',
    });
    expect(readRunnerAuthConfig(toml, 'c.toml', 'b')).toMatchObject({ runnerName: 'b', environment: [], allowedCredentialHelpers: [], note: '' });
    expect(() => readRunnerAuthConfig(toml, 'c.toml', 'z')).toThrow('c.toml has no runner named "z" (it has "a", "b")');
  });

  it('never quotes the file in errors', () => {
    const bad = 'token = "glrt-very-secret"\n[[runners]\n';
    expect(() => readRunnerAuthConfig(bad, 'c.toml')).toThrow(/^c\.toml is not valid TOML \(line 2, column \d+\)$/);
    expect(() => readRunnerAuthConfig('x = 1', 'c.toml')).toThrow('has no [[runners]] section');
    expect(() => readRunnerAuthConfig('[[runners]]\nenvironment = "X=1"', 'c.toml')).toThrow('runners.environment must be a list of strings');
  });
});
