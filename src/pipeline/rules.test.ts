import { afterAll, describe, expect, it } from 'vitest';
import { jobNames, ProjectFactory, variableMap } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

describe('rules', () => {
  it('takes the first matching rule; no match leaves the job out', async () => {
    const p = await projects.compile(`
a:
  script: x
  rules:
    - if: $CI_COMMIT_BRANCH == "dev"
      when: never
    - if: $CI_COMMIT_BRANCH == "main"
      when: manual
b:
  script: x
  rules:
    - if: $CI_COMMIT_TAG
c:
  script: x
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      when: never
    - when: always
`);
    expect(p.jobs.map((j) => [j.name, j.when, j.allowFailure])).toEqual([['a', 'manual', false]]);
    expect(p.skipped).toMatchObject([
      { name: 'b', reason: 'rules: no rule matched' },
      { name: 'c', reason: 'rules: a rule with when: never matched (.gitlab-ci.yml:16)' },
    ]);
  });

  it('uses the job when and allow_failure unless the rule sets them', async () => {
    const p = await projects.compile(`
manual-job:
  script: x
  when: manual
  rules: [{if: $CI}]
rule-af:
  script: x
  rules: [{when: on_failure, allow_failure: true}]
codes:
  script: x
  rules: [{allow_failure: {exit_codes: [3, 4]}}]
`);
    expect(p.jobs.map((j) => [j.name, j.when, j.allowFailure, j.allowFailureExitCodes])).toEqual([
      ['manual-job', 'manual', true, []],
      ['rule-af', 'on_failure', true, []],
      ['codes', 'on_success', false, [3, 4]],
    ]);
  });

  it('adds rules:variables and replaces needs with rules:needs', async () => {
    const p = await projects.compile(`
build: {stage: build, script: x}
lint: {stage: build, script: x}
test:
  script: x
  variables: {A: job, B: job}
  needs: [build]
  rules:
    - if: $A == "job"
      variables: {B: rule}
      needs: [lint]
`);
    expect(variableMap(p, 'test')).toMatchObject({ A: 'job', B: 'rule' });
    expect(p.jobs.find((j) => j.name === 'test')!.needs).toEqual([{ job: 'lint', optional: false }]);
  });

  it('evaluates exists against the project files; outside a git repository changes count as true, with a warning', async () => {
    const p = await projects.compile(`
docker: {script: x, rules: [{exists: [Dockerfile]}]}
node: {script: x, rules: [{exists: ["**/package.json"]}]}
py: {script: x, rules: [{exists: {paths: ["*.py"]}}]}
dir: {script: x, rules: [{exists: [src]}]}
changed: {script: x, rules: [{changes: [src/**/*]}]}
`, { files: { Dockerfile: 'FROM x', 'web/package.json': '{}', 'src/main.c': '' } });
    expect(jobNames(p)).toEqual(['docker', 'node', 'dir', 'changed']);
    expect(p.warnings).toContain('rules:changes and only/except:changes count as true: not a git repository (jobs: changed)');
  });

  it('sees predefined, global, job and --variable values, expanded', async () => {
    const p = await projects.compile(`
variables: {TARGET: "$CI_COMMIT_REF_NAME-env"}
job:
  script: x
  variables: {LEVEL: job}
  rules:
    - if: $TARGET == "main-env" && $LEVEL == "job" && $EXTRA == "cli" && $CI_JOB_NAME == "job"
`, { variables: { EXTRA: 'cli' } });
    expect(jobNames(p)).toEqual(['job']);
  });

  it('reports an unparseable expression with file, line and the expression', async () => {
    const err = await projects.error('job:\n  script: x\n  rules:\n    - if: $A == \n');
    expect(err.message).toBe('.gitlab-ci.yml:4: job "job": rules[0]: if: invalid expression "$A ==": the expression ends where a value was expected');
    expect(err.line).toBe(4);
  });

  it('stops a pattern that backtracks for ever (GitLab runs RE2; berth a time-limited JavaScript RegExp) with an error naming the line', async () => {
    const yaml = `variables: {V: ${'a'.repeat(40)}!}\njob:\n  script: x\n  rules:\n    - if: $V =~ /^(a+)+$/\n`;
    const started = Date.now();
    const err = await projects.error(yaml);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err.message).toMatch(/^\.gitlab-ci\.yml:5: "\$V =~ \/\^\(a\+\)\+\$\/": the regular expression \/\^\(a\+\)\+\$\/ took longer than 1 s/);
    // only:refs patterns are run the same way.
    const refs = await projects.error('job:\n  script: x\n  only: ["/^(a+)+$/"]\n', { git: { ref: `${'a'.repeat(40)}!` } });
    expect(refs.message).toMatch(/^\.gitlab-ci\.yml:3: job "job": only: the regular expression \/\^\(a\+\)\+\$\/ took longer than 1 s on a text of 41 characters/);
  });

  it('checks expressions of rules that are never reached', async () => {
    const err = await projects.error('job:\n  script: x\n  rules:\n    - when: always\n    - if: $A = "x"\n');
    expect(err.message).toMatch(/^\.gitlab-ci\.yml:5: job "job": rules\[1\]: if: invalid expression/);
  });

  it('rejects unknown rule keys and rules together with only', async () => {
    expect((await projects.error('job:\n  script: x\n  rules:\n    - iff: $A\n')).message).toMatch(/^\.gitlab-ci\.yml:4: job "job": rules\[0\] has unknown key "iff"/);
    expect((await projects.error('job:\n  script: x\n  only: [main]\n  rules:\n    - when: always\n')).message)
      .toBe('.gitlab-ci.yml:4: job "job": rules cannot be used together with only/except; keep one of them');
  });
});

