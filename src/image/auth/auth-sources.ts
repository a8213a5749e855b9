/**
 * Where registry credentials come from, in gitlab-runner's order (gitlab-runner helpers/docker/auth/auth.go):
 *   1. $DOCKER_AUTH_CONFIG: the job variable, which replaces the runner environment's value
 *      entirely (nothing is merged); the runner process's own environment is not read;
 *   2. <home>/.docker/config.json, or else <home>/.dockercfg;
 *   3. the job payload's credentials of type exactly "registry".
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DOCKER_AUTH_CONFIG = 'DOCKER_AUTH_CONFIG';
export const SOURCE_DOCKER_AUTH_CONFIG = '$DOCKER_AUTH_CONFIG';
export const SOURCE_JOB_PAYLOAD = 'job payload (GitLab Registry)';

export interface PayloadCredential {
  type: string;
  url: string;
  username: string;
  password: string;
}

export interface AuthInputs {
  /** The job's DOCKER_AUTH_CONFIG (its last definition; a file variable's content), if set. */
  jobAuthConfig: string | undefined;
  /** `[[runners]] environment` entries ("K=V"). */
  runnerEnvironment: readonly string[];
  homeDir: string;
  payloadCredentials: readonly PayloadCredential[];
  /** `[runners.docker] allowed_credential_helpers`: helpers a job-supplied config may use. */
  allowedHelpers: readonly string[];
}

/** The text of one Docker config source, before parsing. */
export interface ConfigText {
  /** The name the job log uses: `$DOCKER_AUTH_CONFIG` or the file path. */
  label: string;
  /** Where it came from, for people: "job variable", "runner environment", "file". */
  origin: string;
  /** Null: the source is absent. */
  text: string | null;
  /** Helpers it names may run without the allow-list (the runner administrator wrote it). */
  trusted: boolean;
  /** Why it was absent or unreadable, or what replaced what. */
  note: string;
}

/** The last `DOCKER_AUTH_CONFIG=` of a "K=V" list. */
export function environmentValue(env: readonly string[], key: string): string | undefined {
  let value: string | undefined;
  for (const entry of env) if (entry.startsWith(`${key}=`)) value = entry.slice(key.length + 1);
  return value;
}

export function dockerAuthConfigText(inputs: AuthInputs): ConfigText {
  const runnerValue = environmentValue(inputs.runnerEnvironment, DOCKER_AUTH_CONFIG);
  const label = SOURCE_DOCKER_AUTH_CONFIG;
  if (inputs.jobAuthConfig !== undefined) {
    // The same value as the runner's own: the administrator wrote it, the job only repeats it.
    const sameAsRunner = runnerValue !== undefined && runnerValue === inputs.jobAuthConfig;
    const note =
      runnerValue === undefined || sameAsRunner
        ? ''
        : 'the job variable replaces the runner environment value entirely (nothing is merged)';
    const origin = sameAsRunner ? 'runner environment (repeated as a job variable)' : 'job variable';
    return { label, origin, text: inputs.jobAuthConfig, trusted: sameAsRunner, note };
  }
  if (runnerValue !== undefined) return { label, origin: 'runner environment', text: runnerValue, trusted: true, note: '' };
  return { label, origin: 'job variable or runner environment', text: null, trusted: true, note: 'not set' };
}

/** Reads a file; null when it does not exist. Other errors are thrown. */
export type ReadTextFile = (path: string) => Promise<string | null>;

export const readTextFile: ReadTextFile = async (path) => {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
};

export async function homeConfigText(homeDir: string, read: ReadTextFile): Promise<ConfigText> {
  const files = [join(homeDir, '.docker', 'config.json'), join(homeDir, '.dockercfg')];
  for (const file of files) {
    let text: string | null;
    try {
      text = await read(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return { label: file, origin: 'file', text: null, trusted: true, note: `could not be read (${code})` };
    }
    if (text !== null) return { label: file, origin: 'file', text, trusted: true, note: '' };
  }
  return { label: files[0]!, origin: 'file', text: null, trusted: true, note: `neither it nor ${files[1]} exists` };
}
