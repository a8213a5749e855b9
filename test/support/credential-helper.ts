/**
 * Credential helpers for tests:
 *   - a real `docker-credential-pass` store with a throwaway GNUPGHOME and PASSWORD_STORE_DIR
 *     (the helper reads both from its environment, so `activate()` sets them in this process);
 *   - scripted helpers (`docker-credential-<name>` shell scripts) in a temporary folder for a
 *     helper PATH: one that fails, one that leaves a marker file, one that answers fixed values.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PassStore {
  env: { GNUPGHOME: string; PASSWORD_STORE_DIR: string };
  store(serverUrl: string, username: string, secret: string): void;
  /** Sets GNUPGHOME and PASSWORD_STORE_DIR in this process (helpers inherit them). */
  activate(): void;
  /** Stops the gpg-agent this store started, restores the environment, removes the folders. */
  dispose(): void;
}

export function createPassStore(): PassStore {
  const gnupgHome = mkdtempSync(join(tmpdir(), 'berth-gnupg-'));
  const storeDir = mkdtempSync(join(tmpdir(), 'berth-pass-'));
  chmodSync(gnupgHome, 0o700);
  const env = { GNUPGHOME: gnupgHome, PASSWORD_STORE_DIR: storeDir };
  const childEnv = { ...process.env, ...env };
  const params = ['%no-protection', 'Key-Type: RSA', 'Key-Length: 2048', 'Name-Real: berth test', 'Name-Email: ci@test.invalid', 'Expire-Date: 0', '%commit'];
  writeFileSync(join(gnupgHome, 'key.params'), `${params.join('\n')}\n`);
  execFileSync('gpg', ['--batch', '--gen-key', join(gnupgHome, 'key.params')], { env: childEnv, stdio: 'ignore' });
  execFileSync('pass', ['init', 'ci@test.invalid'], { env: childEnv, stdio: 'ignore' });
  const saved = { GNUPGHOME: process.env.GNUPGHOME, PASSWORD_STORE_DIR: process.env.PASSWORD_STORE_DIR };
  return {
    env,
    store(serverUrl, username, secret) {
      execFileSync('docker-credential-pass', ['store'], {
        env: childEnv,
        input: JSON.stringify({ ServerURL: serverUrl, Username: username, Secret: secret }),
        stdio: ['pipe', 'ignore', 'pipe'],
      });
    },
    activate() {
      Object.assign(process.env, env);
    },
    dispose() {
      try {
        execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: childEnv, stdio: 'ignore' });
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
        rmSync(gnupgHome, { recursive: true, force: true });
        rmSync(storeDir, { recursive: true, force: true });
      }
    },
  };
}

export interface HelperDir {
  dir: string;
  /** Writes `docker-credential-<name>` running `body` (sh). */
  write(name: string, body: string): string;
  dispose(): void;
}

export function createHelperDir(): HelperDir {
  const dir = mkdtempSync(join(tmpdir(), 'berth-helpers-'));
  return {
    dir,
    write(name, body) {
      const file = join(dir, `docker-credential-${name}`);
      writeFileSync(file, `#!/bin/sh\n${body}\n`);
      chmodSync(file, 0o755);
      return file;
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A helper that answers `get` with fixed credentials and `list` with one entry. */
export function fixedHelperBody(serverUrl: string, username: string, secret: string): string {
  const get = JSON.stringify({ ServerURL: serverUrl, Username: username, Secret: secret });
  const list = JSON.stringify({ [serverUrl]: username });
  return `case "$1" in\n  get) cat >/dev/null; printf '%s' '${get}' ;;\n  list) cat >/dev/null; printf '%s' '${list}' ;;\n  *) exit 1 ;;\nesac`;
}
