import { afterAll, describe, expect, it } from 'vitest';
import { ProjectFactory } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

const only = async (yaml: string) => {
  const p = await projects.compile(yaml);
  expect(p.jobs).toHaveLength(1);
  return p.jobs[0]!;
};

describe('job keywords', () => {
  it('image as a string or a map with every key', async () => {
    expect((await only('job: {script: x, image: "registry.test/app:$TAG"}')).spec.image).toEqual({ name: 'registry.test/app:$TAG' });
    const job = await only(`
job:
  script: x
  image:
    name: $IMAGE
    entrypoint: [""]
    pull_policy: [always, if-not-present]
    docker: {user: 1000, platform: linux/arm64}
`);
    expect(job.spec.image).toEqual({ name: '$IMAGE', entrypoint: [''], pullPolicy: ['always', 'if-not-present'], docker: { user: '1000', platform: 'linux/arm64' } });
    expect((await only('job: {script: x, image: {name: a, pull_policy: never}}')).spec.image).toEqual({ name: 'a', pullPolicy: ['never'] });
  });

  it('services as strings or maps; aliases split on commas and spaces', async () => {
    const job = await only(`
job:
  script: x
  services:
    - postgres:16
    - name: redis:7
      alias: cache, kv  store
      entrypoint: [redis-server]
      command: ["--port", "6380"]
      variables: {PORT: 6380, MODE: "fast"}
      pull_policy: if-not-present
`);
    expect(job.spec.services).toEqual([
      { name: 'postgres:16', aliases: [], variables: [] },
      {
        name: 'redis:7', aliases: ['cache', 'kv', 'store'], entrypoint: ['redis-server'], command: ['--port', '6380'],
        variables: [{ key: 'PORT', value: '6380' }, { key: 'MODE', value: 'fast' }], pullPolicy: ['if-not-present'],
      },
    ]);
  });

  it('scripts as strings or nested lists, before_script joined to script, after_script its own step', async () => {
    const job = await only(`
.common: {script: [c1, c2]}
job:
  before_script: b
  script:
    - s1
    - !reference [.common, script]
    - [s2, s3]
  after_script: [a1]
  timeout: 1h 30m
`);
    expect(job.spec.steps).toEqual([
      { name: 'script', script: ['b', 's1', 'c1', 'c2', 's2', 's3'], timeoutSeconds: 5400, when: 'on_success', allowFailure: false },
      { name: 'after_script', script: ['a1'], timeoutSeconds: 5400, when: 'always', allowFailure: true },
    ]);
    expect(job.spec.timeoutSeconds).toBe(5400);
  });

  it('flattens !reference nested in scripts several levels deep (GitLab docs example)', async () => {
    const job = await only(`
.snippets:
  one:
    - echo "ONE!"
  two:
    - !reference [.snippets, one]
    - echo "TWO!"
  three:
    - !reference [.snippets, two]
    - echo "THREE!"
nested-references:
  script:
    - !reference [.snippets, three]
`);
    expect(job.spec.steps[0]!.script).toEqual(['echo "ONE!"', 'echo "TWO!"', 'echo "THREE!"']);
  });

  it('allow_failure and when forms', async () => {
    const p = await projects.compile(`
a: {script: x, allow_failure: true}
b: {script: x, allow_failure: {exit_codes: 137}}
c: {script: x, allow_failure: {exit_codes: [1, 2]}}
d: {script: x, when: manual}
e: {script: x, when: manual, allow_failure: false}
f: {script: x, when: always}
g: {script: x, when: on_failure}
h: {script: x, when: never}
`);
    expect(p.jobs.map((j) => [j.name, j.when, j.allowFailure, j.allowFailureExitCodes])).toEqual([
      ['a', 'on_success', true, []],
      ['b', 'on_success', false, [137]],
      ['c', 'on_success', false, [1, 2]],
      ['d', 'manual', true, []],
      ['e', 'manual', false, []],
      ['f', 'always', false, []],
      ['g', 'on_failure', false, []],
    ]);
    expect(p.skipped).toMatchObject([{ name: 'h', reason: 'when: never' }]);
  });

  it('retry as a number or a map', async () => {
    expect((await only('job: {script: x, retry: 2}')).retry).toEqual({ max: 2, when: ['always'], exitCodes: [] });
    expect((await only('job: {script: x, retry: {max: 1, when: [script_failure], exit_codes: 1}}')).retry)
      .toEqual({ max: 1, when: ['script_failure'], exitCodes: [1] });
    expect((await only('job: {script: x, retry: {max: 2, exit_codes: [137]}}')).retry).toEqual({ max: 2, when: [], exitCodes: [137] });
  });

  it('timeout strings as GitLab reads them, default 3600 s', async () => {
    expect((await only('job: {script: x}')).spec.timeoutSeconds).toBe(3600);
    expect((await only('job: {script: x, timeout: 90 minutes}')).spec.timeoutSeconds).toBe(5400);
    expect((await only('job: {script: x, timeout: "2h"}')).spec.timeoutSeconds).toBe(7200);
    expect((await only('default: {timeout: 10m}\njob: {script: x}')).spec.timeoutSeconds).toBe(600);
  });

  it('hidden jobs are templates only; type is the old name of stage', async () => {
    const p = await projects.compile('.hidden: {script: x}\nold: {type: build, script: x}\n');
    expect(p.jobs.map((j) => [j.name, j.stage])).toEqual([['old', 'build']]);
  });
});

