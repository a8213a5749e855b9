/**
 * Pull policies (gitlab-runner executors/docker/internal/pull/manager.go, helpers/pull_policies). The requested list is the job's `pull_policy`, else the
 * `--pull-policy` override, else the config `pull_policy`, else the default. It is filtered by
 * `allowed_pull_policies` (unset: the config list, itself defaulting to the default), keeping
 * the requested order; nothing left is a configuration error with gitlab-runner's text.
 * Duplicates stay: `[always, always]` is one retry.
 */
import { BerthError } from '../shared/errors.js';
import type { PullPolicy } from '../shared/pull-policy.js';

export const PULL_POLICIES: readonly PullPolicy[] = ['always', 'if-not-present', 'never'];

export type PolicySource = 'GitLab pipeline config' | 'Runner config' | 'Runner config (default)' | 'the --pull-policy option';

export interface PolicyInputs {
  /** The image as written (expanded), for error texts. */
  image: string;
  /** `image.pull_policy` / `services[].pull_policy` of the job. */
  job?: readonly string[] | undefined;
  /** `berth exec --pull-policy`: replaces the config list. */
  override?: readonly string[] | undefined;
  /** `[runners.docker] pull_policy`. */
  config: readonly string[];
  /** `[runners.docker] allowed_pull_policies`. */
  allowed: readonly string[];
  defaultPolicy: PullPolicy;
}

export interface EffectivePolicies {
  policies: PullPolicy[];
  requested: PullPolicy[];
  allowed: PullPolicy[];
  source: PolicySource;
}

export class PullPolicyError extends BerthError {
  constructor(image: string, detail: string) {
    super('pull_policy_invalid', `invalid pull policy for image "${image}": ${detail}`);
  }
}

/** Go's `%v` of a string slice: `[always if-not-present]`. */
export function formatPolicies(list: readonly string[]): string {
  return `[${list.join(' ')}]`;
}

export function resolvePullPolicies(inputs: PolicyInputs): EffectivePolicies {
  const configList = inputs.override?.length
    ? { list: inputs.override, source: 'the --pull-policy option' as const }
    : inputs.config.length
      ? { list: inputs.config, source: 'Runner config' as const }
      : { list: [inputs.defaultPolicy], source: 'Runner config (default)' as const };
  const requestedRaw = inputs.job?.length ? inputs.job : configList.list;
  const source: PolicySource = inputs.job?.length ? 'GitLab pipeline config' : configList.source;
  const requested = validate(inputs.image, requestedRaw, source);
  const allowed = inputs.allowed.length
    ? validate(inputs.image, inputs.allowed, 'Runner config (allowed_pull_policies)')
    : validate(inputs.image, configList.list, configList.source);
  const policies = requested.filter((p) => allowed.includes(p));
  if (!policies.length) {
    throw new PullPolicyError(
      inputs.image,
      `pull_policy (${formatPolicies(requested)}) defined in ${source} is not one of the allowed_pull_policies (${formatPolicies(allowed)})`,
    );
  }
  return { policies, requested, allowed, source };
}

function validate(image: string, list: readonly string[], where: string): PullPolicy[] {
  return list.map((p) => {
    const policy = p.trim().toLowerCase();
    if (!(PULL_POLICIES as readonly string[]).includes(policy)) {
      throw new PullPolicyError(image, `unsupported pull_policy "${p}" in ${where} (use ${PULL_POLICIES.join(', ')})`);
    }
    return policy as PullPolicy;
  });
}
