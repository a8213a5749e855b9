import { afterAll, describe, expect, it } from 'vitest';
import { variableValue } from '../job/variables.js';
import type { Pipeline } from './pipeline.js';
import { environmentSlug, guessTier } from './project/environment-variables.js';
import { ProjectFactory } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

function envOf(p: Pipeline, job: string): Record<string, string | undefined> {
  const vars = p.jobs.find((j) => j.name === job)!.spec.variables;
  const keys = ['CI_ENVIRONMENT_NAME', 'CI_ENVIRONMENT_SLUG', 'CI_ENVIRONMENT_ACTION', 'CI_ENVIRONMENT_TIER', 'CI_ENVIRONMENT_URL'];
  return Object.fromEntries(keys.map((k) => [k, variableValue(vars, k)]));
}

describe('environment: (GitLab Entry::Environment, the CI_ENVIRONMENT_* variables)', () => {
  it('a name with variables is expanded with the job\'s; action start and the tier guessed from it; the URL kept for later expansion', async () => {
    const p = await projects.compile(`
variables: {APP: shop}
deploy-review:
  script: x
  environment: {name: review/$APP-$CI_JOB_STAGE, url: "https://$CI_ENVIRONMENT_SLUG.example.com"}
deploy-prod:
  script: x
  environment: production
stop-review:
  script: x
  environment: {name: review/shop, action: stop, deployment_tier: other}
build:
  script: x
`);
    expect(envOf(p, 'deploy-review')).toEqual({
      CI_ENVIRONMENT_NAME: 'review/shop-test',
      CI_ENVIRONMENT_SLUG: environmentSlug('review/shop-test'),
      CI_ENVIRONMENT_ACTION: 'start',
      CI_ENVIRONMENT_TIER: 'development',
      CI_ENVIRONMENT_URL: 'https://$CI_ENVIRONMENT_SLUG.example.com',
    });
    expect(envOf(p, 'deploy-prod')).toMatchObject({ CI_ENVIRONMENT_NAME: 'production', CI_ENVIRONMENT_SLUG: 'production', CI_ENVIRONMENT_TIER: 'production' });
    expect(envOf(p, 'stop-review')).toMatchObject({ CI_ENVIRONMENT_ACTION: 'stop', CI_ENVIRONMENT_TIER: 'other' });
    expect(envOf(p, 'build').CI_ENVIRONMENT_NAME).toBeUndefined();
    expect(p.warnings.join('\n')).not.toContain('"environment" is not supported');
  });

  it('bad forms are errors naming the key', async () => {
    await expect(projects.compile('j: {script: x, environment: {name: a, action: deploy}}')).rejects.toThrow(/environment:action should be start, stop, prepare, verify, or access/);
    await expect(projects.compile('j: {script: x, environment: {name: a, tier: prod}}')).rejects.toThrow(/environment config contains unknown keys: tier/);
    await expect(projects.compile('j: {script: x, environment: {url: "https://x"}}')).rejects.toThrow(/environment:name/);
    await expect(projects.compile('j: {script: x, environment: {name: a, deployment_tier: live}}')).rejects.toThrow(/deployment_tier must be one of/);
  });
});

describe('environmentSlug (Gitlab::Slug::Environment), GitLab\'s own table with its hash stubbed to "a" x 64', () => {
  const table: [string, string][] = [
    ['staging-12345678901234567', 'staging-123456789-q517sa'],
    ['9-staging-123456789012345', 'env-9-staging-123-q517sa'],
    ['staging-1234567890123456', 'staging-1234567890123456'],
    ['staging-1234567890123456-', 'staging-123456789-q517sa'],
    ['production', 'production'],
    ['PRODUCTION', 'production-q517sa'],
    ['review/1-foo', 'review-1-foo-q517sa'],
    ['1-foo', 'env-1-foo-q517sa'],
    ['1/foo', 'env-1-foo-q517sa'],
    ['foo-', 'foo'],
    ['foo--bar', 'foo-bar-q517sa'],
    ['foo**bar', 'foo-bar-q517sa'],
    ['*-foo', 'env-foo-q517sa'],
    ['staging-12345678-', 'staging-12345678'],
    ['staging-12345678-01234567', 'staging-12345678-q517sa'],
    ['', 'env-q517sa'],
  ];
  it.each(table)('%j → %j', (name, slug) => {
    expect(environmentSlug(name, () => 'a'.repeat(64))).toBe(slug);
  });

  it('with the real SHA-256 (suffixes computed independently in Python)', () => {
    expect(environmentSlug('review/main')).toBe('review-main-yi2y9f');
    expect(environmentSlug('Production EU')).toBe('production-eu-dxh713');
  });

  it('guesses the tier as Environment#guess_tier, first match winning', () => {
    expect(['review/x', 'qa', 'pre-prod', 'prd', 'live-eu', 'canary'].map(guessTier)).toEqual(['development', 'testing', 'staging', 'production', 'production', 'other']);
  });
});

describe('environment:on_stop (GitLab YamlProcessor validate_on_stop_job!)', () => {
  const review = 'review:\n  script: x\n  environment: {name: review/$CI_COMMIT_REF_SLUG, on_stop: stop}\n';

  it('accepts a stop job with the same environment name (as written) and action: stop, even one rules leave out', async () => {
    const p = await projects.compile(`${review}stop:\n  script: x\n  environment: {name: review/$CI_COMMIT_REF_SLUG, action: stop}\n  rules: [{when: never}]\n`);
    expect(p.jobs.map((j) => j.name)).toEqual(['review']);
  });

  it.each([
    ['', 'is not defined'],
    ['stop: {script: x}\n', 'does not have environment defined'],
    ['stop: {script: x, environment: {name: review, action: stop}}\n', 'has a different environment name ("review", not "review/$CI_COMMIT_REF_SLUG")'],
    ['stop: {script: x, environment: {name: review/$CI_COMMIT_REF_SLUG}}\n', 'needs to have action stop defined'],
  ])('refuses %j: on_stop job "stop" %s', async (stop, problem) => {
    const err = await projects.error(`${review}${stop}`);
    expect(err.message).toBe(`.gitlab-ci.yml:3: job "review": environment:on_stop job "stop" ${problem}`);
  });

  it('does not check a stop job berth cannot read (a trigger job)', async () => {
    const p = await projects.compile(`${review}stop: {trigger: group/other}\n`);
    expect(p.jobs.map((j) => j.name)).toEqual(['review']);
  });
});
