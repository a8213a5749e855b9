/**
 * One static `auths` entry → a credential, as docker/cli decodes it: `auth` is
 * base64(user:password) split at the first ':' (trailing NULs trimmed from the password);
 * `identitytoken` makes it an identity-token credential; `username`/`password` are used as given.
 */
import type { AuthEntry } from './docker-config.js';
import type { RegistryCredential } from './registry-credential.js';

export type StaticAuthResult = { ok: true; credential: RegistryCredential } | { ok: false; reason: string };

export function credentialFromAuthEntry(key: string, entry: AuthEntry): StaticAuthResult {
  let username = entry.username ?? '';
  let password = entry.password ?? '';
  if (entry.auth) {
    const decoded = decodeBase64(entry.auth);
    const colon = decoded?.indexOf(':') ?? -1;
    if (decoded === null || colon < 0) {
      return { ok: false, reason: '"auth" is not base64 of "username:password"' };
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1).replace(/\0+$/, '');
    if (!username) return { ok: false, reason: '"auth" has an empty username' };
  }
  if (entry.identitytoken) {
    return { ok: true, credential: { kind: 'identity-token', identityToken: entry.identitytoken, username, serverAddress: key } };
  }
  if (username && password) return { ok: true, credential: { kind: 'basic', username, password, serverAddress: key } };
  if (entry.registrytoken) return { ok: false, reason: '"registrytoken" entries are not supported (use "auth" or "identitytoken")' };
  if (!username && !password) return { ok: false, reason: 'empty entry (no "auth", "username" or "identitytoken")' };
  return { ok: false, reason: username ? 'a username without a password' : 'a password without a username' };
}

function decodeBase64(text: string): string | null {
  const clean = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return null;
  return Buffer.from(clean, 'base64').toString('utf8');
}
