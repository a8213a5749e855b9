import { describe, expect, it } from 'vitest';
import { PullPolicyError, formatPolicies, resolvePullPolicies } from './pull-policy.js';

const base = { image: 'ruby:3', config: [] as string[], allowed: [] as string[], defaultPolicy: 'always' as const };

describe('resolvePullPolicies', () => {
  it('defaults to the default policy', () => {
    expect(resolvePullPolicies(base)).toMatchObject({ policies: ['always'], source: 'Runner config (default)' });
    expect(resolvePullPolicies({ ...base, defaultPolicy: 'if-not-present' }).policies).toEqual(['if-not-present']);
  });

  it('takes the job list over the override over the config list', () => {
    const all = ['always', 'if-not-present', 'never'];
    expect(resolvePullPolicies({ ...base, config: ['never'], allowed: all }).policies).toEqual(['never']);
    expect(resolvePullPolicies({ ...base, config: ['never'], override: ['if-not-present'], allowed: all }).policies).toEqual(['if-not-present']);
    expect(
      resolvePullPolicies({ ...base, config: ['never'], override: ['if-not-present'], job: ['always', 'never'], allowed: all }),
    ).toMatchObject({ policies: ['always', 'never'], source: 'GitLab pipeline config' });
  });

  it('allowed_pull_policies defaults to the config list (or the override, or the default)', () => {
    expect(() => resolvePullPolicies({ ...base, job: ['if-not-present'] })).toThrow(
      'invalid pull policy for image "ruby:3": pull_policy ([if-not-present]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([always])',
    );
    expect(resolvePullPolicies({ ...base, config: ['if-not-present', 'always'], job: ['if-not-present'] }).policies).toEqual(['if-not-present']);
    expect(resolvePullPolicies({ ...base, override: ['never'] }).policies).toEqual(['never']);
  });

  it('filters to the allowed set keeping the requested order (runner#38706)', () => {
    expect(resolvePullPolicies({ ...base, job: ['if-not-present', 'always'], allowed: ['always'] }).policies).toEqual(['always']);
    expect(resolvePullPolicies({ ...base, job: ['never', 'always', 'if-not-present'], allowed: ['if-not-present', 'never'] }).policies).toEqual([
      'never',
      'if-not-present',
    ]);
  });

  it('keeps duplicates: [always, always] is one retry', () => {
    expect(resolvePullPolicies({ ...base, job: ['always', 'always'] }).policies).toEqual(['always', 'always']);
  });

  it('names the source of the refused list', () => {
    expect(() => resolvePullPolicies({ ...base, config: ['never'], allowed: ['always'] })).toThrow('defined in Runner config is not');
    expect(() => resolvePullPolicies({ ...base, allowed: ['never'] })).toThrow('defined in Runner config (default) is not');
    expect(() => resolvePullPolicies({ ...base, override: ['never'], allowed: ['always'] })).toThrow('defined in the --pull-policy option');
  });

  it('rejects unknown policies', () => {
    expect(() => resolvePullPolicies({ ...base, job: ['sometimes'] })).toThrow(PullPolicyError);
    expect(() => resolvePullPolicies({ ...base, job: ['sometimes'] })).toThrow('unsupported pull_policy "sometimes" in GitLab pipeline config');
    expect(() => resolvePullPolicies({ ...base, allowed: ['nope'] })).toThrow('allowed_pull_policies');
  });

  it('formats lists as gitlab-runner does', () => {
    expect(formatPolicies(['always', 'if-not-present'])).toBe('[always if-not-present]');
  });
});
