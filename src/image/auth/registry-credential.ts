/**
 * One registry credential, whatever its source: a username and password, or an identity token
 * (a refresh token for the registry's token service). Turned into the Engine API's
 * X-Registry-Auth value: base64url(JSON AuthConfig).
 */

export type RegistryCredential =
  | { kind: 'basic'; username: string; password: string; serverAddress: string }
  | { kind: 'identity-token'; identityToken: string; serverAddress: string; username: string };

/**
 * base64url of the JSON AuthConfig the Engine API expects, WITH padding: the daemon decodes it
 * with Go's base64.URLEncoding, which rejects unpadded input and then pulls anonymously
 * ("no basic auth credentials"). Contains a secret: never log it.
 */
export function encodeRegistryAuth(cred: RegistryCredential): string {
  const config =
    cred.kind === 'basic'
      ? { username: cred.username, password: cred.password, serveraddress: cred.serverAddress }
      : { username: cred.username, identitytoken: cred.identityToken, serveraddress: cred.serverAddress };
  return Buffer.from(JSON.stringify(config), 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The secret parts of a credential, and the encodings they travel in, for the scrubber. */
export function credentialSecrets(cred: RegistryCredential): string[] {
  if (cred.kind === 'identity-token') return [cred.identityToken, encodeRegistryAuth(cred)];
  const basic = Buffer.from(`${cred.username}:${cred.password}`, 'utf8').toString('base64');
  return [cred.password, basic, encodeRegistryAuth(cred)];
}

/** What the log may say about a credential: its kind and username, never the secret. */
export function describeCredential(cred: RegistryCredential): string {
  if (cred.kind === 'identity-token') return 'an identity token';
  return `username "${cred.username}" and a password`;
}
