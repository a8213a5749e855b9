import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../shared/errors.js';
import { compilePipeline } from './compile-pipeline.js';
import { fakeGit, ProjectFactory } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

describe('configuration errors name file and line', () => {
  it.each([
    ['build:\n  stage: build\n  script: {a: 1}', '.gitlab-ci.yml:3: job "build": script must be a string or a list of strings (lists may be nested up to 10 levels)'],
    [`build:\n  script: ${'['.repeat(11)}deep${']'.repeat(11)}`, '.gitlab-ci.yml:2: job "build": script must be a string or a list of strings (lists may be nested up to 10 levels)'],
    ['build:\n  script: [a, [b, 1]]', '.gitlab-ci.yml:2: job "build": script must be a string or a list of strings (lists may be nested up to 10 levels)'],
    ['x:\n  image: alpine', '.gitlab-ci.yml:1: job "x": script is required'],
    ['x:\n  script: []', '.gitlab-ci.yml:2: job "x": script must not be empty'],
    ['deploy:\n  stage: prod\n  script: x', '.gitlab-ci.yml:2: job "deploy": stage "prod" is not declared in stages (declared: .pre, build, test, deploy, .post); add it to stages: or fix the name'],
    ['x: [a]', '.gitlab-ci.yml:1: job "x" must be a map of job keywords, not a list (hide templates with a leading dot: ".x")'],
    ['x:\n  script: s\n  when: later', '.gitlab-ci.yml:3: job "x": when must be one of on_success, on_failure, always, manual, delayed, never'],
    ['x:\n  script: s\n  allow_failure: maybe', '.gitlab-ci.yml:3: job "x": allow_failure must be true, false or {exit_codes: [codes]}'],
    ['x:\n  script: s\n  allow_failure: {exit_codes: [300]}', '.gitlab-ci.yml:3: job "x": allow_failure:exit_codes must be an exit code (0-255) or a list of exit codes'],
    ['x:\n  script: s\n  timeout: soon', '.gitlab-ci.yml:3: job "x": timeout "soon" is not a duration such as "1h 30m", "90 minutes" or "3600"'],
    ['x:\n  script: s\n  image: {entrypoint: [sh]}', '.gitlab-ci.yml:3: job "x": image needs a name'],
    ['x:\n  script: s\n  image: {name: a, pull: always}', '.gitlab-ci.yml:3: job "x": image has unknown key "pull" (allowed: name, entrypoint, pull_policy, docker, kubernetes, ports)'],
    ['x:\n  script: s\n  image: {name: a, pull_policy: sometimes}', '.gitlab-ci.yml:3: job "x": image: pull_policy "sometimes" is not one of always, if-not-present, never'],
    ['x:\n  script: s\n  image:\n    name: a\n    docker: {privileged: true}', '.gitlab-ci.yml:5: job "x": image: docker has unknown key "privileged" (allowed: user, platform)'],
    ['x:\n  script: s\n  services:\n    - name: a\n      alias: [b]', '.gitlab-ci.yml:5: job "x": services[0]: alias must be a string, not a list'],
    ['x:\n  script: s\n  retry: 5', '.gitlab-ci.yml:3: job "x": retry must be 0, 1 or 2, or a map with max, when and exit_codes'],
    ['stages: [a, 1]\nx: {script: s}', '.gitlab-ci.yml:1: stages must be a list of strings'],
    ['x:\n  script: s\n  inherit: {defaults: false}', '.gitlab-ci.yml:3: job "x": inherit has unknown key "defaults" (allowed: default, variables)'],
    // GitLab's Entry::Default refuses keys it does not allow (a warning let such a file pass locally and fail on push).
    ['default:\n  variables: {A: b}\nx: {script: s}', '.gitlab-ci.yml:2: default config contains unknown keys: variables (allowed: image, services, before_script, after_script, timeout, interruptible, retry, tags, cache, artifacts, hooks, id_tokens, identity); global variables go in the top-level variables:, not under default:'],
    ['default:\n  when: manual\nx: {script: s}', '.gitlab-ci.yml:2: default config contains unknown keys: when (allowed: image, services, before_script, after_script, timeout, interruptible, retry, tags, cache, artifacts, hooks, id_tokens, identity)'],
    // GitLab's Processable: a job's variables take value and expand; description and options are global only.
    ['x:\n  script: s\n  variables:\n    V: {value: a, description: d}', '.gitlab-ci.yml:4: job "x": variable "V": description is only allowed in the global variables (here: value, expand)'],
    ['x:\n  script: s\n  variables:\n    V: {value: a, options: [a, b]}', '.gitlab-ci.yml:4: job "x": variable "V": options is only allowed in the global variables (here: value, expand)'],
    // GitLab's Entry::Job and Processable: start_in only with when: delayed, at most 1 week, never beside rules.
    ['x:\n  script: s\n  start_in: 5 minutes', '.gitlab-ci.yml:3: job "x": start_in is only for when: delayed; remove it or add when: delayed'],
    ['x:\n  script: s\n  when: delayed\n  start_in: 5 minutes\n  rules: [{if: $CI}]', '.gitlab-ci.yml:4: job "x": start_in may not be used with rules; put it in the rule that says when: delayed'],
    ['x:\n  script: s\n  when: delayed', '.gitlab-ci.yml:3: job "x": when: delayed needs start_in, a duration such as "30 minutes" or "1 day"'],
    ['x:\n  script: s\n  when: delayed\n  start_in: later', '.gitlab-ci.yml:4: job "x": when: delayed needs start_in, a duration such as "30 minutes" or "1 day" (not "later")'],
    ['x:\n  script: s\n  when: delayed\n  start_in: 8 days', '.gitlab-ci.yml:4: job "x": start_in "8 days" is more than 1 week, the most GitLab allows'],
    // GitLab's Processable and Job check keys berth ignores locally, and the two kinds of job.
    ['x:\n  script: s\n  trigger: group/other', '.gitlab-ci.yml:3: job "x": script and trigger cannot be used together (a trigger job starts a downstream pipeline; it has no script or run)'],
    ['x:\n  run: [{name: a, script: s}]\n  trigger: group/other', '.gitlab-ci.yml:3: job "x": run and trigger cannot be used together (a trigger job starts a downstream pipeline; it has no script or run)'],
    ['x:\n  script: s\n  resource_group: [prod]', '.gitlab-ci.yml:3: job "x": resource_group must be a string, not a list'],
    ['x:\n  script: s\n  interruptible: maybe', '.gitlab-ci.yml:3: job "x": interruptible must be true or false, not a string'],
    ['x:\n  script: s\n  coverage: Coverage', `.gitlab-ci.yml:3: job "x": coverage config must be a regular expression with re2 syntax, written between slashes (e.g. '/Coverage: \\d+\\.\\d+%/'), not "Coverage"`],
    ['x:\n  script: s\n  coverage: 5', `.gitlab-ci.yml:3: job "x": coverage config must be a regular expression with re2 syntax, written between slashes (e.g. '/Coverage: \\d+\\.\\d+%/'), not a number`],
    [`${'j'.repeat(256)}:\n  script: s`, `.gitlab-ci.yml:1: job "${'j'.repeat(60)}…": the job name has 256 characters; GitLab allows at most 255`],
  ])('%j', async (yaml, message) => {
    const err = await projects.error(`${yaml}\n`);
    expect(err.message).toBe(message);
    expect(err.file).toMatch(/\.gitlab-ci\.yml$/);
    expect(err.line).toBe(Number(message.split(':')[1]));
  });

  it('a missing file says where it was looked for', async () => {
    const dir = await projects.create({ 'README.md': '' });
    const err = await compilePipeline({ cwd: dir, git: fakeGit(dir) }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe(`.gitlab-ci.yml: ${dir}/.gitlab-ci.yml does not exist; run berth exec in the project directory or name the file with --file`);
  });

  it('an empty file is an error', async () => {
    expect((await projects.error('')).message).toBe('.gitlab-ci.yml:1: .gitlab-ci.yml is empty; it needs at least one job');
  });

  it('a file over 4 MiB is rejected before parsing', async () => {
    const start = Date.now();
    const err = await projects.error(`# ${'x'.repeat(4 * 1024 * 1024)}\njob: {script: x}\n`);
    expect(err.message).toMatch(/^\.gitlab-ci\.yml: the file is \d+ bytes, more than the limit of 4194304 bytes/);
    expect(Date.now() - start).toBeLessThan(2000);
  });

  it('jobs × variables beyond 2,000,000 (global variables or a template extended by every job) is an error before any job is parsed', async () => {
    const vars = Array.from({ length: 100_000 }, (_, i) => `    V${i}: v`).join('\n');
    const jobs = Array.from({ length: 30 }, (_, i) => `j${i}: {extends: .t}`).join('\n');
    const err = await projects.error(`.t:\n  script: [x]\n  variables:\n${vars}\n${jobs}\n`);
    expect(err.message).toMatch(/^\.gitlab-ci\.yml:\d+: job "j19": the jobs up to this one have more than 2000000 variables in all \(0 global, 100000 in this job\); it looks like a variable bomb$/);
  }, 60_000);

  it('a pipeline file or include that is not a regular file is an input error, never read (/dev/zero, a FIFO, a directory)', async () => {
    const dir = await projects.create({ '.gitlab-ci.yml': 'include: [{local: pipe.yml}]\njob: {script: x}\n', 'sub/x.yml': '' });
    const errorOf = (file?: string): Promise<unknown> => compilePipeline({ cwd: dir, file, git: fakeGit(dir) }).then(() => null, (e: unknown) => e);
    const zero = await errorOf('/dev/zero');
    expect(zero).toBeInstanceOf(InputError);
    expect((zero as InputError).message).toBe('/dev/zero is a device, not a regular file; a pipeline file or include must be a YAML file');
    execFileSync('mkfifo', [join(dir, 'pipe.yml')]);
    const fifo = await errorOf();
    expect(fifo).toBeInstanceOf(InputError);
    expect((fifo as InputError).message).toBe('.gitlab-ci.yml:1: include:local "pipe.yml" is not a regular file (a directory, device or pipe is never read); include a YAML file');
    expect(((await errorOf(join(dir, 'sub'))) as InputError).message).toMatch(/^sub \(.*\/sub\) is a directory, not a regular file/);
  }, 5_000);
});

describe('stages and needs', () => {
  it('puts .pre first and .post last, defaults to build, test, deploy', async () => {
    expect((await projects.compile('x: {script: s}\n')).stages).toEqual(['.pre', 'build', 'test', 'deploy', '.post']);
    const p = await projects.compile('stages: [.post, one, two, one]\nfirst: {stage: .pre, script: s}\nx: {stage: two, script: s}\n');
    expect(p.stages).toEqual(['.pre', 'one', 'two', '.post']);
  });

  it('keeps needs: null, [] and the list forms', async () => {
    const p = await projects.compile(`
build: {stage: build, script: s}
lint: {stage: test, script: s, needs: []}
test: {stage: test, script: s, needs: [build, {job: lint}, {job: maybe, optional: true}]}
deploy: {stage: deploy, script: s}
`);
    expect(p.jobs.map((j) => [j.name, j.needs])).toEqual([
      ['build', null],
      ['lint', []],
      ['test', [{ job: 'build', optional: false }, { job: 'lint', optional: false }]],
      ['deploy', null],
    ]);
  });

  it.each([
    ['a: {stage: test, script: s, needs: [nope]}', '.gitlab-ci.yml:1: job "a": needs "nope", which is not a job of this configuration'],
    ['build: {stage: build, script: s}\na:\n  script: s\n  needs: [Build]', '.gitlab-ci.yml:4: job "a": needs "Build", which is not a job of this configuration (did you mean "build"?)'],
    ['a:\n  stage: build\n  script: s\n  needs:\n    - deploy\ndeploy: {stage: deploy, script: s}', '.gitlab-ci.yml:5: job "a": needs "deploy", which is in a later stage ("deploy" comes after "build")'],
    ['a:\n  script: s\n  needs: [b, b]\nb: {script: s}', '.gitlab-ci.yml:3: job "a": needs "b" more than once'],
    ['a: {script: s, needs: [b]}\nb: {script: s, needs: [a]}', '.gitlab-ci.yml:1: needs form a cycle: a → b → a'],
  ])('rejects %j', async (yaml, message) => {
    expect((await projects.error(`${yaml}\n`)).message).toBe(message);
  });

  it('rejects a need on a job rules left out, unless optional', async () => {
    const yaml = (optional: boolean) => `
build:
  stage: build
  script: s
  rules: [{if: $CI_COMMIT_TAG}]
test:
  script: s
  needs: [{job: build, optional: ${optional}}]
`;
    expect((await projects.error(yaml(false))).message).toBe(
      '.gitlab-ci.yml:8: job "test": needs "build", but "build" is not in this pipeline (its rules, only or except left it out); use needs: [{job: "build", optional: true}] if it does not always run',
    );
    const p = await projects.compile(yaml(true));
    expect(p.jobs.map((j) => [j.name, j.needs])).toEqual([['test', []]]);
  });

  it('refuses more than 50 needs, counting parallel instances and optional needs as GitLab does', async () => {
    const jobs = Array.from({ length: 49 }, (_, i) => `j${i}: {stage: build, script: s}`).join('\n');
    const need = (extra: string) => `${jobs}\np: {stage: build, script: s, parallel: 2}\ntest:\n  script: s\n  needs: [${Array.from({ length: 49 }, (_, i) => `j${i}`).join(', ')}${extra}]\n`;
    // 49 + the two instances of p: 51.
    expect((await projects.error(need(', p'))).message).toBe(
      '.gitlab-ci.yml:53: job "test": one job can only need 50 others, but it lists 51 (GitLab\'s default limit); need fewer jobs, e.g. by leaving out the ones its other needs already wait for',
    );
    expect((await projects.error(need(', p 1/2, {job: gone, optional: true}, {job: gone2, optional: true}'))).message).toMatch(/lists 52 \(/);
    // 50 is allowed.
    expect((await projects.compile(need(', p 1/2'))).jobs.find((j) => j.name === 'test')!.needs).toHaveLength(50);
  });

  it('drops needs on jobs berth exec skips, with a warning', async () => {
    const p = await projects.compile('child: {stage: build, trigger: {include: c.yml}}\ntest: {script: s, needs: [child]}\n');
    expect(p.jobs[0]!.needs).toEqual([]);
    expect(p.warnings).toContain('job "test": needs "child", which berth exec skips; the need is ignored');
  });

  it('ignores cross-pipeline needs with a warning', async () => {
    const p = await projects.compile('test:\n  script: s\n  needs:\n    - pipeline: $PARENT_PIPELINE_ID\n      job: gen\n');
    expect(p.jobs[0]!.needs).toEqual([]);
    expect(p.warnings[0]).toMatch(/^\.gitlab-ci\.yml:4: job "test": needs on another pipeline or project cannot be met/);
  });
});
