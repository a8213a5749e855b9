import { afterAll, describe, expect, it } from 'vitest';
import { ProjectFactory, variableMap } from '../../test/support/project-factory.js';
import { selectJobs } from './plan/select-jobs.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

describe('parallel', () => {
  it('parallel: N makes N jobs named "name i/N" with CI_NODE_INDEX and CI_NODE_TOTAL', async () => {
    const p = await projects.compile('shard:\n  script: x\n  parallel: 3\nsolo: {script: y}\n');
    expect(p.jobs.map((j) => j.name)).toEqual(['shard 1/3', 'shard 2/3', 'shard 3/3', 'solo']);
    expect(variableMap(p, 'shard 2/3')).toMatchObject({ CI_NODE_INDEX: '2', CI_NODE_TOTAL: '3', CI_JOB_NAME: 'shard 2/3' });
    expect(p.jobs[1]!.parallel).toEqual({ job: 'shard', index: 2, total: 3, matrix: null });
    expect(variableMap(p, 'solo').CI_NODE_INDEX).toBeUndefined();
    expect(variableMap(p, 'solo').CI_NODE_TOTAL).toBe('1');
    expect(p.jobs[3]!.parallel).toBeNull();
  });

  it('parallel:matrix names jobs as GitLab does, with the matrix variables over the job variables', async () => {
    const p = await projects.compile(`
build:
  script: x
  variables: {ARCH: none, KEEP: job}
  parallel:
    matrix:
      - ARCH: amd64
      - OS: [linux, windows]
        ARCH: [amd64, arm64]
      - VERSION: [1.0, 2]
`);
    expect(p.jobs.map((j) => j.name)).toEqual([
      'build: [amd64]',
      'build: [linux, amd64]', 'build: [linux, arm64]', 'build: [windows, amd64]', 'build: [windows, arm64]',
      'build: [1.0]', 'build: [2]',
    ]);
    expect(variableMap(p, 'build: [windows, arm64]')).toMatchObject({ OS: 'windows', ARCH: 'arm64', KEEP: 'job', CI_NODE_INDEX: '5', CI_NODE_TOTAL: '7' });
    expect(variableMap(p, 'build: [amd64]')).toMatchObject({ ARCH: 'amd64', CI_NODE_INDEX: '1' });
    expect(p.jobs[1]!.parallel).toEqual({ job: 'build', index: 2, total: 7, matrix: { OS: 'linux', ARCH: 'amd64' } });
  });

  it('matrix variables are seen by rules', async () => {
    const p = await projects.compile(`
build:
  script: x
  parallel: {matrix: [{ARCH: [amd64, arm64]}]}
  rules: [{if: $ARCH == "amd64"}]
`);
    expect(p.jobs.map((j) => j.name)).toEqual(['build: [amd64]']);
    expect(p.skipped.map((s) => s.name)).toEqual(['build: [arm64]']);
  });

  it('needs on a parallel job mean all of its jobs; parallel:matrix in needs selects some; a need may name one job', async () => {
    const p = await projects.compile(`
stages: [build, test]
build:
  stage: build
  script: x
  parallel: {matrix: [{OS: [linux, mac], ARCH: [amd64, arm64]}]}
shard: {stage: build, script: x, parallel: 2}
all: {stage: test, script: x, needs: [build, shard]}
some:
  stage: test
  script: x
  needs:
    - job: build
      parallel: {matrix: [{OS: linux, ARCH: [amd64, arm64]}]}
    - job: build
      parallel: {matrix: [{OS: mac, ARCH: arm64}]}
one: {stage: test, script: x, needs: ["build: [mac, amd64]", {job: "shard 2/2", optional: true}]}
`);
    const needs = (name: string) => p.jobs.find((j) => j.name === name)!.needs!.map((n) => n.job);
    expect(needs('all')).toEqual(['build: [linux, amd64]', 'build: [linux, arm64]', 'build: [mac, amd64]', 'build: [mac, arm64]', 'shard 1/2', 'shard 2/2']);
    expect(needs('some')).toEqual(['build: [linux, amd64]', 'build: [linux, arm64]', 'build: [mac, arm64]']);
    expect(needs('one')).toEqual(['build: [mac, amd64]', 'shard 2/2']);
  });

  it('a need naming a matrix job that does not exist is an error naming it', async () => {
    const err = await projects.error(`
build: {script: x, parallel: {matrix: [{ARCH: [amd64]}]}}
test: {script: x, needs: ["build: [arm64]"]}
`);
    expect(err.message).toContain('job "test": needs "build: [arm64]", which is not a job of this configuration');
  });

  it('berth exec build picks every job of build; "build: [amd64]" one', async () => {
    const p = await projects.compile('build:\n  script: x\n  parallel: {matrix: [{ARCH: [amd64, arm64]}]}\nother: {script: y}\n');
    expect(selectJobs(p, ['build'], false).map((j) => j.name)).toEqual(['build: [amd64]', 'build: [arm64]']);
    expect(selectJobs(p, ['build: [amd64]'], false).map((j) => j.name)).toEqual(['build: [amd64]']);
  });

  it('a trigger job with parallel:matrix is listed as its several (skipped) jobs', async () => {
    const p = await projects.compile(`
deploystacks:
  stage: deploy
  trigger: {include: path/to/child-pipeline.yml}
  parallel: {matrix: [{PROVIDER: aws, STACK: [monitoring, app1]}]}
after: {stage: .post, script: x, needs: [deploystacks]}
`);
    expect(p.skipped.map((s) => [s.name, s.stage, s.parallel?.index])).toEqual([
      ['deploystacks: [aws, monitoring]', 'deploy', 1],
      ['deploystacks: [aws, app1]', 'deploy', 2],
    ]);
    expect(p.jobs.find((j) => j.name === 'after')!.needs).toEqual([]);
  });

  it('naming a parallel job whose jobs rules all left out says why', async () => {
    const p = await projects.compile('shard:\n  script: x\n  parallel: 2\n  rules: [{if: $CI_COMMIT_TAG}]\nother: {script: y}\n');
    expect(() => selectJobs(p, ['shard'], false)).toThrow('job "shard" is not in this pipeline: rules: no rule matched.');
  });

  it.each([
    ['parallel: 0', '.gitlab-ci.yml:3: job "job": parallel config must be greater than or equal to 1'],
    ['parallel: 201', '.gitlab-ci.yml:3: job "job": parallel config must be less than or equal to 200'],
    ['parallel: 1.5', '.gitlab-ci.yml:3: job "job": parallel config must be an integer'],
    ['parallel: "3"', '.gitlab-ci.yml:3: job "job": parallel config should be an integer or a hash, not a string'],
    ['parallel: {number: 3}', '.gitlab-ci.yml:3: job "job": parallel config contains unknown keys: number'],
    ['parallel: {matrix: {A: [1]}}', '.gitlab-ci.yml:3: job "job": parallel:matrix config should be an array of hashes'],
    ['parallel: {matrix: [{}]}', '.gitlab-ci.yml:3: job "job": parallel:matrix config requires at least 1 items'],
    ['parallel: {matrix: [{A: {b: 1}}]}', '.gitlab-ci.yml:3: job "job": parallel:matrix config should be a hash of key value pairs, value can be an array (variable "A")'],
  ])('refuses %s', async (line, message) => {
    expect((await projects.error(`job:\n  script: x\n  ${line}\n`)).message).toBe(message);
  });

  it('refuses a matrix of more than 200 jobs', async () => {
    const values = Array.from({ length: 15 }, (_, i) => `v${i}`).join(', ');
    const err = await projects.error(`job:\n  script: x\n  parallel:\n    matrix:\n      - {A: [${values}], B: [${values}]}\n`);
    expect(err.message).toBe('.gitlab-ci.yml:4: job "job": parallel:matrix config generates too many jobs (maximum is 200; this matrix makes 225)');
  });
});

