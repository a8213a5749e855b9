import { afterAll, describe, expect, it } from 'vitest';
import type { Pipeline } from './pipeline.js';
import { ProjectFactory } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

/** job name → the names of its dependencies (checking each id is the dependency's own JobSpec id). */
function dependencies(p: Pipeline): Record<string, string[]> {
  const idOf = new Map(p.jobs.map((j) => [j.name, j.spec.id]));
  return Object.fromEntries(
    p.jobs.map((j) => {
      for (const d of j.spec.dependencies) {
        expect(d).toEqual({ id: idOf.get(d.name), name: d.name, token: '', artifactsFile: null });
      }
      return [j.name, j.spec.dependencies.map((d) => d.name)];
    }),
  );
}

describe('dependencies[] (GitLab Ci::BuildDependencies)', () => {
  it('without needs: every job of the earlier stages, in pipeline order', async () => {
    const p = await projects.compile(`
stages: [build, test, deploy]
build-a: {stage: build, script: x}
build-b: {stage: build, script: x, when: manual}
test: {stage: test, script: x}
lint: {stage: test, script: x}
deploy: {stage: deploy, script: x}
`);
    expect(dependencies(p)).toEqual({
      'build-a': [],
      'build-b': [],
      test: ['build-a', 'build-b'],
      lint: ['build-a', 'build-b'],
      deploy: ['build-a', 'build-b', 'test', 'lint'],
    });
  });

  it('with needs: the needed jobs whose need keeps artifacts (needs: [] has none), whatever their stage', async () => {
    const p = await projects.compile(`
stages: [build, test, deploy]
build: {stage: build, script: x}
docs: {stage: build, script: x}
unit: {stage: test, script: x, needs: [build, {job: docs, artifacts: false}]}
quick: {stage: test, script: x, needs: []}
same-stage: {stage: test, script: x, needs: [{job: unit, artifacts: true}]}
deploy: {stage: deploy, script: x, needs: [{job: unit, artifacts: false}]}
`);
    expect(dependencies(p)).toMatchObject({ unit: ['build'], quick: [], 'same-stage': ['unit'], deploy: [] });
  });

  it('rules:needs replace the job\'s needs for the dependencies too', async () => {
    const p = await projects.compile(`
stages: [build, test]
a: {stage: build, script: x}
b: {stage: build, script: x}
t:
  stage: test
  script: x
  needs: [a]
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      needs: [b]
`);
    expect(dependencies(p).t).toEqual(['b']);
  });

  it('dependencies: [names] keeps only those jobs; dependencies: [] means none', async () => {
    const p = await projects.compile(`
stages: [build, test, deploy]
build: {stage: build, script: x}
docs: {stage: build, script: x}
test: {stage: test, script: x, dependencies: [docs]}
deploy: {stage: deploy, script: x, dependencies: []}
dag: {stage: deploy, script: x, needs: [build, docs], dependencies: [build]}
same: {stage: deploy, script: x, dependencies: [dag]}
`);
    expect(dependencies(p)).toMatchObject({ test: ['docs'], deploy: [], dag: ['build'], same: [] });
  });

  it('a parallel or parallel:matrix job named in dependencies means all of its jobs', async () => {
    const p = await projects.compile(`
stages: [build, test]
compile:
  stage: build
  script: x
  parallel:
    matrix:
      - ARCH: [amd64, arm64]
shard: {stage: build, script: x, parallel: 2}
other: {stage: build, script: x}
test: {stage: test, script: x, dependencies: [compile, "shard 2/2"]}
dag: {stage: test, script: x, needs: [compile, {job: shard, artifacts: false}]}
`);
    expect(dependencies(p)).toMatchObject({
      test: ['compile: [amd64]', 'compile: [arm64]', 'shard 2/2'],
      dag: ['compile: [amd64]', 'compile: [arm64]'],
    });
  });

  it('jobs left out by rules, only/except, or skipped by berth (trigger) are never dependencies', async () => {
    const p = await projects.compile(`
stages: [build, test]
build: {stage: build, script: x}
tagged: {stage: build, script: x, only: [tags]}
never: {stage: build, script: x, rules: [{when: never}]}
child: {stage: build, trigger: {include: child.yml}}
test: {stage: test, script: x}
picky: {stage: test, script: x, dependencies: [tagged, build]}
`);
    expect(dependencies(p)).toMatchObject({ test: ['build'], picky: ['build'] });
    expect(p.skipped.map((s) => s.name).sort()).toEqual(['child', 'never', 'tagged']);
  });

  it('--list --json carries them', async () => {
    const { jobListJson } = await import('./plan/job-list-json.js');
    const p = await projects.compile('stages: [a, b]\none: {stage: a, script: x}\ntwo: {stage: b, script: x}\nlater: {stage: b, script: x, only: [tags]}\n');
    expect(jobListJson(p).jobs.map((j) => [j.name, j.dependencies])).toEqual([['one', []], ['two', ['one']], ['later', null]]);
  });

  it.each([
    ['dependencies: build', '.gitlab-ci.yml:4: job "test": dependencies should be an array of strings'],
    ['dependencies: [build, 1]', '.gitlab-ci.yml:4: job "test": dependencies should be an array of strings'],
    ['dependencies: [bulid]', '.gitlab-ci.yml:4: job "test": undefined dependency: bulid (dependencies must name jobs of this configuration)'],
    ['dependencies: [.hidden]', '.gitlab-ci.yml:4: job "test": undefined dependency: .hidden (dependencies must name jobs of this configuration)'],
    ['dependencies: [deploy]', '.gitlab-ci.yml:4: job "test": dependency deploy is not defined in current or prior stages ("deploy" comes after "test")'],
  ])('%s is refused', async (keyword, message) => {
    const err = await projects.error(`build: {stage: build, script: x}\n.hidden: {script: x}\ntest:\n  ${keyword}\n  script: x\ndeploy: {stage: deploy, script: x}\n`);
    expect(err.message).toBe(message);
    expect(err.key).toBe('dependencies');
  });

  it('in a job with needs, dependencies must be needed jobs (GitLab: "dependencies the X should be part of needs")', async () => {
    const err = await projects.error('one: {stage: build, script: x}\ntwo: {stage: build, script: x}\nuse:\n  needs: [one]\n  dependencies: [one, two]\n  script: x\n');
    expect(err.message).toBe('.gitlab-ci.yml:5: job "use": dependencies the two should be part of needs (a job with needs gets artifacts from those jobs only)');
    expect(err.key).toBe('dependencies');
    // needs: [] is no needs for this check (GitLab: needs not present)
    await projects.compile('one: {stage: build, script: x}\nuse: {needs: [], dependencies: [one], script: x}\n');
    // names as written: a need on some jobs of a matrix covers `dependencies: [the matrix job]`
    const p = await projects.compile(`
build: {stage: build, script: x, parallel: {matrix: [{OS: [linux, mac]}]}}
use:
  needs: [{job: build, parallel: {matrix: [{OS: linux}]}}]
  dependencies: [build]
  script: x
`);
    expect(dependencies(p).use).toEqual(['build: [linux]']);
  });

  it('needs artifacts must be true or false', async () => {
    const err = await projects.error('a: {script: x}\nb:\n  script: x\n  needs: [{job: a, artifacts: "no"}]\n');
    expect(err.message).toBe('.gitlab-ci.yml:4: job "b": needs artifacts must be true or false, not a string');
  });

  it('a dependency that may come from a skipped include is dropped with a warning', async () => {
    const p = await projects.compile(`
include: {template: Jobs/Build.gitlab-ci.yml}
stages: [build, test]
build: {stage: build, script: x}
test: {stage: test, script: x, dependencies: [build, from-template]}
`);
    expect(dependencies(p).test).toEqual(['build']);
    expect(p.warnings.some((w) => /job "test": dependency "from-template" is not defined here \(it may be defined in include:template/.test(w))).toBe(true);
  });
});
