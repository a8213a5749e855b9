import { afterAll, describe, expect, it } from 'vitest';
import { ProjectFactory, variableMap } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

describe('keyword forms GitLab accepts', () => {
  it('compile without error', async () => {
    const p = await projects.compile(`
workflow:
  name: "pipeline for $CI_COMMIT_REF_NAME"
  auto_cancel: {on_new_commit: interruptible}
  rules:
    - if: $CI_COMMIT_BRANCH
      auto_cancel: {on_new_commit: none}
      variables: {FROM_WORKFLOW: true}
variables:
  FF_TIMESTAMPS: true
  DEPLOY_ENV: {value: staging, options: [staging, production], description: "where to deploy"}
  RATIO: 1.5
  UNSET:
default:
  interruptible: true
  tags: [docker]
  retry: {max: 2, when: [runner_system_failure]}
  services: [{name: "$DB_IMAGE", alias: db}]
stages: [build, test, deploy]
build:
  stage: build
  image: {name: alpine, kubernetes: {user: "1000"}, docker: {platform: linux/amd64}}
  services:
    - name: postgres:16
      variables: {POSTGRES_HOST_AUTH_METHOD: trust, FLAG: true}
      docker: {user: "999"}
  script: [a, [b, [c]]]
  hooks: {pre_get_sources_script: [echo hi]}
  cache: [{key: {files: [package-lock.json]}, paths: [node_modules]}]
  artifacts: {reports: {junit: report.xml}, expire_in: 1 week}
  coverage: '/Coverage: \\d+%/'
  timeout: 1h 30m
  allow_failure: {exit_codes: 137}
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      changes: {paths: [src/**/*], compare_to: refs/heads/main}
      variables: {RULE_FLAG: false}
    - exists: {paths: [Dockerfile], project: group/other, ref: main}
test:
  stage: test
  needs:
    - build
    - {pipeline: $PARENT_PIPELINE_ID, job: gen}
    - {project: group/other, job: lib, ref: main, artifacts: true}
  only: {refs: [main, /^release-.*$/], changes: [src/**/*], variables: [$CI_COMMIT_BRANCH]}
  except: {variables: [$SKIP_TESTS == "true"]}
  environment: {name: review/$CI_COMMIT_REF_SLUG, url: https://x.example, on_stop: stop}
  script: test
deploy:
  stage: deploy
  when: delayed
  start_in: 5 minutes
  inherit: {default: [image], variables: [FF_TIMESTAMPS]}
  resource_group: production
  script: deploy
  release: {tag_name: v1, description: x}
stop:
  stage: deploy
  environment: {name: review/$CI_COMMIT_REF_SLUG, action: stop}
  when: manual
  script: stop
`);
    expect(p.jobs.map((j) => j.name)).toEqual(['build', 'test', 'deploy', 'stop']);
    expect(variableMap(p, 'build')).toMatchObject({ FF_TIMESTAMPS: 'true', DEPLOY_ENV: 'staging', RATIO: '1.5', UNSET: '', RULE_FLAG: 'false', FROM_WORKFLOW: 'true' });
    expect(p.jobs[0]!.spec.services.find((s) => s.name === 'postgres:16')?.variables).toContainEqual({ key: 'FLAG', value: 'true' });
  });
});
