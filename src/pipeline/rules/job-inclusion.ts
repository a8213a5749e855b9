/**
 * Whether a job is in the pipeline, and with which `when`, `allow_failure`, rule variables
 * and needs: from `rules` (first matching rule), else from `only`/`except`.
 * allow_failure defaults to true only for jobs whose own `when` is manual (as GitLab: a rule
 * with `when: manual` does not make failure allowed).
 */
import type { JobConfig, JobWhen } from '../keywords/job-config.js';
import type { NeedConfig } from '../keywords/needs-config.js';
import { exceptExcludes, onlyExcludes, type PolicyConfig, type PolicyContext } from './only-except.js';
import type { PipelineJobWhen } from '../pipeline.js';
import { firstMatchingRule, type RuleContext } from './rules.js';
import { locationPrefix } from '../load/source-positions.js';
import type { ConfigVariable } from '../keywords/variables-config.js';

export type Inclusion =
  | { included: false; reason: string }
  | {
      included: true;
      when: PipelineJobWhen;
      allowFailure: boolean;
      exitCodes: number[];
      ruleVariables: ConfigVariable[];
      needs: NeedConfig[] | null;
    };

const DEFAULT_ONLY: PolicyConfig = { refs: [{ pattern: 'branches' }, { pattern: 'tags' }], kubernetes: false };

export async function decideInclusion(job: JobConfig, rules: RuleContext, policy: PolicyContext, warn: (m: string) => void): Promise<Inclusion> {
  let when: JobWhen = job.when;
  let allowFailure = job.allowFailure;
  let ruleVariables: ConfigVariable[] = [];
  let needs = job.needs;
  if (job.rules) {
    const rule = await firstMatchingRule(job.rules, rules);
    if (!rule) return { included: false, reason: 'rules: no rule matched' };
    if (rule.when === 'delayed') warn(`${locationPrefix(rule.where)}job "${job.name}": when: delayed is run at once by berth exec`);
    if (rule.when) when = rule.when;
    if (rule.when === 'never') return { included: false, reason: `rules: a rule with when: never matched${rule.where ? ` (${rule.where.display}:${rule.where.line})` : ''}` };
    if (rule.allowFailure) allowFailure = rule.allowFailure;
    ruleVariables = rule.variables;
    if (rule.needs !== undefined) needs = rule.needs;
  } else {
    const onlyReason = await onlyExcludes(job.only ?? DEFAULT_ONLY, policy);
    if (onlyReason) return { included: false, reason: onlyReason };
    const exceptReason = job.except ? await exceptExcludes(job.except, policy) : null;
    if (exceptReason) return { included: false, reason: exceptReason };
  }
  if (when === 'never') return { included: false, reason: 'when: never' };
  const af = allowFailure ?? { allowFailure: job.when === 'manual', exitCodes: [] };
  return { included: true, when, allowFailure: af.allowFailure, exitCodes: af.exitCodes, ruleVariables, needs };
}
