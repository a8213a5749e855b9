/**
 * One static `auths` entry → a credential. parseDockerConfig has already decoded `auth` into
 * username and password, as docker/cli's LoadFromReader does; `identitytoken` makes it an
 * identity-token credential; `username`/`password` are used as given.
 */
import type { AuthEntry } from './docker-config.js';
import type { RegistryCredential } from './registry-credential.js';

export type StaticAuthResult = { ok: true; credential: RegistryCredential } | { ok: false; reason: string };

export function credentialFromAuthEntry(key: string, entry: AuthEntry): StaticAuthResult {
  const username = entry.username ?? '';
  const password = entry.password ?? '';
  if (entry.identitytoken) {
    return { ok: true, credential: { kind: 'identity-token', identityToken: entry.identitytoken, username, serverAddress: key } };
  }
  if (username && password) return { ok: true, credential: { kind: 'basic', username, password, serverAddress: key } };
  if (entry.registrytoken) return { ok: false, reason: '"registrytoken" entries are not supported (use "auth" or "identitytoken")' };
  if (!username && !password) return { ok: false, reason: 'empty entry (no "auth", "username" or "identitytoken")' };
  return { ok: false, reason: username ? 'a username without a password' : 'a password without a username' };
}
