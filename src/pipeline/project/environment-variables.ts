/**
 * The variables GitLab gives a job that has an `environment:` (Gitlab::Ci::Variables::Builder and
 * Ci::Build#persisted_environment_variables): CI_ENVIRONMENT_NAME (the name with the job's
 * variables expanded), CI_ENVIRONMENT_SLUG (Gitlab::Slug::Environment), CI_ENVIRONMENT_ACTION
 * (`start` unless set), CI_ENVIRONMENT_TIER (`deployment_tier`, else guessed from the name as
 * Environment#guess_tier does) and CI_ENVIRONMENT_URL (as written: expanded with the others).
 */
import { createHash } from 'node:crypto';
import { plainVariable, type JobVariable } from '../../job/job-spec.js';
import type { EnvironmentConfig } from '../keywords/environment-config.js';

export function environmentVariables(env: EnvironmentConfig, expand: (text: string) => string): JobVariable[] {
  const name = expand(env.name);
  if (name.trim() === '') return [];
  return [
    plainVariable('CI_ENVIRONMENT_NAME', name),
    plainVariable('CI_ENVIRONMENT_SLUG', environmentSlug(name)),
    plainVariable('CI_ENVIRONMENT_ACTION', env.action),
    plainVariable('CI_ENVIRONMENT_TIER', env.tier ?? guessTier(name)),
    ...(env.url !== null ? [plainVariable('CI_ENVIRONMENT_URL', env.url)] : []),
  ];
}

/** Gitlab::Slug::Environment#generate: at most 24 characters, a hash suffix when the name changed. */
export function environmentSlug(name: string, sha256Hex: (text: string) => string = sha256): string {
  let slug = name.toLowerCase().replace(/[^a-z0-9]/g, '-');
  if (!/^[a-z]/.test(slug)) slug = `env-${slug}`;
  slug = slug.replace(/-{2,}/g, '-');
  if (slug.length <= 24 && slug === name) return slug.replace(/-$/, '');
  const short = slug.slice(0, 17);
  // The last 6 characters of the name's SHA-256 as a base-36 number.
  const suffix = BigInt(`0x${sha256Hex(name)}`).toString(36).slice(-6);
  return `${short.endsWith('-') ? short : `${short}-`}${suffix}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Environment#guess_tier. */
export function guessTier(name: string): NonNullable<EnvironmentConfig['tier']> {
  if (/(dev|review|trunk)/i.test(name)) return 'development';
  if (/(test|tst|int|ac(ce|)pt|qa|qc|control|quality)/i.test(name)) return 'testing';
  if (/(st(a|)g|mod(e|)l|pre|demo|non)/i.test(name)) return 'staging';
  if (/(pr(o|)d|live)/i.test(name)) return 'production';
  return 'other';
}
