import { describe, expect, it } from 'vitest';
import { credentialSecrets, encodeRegistryAuth } from './registry-credential.js';

const decode = (s: string): unknown => JSON.parse(Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));

describe('encodeRegistryAuth', () => {
  it('is padded base64url JSON (Go base64.URLEncoding), whatever the length', () => {
    for (let n = 1; n <= 6; n++) {
      const cred = { kind: 'basic' as const, username: 'u'.repeat(n), password: 'p?>'.repeat(n), serverAddress: 'reg.test:5000' };
      const enc = encodeRegistryAuth(cred);
      expect(enc.length % 4).toBe(0);
      expect(enc).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
      expect(decode(enc)).toEqual({ username: cred.username, password: cred.password, serveraddress: 'reg.test:5000' });
    }
  });

  it('sends identity tokens as identitytoken', () => {
    const enc = encodeRegistryAuth({ kind: 'identity-token', identityToken: 'tok', username: '', serverAddress: 'r' });
    expect(decode(enc)).toEqual({ username: '', identitytoken: 'tok', serveraddress: 'r' });
  });

  it('lists the secret forms for the scrubber', () => {
    const s = credentialSecrets({ kind: 'basic', username: 'u', password: 'pw', serverAddress: 'r' });
    expect(s).toContain('pw');
    expect(s).toContain(Buffer.from('u:pw').toString('base64'));
  });
});
