import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors.js';
import { formatJobList } from './format-job-list.js';
import { selectJobs } from './select-jobs.js';
import { ProjectFactory } from '../../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

const YAML = `
stages: [build, test, deploy]
deploy:
  stage: deploy
  script: s
  when: manual
  needs: [test]
build: {stage: build, script: s}
lint: {stage: build, script: s, needs: []}
test:
  stage: test
  script: s
  needs: [build, {job: lint, optional: true}]
  allow_failure: {exit_codes: [2, 3]}
docs: {stage: test, script: s, allow_failure: true}
tagged: {script: s, rules: [{if: $CI_COMMIT_TAG}]}
`;

describe('selectJobs', () => {
  it('picks named jobs in pipeline order, with --needs adding what they need transitively', async () => {
    const p = await projects.compile(YAML);
    expect(selectJobs(p, ['test', 'build'], false).map((j) => j.name)).toEqual(['build', 'test']);
    expect(selectJobs(p, ['deploy'], true).map((j) => j.name)).toEqual(['deploy', 'build', 'lint', 'test']);
    expect(selectJobs(p, ['docs'], true).map((j) => j.name)).toEqual(['docs']);
  });

  it('names an unknown job and suggests close ones', async () => {
    const p = await projects.compile(YAML);
    const err = (() => {
      try {
        selectJobs(p, ['tset'], false);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe('unknown job "tset"; did you mean "test"? (berth exec --list shows the jobs)');
    expect(() => selectJobs(p, ['nothing-like-it'], false)).toThrow('unknown job "nothing-like-it" (berth exec --list shows the jobs)');
  });

  it('says why a job of the file is not in the pipeline', async () => {
    const p = await projects.compile(YAML);
    expect(() => selectJobs(p, ['tagged'], false)).toThrow('job "tagged" is not in this pipeline: rules: no rule matched. Use --variable to change the variables its rules see');
  });
});

describe('formatJobList', () => {
  it('prints a plain table in stage order, then the jobs left out', async () => {
    const p = await projects.compile(YAML);
    expect(formatJobList(p)).toBe([
      'STAGE   JOB     WHEN        NEEDS         ALLOW_FAILURE',
      'build   build   on_success  -             false',
      'build   lint    on_success  []            false',
      'test    test    on_success  build, lint?  exit codes 2, 3',
      'test    docs    on_success  -             true',
      'deploy  deploy  manual      test          true',
      '',
      'Not in this pipeline:',
      '  tagged  rules: no rule matched',
      '',
    ].join('\n'));
  });

  it('says when there are no jobs', async () => {
    const p = await projects.compile('workflow: {rules: [{when: never}]}\njob: {script: s}\n');
    expect(formatJobList(p)).toBe('No jobs in this pipeline.\n\nNot in this pipeline:\n  job  workflow:rules\n');
  });
});