describe('only / except', () => {
  const yaml = `
default-job: {script: x}
only-main: {script: x, only: [main]}
only-dev: {script: x, only: [dev]}
only-regex: {script: x, only: [/^ma/]}
only-regex-i: {script: x, only: [/^MA/i]}
only-tags: {script: x, only: [tags]}
only-branches: {script: x, only: [branches]}
only-pushes: {script: x, only: [pushes]}
only-web: {script: x, only: [web]}
only-mr: {script: x, only: [merge_requests]}
only-project: {script: x, only: ["main@group/sub/project"]}
only-other-project: {script: x, only: ["main@other/project"]}
except-main: {script: x, except: [main]}
except-tags: {script: x, except: [tags]}
only-vars: {script: x, only: {variables: [$DEPLOY == "yes", $CI_COMMIT_TAG]}}
only-refs-and-vars: {script: x, only: {refs: [main], variables: [$DEPLOY]}}
except-vars: {script: x, except: {variables: [$DEPLOY]}}
only-changes: {script: x, only: {changes: [a/**]}}
`;

  it('match the local branch and a push pipeline', async () => {
    const p = await projects.compile(yaml);
    expect(jobNames(p)).toEqual([
      'default-job', 'only-main', 'only-regex', 'only-regex-i', 'only-branches', 'only-pushes', 'only-project',
      'except-tags', 'except-vars', 'only-changes',
    ]);
    const reason = (name: string) => p.skipped.find((s) => s.name === name)?.reason;
    expect(reason('only-dev')).toBe('only:refs does not match ref "main" (pipeline source push)');
    expect(reason('except-main')).toBe('except:refs matches ref "main" (pipeline source push)');
    expect(reason('only-vars')).toBe('only:variables: no expression holds');
    expect(reason('only-refs-and-vars')).toBe('only:variables: no expression holds');
  });

  it('say which clause left a job out: only:variables, except:variables, except:changes', async () => {
    const p = await projects.compile(`
only-vars: {script: x, only: {refs: [main], variables: [$DEPLOY]}}
except-vars: {script: x, except: {variables: [$DEPLOY]}}
except-changes: {script: x, except: {changes: [docs/**]}}
only-tags: {script: x, only: {refs: [tags], variables: [$DEPLOY]}}
`, { variables: { DEPLOY: 'yes' } });
    expect(p.skipped).toMatchObject([
      { name: 'except-vars', reason: 'except:variables: an expression holds' },
      { name: 'except-changes', reason: 'except:changes: counts as changed (not a git repository)' },
      { name: 'only-tags', reason: 'only:refs does not match ref "main" (pipeline source push)' },
    ]);
  });

  it('match a tag pipeline and variables', async () => {
    const p = await projects.compile(yaml, { git: { ref: 'v1.0', refType: 'tag' }, variables: { DEPLOY: 'yes' } });
    expect(jobNames(p)).toEqual(['default-job', 'only-tags', 'only-pushes', 'except-main', 'only-vars', 'only-changes']);
  });

  it('follow --variable overrides of the ref and the source', async () => {
    const p = await projects.compile(yaml, { variables: { CI_COMMIT_REF_NAME: 'dev', CI_PIPELINE_SOURCE: 'merge_request_event' } });
    expect(jobNames(p)).toContain('only-dev');
    expect(jobNames(p)).toContain('only-mr');
    expect(jobNames(p)).not.toContain('only-pushes');
  });
});

