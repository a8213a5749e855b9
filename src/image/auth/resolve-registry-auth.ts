/**
 * resolveRegistryAuth: the credential chain for one image. Sources in order ($DOCKER_AUTH_CONFIG,
 * the home config file, the job payload); the first source that supplies a registry path keeps
 * it; then the longest path that covers the image wins (the port must match).
 *
 * A config that does not decode (bad JSON, a value of the wrong type, a malformed `auth` entry)
 * is dropped whole, with gitlab-runner's warning: `Failed to resolve credentials from <source>:
 * <error>. Credentials from this source will not be used.`
 *
 * Where berth differs from gitlab-runner on purpose: a helper that is missing, fails, or is not
 * allowed costs only the keys it would have supplied, never the static `auths` of the same
 * source, and a warning names the helper, the registry and what berth uses instead. A home
 * config file that does not decode gets the same warning (gitlab-runner drops it silently).
 */
import { type AuthInputs, type ConfigText, type ReadTextFile, SOURCE_JOB_PAYLOAD, dockerAuthConfigText, homeConfigText } from './auth-sources.js';
import { type ConfigContext, type KeyReport, type Via, VIA_RANK, configCredentials } from './config-credentials.js';
import type { HelperRunner } from './credential-helper.js';
import { DockerConfigError, parseDockerConfig } from './docker-config.js';
import { type RegistryCredential, credentialSecrets } from './registry-credential.js';
import { longestMatch, lookupCandidates, mismatchReason, normalizeRegistryKey } from './registry-key.js';

export interface SourceReport {
  label: string;
  origin: string;
  state: 'absent' | 'unreadable' | 'loaded';
  /** Why absent or unreadable, or a note ("replaces the runner environment value"). */
  detail: string;
  keys: KeyReport[];
  /** Parts of the config that were ignored (no secrets). */
  problems: string[];
}

export interface AuthWinner {
  credential: RegistryCredential;
  source: string;
  key: string;
  normalized: string;
  via: Via;
  helper: string | null;
}

export interface AuthResolution {
  /** The lookup path (`registry.test:5000/group/app`, `docker.io/ruby`). */
  imagePath: string;
  registry: string;
  sources: SourceReport[];
  winner: AuthWinner | null;
  /** Job log warnings; none quotes a secret. */
  warnings: string[];
  /** Every secret met on the way, for the scrubber. */
  secrets: string[];
}

export interface AuthDeps {
  readFile: ReadTextFile;
  helpers: HelperRunner;
}

/** Throws HelperNameError when a config names a helper with a path. */
export async function resolveRegistryAuth(imagePath: string, inputs: AuthInputs, deps: AuthDeps): Promise<AuthResolution> {
  const registry = imagePath.split('/')[0] ?? imagePath;
  const texts = [dockerAuthConfigText(inputs), await homeConfigText(inputs.homeDir, deps.readFile)];
  const sources: SourceReport[] = [];
  const secrets: string[] = [];
  for (const text of texts) {
    if (text.text) secrets.push(text.text);
    sources.push(await configSource(text, imagePath, inputs, deps));
  }
  sources.push(payloadSource(imagePath, inputs));

  const chosen = new Map<string, AuthWinner>();
  for (const source of sources) {
    for (const r of source.keys) if (r.credential) secrets.push(...credentialSecrets(r.credential));
    for (const [normalized, best] of bestPerKey(source.keys)) {
      if (!chosen.has(normalized)) {
        chosen.set(normalized, { credential: best.credential!, source: source.label, key: best.key, normalized, via: best.via, helper: best.helper });
      }
    }
  }
  const winnerKey = longestMatch(imagePath, chosen.keys());
  const winner = winnerKey ? chosen.get(winnerKey)! : null;
  return { imagePath, registry, sources, winner, warnings: warningsFor(sources, winner), secrets };
}

