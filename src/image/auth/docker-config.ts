/**
 * Reads the text of a Docker client config (`DOCKER_AUTH_CONFIG`, `~/.docker/config.json`, or
 * `~/.dockercfg`) as gitlab-runner reads it: docker/cli `ConfigFile.LoadFromReader`
 * (cli/config/configfile/file.go, docker/cli v29.7.2 as pinned by gitlab-runner), i.e.
 * `json.NewDecoder(r).Decode(&ConfigFile{})` and then decodeAuth on every `auths` entry.
 *
 * Go encoding/json rules followed here (decode.go `object()`):
 *   - only the first JSON value counts; what follows it is ignored (go-json.ts);
 *   - object keys match struct fields by their JSON name, exactly, else case-insensitively
 *     (`fields.byExactName`, else `fields.byFoldedName[foldName(key)]`). Each key is matched on
 *     its own, in document order, so duplicates that differ only in case all land on the same
 *     field: for a string field the last one wins; for a map field (`auths`, `credHelpers`) their
 *     members are merged into the one map, a later member replacing an earlier one with the same
 *     (exact, case-sensitive) map key. The exact-before-folded rule only matters when two fields
 *     fold alike, which none of ConfigFile's or AuthConfig's do;
 *   - `null` leaves a string field as it was and empties a map field;
 *   - a value of the wrong type (`"auths": []`, `"auth": 5`) is a json.UnmarshalTypeError: the
 *     whole source fails, with Go's text (field names and JSON kinds only, never a value);
 *   - unknown keys are ignored. The other ConfigFile fields (psFormat, proxies, ...) are not
 *     type-checked here: berth does not read them.
 * Then decodeAuth: `auth` must be padded standard base64 of "user:password" with a non-empty user;
 * anything else fails the whole source (`invalid auth configuration file`, or the base64 offset).
 *
 * One berth extension, kept from before: a top-level object none of whose keys is a ConfigFile
 * field is read as the legacy `.dockercfg` map of registries (gitlab-runner finds no credentials
 * in it). Errors never quote the text: it holds secrets.
 */
import { BerthError } from '../../shared/errors.js';
import { decodeGoBase64 } from './go-base64.js';
import { type GoJsonValue, GoJsonSyntaxError, readFirstJsonValue } from './go-json.js';

