import { afterAll, describe, expect, it } from 'vitest';
import type { ArtifactSpec } from '../job/job-spec.js';
import { ProjectFactory } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

const artifactsOf = async (yaml: string, job = 'job'): Promise<ArtifactSpec[]> => {
  const p = await projects.compile(yaml);
  const found = p.jobs.find((j) => j.name === job);
  if (!found) throw new Error(`no job ${job}`);
  return found.spec.artifacts;
};

const archive = (over: Partial<ArtifactSpec>): ArtifactSpec => ({
  name: '', untracked: false, paths: [], exclude: [], when: 'on_success', artifactType: 'archive', artifactFormat: 'zip', expireIn: '', ...over,
});

describe('artifacts: → the payload artifacts[] (GitLab BuildRunnerPresenter)', () => {
  it('no artifacts, or only keys that never reach the runner: no entry', async () => {
    expect(await artifactsOf('job: {script: x}\n')).toEqual([]);
    expect(await artifactsOf('job: {script: x, artifacts: {}}\n')).toEqual([]);
    expect(await artifactsOf('job: {script: x, artifacts: {untracked: false, when: always}}\n')).toEqual([]);
  });

  it('one archive entry with every field written', async () => {
    expect(await artifactsOf(`
job:
  script: x
  artifacts:
    name: "$CI_JOB_NAME-bin"
    paths: [bin/, "dist/**/*.js"]
    exclude: ["dist/**/*.map"]
    untracked: true
    when: on_failure
    expire_in: 1 week
    public: false
`)).toEqual([
      archive({ name: '$CI_JOB_NAME-bin', paths: ['bin/', 'dist/**/*.js'], exclude: ['dist/**/*.map'], untracked: true, when: 'on_failure', expireIn: '1 week' }),
    ]);
  });

  it('untracked alone, or paths written empty, still make an archive entry (GitLab tests paths for nil, not empty)', async () => {
    expect(await artifactsOf('job: {script: x, artifacts: {untracked: true}}\n')).toEqual([archive({ untracked: true })]);
    expect(await artifactsOf('job: {script: x, artifacts: {paths: []}}\n')).toEqual([archive({})]);
    // expose_as and access never reach the runner.
    expect(await artifactsOf('job: {script: x, artifacts: {paths: [bin/], expose_as: "Build output_1-x", access: developer}}\n')).toEqual([archive({ paths: ['bin/'] })]);
  });

  it('one entry per report, in the order written, with GitLab\'s format, default name, when always and the expire_in', async () => {
    expect(await artifactsOf(`
job:
  script: x
  artifacts:
    paths: [out/]
    expire_in: never
    reports:
      dotenv: build.env
      junit: [a.xml, "reports/*.xml"]
      sast: gl-sast-report.json
      lsif: dump.lsif
      coverage_report:
        coverage_format: cobertura
        path: coverage/cobertura.xml
`)).toEqual([
      archive({ paths: ['out/'], expireIn: 'never' }),
      { name: '.env', untracked: false, paths: ['build.env'], exclude: [], when: 'always', artifactType: 'dotenv', artifactFormat: 'gzip', expireIn: 'never' },
      { name: 'junit.xml', untracked: false, paths: ['a.xml', 'reports/*.xml'], exclude: [], when: 'always', artifactType: 'junit', artifactFormat: 'gzip', expireIn: 'never' },
      { name: 'gl-sast-report.json', untracked: false, paths: ['gl-sast-report.json'], exclude: [], when: 'always', artifactType: 'sast', artifactFormat: 'raw', expireIn: 'never' },
      { name: 'lsif.json', untracked: false, paths: ['dump.lsif'], exclude: [], when: 'always', artifactType: 'lsif', artifactFormat: 'zip', expireIn: 'never' },
      { name: 'cobertura-coverage.xml', untracked: false, paths: ['coverage/cobertura.xml'], exclude: [], when: 'always', artifactType: 'cobertura', artifactFormat: 'gzip', expireIn: 'never' },
    ]);
  });

  it('reports only: no archive entry; coverage_report jacoco becomes a jacoco artifact', async () => {
    expect(await artifactsOf('job:\n  script: x\n  artifacts:\n    reports:\n      coverage_report: {coverage_format: jacoco, path: target/jacoco.xml}\n')).toEqual([
      { name: 'jacoco-coverage.xml', untracked: false, paths: ['target/jacoco.xml'], exclude: [], when: 'always', artifactType: 'jacoco', artifactFormat: 'gzip', expireIn: '' },
    ]);
  });

  it('reports:cobertura (removed in GitLab 15.0) is still taken, with a warning', async () => {
    const p = await projects.compile('job:\n  script: x\n  artifacts:\n    reports:\n      cobertura: c.xml\n');
    expect(p.jobs[0]!.spec.artifacts).toEqual([
      { name: 'cobertura-coverage.xml', untracked: false, paths: ['c.xml'], exclude: [], when: 'always', artifactType: 'cobertura', artifactFormat: 'gzip', expireIn: '' },
    ]);
    expect(p.warnings).toEqual([
      '.gitlab-ci.yml:5: job "job": artifacts:reports:cobertura was removed in GitLab 15.0 and GitLab refuses it; use coverage_report: {coverage_format: cobertura, path: ...}',
    ]);
  });

  it('default:artifacts is inherited unless the job has its own or inherit:default leaves it out', async () => {
    const p = await projects.compile(`
default:
  artifacts: {paths: [shared/]}
a: {script: x}
b: {script: x, artifacts: {paths: [own/]}}
c: {script: x, inherit: {default: false}}
d: {script: x, inherit: {default: [image]}}
e: {script: x, inherit: {default: [artifacts]}}
`);
    const paths = Object.fromEntries(p.jobs.map((j) => [j.name, j.spec.artifacts.map((a) => a.paths)]));
    expect(paths).toEqual({ a: [['shared/']], b: [['own/']], c: [], d: [], e: [['shared/']] });
    expect(p.warnings).toEqual([]);
  });

  it.each([
    ['artifacts: [a]', '.gitlab-ci.yml:3: job "job": artifacts config should be a hash, not a list'],
    ['artifacts: {path: [a]}', '.gitlab-ci.yml:3: job "job": artifacts config contains unknown keys: path'],
    ['artifacts: {paths: a}', '.gitlab-ci.yml:3: job "job": artifacts:paths should be an array of strings'],
    ['artifacts: {paths: [a, 1]}', '.gitlab-ci.yml:3: job "job": artifacts:paths should be an array of strings'],
    ['artifacts: {exclude: "*.o"}', '.gitlab-ci.yml:3: job "job": artifacts:exclude should be an array of strings'],
    ['artifacts: {untracked: "yes"}', '.gitlab-ci.yml:3: job "job": artifacts:untracked must be true or false, not a string'],
    ['artifacts: {name: [a]}', '.gitlab-ci.yml:3: job "job": artifacts:name must be a string, not a list'],
    ['artifacts: {when: never}', '.gitlab-ci.yml:3: job "job": artifacts:when should be one of: on_success, on_failure, always'],
    ['artifacts: {expire_in: soon}', '.gitlab-ci.yml:3: job "job": artifacts:expire_in should be a duration such as "1 week", "30 days" or "never"'],
    ['artifacts: {expire_in: 3600}', '.gitlab-ci.yml:3: job "job": artifacts:expire_in should be a duration such as "1 week", "30 days" or "never"'],
    ['artifacts: {paths: [a], public: true, access: all}', '.gitlab-ci.yml:3: job "job": artifacts config these keys cannot be used together: access, public'],
    ['artifacts: {access: everyone}', '.gitlab-ci.yml:3: job "job": artifacts:access should be one of: none, developer, all'],
    ['artifacts: {public: 1}', '.gitlab-ci.yml:3: job "job": artifacts:public must be true or false, not a number'],
    ['artifacts: {expose_as: "Build!", paths: [a]}', `.gitlab-ci.yml:3: job "job": artifacts:expose_as can contain only letters, digits, '-', '_' and spaces`],
    [`artifacts: {expose_as: "${'x'.repeat(101)}", paths: [a]}`, '.gitlab-ci.yml:3: job "job": artifacts:expose_as is too long (maximum is 100 characters)'],
    ['artifacts: {expose_as: out}', `.gitlab-ci.yml:3: job "job": artifacts:paths can't be blank when expose_as is set`],
    ['artifacts: {expose_as: out, paths: ["*.bin"]}', `.gitlab-ci.yml:3: job "job": artifacts:paths can't contain '*' when used with 'expose_as'`],
    ['artifacts: {reports: [junit]}', '.gitlab-ci.yml:3: job "job": artifacts:reports config should be a hash, not a list'],
    ['artifacts: {reports: {junitt: a.xml}}', '.gitlab-ci.yml:3: job "job": artifacts:reports config contains unknown keys: junitt'],
    ['artifacts: {reports: {jacoco: c.xml}}', '.gitlab-ci.yml:3: job "job": artifacts:reports config contains unknown keys: jacoco'],
    ['artifacts: {reports: {junit: {path: a}}}', '.gitlab-ci.yml:3: job "job": artifacts:reports:junit should be an array of strings or a string'],
    ['artifacts: {reports: {coverage_report: c.xml}}', '.gitlab-ci.yml:3: job "job": artifacts:reports:coverage_report config should be a hash, not a string'],
    ['artifacts: {reports: {coverage_report: {coverage_format: lcov, path: c}}}', '.gitlab-ci.yml:3: job "job": artifacts:reports:coverage_report:coverage_format must be one of supported formats: cobertura, jacoco.'],
    ['artifacts: {reports: {coverage_report: {coverage_format: jacoco}}}', `.gitlab-ci.yml:3: job "job": artifacts:reports:coverage_report:path can't be blank and must be a string`],
    ['artifacts: {reports: {coverage_report: {coverage_format: jacoco, path: a, x: 1}}}', '.gitlab-ci.yml:3: job "job": artifacts:reports:coverage_report config contains unknown keys: x'],
  ])('%s is refused', async (keyword, message) => {
    const err = await projects.error(`stages: [test]\njob:\n  ${keyword}\n  script: x\n`);
    expect(err.message).toBe(message);
    expect(err.key).toBe('artifacts');
    expect(err.line).toBe(3);
  });

  it('errors inside a multi-line artifacts: name the line of the key', async () => {
    const err = await projects.error('job:\n  script: x\n  artifacts:\n    paths: [a]\n    when: later\n');
    expect(err.message).toBe('.gitlab-ci.yml:5: job "job": artifacts:when should be one of: on_success, on_failure, always');
  });
});