async function configSource(text: ConfigText, imagePath: string, inputs: AuthInputs, deps: AuthDeps): Promise<SourceReport> {
  const report: SourceReport = { label: text.label, origin: text.origin, state: 'absent', detail: text.note, keys: [], problems: [] };
  if (text.text === null) {
    if (text.note.startsWith('could not')) report.state = 'unreadable';
    return report;
  }
  let config;
  try {
    config = parseDockerConfig(text.text);
  } catch (err) {
    if (!(err instanceof DockerConfigError)) throw err;
    return { ...report, state: 'unreadable', detail: err.message };
  }
  if (!config) return { ...report, detail: 'empty' };
  const ctx: ConfigContext = {
    imagePath,
    where: `${text.label} (${text.origin})`,
    trust: { trusted: text.trusted, allowed: inputs.allowedHelpers },
    helpers: deps.helpers,
  };
  return { ...report, state: 'loaded', keys: await configCredentials(config, ctx), problems: config.problems };
}

function payloadSource(imagePath: string, inputs: AuthInputs): SourceReport {
  const candidates = new Set(lookupCandidates(imagePath));
  const keys: KeyReport[] = [];
  for (const c of inputs.payloadCredentials) {
    if (c.type !== 'registry') continue;
    const normalized = normalizeRegistryKey(c.url);
    const credential: RegistryCredential = { kind: 'basic', username: c.username, password: c.password, serverAddress: c.url };
    const matches = candidates.has(normalized);
    keys.push({
      key: c.url,
      normalized,
      via: 'payload',
      helper: null,
      status: matches ? 'credential' : 'not-matching',
      detail: matches ? `username "${c.username}"` : (mismatchReason(imagePath, normalized) ?? ''),
      credential,
    });
  }
  const state = keys.length ? 'loaded' : 'absent';
  return { label: SOURCE_JOB_PAYLOAD, origin: 'job payload', state, detail: keys.length ? '' : 'no registry credentials', keys, problems: [] };
}

/** For each normalised key, the report with a credential and the highest precedence. */
function bestPerKey(keys: KeyReport[]): Map<string, KeyReport> {
  const best = new Map<string, KeyReport>();
  for (const r of keys) {
    if (r.status !== 'credential' || !r.credential) continue;
    const current = best.get(r.normalized);
    if (!current || VIA_RANK[r.via] > VIA_RANK[current.via]) best.set(r.normalized, r);
  }
  return best;
}

export function describeWinner(w: AuthWinner): string {
  switch (w.via) {
    case 'auths':
      return `the "auths" entry "${w.key}" of ${w.source}`;
    case 'payload':
      return `the ${w.source} credentials for ${w.key}`;
    default:
      return `${w.via} "${w.helper}" (${w.key}) of ${w.source}`;
  }
}

function warningsFor(sources: SourceReport[], winner: AuthWinner | null): string[] {
  const fallback = winner ? `berth uses ${describeWinner(winner)} instead` : 'berth pulls this image without credentials';
  const out: string[] = [];
  for (const s of sources) {
    const name = `${s.label} (${s.origin})`;
    if (s.state === 'unreadable') {
      // gitlab-runner auth.go AllConfigs, word for word (it names the source, never the value).
      out.push(`Failed to resolve credentials from ${s.label}: ${s.detail}. Credentials from this source will not be used.`);
    }
    for (const p of s.problems) out.push(`Ignoring part of ${name}: ${p}.`);
    for (const k of s.keys) {
      if (k.status === 'helper-problem') {
        const target = k.key === '*' ? 'every registry of its credsStore' : k.key;
        out.push(`${name}: ${k.detail}. Its credentials for ${target} are not used; ${fallback}.`);
      } else if (k.status === 'none' && k.via === 'auths' && !k.detail.startsWith('empty entry')) {
        out.push(`Ignoring auths["${k.key}"] of ${name}: ${k.detail}.`);
      }
    }
  }
  return out;
}
