import { afterAll, describe, expect, it } from 'vitest';
import { jobNames, ProjectFactory, variableMap } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

describe('include:local', () => {
  it('accepts a string, a list and {local}, and merges the including file on top', async () => {
    const p = await projects.compile(
      'include:\n  - ci/a.yml\n  - local: /ci/b.yml\nvariables: {X: main}\nmain: {script: m}\nbuild: {script: from-main}\n',
      {
        files: {
          'ci/a.yml': 'variables: {X: a, A: a}\nbuild: {stage: build, script: from-a, image: alpine}\n',
          'ci/b.yml': 'variables: {X: b, B: b}\ntest: {script: t}\n',
        },
      },
    );
    expect(jobNames(p)).toEqual(['build', 'test', 'main']);
    expect(variableMap(p, 'main')).toMatchObject({ X: 'main', A: 'a', B: 'b' });
    const build = p.jobs[0]!;
    expect(build.stage).toBe('build');
    expect(build.spec.image).toEqual({ name: 'alpine' });
    expect(build.spec.steps[0]!.script).toEqual(['from-main']);
  });

  it('takes a plain string include', async () => {
    const p = await projects.compile('include: ci.yml\n', { files: { 'ci.yml': 'job: {script: x}\n' } });
    expect(jobNames(p)).toEqual(['job']);
  });

  it('expands wildcards: * within a folder, ** across folders, in sorted order', async () => {
    const files = {
      'configs/b.yml': 'b: {script: x}\n',
      'configs/a.yml': 'a: {script: x}\n',
      'configs/deep/c.yml': 'c: {script: x}\n',
      'configs/d.yaml': 'd: {script: x}\n',
    };
    const one = await projects.compile('include: configs/*.yml\n', { files });
    expect(jobNames(one)).toEqual(['a', 'b']);
    const all = await projects.compile('include: configs/**.yml\n', { files });
    expect(jobNames(all)).toEqual(['a', 'b', 'c']);
  });

  it('warns when a wildcard matches nothing', async () => {
    const p = await projects.compile('include: none/*.yml\njob: {script: x}\n');
    expect(p.warnings).toContain('.gitlab-ci.yml:1: include:local "none/*.yml" matched no file');
  });

  it('resolves nested includes relative to the project root, and extends across files', async () => {
    const p = await projects.compile('include: ci/one.yml\njob: {extends: .tmpl, script: x}\n', {
      files: { 'ci/one.yml': 'include: ci/two.yml\n', 'ci/two.yml': '.tmpl: {image: ruby}\n' },
    });
    expect(p.jobs[0]!.spec.image).toEqual({ name: 'ruby' });
  });

  it('expands variables in paths and applies include rules', async () => {
    const p = await projects.compile(
      'include:\n  - local: ci/$CI_COMMIT_REF_NAME.yml\n  - local: ci/never.yml\n    rules:\n      - if: $CI_COMMIT_BRANCH == "other"\n',
      { files: { 'ci/main.yml': 'job: {script: x}\n', 'ci/never.yml': 'never: {script: x}\n' } },
    );
    expect(jobNames(p)).toEqual(['job']);
  });

  it('reports a cycle with the chain of files', async () => {
    const err = await projects.error('include: a.yml\njob: {script: x}\n', { files: { 'a.yml': 'include: b.yml\n', 'b.yml': '\ninclude: a.yml\n' } });
    expect(err.message).toBe('b.yml:2: include cycle: a.yml → b.yml → a.yml');
  });

  it('reports missing files, non-YAML names and paths leaving the project', async () => {
    expect((await projects.error('job: {script: x}\ninclude: missing.yml\n')).message).toMatch(/^\.gitlab-ci\.yml:2: include:local "missing\.yml" does not exist \(local includes are relative to the project root /);
    expect((await projects.error('include: notes.txt\n')).message).toBe('.gitlab-ci.yml:1: include:local "notes.txt" is not a YAML file (the name must end in .yml or .yaml)');
    expect((await projects.error('include: ../x.yml\n')).message).toMatch(/leaves the project directory/);
  });

  it('skips include:template with a warning and goes on (berth does not ship GitLab\'s templates)', async () => {
    const p = await projects.compile('job: {script: x}\ninclude:\n  - template: Auto-DevOps.gitlab-ci.yml\n');
    expect(jobNames(p)).toEqual(['job']);
    expect(p.warnings).toEqual([
      `.gitlab-ci.yml:3: include:template "Auto-DevOps.gitlab-ci.yml" is skipped (berth does not ship GitLab's templates), so the jobs and templates it defines are missing`,
    ]);
  });

  it('does not count a skipped include whose rules do not match', async () => {
    const p = await projects.compile('job: {script: x, extends: .missing}\ninclude:\n  - template: A.yml\n    rules: [{if: $NOPE}]\n').catch((e: Error) => e);
    expect((p as Error).message).toBe('.gitlab-ci.yml:1: job "job": extends ".missing", which is not defined');
  });

  it('forgives what a skipped include may define: extends, !reference, script-less overrides, needs', async () => {
    const p = await projects.compile(`
include:
  - template: Jobs/SAST.gitlab-ci.yml
build:
  extends: .from-template
  before_script:
    - !reference [.from-template, before_script]
    - echo own
  script: [make]
sast:
  stage: test
test:
  needs: [build, semgrep-sast]
  script: [echo test]
`);
    expect(jobNames(p)).toEqual(['build', 'test']);
    expect(p.jobs[0]!.spec.steps[0]!.script).toEqual(['echo own', 'make']);
    expect(p.jobs[1]!.needs).toEqual([{ job: 'build', optional: false }]);
    expect(p.skipped).toMatchObject([{ name: 'sast', reason: 'it has no script here (it may be defined in include:template "Jobs/SAST.gitlab-ci.yml", which berth exec cannot read); the job is skipped' }]);
    expect(p.warnings).toEqual(expect.arrayContaining([
      '.gitlab-ci.yml:5: job "build": extends ".from-template", which is not defined here (it may be defined in include:template "Jobs/SAST.gitlab-ci.yml", which berth exec cannot read); extending without it',
      '.gitlab-ci.yml:7: !reference [".from-template", "before_script"] could not be found (it may be defined in include:template "Jobs/SAST.gitlab-ci.yml", which berth exec cannot read); it is left empty',
      '.gitlab-ci.yml:13: job "test": needs "semgrep-sast", which is not defined here (it may be defined in include:template "Jobs/SAST.gitlab-ci.yml", which berth exec cannot read); the need is ignored',
    ]));
  });

  it('interpolates spec:inputs: defaults, include:inputs, whole-value lists, job names', async () => {
    const p = await projects.compile(`
spec:
  inputs:
    flag: {default: true, type: boolean}
---
stages: [build, test]
include:
  - local: ci/job.yml
    inputs:
      name: unit
      needs: [build]
    rules:
      - if: '"$[[ inputs.flag ]]" == "true"'
build: {stage: build, script: [make]}
`, { files: { 'ci/job.yml': 'spec:\n  inputs:\n    name: {}\n    stage: {default: test}\n    needs: {type: array, default: []}\n---\n$[[ inputs.name ]]-tests:\n  stage: $[[ inputs.stage ]]\n  needs: $[[ inputs.needs ]]\n  script:\n    - echo $[[ inputs.name ]]\n' } });
    expect(p.jobs.map((j) => [j.name, j.stage, j.needs])).toEqual([['unit-tests', 'test', [{ job: 'build', optional: false }]], ['build', 'build', null]]);
    expect(p.jobs[0]!.spec.steps[0]!.script).toEqual(['echo unit']);
  });

  it('a node that is one block takes the input\'s type: booleans and numbers too (GitLab 16.10+)', async () => {
    // GitLab's own case (merge request 144065): allow_failure and parallel from typed inputs.
    const included = 'spec:\n  inputs:\n    allow_failure: {type: boolean}\n    parallel: {type: number}\n---\ntest:\n  allow_failure: $[[ inputs.allow_failure ]]\n  parallel: $[[ inputs.parallel ]]\n  script: \'echo "Parallel: $[[ inputs.parallel ]] Allow failure: $[[ inputs.allow_failure ]]"\'\n';
    const p = await projects.compile('include:\n  - local: included.yml\n    inputs: {allow_failure: true, parallel: 2}\n', { files: { 'included.yml': included } });
    expect(p.jobs.map((j) => j.name)).toEqual(['test 1/2', 'test 2/2']);
    expect(p.jobs[0]!.allowFailure).toBe(true);
    expect(p.jobs[0]!.spec.steps[0]!.script).toEqual(['echo "Parallel: 2 Allow failure: true"']);
    // A boolean input of the main file passed on to an include keeps its type (omnibus-gitlab's pipeline).
    const main = 'spec:\n  inputs:\n    skip: {type: boolean, default: false}\n---\ninclude:\n  - local: inner.yml\n    inputs:\n      skip: $[[ inputs.skip ]]\n';
    const inner = 'spec:\n  inputs:\n    skip: {type: boolean, default: true}\n---\njob:\n  script: echo skip=$[[ inputs.skip ]]\n';
    const q = await projects.compile(main, { files: { 'inner.yml': inner } });
    expect(q.jobs[0]!.spec.steps[0]!.script).toEqual(['echo skip=false']);
  });

  it('applies expand_vars, truncate and posix_escape, chained left to right, with GitLab\'s errors', async () => {
    const tpl = (script: string, input = '{default: "abcdefghijklmnop"}') => ({ 'tpl.yml': `spec:\n  inputs:\n    v: ${input}\n---\njob:\n  script:\n    - ${script}\n` });
    const script = async (block: string, input?: string) =>
      (await projects.compile('include: tpl.yml\n', { files: tpl(JSON.stringify(`echo ${block}`), input), variables: { MY_VAR: '123456789' } })).jobs[0]!.spec.steps[0]!.script[0];
    expect(await script('$[[ inputs.v | truncate(0,5) ]]')).toBe('echo abcde');
    expect(await script('$[[ inputs.v | truncate(3, 2) ]] $[[ inputs.v | truncate(20,5) ]].')).toBe('echo de .');
    expect(await script('$[[ inputs.v | expand_vars ]]', '{default: "T-${MY_VAR}-$MY_VAR-%MY_VAR%-$NOPE"}')).toBe('echo T-123456789-123456789-123456789-$NOPE');
    expect(await script('$[[ inputs.v | expand_vars | truncate(0,5) ]]', '{default: "T-$MY_VAR"}')).toBe('echo T-123');
    expect(await script('$[[ inputs.v | posix_escape ]]', '{default: "it\'s a $x; rm -rf"}')).toBe("echo it\\'s\\ a\\ \\$x\\;\\ rm\\ -rf");
    expect(await script('$[[ inputs.v | posix_escape ]]', '{default: ""}')).toBe("echo ''");
    const error = async (block: string, input?: string) =>
      (await projects.error('include: tpl.yml\n', { files: tpl(JSON.stringify(`echo ${block}`), input) })).message;
    expect(await error('$[[ inputs.v | truncate(0,1) | truncate(0,1) | truncate(0,1) | truncate(0,1) ]]')).toMatch(/too many functions in interpolation block$/);
    expect(await error('$[[ inputs.v | upcase ]]')).toMatch(/no function matching `upcase`: check that the function name, arguments, and types are correct$/);
    expect(await error('$[[ inputs.v | truncate(2) ]]')).toMatch(/no function matching `truncate\(2\)`/);
    expect(await error('$[[ inputs.v | truncate(0,1) ]]', '{type: number, default: 12345}')).toMatch(/error in `truncate` function: invalid input type: truncate can only be used with string inputs$/);
  });

  it('refuses a missing required input and an undeclared one, naming the include', async () => {
    const files = { 'ci/job.yml': 'spec:\n  inputs:\n    name: {}\n---\njob:\n  script:\n    - echo $[[ inputs.name ]]\n' };
    expect((await projects.error('include:\n  - local: ci/job.yml\n', { files })).message).toBe(
      '.gitlab-ci.yml:2: input "name" is required (spec:inputs gives it no default); pass it with include:inputs',
    );
    expect((await projects.error('include:\n  - local: ci/job.yml\n    inputs: {name: a, other: b}\n', { files })).message).toBe(
      '.gitlab-ci.yml:2: input "other" is not declared in the spec:inputs of the included file',
    );
  });

  it('checks each value, given or default, against the input\'s type, options and regex, as GitLab does', async () => {
    const spec = 'spec:\n  inputs:\n    n: {type: number, default: 1}\n    env: {options: [dev, staging], default: dev}\n    tag: {regex: ^v\\d+$, default: v1}\n    flag: {type: boolean, default: true}\n---\njob:\n  script: echo $[[ inputs.n ]] $[[ inputs.env ]] $[[ inputs.tag ]] $[[ inputs.flag ]]\n';
    const files = { 'ci/job.yml': spec };
    const ok = await projects.compile('include:\n  - local: ci/job.yml\n    inputs: {n: 3, env: staging, tag: v2, flag: false}\n', { files });
    expect(ok.jobs[0]!.spec.steps[0]!.script).toEqual(['echo 3 staging v2 false']);
    const refused = async (inputs: string) => (await projects.error(`include:\n  - local: ci/job.yml\n    inputs: ${inputs}\n`, { files })).message;
    expect(await refused('{n: "3"}')).toBe('.gitlab-ci.yml:2: input "n": the value given is a string, not a number');
    expect(await refused('{env: prod}')).toBe('.gitlab-ci.yml:2: input "env": the value given "prod" is not one of its options ("dev", "staging")');
    expect(await refused('{tag: latest}')).toBe('.gitlab-ci.yml:2: input "tag": the value given "latest" does not match its regex ^v\\d+$');
    expect(await refused('{flag: "yes please"}')).toBe('.gitlab-ci.yml:2: input "flag": the value given is a string, not a boolean');
    const badDefault = await projects.error('include: ci/job.yml\n', { files: { 'ci/job.yml': 'spec:\n  inputs:\n    n: {type: number, default: abc}\n---\njob: {script: x}\n' } });
    expect(badDefault.message).toBe('ci/job.yml:3: input "n": the default value is a string, not a number');
  });

  it('an input written with no spec is a string input; a regex that backtracks for ever is stopped with an error, not a hang', async () => {
    const plain = { 'ci/job.yml': 'spec:\n  inputs:\n    website:\n---\njob:\n  script: echo $[[ inputs.website ]]\n' };
    expect((await projects.error('include:\n  - local: ci/job.yml\n    inputs: {website: 5}\n', { files: plain })).message).toBe(
      '.gitlab-ci.yml:2: input "website": the value given is a number, not a string',
    );
    const runaway = { 'ci/job.yml': `spec:\n  inputs:\n    v: {regex: "^(a+)+$", default: ${'a'.repeat(40)}b}\n---\njob:\n  script: echo $[[ inputs.v ]]\n` };
    const started = Date.now();
    const err = await projects.error('include: ci/job.yml\n', { files: runaway });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err.message).toMatch(/^ci\/job\.yml:3: input "v": regex: the regular expression \/\^\(a\+\)\+\$\/ took longer than 1 s on a text of 41 characters and was stopped/);
  });

  it('names the included file in errors found there', async () => {
    const err = await projects.error('include: ci/jobs.yml\n', { files: { 'ci/jobs.yml': 'job:\n  stage: build\n  script: {a: 1}\n' } });
    expect(err.message).toBe('ci/jobs.yml:3: job "job": script must be a string or a list of strings (lists may be nested up to 10 levels)');
  });
});
