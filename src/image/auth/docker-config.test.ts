import { describe, expect, it } from 'vitest';
import { DockerConfigError, parseDockerConfig } from './docker-config.js';
import { credentialFromAuthEntry } from './static-auth.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('parseDockerConfig', () => {
  it('reads auths, credsStore and credHelpers', () => {
    const c = parseDockerConfig(
      JSON.stringify({ auths: { 'reg.test': { auth: b64('u:p') } }, credsStore: 'pass', credHelpers: { 'x.test': 'ecr' } }),
    );
    expect(c).toEqual({
      auths: [{ key: 'reg.test', entry: { auth: b64('u:p') } }],
      credsStore: 'pass',
      credHelpers: [{ key: 'x.test', helper: 'ecr' }],
      problems: [],
    });
  });

  it('reads the legacy .dockercfg map', () => {
    expect(parseDockerConfig(JSON.stringify({ 'https://reg.test': { auth: b64('u:p'), email: 'x@y' } }))?.auths).toEqual([
      { key: 'https://reg.test', entry: { auth: b64('u:p') } },
    ]);
  });

  it('treats empty text as no configuration', () => {
    expect(parseDockerConfig('  \n')).toBeNull();
  });

  it('never quotes the text of broken JSON', () => {
    const secret = 'hunter2-very-secret';
    const text = `{"auths": {"reg.test": {"password": "${secret}"`;
    expect(() => parseDockerConfig(text)).toThrow(DockerConfigError);
    try {
      parseDockerConfig(text);
    } catch (err) {
      expect((err as Error).message).toBe(`is not valid JSON (${text.length} characters; content not shown)`);
      expect((err as Error).message).not.toContain(secret);
    }
  });

  it('ignores badly shaped parts and says which', () => {
    const c = parseDockerConfig(JSON.stringify({ auths: { a: 1, b: { auth: 5 } }, credsStore: 3, credHelpers: { h: '' } }));
    expect(c?.problems).toEqual([
      'auths["a"] is not an object: ignored',
      'auths["b"].auth is not a string: ignored',
      '"credsStore" is not a string: ignored',
      'credHelpers["h"] is not a helper name: ignored',
    ]);
    expect(() => parseDockerConfig('[]')).toThrow('is not a JSON object');
  });
});

describe('credentialFromAuthEntry', () => {
  it('splits auth at the first colon and trims trailing NULs', () => {
    expect(credentialFromAuthEntry('k', { auth: b64('user:pa:ss\0\0') })).toEqual({
      ok: true,
      credential: { kind: 'basic', username: 'user', password: 'pa:ss', serverAddress: 'k' },
    });
  });

  it('uses username/password when there is no auth', () => {
    expect(credentialFromAuthEntry('k', { username: 'u', password: 'p' })).toMatchObject({ ok: true, credential: { kind: 'basic', username: 'u' } });
  });

  it('makes identity-token credentials', () => {
    expect(credentialFromAuthEntry('k', { identitytoken: 'tok', username: 'u' })).toEqual({
      ok: true,
      credential: { kind: 'identity-token', identityToken: 'tok', username: 'u', serverAddress: 'k' },
    });
  });

  it.each([
    [{ auth: b64(':nouser') }, 'empty username'],
    [{ auth: b64('nocolon') }, 'not base64 of "username:password"'],
    [{ auth: '!!!' }, 'not base64'],
    [{}, 'empty entry'],
    [{ registrytoken: 'x' }, 'not supported'],
    [{ username: 'u' }, 'without a password'],
  ])('refuses %j', (entry, why) => {
    const r = credentialFromAuthEntry('k', entry);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(why);
  });
});
