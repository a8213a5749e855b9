import { afterAll, describe, expect, it } from 'vitest';
import type { JobSpec, JobVariable } from '../job/job-spec.js';
import { ProjectFactory, TEST_SHA } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

const v = (key: string, value: string, raw = false): JobVariable => ({ key, value, public: true, masked: false, file: false, raw });

const PROJECT_URL = 'https://gitlab.example.invalid/group/sub/project';

function predefined(): JobVariable[] {
  return [
    v('CI', 'true'),
    v('GITLAB_CI', 'true'),
    v('CI_SERVER_NAME', 'GitLab'),
    v('CI_SERVER_URL', 'https://gitlab.example.invalid'),
    v('CI_SERVER_HOST', 'gitlab.example.invalid'),
    v('CI_SERVER_FQDN', 'gitlab.example.invalid'),
    v('CI_SERVER_PORT', '443'),
    v('CI_SERVER_PROTOCOL', 'https'),
    v('CI_API_V4_URL', 'https://gitlab.example.invalid/api/v4'),
    v('CI_PROJECT_ID', expect.stringMatching(/^\d+$/)),
    v('CI_PROJECT_NAME', 'project'),
    v('CI_PROJECT_TITLE', 'project'),
    v('CI_PROJECT_PATH', 'group/sub/project'),
    v('CI_PROJECT_PATH_SLUG', 'group-sub-project'),
    v('CI_PROJECT_NAMESPACE', 'group/sub'),
    v('CI_PROJECT_NAMESPACE_SLUG', 'group-sub'),
    v('CI_PROJECT_NAMESPACE_ID', expect.stringMatching(/^\d+$/)),
    v('CI_PROJECT_ROOT_NAMESPACE', 'group'),
    v('CI_PROJECT_URL', PROJECT_URL),
    v('CI_PROJECT_VISIBILITY', 'private'),
    v('CI_DEFAULT_BRANCH', 'main'),
    v('CI_CONFIG_PATH', '.gitlab-ci.yml'),
    v('CI_PIPELINE_ID', '100'),
    v('CI_PIPELINE_IID', '1'),
    v('CI_PIPELINE_SOURCE', 'push'),
    v('CI_PIPELINE_URL', `${PROJECT_URL}/-/pipelines/100`),
    v('CI_PIPELINE_CREATED_AT', '2024-05-06T07:08:09Z'),
    v('CI_COMMIT_SHA', TEST_SHA),
    v('CI_COMMIT_SHORT_SHA', '12345678'),
    v('CI_COMMIT_BEFORE_SHA', '0'.repeat(40)),
    v('CI_COMMIT_REF_NAME', 'main'),
    v('CI_COMMIT_REF_SLUG', 'main'),
    v('CI_COMMIT_REF_PROTECTED', 'false'),
    v('CI_COMMIT_BRANCH', 'main'),
    v('CI_COMMIT_MESSAGE', 'Add feature\n\nLonger text.'),
    v('CI_COMMIT_TITLE', 'Add feature'),
    v('CI_COMMIT_DESCRIPTION', 'Longer text.'),
    v('CI_COMMIT_AUTHOR', 'Ada <ada@example.com>'),
    v('CI_COMMIT_TIMESTAMP', '2024-05-01T10:00:00+02:00'),
    v('GITLAB_USER_LOGIN', 'ada'),
    v('GITLAB_USER_NAME', 'Ada Lovelace'),
    v('GITLAB_USER_EMAIL', 'ada@example.com'),
    v('CI_REPOSITORY_URL', 'git@gitlab.example.com:group/sub/project.git'),
    v('CI_TEMPLATE_REGISTRY_HOST', 'registry.gitlab.com'),
  ];
}