describe('workflow:rules', () => {
  it('gives an empty pipeline with a warning when no rule matches', async () => {
    const p = await projects.compile('workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\njob: {script: x}\n');
    expect(p.jobs).toEqual([]);
    expect(p.warnings).toEqual(['.gitlab-ci.yml:1: workflow:rules: no rule matched, so GitLab would not create this pipeline']);
    expect(p.skipped).toMatchObject([{ name: 'job', reason: 'workflow:rules' }]);
  });

  it('gives an empty pipeline when the matching rule says never', async () => {
    const p = await projects.compile('workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH == "main"\n      when: never\n    - when: always\njob: {script: x}\n');
    expect(p.jobs).toEqual([]);
    expect(p.warnings[0]).toMatch(/^\.gitlab-ci\.yml:3: workflow:rules: the matching rule says when: never/);
  });

  it('adds the variables of the matching rule over the global ones', async () => {
    const p = await projects.compile(`
variables: {ENV: global, KEEP: g}
workflow:
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      variables: {ENV: production}
job:
  script: x
  rules: [{if: $ENV == "production"}]
`);
    expect(variableMap(p, 'job')).toMatchObject({ ENV: 'production', KEEP: 'g' });
  });

  it('names the pipeline: CI_PIPELINE_NAME is workflow:name expanded with global and workflow:rules variables, and rules see it', async () => {
    const p = await projects.compile(`
variables: {KIND: nightly}
workflow:
  name: 'Build $KIND on $CI_COMMIT_REF_NAME for $TARGET'
  rules:
    - variables: {TARGET: prod}
named:
  script: x
  rules: [{if: $CI_PIPELINE_NAME =~ /^Build nightly/}]
template:
  script: x
  rules: [{if: $CI_TEMPLATE_REGISTRY_HOST == "registry.gitlab.com"}]
`);
    expect(p.jobs.map((j) => j.name)).toEqual(['named', 'template']);
    expect(variableMap(p, 'named').CI_PIPELINE_NAME).toBe('Build nightly on main for prod');
    expect(variableMap(await projects.compile('job: {script: x}\n'), 'job').CI_PIPELINE_NAME).toBeUndefined();
    expect((await projects.error('workflow:\n  name: [a]\njob: {script: x}\n')).message).toBe('.gitlab-ci.yml:2: workflow:name must be a string, not a list');
    expect((await projects.error(`workflow:\n  name: ${'n'.repeat(256)}\njob: {script: x}\n`)).message).toBe('.gitlab-ci.yml:2: workflow:name is too long (maximum is 255 characters, it has 256)');
  });
});

describe('a pipeline of .pre and .post jobs only', () => {
  it('is not created, as GitLab does not create it', async () => {
    const p = await projects.compile('first: {stage: .pre, script: x}\nlast: {stage: .post, script: x}\n');
    expect(p.jobs).toEqual([]);
    expect(p.warnings).toEqual([expect.stringMatching(/^every job left in this pipeline is in the \.pre or \.post stage, so GitLab would not create it \("Pipeline will not run for the selected trigger\./)]);
    expect(p.skipped).toMatchObject([
      { name: 'first', stage: '.pre', reason: 'only .pre/.post jobs are left, and GitLab does not create such a pipeline' },
      { name: 'last', stage: '.post' },
    ]);
  });

  it('counts the jobs rules keep: a job of another stage left out by its rules does not count', async () => {
    const p = await projects.compile('first: {stage: .pre, script: x}\nbuild: {stage: build, script: x, rules: [{if: $CI_COMMIT_TAG}]}\n');
    expect(p.jobs).toEqual([]);
    expect(p.skipped.map((s) => s.name)).toEqual(['build', 'first']);
  });

  it('runs when a job of another stage is kept, even a manual one', async () => {
    const p = await projects.compile('first: {stage: .pre, script: x}\ndeploy: {stage: deploy, script: x, when: manual}\n');
    expect(jobNames(p)).toEqual(['first', 'deploy']);
    expect(p.warnings).toEqual([]);
  });

  it('runs when a job berth cannot plan (a trigger) sits in another stage, as GitLab may keep it', async () => {
    const p = await projects.compile('first: {stage: .pre, script: x}\nchild: {stage: test, trigger: {include: child.yml}}\n');
    expect(jobNames(p)).toEqual(['first']);
  });
});