describe('parallel: $[[ matrix.VAR ]] in needs', () => {
  it('needs the matching job of another matrix (GitLab docs: matrix expressions in needs)', async () => {
    const p = await projects.compile(`
linux:build:
  stage: build
  script: x
  parallel:
    matrix:
      - PROVIDER: [aws, gcp]
        STACK: [monitoring, app1]
linux:test:
  stage: test
  script: x
  parallel:
    matrix:
      - PROVIDER: [aws, gcp]
        STACK: [monitoring, app1]
  needs:
    - job: linux:build
      parallel:
        matrix:
          - PROVIDER: ['$[[ matrix.PROVIDER ]]']
            STACK: ['$[[ matrix.STACK ]]']
`);
    const needs = (name: string) => p.jobs.find((j) => j.name === name)!.needs!.map((n) => n.job);
    expect(needs('linux:test: [gcp, app1]')).toEqual(['linux:build: [gcp, app1]']);
    expect(needs('linux:test: [aws, monitoring]')).toEqual(['linux:build: [aws, monitoring]']);
  });

  it('a matrix variable the job does not have is an error', async () => {
    const err = await projects.error(`
build: {stage: build, script: x, parallel: {matrix: [{A: [1, 2]}]}}
test:
  script: x
  parallel: {matrix: [{B: [1, 2]}]}
  needs: ["build: [$[[ matrix.A ]]]"]
`);
    expect(err.message).toBe(".gitlab-ci.yml:6: job \"test\": needs: 'A' does not exist in matrix configuration (it has B)");
  });
});