describe('default and inherit', () => {
  const yaml = `
default:
  image: ruby:3
  services: [postgres]
  before_script: [setup]
  after_script: [cleanup]
  timeout: 20m
  tags: [docker]
variables: {A: a, B: b}
plain: {script: x}
own: {script: x, image: alpine, before_script: []}
none: {script: x, inherit: {default: false, variables: false}}
some: {script: x, inherit: {default: [image, after_script], variables: [B]}}
`;

  it('fills keys the job does not set, and inherit limits them', async () => {
    const p = await projects.compile(yaml);
    const get = (name: string) => p.jobs.find((j) => j.name === name)!.spec;
    expect(get('plain').image).toEqual({ name: 'ruby:3' });
    expect(get('plain').services).toEqual([{ name: 'postgres', aliases: [], variables: [] }]);
    expect(get('plain').steps.map((s) => s.script)).toEqual([['setup', 'x'], ['cleanup']]);
    expect(get('plain').timeoutSeconds).toBe(1200);
    expect(get('own').image).toEqual({ name: 'alpine' });
    expect(get('own').steps[0]!.script).toEqual(['x']);
    expect(get('none').image).toBeNull();
    expect(get('none').services).toEqual([]);
    expect(get('none').steps).toHaveLength(1);
    expect(get('none').variables.some((v) => v.key === 'A' || v.key === 'B')).toBe(false);
    expect(get('some').image).toEqual({ name: 'ruby:3' });
    expect(get('some').services).toEqual([]);
    expect(get('some').steps.map((s) => s.script)).toEqual([['x'], ['cleanup']]);
    expect(get('some').variables.filter((v) => v.key === 'A' || v.key === 'B').map((v) => v.key)).toEqual(['B']);
  });

  it('accepts the deprecated top-level defaults, with default: winning', async () => {
    const p = await projects.compile('image: old\nbefore_script: [b]\ndefault: {image: new}\njob: {script: x}\n');
    expect(p.jobs[0]!.spec.image).toEqual({ name: 'new' });
    expect(p.jobs[0]!.spec.steps[0]!.script).toEqual(['b', 'x']);
  });
});

describe('warnings', () => {
  it('warns once per unsupported key, naming the jobs', async () => {
    const p = await projects.compile(`
default: {cache: {paths: [x]}}
a: {script: x, artifacts: {paths: [x]}, parallel: 2}
b: {script: x, artifacts: {paths: [y]}, coverage: '/\\d+%/', environment: prod, dependencies: [a], release: {description: x}}
`);
    // artifacts, cache, dependencies, environment and coverage are supported: no warning for them.
    expect(p.warnings).toEqual(['"release" is not supported by berth exec yet and is ignored (jobs: b)']);
  });

  it('skips trigger jobs with a warning', async () => {
    const p = await projects.compile('job:\n  script: x\nchild:\n  trigger: {include: child.yml}\n');
    expect(p.warnings).toEqual(['.gitlab-ci.yml:3: job "child": trigger (downstream pipelines) is not supported by berth exec; the job is skipped']);
    expect(p.skipped.map((s) => s.name)).toEqual(['child']);
  });

  it('refuses an unknown job key, as GitLab does, naming file, line, job and key', async () => {
    const err = await projects.error('job:\n  script: x\n  scirpt: y\n');
    expect(err.message).toBe('.gitlab-ci.yml:3: job "job": unknown key "scirpt"; did you mean "script"?');
    expect(err.key).toBe('scirpt');
    expect((await projects.error('job:\n  script: x\n  frobnicate: 1\n')).message).toBe(
      '.gitlab-ci.yml:3: job "job": unknown key "frobnicate"; GitLab refuses jobs with unknown keys',
    );
  });

  // GitLab lists `when: delayed` jobs as delayed (doc: ci/yaml `when: delayed`), job-level or from a rule.
  it('keeps when: delayed, from the job or from its matching rule, and warns that start_in is not waited', async () => {
    const p = await projects.compile(`
job: {script: x, when: delayed, start_in: 5 seconds}
ruled: {script: x, rules: [{if: $CI_COMMIT_BRANCH, when: delayed, start_in: 1 minute}]}
`);
    expect(p.jobs.map((j) => [j.name, j.when])).toEqual([['job', 'delayed'], ['ruled', 'delayed']]);
    expect(p.warnings.filter((w) => /when: delayed is run at once/.test(w))).toHaveLength(2);
  });
});
