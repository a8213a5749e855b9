/**
 * explainRegistryAuth: the answer to "why is my DOCKER_AUTH_CONFIG ignored". Runs the same
 * credential chain a job would (resolveRegistryAuth) and says, for every key of every source,
 * whether it covers the image and, if it does not win, why. Never returns a secret in text.
 */
import { type NamedImageRef, ImageRefError, authLookupPath, parseImageRef } from '../image-ref.js';
import { type AuthInputs, DOCKER_AUTH_CONFIG, readTextFile } from './auth-sources.js';
import { ProcessHelperRunner } from './credential-helper.js';
import { HelperNameError } from './helper-policy.js';
import { type AuthDeps, type AuthResolution, type AuthWinner, describeWinner, resolveRegistryAuth } from './resolve-registry-auth.js';
import { describeCredential } from './registry-credential.js';
import { lookupCandidates } from './registry-key.js';
import { type KeyReport, VIA_RANK } from './config-credentials.js';

export interface ExplainOptions {
  image: string;
  /** Simulated job variables (only DOCKER_AUTH_CONFIG matters); the last definition wins. */
  jobVariables: { key: string; value: string }[];
  runnerEnvironment: string[];
  allowedHelpers: string[];
  homeDir: string;
  helperPath: string;
}

export interface ExplainedKey {
  key: string;
  via: KeyReport['via'];
  helper: string | null;
  /** wins | matches-but-loses | no-match | unusable | helper-problem */
  verdict: 'wins' | 'loses' | 'no-match' | 'unusable' | 'helper-problem';
  /** Why, in words; never a secret. */
  why: string;
}

export interface ExplainedSource {
  label: string;
  origin: string;
  state: 'absent' | 'unreadable' | 'loaded';
  detail: string;
  keys: ExplainedKey[];
  problems: string[];
}

export interface Explanation {
  image: string;
  ref: NamedImageRef;
  registry: string;
  lookupPaths: string[];
  sources: ExplainedSource[];
  winner: { text: string; source: string; credential: string } | null;
  warnings: string[];
  /** A hard refusal (a helper name with a path): the job would fail. */
  refusal: string | null;
  /** The credential itself, for `--check` only; never print it. */
  credential: AuthWinner['credential'] | null;
}

export async function explainRegistryAuth(opts: ExplainOptions, deps?: AuthDeps): Promise<Explanation> {
  const parsed = parseImageRef(opts.image);
  if (parsed.kind === 'id') throw new ImageRefError(opts.image, 'an image ID is never pulled, so no credentials are used for it');
  const imagePath = authLookupPath(parsed);
  let jobAuthConfig: string | undefined;
  for (const v of opts.jobVariables) if (v.key === DOCKER_AUTH_CONFIG) jobAuthConfig = v.value;
  const inputs: AuthInputs = {
    jobAuthConfig,
    runnerEnvironment: opts.runnerEnvironment,
    homeDir: opts.homeDir,
    payloadCredentials: [],
    allowedHelpers: opts.allowedHelpers,
  };
  const base = { image: opts.image, ref: parsed, registry: imagePath.split('/')[0] ?? imagePath, lookupPaths: lookupCandidates(imagePath) };
  let resolution: AuthResolution;
  try {
    resolution = await resolveRegistryAuth(imagePath, inputs, deps ?? { readFile: readTextFile, helpers: new ProcessHelperRunner(opts.helperPath) });
  } catch (err) {
    if (!(err instanceof HelperNameError)) throw err;
    return { ...base, sources: [], winner: null, warnings: [], refusal: err.message, credential: null };
  }
  const w = resolution.winner;
  return {
    ...base,
    sources: resolution.sources.map((s) => ({ ...s, keys: s.keys.map((k) => explainKey(k, s.label, resolution)) })),
    winner: w ? { text: describeWinner(w), source: w.source, credential: describeCredential(w.credential) } : null,
    warnings: resolution.warnings,
    refusal: null,
    credential: w?.credential ?? null,
  };
}

function explainKey(k: KeyReport, source: string, r: AuthResolution): ExplainedKey {
  const base = { key: k.key, via: k.via, helper: k.helper };
  if (k.status === 'not-matching') return { ...base, verdict: 'no-match', why: k.detail };
  if (k.status === 'helper-problem') return { ...base, verdict: 'helper-problem', why: k.detail };
  if (k.status === 'none') return { ...base, verdict: 'unusable', why: k.detail };
  const w = r.winner;
  if (w && w.source === source && w.key === k.key && w.via === k.via) {
    return { ...base, verdict: 'wins', why: `${k.detail}; ${k.credential ? describeCredential(k.credential) : ''}` };
  }
  const sameSource = r.sources.find((s) => s.label === source)?.keys ?? [];
  const better = sameSource.find((o) => o.normalized === k.normalized && o.status === 'credential' && VIA_RANK[o.via] > VIA_RANK[k.via]);
  if (better) return { ...base, verdict: 'loses', why: `overridden by ${better.via} for the same registry in this source` };
  const earlier = r.sources.slice(0, r.sources.findIndex((s) => s.label === source));
  const shadow = earlier.find((s) => s.keys.some((o) => o.normalized === k.normalized && o.status === 'credential'));
  if (shadow) return { ...base, verdict: 'loses', why: `${shadow.label} already supplies ${k.normalized} and comes first` };
  if (w) return { ...base, verdict: 'loses', why: `${w.normalized} is a longer match for the image` };
  return { ...base, verdict: 'loses', why: 'not chosen' };
}
