import { afterAll, describe, expect, it } from 'vitest';
import { ProjectFactory } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

describe('nested lists are flattened where GitLab flattens them', () => {
  it('rules: !reference as an element of rules (GitLab docs: reuse rules in different jobs)', async () => {
    const p = await projects.compile(`
.default_rules:
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
      when: never
    - if: $CI_COMMIT_BRANCH == "other"
job1:
  script: x
  rules:
    - !reference [.default_rules, rules]
    - if: $CI_COMMIT_BRANCH == "main"
      when: manual
job2:
  script: x
  rules: [!reference [.default_rules, rules]]
`);
    expect(p.jobs.map((j) => [j.name, j.when])).toEqual([['job1', 'manual']]);
    expect(p.skipped.map((s) => s.name)).toEqual(['job2']);
  });

  it('rules that !reference rules that !reference rules (lists nested three deep)', async () => {
    const p = await projects.compile(`
.never_schedule:
  rules:
    - if: $CI_PIPELINE_SOURCE == "push"
      when: never
.base_rules:
  rules:
    - !reference [.never_schedule, rules]
    - if: $CI_COMMIT_BRANCH == "main"
job:
  rules:
    - !reference [.base_rules, rules]
    - when: manual
  script: x
`);
    expect(p.jobs).toEqual([]);
    expect(p.skipped).toMatchObject([{ name: 'job', reason: 'rules: a rule with when: never matched (.gitlab-ci.yml:4)' }]);
  });

  it('workflow:rules and include rules take nested lists too', async () => {
    const p = await projects.compile(`
.wf: {rules: [{if: $CI_COMMIT_BRANCH == "main", variables: {FROM_WF: "yes"}}]}
workflow:
  rules:
    - !reference [.wf, rules]
include:
  - local: extra.yml
    rules: [[{if: $CI_COMMIT_BRANCH == "main"}]]
job: {script: x}
`, { files: { 'extra.yml': 'extra: {script: y}\n' } });
    expect(p.jobs.map((j) => j.name).sort()).toEqual(['extra', 'job']);
    expect(p.jobs[0]!.spec.variables.find((v) => v.key === 'FROM_WF')?.value).toBe('yes');
  });

  it('needs and services: !reference as an element', async () => {
    const p = await projects.compile(`
.common:
  needs: [a]
  services: [{name: "postgres:16", alias: db}]
a: {stage: build, script: x}
b: {stage: build, script: x}
job:
  script: x
  needs:
    - !reference [.common, needs]
    - b
  services:
    - !reference [.common, services]
    - redis:7
`);
    const job = p.jobs.find((j) => j.name === 'job')!;
    expect(job.needs).toEqual([{ job: 'a', optional: false }, { job: 'b', optional: false }]);
    expect(job.spec.services.map((s) => s.name)).toEqual(['postgres:16', 'redis:7']);
  });

  it('an error in a nested rule still names the file and line of the rule', async () => {
    const err = await projects.error(`
.r:
  rules:
    - when: sometimes
job:
  script: x
  rules: [!reference [.r, rules]]
`);
    expect(err.message).toBe('.gitlab-ci.yml:4: job "job": rules[0]: when must be one of on_success, on_failure, always, manual, never, delayed');
  });
});

describe('include: nested lists', () => {
  it('an alias of a list of includes inside include: is flattened (Entry::Includes)', async () => {
    const p = await projects.compile(`
.includes: &common
  - local: a.yml
  - b.yml
include:
  - *common
  - local: c.yml
`, { files: { 'a.yml': 'a: {script: x}\n', 'b.yml': 'b: {script: x}\n', 'c.yml': 'c: {script: x}\n' } });
    expect(p.jobs.map((j) => j.name).sort()).toEqual(['a', 'b', 'c']);
  });
});
