/**
 * The docker-credential-helpers protocol: `docker-credential-<name> get` reads the server URL on
 * stdin (no newline) and prints {"ServerURL","Username","Secret"}; `list` prints
 * {"<server URL>":"<username>"}. Username "<token>" means the secret is an identity token.
 * "credentials not found in native keychain", or an empty Username and Secret with exit 0,
 * means no credentials. The program is looked up on the runner host's PATH, never run by a shell.
 */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { RegistryCredential } from './registry-credential.js';
import { BerthError } from '../../shared/errors.js';

const NOT_FOUND = 'credentials not found in native keychain';
const TOKEN_USERNAME = '<token>';
const MAX_OUTPUT = 1024 * 1024;

export type HelperAction = 'get' | 'list';

/** Runs a helper program; resolves with its stdout, rejects with CredentialHelperError. */
export interface HelperRunner {
  run(helper: string, action: HelperAction, input: string): Promise<string>;
}

export class CredentialHelperError extends BerthError {
  constructor(
    message: string,
    readonly missing: boolean,
    /** Combined output of a failed run (may say "credentials not found"). */
    readonly output = '',
  ) {
    super('credential_helper_failed', message);
  }
}

export function helperProgram(helper: string): string {
  return `docker-credential-${helper}`;
}

/** Runs `docker-credential-<name>` found on `pathEnv` (berth's environment otherwise), with a timeout. */
export class ProcessHelperRunner implements HelperRunner {
  constructor(
    private readonly pathEnv: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async run(helper: string, action: HelperAction, input: string): Promise<string> {
    const program = helperProgram(helper);
    const file = await findOnPath(program, this.pathEnv);
    if (!file) throw new CredentialHelperError(`${program} was not found on PATH`, true);
    return new Promise((resolve, reject) => {
      // The helper runs with berth's own environment; `pathEnv` only decides where it is found.
      const child = spawn(file, [action], {
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: this.timeoutMs,
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(0, MAX_OUTPUT)));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(0, MAX_OUTPUT)));
      child.on('error', (e) => reject(new CredentialHelperError(`${program} could not be run: ${e.message}`, false)));
      child.on('close', (code, signal) => {
        if (code === 0) return resolve(out);
        const output = `${out}\n${err}`.trim();
        const why = signal ? `was stopped by ${signal}${signal === 'SIGTERM' ? ' (timeout)' : ''}` : `exited with code ${code}`;
        reject(new CredentialHelperError(`${program} ${action} ${why}${output ? `: ${firstLine(output)}` : ''}`, false, output));
      });
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    });
  }
}

async function findOnPath(program: string, pathEnv: string): Promise<string | null> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, program);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return null;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/** `get` for one server URL: a credential, or null when the helper has none. */
export async function helperGet(runner: HelperRunner, helper: string, serverUrl: string): Promise<RegistryCredential | null> {
  let out: string;
  try {
    out = await runner.run(helper, 'get', serverUrl);
  } catch (err) {
    if (err instanceof CredentialHelperError && err.output.includes(NOT_FOUND)) return null;
    throw err;
  }
  if (out.includes(NOT_FOUND)) return null;
  const fields = lowerKeys(parseJson(out, helper, 'get'));
  const username = typeof fields.username === 'string' ? fields.username : '';
  const secret = typeof fields.secret === 'string' ? fields.secret : '';
  if (!username && !secret) return null;
  if (username === TOKEN_USERNAME) return { kind: 'identity-token', identityToken: secret, username: '', serverAddress: serverUrl };
  return { kind: 'basic', username, password: secret, serverAddress: serverUrl };
}

/** `list`: server URL → username of every credential the store holds. */
export async function helperList(runner: HelperRunner, helper: string): Promise<Record<string, string>> {
  const out = await runner.run(helper, 'list', 'unused');
  const list = parseJson(out, helper, 'list');
  const result: Record<string, string> = {};
  for (const [url, user] of Object.entries(list)) if (typeof user === 'string') result[url] = user;
  return result;
}

function parseJson(out: string, helper: string, action: HelperAction): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(out);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: the output may hold a secret, so it is not quoted
  }
  throw new CredentialHelperError(`${helperProgram(helper)} ${action} printed something that is not a JSON object`, false);
}

function lowerKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));
}
