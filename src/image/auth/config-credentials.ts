/**
 * The credentials one Docker config offers for an image: static `auths`, the `credsStore`
 * (`list`, then `get`), and `credHelpers` (`get` per registry). Helpers run only for keys that
 * could match the image (a parent path of it), and only when the helper policy allows them.
 * Every key is reported, matched or not, so that `berth auth explain` can show why.
 */
import { type HelperRunner, CredentialHelperError, helperGet, helperList, helperProgram } from './credential-helper.js';
import type { DockerConfig } from './docker-config.js';
import { type HelperTrust, checkHelperName, helperAllowed, helperNotAllowedReason } from './helper-policy.js';
import type { RegistryCredential } from './registry-credential.js';
import { lookupCandidates, mismatchReason, normalizeRegistryKey } from './registry-key.js';
import { credentialFromAuthEntry } from './static-auth.js';

export type Via = 'auths' | 'credsStore' | 'credHelpers' | 'payload';

export type KeyStatus =
  /** Supplies a credential (it may still lose to another key or source). */
  | 'credential'
  /** Does not cover the image. */
  | 'not-matching'
  /** Covers the image but holds nothing usable (helper had none, empty entry, bad auth). */
  | 'none'
  /** Covers the image, but its helper was not run or failed. */
  | 'helper-problem';

export interface KeyReport {
  key: string;
  normalized: string;
  via: Via;
  helper: string | null;
  status: KeyStatus;
  /** Why, for people; never a secret. */
  detail: string;
  credential: RegistryCredential | null;
}

/** Precedence inside one config: credHelpers > credsStore > auths. */
export const VIA_RANK: Record<Via, number> = { payload: 0, auths: 1, credsStore: 2, credHelpers: 3 };

export interface ConfigContext {
  imagePath: string;
  /** Where the config came from, for error texts ("$DOCKER_AUTH_CONFIG (job variable)"). */
  where: string;
  trust: HelperTrust;
  helpers: HelperRunner;
}

/** Throws HelperNameError for a helper name with a path in it, before anything runs. */
export async function configCredentials(config: DockerConfig, ctx: ConfigContext): Promise<KeyReport[]> {
  if (config.credsStore) checkHelperName(config.credsStore, ctx.where);
  for (const h of config.credHelpers) checkHelperName(h.helper, ctx.where);
  const candidates = new Set(lookupCandidates(ctx.imagePath));
  const reports: KeyReport[] = [];

  for (const { key, entry } of config.auths) {
    const normalized = normalizeRegistryKey(key);
    const result = credentialFromAuthEntry(key, entry);
    const base = { key, normalized, via: 'auths' as const, helper: null };
    if (!candidates.has(normalized)) {
      reports.push({ ...base, status: 'not-matching', detail: mismatchReason(ctx.imagePath, normalized) ?? '', credential: result.ok ? result.credential : null });
    } else if (result.ok) {
      reports.push({ ...base, status: 'credential', detail: 'static credentials', credential: result.credential });
    } else {
      reports.push({ ...base, status: 'none', detail: result.reason, credential: null });
    }
  }
  if (config.credsStore) reports.push(...(await storeCredentials(config.credsStore, candidates, ctx)));
  for (const { key, helper } of config.credHelpers) {
    const normalized = normalizeRegistryKey(key);
    const base = { key, normalized, via: 'credHelpers' as const, helper };
    if (!candidates.has(normalized)) {
      reports.push({ ...base, status: 'not-matching', detail: mismatchReason(ctx.imagePath, normalized) ?? '', credential: null });
    } else {
      reports.push({ ...base, ...(await runGet(helper, key, ctx)) });
    }
  }
  return reports;
}

async function storeCredentials(store: string, candidates: Set<string>, ctx: ConfigContext): Promise<KeyReport[]> {
  const base = { via: 'credsStore' as const, helper: store, credential: null };
  if (!helperAllowed(store, ctx.trust)) {
    return [{ ...base, key: '*', normalized: '*', status: 'helper-problem', detail: helperNotAllowedReason(store) }];
  }
  let list: Record<string, string>;
  try {
    list = await helperList(ctx.helpers, store);
  } catch (err) {
    return [{ ...base, key: '*', normalized: '*', status: 'helper-problem', detail: helperFailure(store, 'list', err) }];
  }
  const reports: KeyReport[] = [];
  for (const url of Object.keys(list)) {
    const normalized = normalizeRegistryKey(url);
    if (!candidates.has(normalized)) {
      reports.push({ ...base, key: url, normalized, status: 'not-matching', detail: mismatchReason(ctx.imagePath, normalized) ?? '' });
    } else {
      reports.push({ key: url, normalized, via: 'credsStore', helper: store, ...(await runGet(store, url, ctx)) });
    }
  }
  return reports;
}

async function runGet(
  helper: string,
  serverUrl: string,
  ctx: ConfigContext,
): Promise<Pick<KeyReport, 'status' | 'detail' | 'credential'>> {
  if (!helperAllowed(helper, ctx.trust)) return { status: 'helper-problem', detail: helperNotAllowedReason(helper), credential: null };
  try {
    const credential = await helperGet(ctx.helpers, helper, serverUrl);
    if (!credential) return { status: 'none', detail: `${helperProgram(helper)} has no credentials for ${serverUrl}`, credential: null };
    return { status: 'credential', detail: `from ${helperProgram(helper)}`, credential };
  } catch (err) {
    return { status: 'helper-problem', detail: helperFailure(helper, 'get', err), credential: null };
  }
}

function helperFailure(helper: string, action: string, err: unknown): string {
  if (err instanceof CredentialHelperError && err.missing) {
    return `credential helper ${helperProgram(helper)} is not installed (not found on the runner host's PATH)`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return `credential helper ${helperProgram(helper)} failed on ${action}: ${message}`;
}