describe('JobSpec', () => {
  it('is complete for a job with image, services, scripts and variables', async () => {
    const p = await projects.compile(`
stages: [build, test]
variables: {GLOBAL: "1"}
default:
  image: node:20
build:
  stage: build
  script: npm ci
unit tests:
  stage: test
  image: {name: "node:$NODE", entrypoint: [""]}
  services: [{name: postgres:16, alias: db}]
  variables: {NODE: "20", RAW: {value: "$X", expand: false}}
  before_script: [npm ci]
  script: [npm test]
  after_script: [echo done]
  timeout: 30m
  when: manual
`, { variables: { EXTRA: 'yes' } });
    const spec = p.jobs.find((j) => j.name === 'unit tests')!.spec;
    const expected: JobSpec = {
      id: 2,
      token: '',
      allowGitFetch: false,
      jobInfo: { name: 'unit tests', stage: 'test', projectId: spec.jobInfo.projectId, projectName: 'project', projectFullPath: 'group/sub/project', pipelineId: 100 },
      gitInfo: {
        repoUrl: 'git@gitlab.example.com:group/sub/project.git',
        ref: 'main',
        sha: TEST_SHA,
        beforeSha: '0'.repeat(40),
        refType: 'branch',
        refspecs: [],
        depth: 0,
      },
      timeoutSeconds: 1800,
      variables: [
        ...predefined(),
        v('CI_JOB_ID', '2'),
        v('CI_JOB_URL', `${PROJECT_URL}/-/jobs/2`),
        v('CI_JOB_NAME', 'unit tests'),
        v('CI_JOB_NAME_SLUG', 'unit-tests'),
        v('CI_JOB_STAGE', 'test'),
        v('CI_JOB_MANUAL', 'true'),
        v('CI_NODE_TOTAL', '1'),
        v('GLOBAL', '1'),
        v('NODE', '20'),
        v('RAW', '$X', true),
        { ...v('EXTRA', 'yes'), public: false }, // --variable: script only
      ],
      steps: [
        { name: 'script', script: ['npm ci', 'npm test'], timeoutSeconds: 1800, when: 'on_success', allowFailure: false },
        { name: 'after_script', script: ['echo done'], timeoutSeconds: 1800, when: 'always', allowFailure: true },
      ],
      image: { name: 'node:$NODE', entrypoint: [''] },
      services: [{ name: 'postgres:16', aliases: ['db'], variables: [] }],
      credentials: [],
      features: { traceSections: true, tokenMaskPrefixes: [], failureReasons: [] },
      sources: { kind: 'local-tree', root: spec.sources.kind === 'local-tree' ? spec.sources.root : '', files: [] },
      artifacts: [],
      cache: [],
      // GitLab's build_dependencies: every job of the earlier stages.
      dependencies: [{ id: 1, name: 'build', token: '', artifactsFile: null }],
    };
    expect(spec).toEqual(expected);
    expect(spec.jobInfo.projectId).toBeGreaterThan(0);
    const unit = p.jobs.find((j) => j.name === 'unit tests')!;
    expect({ ...unit, spec: undefined }).toEqual({
      name: 'unit tests', stage: 'test', when: 'manual', allowFailure: true, allowFailureExitCodes: [], needs: null,
      retry: { max: 0, when: ['always'], exitCodes: [] }, coverage: null, parallel: null, spec: undefined,
    });
  });

  it('is complete for a minimal job on a tag, without any image', async () => {
    const p = await projects.compile('job: {script: make}\n', { git: { ref: 'v1.0.0', refType: 'tag' }, listFiles: true });
    const spec = p.jobs[0]!.spec;
    const root = p.root;
    expect(spec).toEqual({
      id: 1,
      token: '',
      allowGitFetch: false,
      jobInfo: { name: 'job', stage: 'test', projectId: spec.jobInfo.projectId, projectName: 'project', projectFullPath: 'group/sub/project', pipelineId: 100 },
      gitInfo: { repoUrl: 'git@gitlab.example.com:group/sub/project.git', ref: 'v1.0.0', sha: TEST_SHA, beforeSha: '0'.repeat(40), refType: 'tag', refspecs: [], depth: 0 },
      timeoutSeconds: 3600,
      variables: [
        ...predefined().flatMap((x) =>
          x.key === 'CI_COMMIT_REF_NAME' ? [v(x.key, 'v1.0.0')] : x.key === 'CI_COMMIT_REF_SLUG' ? [v(x.key, 'v1-0-0')] : x.key === 'CI_COMMIT_BRANCH' ? [v('CI_COMMIT_TAG', 'v1.0.0'), v('CI_COMMIT_TAG_MESSAGE', '')] : [x]),
        v('CI_JOB_ID', '1'),
        v('CI_JOB_URL', `${PROJECT_URL}/-/jobs/1`),
        v('CI_JOB_NAME', 'job'),
        v('CI_JOB_NAME_SLUG', 'job'),
        v('CI_JOB_STAGE', 'test'),
        v('CI_NODE_TOTAL', '1'),
      ],
      steps: [{ name: 'script', script: ['make'], timeoutSeconds: 3600, when: 'on_success', allowFailure: false }],
      image: null,
      services: [],
      credentials: [],
      features: { traceSections: true, tokenMaskPrefixes: [], failureReasons: [] },
      sources: { kind: 'local-tree', root, files: ['.gitlab-ci.yml'] },
      artifacts: [],
      cache: [],
      dependencies: [],
    });
  });

  it('numbers jobs in stage order and shares one file list', async () => {
    const p = await projects.compile('deploy: {stage: deploy, script: s}\nbuild: {stage: build, script: s}\ntest: {script: s}\n', { listFiles: true, files: { 'src/a.c': '' } });
    expect(p.jobs.map((j) => [j.name, j.spec.id])).toEqual([['deploy', 3], ['build', 1], ['test', 2]]);
    const first = p.jobs[0]!.spec.sources;
    expect(first.kind === 'local-tree' && first.files).toEqual(['.gitlab-ci.yml', 'src/a.c']);
    expect(p.jobs[1]!.spec.sources).toBe(first);
  });
});