export interface AuthEntry {
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

/** Larger texts are refused unread (a real config is a few KiB). */
export const MAX_DOCKER_CONFIG_CHARS = 4 * 1024 * 1024;

/** ConfigFile's JSON names (docker/cli v29.7.2), for the legacy-layout test. */
const CONFIG_FILE_FIELDS = [
  'auths', 'HttpHeaders', 'psFormat', 'imagesFormat', 'networksFormat', 'pluginsFormat', 'volumesFormat', 'statsFormat',
  'detachKeys', 'credsStore', 'credHelpers', 'serviceInspectFormat', 'servicesFormat', 'tasksFormat', 'secretFormat',
  'configFormat', 'nodesFormat', 'pruneFilters', 'proxies', 'currentContext', 'cliPluginsExtraDirs', 'plugins', 'aliases', 'features',
];
/** types.AuthConfig's JSON names. `serveraddress` is read and then replaced by the map key. */
const AUTH_CONFIG_FIELDS = ['username', 'password', 'auth', 'serveraddress', 'identitytoken', 'registrytoken'] as const;
type AuthField = (typeof AUTH_CONFIG_FIELDS)[number];

/**
 * Go's foldName for matching against ASCII names: a-z upper-cased, and the two non-ASCII runes
 * whose Unicode simple-fold orbit holds an ASCII letter: U+017F (long s) → S, U+212A (Kelvin) → K.
 */
const fold = (name: string): string => name.replace(/[a-z]/g, (c) => c.toUpperCase()).replace(/\u017f/g, 'S').replace(/\u212a/g, 'K');
function fieldOf<T extends string>(key: string, fields: readonly T[]): T | undefined {
  return fields.find((f) => f === key) ?? fields.find((f) => fold(f) === fold(key));
}

/** Go's json.UnmarshalTypeError text. */
function typeError(value: GoJsonValue, struct: string, path: string, type: string): DockerConfigError {
  return new DockerConfigError(`json: cannot unmarshal ${value.kind} into Go struct field ${struct}.${path} of type ${type}`);
}

/** Null: no configuration (empty text, `null`, or nothing that holds credentials). Throws DockerConfigError. */
export function parseDockerConfig(text: string): DockerConfig | null {
  if (text.length > MAX_DOCKER_CONFIG_CHARS) {
    throw new DockerConfigError(`larger than ${MAX_DOCKER_CONFIG_CHARS / 1024 / 1024} MiB (${text.length} characters; content not shown)`);
  }
  let root: GoJsonValue | null;
  try {
    root = readFirstJsonValue(text);
  } catch (err) {
    if (!(err instanceof GoJsonSyntaxError)) throw err;
    throw new DockerConfigError(`not valid JSON (${err.message}; ${text.length} characters, content not shown)`);
  }
  if (root === null || root.kind === 'null') return null;
  if (root.kind !== 'object') throw new DockerConfigError(`json: cannot unmarshal ${root.kind} into Go value of type configfile.ConfigFile`);

  const auths = new Map<string, AuthEntry & { auth?: string }>();
  const helpers = new Map<string, string>();
  let credsStore = '';
  const legacy = root.members.every(([key]) => fieldOf(key, CONFIG_FILE_FIELDS) === undefined);
  for (const [key, value] of root.members) {
    if (legacy) {
      if (value.kind === 'object') auths.set(key, authEntry(value));
      continue;
    }
    const field = fieldOf(key, ['auths', 'credsStore', 'credHelpers']);
    if (field === 'credsStore') {
      if (value.kind === 'string') credsStore = value.value;
      else if (value.kind !== 'null') throw typeError(value, 'ConfigFile', field, 'string');
    } else if (field === 'auths') {
      for (const [k, v] of mapMembers(value, auths, field, 'map[string]types.AuthConfig')) auths.set(k, authEntry(v));
    } else if (field === 'credHelpers') {
      for (const [k, v] of mapMembers(value, helpers, field, 'map[string]string')) helpers.set(k, helperName(v));
    }
  }

  // docker/cli decodes `auth` in map order (random in Go); berth goes in document order.
  const decoded: DockerConfig['auths'] = [];
  for (const [key, { auth, ...entry }] of auths) decoded.push({ key, entry: auth ? { ...entry, ...decodeAuth(auth) } : entry });
  const problems: string[] = [];
  const credHelpers: DockerConfig['credHelpers'] = [];
  for (const [key, helper] of helpers) {
    if (helper) credHelpers.push({ key, helper });
    else problems.push(`credHelpers["${key}"] is not a helper name: ignored`);
  }
  // ConfigFile.ContainsAuth() false: gitlab-runner treats the source as absent.
  if (!decoded.length && !helpers.size && !credsStore) return null;
  return { auths: decoded, credsStore: credsStore || null, credHelpers, problems };
}

/** The members to add to a map field; `null` empties the map (Go sets it to nil). */
function mapMembers(value: GoJsonValue, map: Map<string, unknown>, field: string, type: string): [string, GoJsonValue][] {
  if (value.kind === 'object') return value.members;
  if (value.kind !== 'null') throw typeError(value, 'ConfigFile', field, type);
  map.clear();
  return [];
}

function authEntry(value: GoJsonValue): AuthEntry & { auth?: string } {
  if (value.kind === 'null') return {};
  if (value.kind !== 'object') throw typeError(value, 'ConfigFile', 'auths', 'types.AuthConfig');
  const entry: Partial<Record<AuthField, string>> = {};
  for (const [key, v] of value.members) {
    const field = fieldOf(key, AUTH_CONFIG_FIELDS);
    if (!field) continue;
    if (v.kind === 'string') entry[field] = v.value;
    else if (v.kind !== 'null') throw typeError(v, 'AuthConfig', `auths.${field}`, 'string');
  }
  const { serveraddress: _replacedByKey, ...rest } = entry;
  return rest;
}

function helperName(value: GoJsonValue): string {
  if (value.kind === 'string') return value.value;
  if (value.kind === 'null') return '';
  throw typeError(value, 'ConfigFile', 'credHelpers', 'string');
}

/** docker/cli decodeAuth: base64("user:password"), split at the first ':', NULs trimmed from both ends of the password. */
function decodeAuth(auth: string): { username: string; password: string } {
  const result = decodeGoBase64(auth);
  if (!result.ok) throw new DockerConfigError(result.error);
  const text = result.bytes.toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) throw new DockerConfigError('invalid auth configuration file');
  return { username: text.slice(0, colon), password: text.slice(colon + 1).replace(/^\0+|\0+$/g, '') };
}
