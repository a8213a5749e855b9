import { afterAll, describe, expect, it } from 'vitest';
import { ProjectFactory } from '../../../test/support/project-factory.js';
import { jobListJson } from './job-list-json.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

describe('--list --json', () => {
  it('lists planned jobs in stage order with parallel origin, then the left-out jobs with the clause that did it', async () => {
    const p = await projects.compile(`
stages: [build, test, deploy]
deploy: {stage: deploy, script: x, only: [tags]}
test:
  stage: test
  script: x
  needs: [build, {job: lint, optional: true}]
  allow_failure: {exit_codes: [3]}
build:
  stage: build
  script: x
  parallel: {matrix: [{ARCH: [amd64, arm64]}]}
  rules:
    - if: $ARCH == "amd64"
    - if: $ARCH == "arm64"
      when: manual
shard: {stage: test, script: x, parallel: 2, rules: [{if: $CI_COMMIT_TAG}]}
`);
    expect(jobListJson(p)).toEqual({
      version: 1,
      file: '.gitlab-ci.yml',
      stages: ['.pre', 'build', 'test', 'deploy', '.post'],
      jobs: [
        {
          name: 'build: [amd64]', stage: 'build', when: 'on_success', needs: null, allow_failure: false, allow_failure_exit_codes: [],
          parallel: { job: 'build', index: 1, total: 2, matrix: { ARCH: 'amd64' } }, dependencies: [], skip_reason: null,
        },
        {
          name: 'build: [arm64]', stage: 'build', when: 'manual', needs: null, allow_failure: false, allow_failure_exit_codes: [],
          parallel: { job: 'build', index: 2, total: 2, matrix: { ARCH: 'arm64' } }, dependencies: [], skip_reason: null,
        },
        {
          name: 'test', stage: 'test', when: 'on_success',
          needs: [{ job: 'build: [amd64]', optional: false }, { job: 'build: [arm64]', optional: false }],
          allow_failure: false, allow_failure_exit_codes: [3], parallel: null,
          // needs with artifacts (the default): both build jobs' artifacts.
          dependencies: ['build: [amd64]', 'build: [arm64]'], skip_reason: null,
        },
        {
          name: 'deploy', stage: 'deploy', when: null, needs: null, allow_failure: null, allow_failure_exit_codes: [], parallel: null, dependencies: null,
          skip_reason: 'only:refs does not match ref "main" (pipeline source push)',
        },
        {
          name: 'shard 1/2', stage: 'test', when: null, needs: null, allow_failure: null, allow_failure_exit_codes: [],
          parallel: { job: 'shard', index: 1, total: 2, matrix: null }, dependencies: null, skip_reason: 'rules: no rule matched',
        },
        {
          name: 'shard 2/2', stage: 'test', when: null, needs: null, allow_failure: null, allow_failure_exit_codes: [],
          parallel: { job: 'shard', index: 2, total: 2, matrix: null }, dependencies: null, skip_reason: 'rules: no rule matched',
        },
      ],
      warnings: [],
    });
  });
});
