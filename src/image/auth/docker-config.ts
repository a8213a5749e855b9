/**
 * Reads the text of a Docker client config (`DOCKER_AUTH_CONFIG`, `~/.docker/config.json`, or
 * the legacy `~/.dockercfg` map) into its three credential parts. Errors never quote the text:
 * it holds secrets.
 */
import { BerthError } from '../../shared/errors.js';

export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface DockerConfig {
  auths: { key: string; entry: AuthEntry }[];
  credsStore: string | null;
  credHelpers: { key: string; helper: string }[];
  /** Parts that were ignored because of their shape (no secret in these texts). */
  problems: string[];
}

export class DockerConfigError extends BerthError {
  constructor(message: string) {
    super('docker_config_invalid', message);
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const ENTRY_FIELDS = ['auth', 'username', 'password', 'identitytoken', 'registrytoken'] as const;

/** Null for empty text (no configuration). Throws DockerConfigError for text that is not a config. */
export function parseDockerConfig(text: string): DockerConfig | null {
  if (!text.trim()) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse messages quote the text around the error: never pass them on.
    throw new DockerConfigError(`is not valid JSON (${text.length} characters; content not shown)`);
  }
  if (!isObject(raw)) throw new DockerConfigError('is not a JSON object');
  const problems: string[] = [];
  const modern = 'auths' in raw || 'credsStore' in raw || 'credHelpers' in raw;
  const authsRaw = modern ? raw.auths : raw;
  const auths: DockerConfig['auths'] = [];
  if (authsRaw !== undefined && !isObject(authsRaw)) problems.push('"auths" is not an object: ignored');
  for (const [key, value] of Object.entries(isObject(authsRaw) ? authsRaw : {})) {
    if (!isObject(value)) {
      if (modern) problems.push(`auths["${key}"] is not an object: ignored`);
      continue;
    }
    const entry: AuthEntry = {};
    for (const field of ENTRY_FIELDS) {
      const v = value[field];
      if (typeof v === 'string') entry[field] = v;
      else if (v !== undefined && v !== null) problems.push(`auths["${key}"].${field} is not a string: ignored`);
    }
    auths.push({ key, entry });
  }
  let credsStore: string | null = null;
  if (modern && raw.credsStore !== undefined) {
    if (typeof raw.credsStore === 'string') credsStore = raw.credsStore || null;
    else problems.push('"credsStore" is not a string: ignored');
  }
  const credHelpers: DockerConfig['credHelpers'] = [];
  if (modern && raw.credHelpers !== undefined && !isObject(raw.credHelpers)) problems.push('"credHelpers" is not an object: ignored');
  for (const [key, helper] of Object.entries(modern && isObject(raw.credHelpers) ? raw.credHelpers : {})) {
    if (typeof helper === 'string' && helper) credHelpers.push({ key, helper });
    else problems.push(`credHelpers["${key}"] is not a helper name: ignored`);
  }
  return { auths, credsStore, credHelpers, problems };
}
