import { describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors.js';
import { resolveExtends } from './extends-resolver.js';
import { resolveReferences } from './reference-resolver.js';
import { SourcePositions } from './source-positions.js';
import { parseYamlText } from './yaml-loader.js';
import type { YamlMap } from './yaml-value.js';

function resolveText(text: string, references = false): Record<string, unknown> {
  const positions = new SourcePositions();
  const config = parseYamlText(text, '/p/.gitlab-ci.yml', '.gitlab-ci.yml', positions).value as YamlMap;
  const extended = resolveExtends(config, positions);
  return JSON.parse(JSON.stringify(references ? resolveReferences(extended, positions) : extended)) as Record<string, unknown>;
}

function errorOf(text: string, references = false): string {
  try {
    resolveText(text, references);
  } catch (err) {
    if (err instanceof InputError) return err.message;
    throw err;
  }
  throw new Error('resolved without error');
}

describe('extends', () => {
  it('merges hashes deeply and lets the job win (GitLab docs: merge details)', () => {
    const out = resolveText(`
.only-important:
  variables:
    URL: "http://my-url.internal"
    IMPORTANT_VAR: "the details"
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
    - if: $CI_COMMIT_BRANCH =~ /^stable-branch/
  script:
    - echo "Hello world!"
.in-docker:
  variables:
    URL: "http://docker-url.internal"
  tags:
    - docker
  image: alpine
rspec:
  variables:
    GITLAB: "is-awesome"
  extends:
    - .only-important
    - .in-docker
  script:
    - rake rspec
`);
    expect(out.rspec).toEqual({
      variables: { URL: 'http://docker-url.internal', IMPORTANT_VAR: 'the details', GITLAB: 'is-awesome' },
      rules: [{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }, { if: '$CI_COMMIT_BRANCH =~ /^stable-branch/' }],
      script: ['rake rspec'],
      tags: ['docker'],
      image: 'alpine',
      extends: ['.only-important', '.in-docker'],
    });
  });

  it('merges nested hashes such as only (GitLab docs: extends example)', () => {
    const out = resolveText(`
.tests:
  script: rake test
  stage: test
  only:
    refs:
      - branches
rspec:
  extends: .tests
  script: rake rspec
  only:
    variables:
      - $RSPEC
`);
    expect(out.rspec).toEqual({ script: 'rake rspec', stage: 'test', only: { refs: ['branches'], variables: ['$RSPEC'] }, extends: '.tests' });
  });

  it('replaces lists instead of merging them, and null removes a key', () => {
    const out = resolveText(`
.base:
  script: [a, b]
  variables: {VAR1: base}
test3:
  extends: .base
  variables: {}
test4:
  extends: .base
  variables: null
  script: [c]
`);
    expect(out.test3).toMatchObject({ script: ['a', 'b'], variables: { VAR1: 'base' } });
    expect(out.test4).toMatchObject({ script: ['c'], variables: null });
  });

  it('resolves several levels', () => {
    const out = resolveText('.a: {image: a, variables: {A: "1"}}\n.b: {extends: .a, variables: {B: "2"}}\njob: {extends: .b, script: x}\n');
    expect(out.job).toMatchObject({ image: 'a', variables: { A: '1', B: '2' }, script: 'x' });
  });

  it('reports an unknown base, a cycle and more than 10 levels', () => {
    expect(errorOf('job:\n  extends: .missing\n  script: x\n')).toBe('.gitlab-ci.yml:2: job "job": extends ".missing", which is not defined');
    expect(errorOf('tmpl: {image: x}\njob:\n  extends: .tmpl\n')).toBe('.gitlab-ci.yml:3: job "job": extends ".tmpl", which is not defined (did you mean "tmpl"?)');
    expect(errorOf('.a: {extends: .b}\n.b: {extends: .a}\njob: {extends: .a, script: x}\n')).toBe('.gitlab-ci.yml:1: template ".a": circular extends (.a → .b → .a)');
    const chain = Array.from({ length: 12 }, (_, i) => `.t${i}: {extends: .t${i + 1}}`).join('\n');
    expect(errorOf(`${chain}\n.t12: {image: x}\n`)).toMatch(/extends is nested more than 10 levels deep/);
    expect(errorOf('.a: [x]\njob: {extends: .a}\n')).toMatch(/extends "\.a", which is not a map of keywords/);
    expect(errorOf('job: {extends: [1]}\n')).toMatch(/extends must be a job or template name/);
  });
});

describe('!reference', () => {
  it('is resolved after extends, nested references included', () => {
    const out = resolveText(`
.setup:
  script:
    - echo setup
.base:
  before_script: [echo base]
.teardown:
  after_script:
    - !reference [.setup, script]
    - echo done
job:
  extends: .base
  script:
    - !reference [.setup, script]
    - echo job
  after_script: !reference [.teardown, after_script]
  variables: {A: !reference [.vars, A]}
copy:
  script: !reference [job, before_script]
.vars: {A: "1"}
`, true);
    expect(out.job).toMatchObject({
      script: [['echo setup'], 'echo job'],
      after_script: [['echo setup'], 'echo done'],
      before_script: ['echo base'],
      variables: { A: '1' },
    });
    expect(out.copy).toEqual({ script: ['echo base'] });
  });

  it('names file and line of a reference that cannot be found', () => {
    expect(errorOf('job:\n  script:\n    - !reference [.nope, script]\n', true))
      .toBe('.gitlab-ci.yml:3: !reference [".nope", "script"] could not be found; check the job name and the key path');
    expect(errorOf('.a: {script: [x]}\njob:\n  script: !reference [.a, script, deeper]\n', true)).toMatch(/^\.gitlab-ci\.yml:3: !reference/);
  });

  it('reports circular references', () => {
    expect(errorOf('a: !reference [b]\nb: !reference [a]\n', true)).toMatch(/is part of a circular chain of references/);
  });

  it('stops a reference bomb (8 levels of 10 references) quickly, naming file, line and reference', () => {
    const started = Date.now();
    const message = errorOf(referenceBomb(8, 10), true);
    expect(message).toMatch(/^\.gitlab-ci\.yml:\d+: !reference \[".l\d", "script"\]: the !reference tags expand the configuration to more than 1000000 values; it looks like a reference bomb$/);
    expect(Date.now() - started).toBeLessThan(2_000);
  }, 5_000);

  it('stops many uses of a large reference as well as deep nesting', () => {
    // 5 levels of 10 = 100,000 lines per use; 20 jobs using it is 2,000,000 in all.
    const jobs = Array.from({ length: 20 }, (_, i) => `job${i}:\n  script:\n    - !reference [.l5, script]\n`).join('');
    expect(errorOf(referenceBomb(5, 10, false) + jobs, true)).toMatch(/it looks like a reference bomb$/);
  }, 5_000);

  it('lets a pipeline with many ordinary references through', () => {
    const out = resolveText(referenceBomb(3, 10), true);
    expect(JSON.stringify(out.job).match(/echo x/g)).toHaveLength(1000);
  });
});

/** `.l0` has one script line; `.lN` references `.l(N-1)` `width` times; `job` uses `.l<levels>`. */
function referenceBomb(levels: number, width: number, withJob = true): string {
  let text = '.l0:\n  script:\n    - echo x\n';
  for (let level = 1; level <= levels; level++) {
    text += `.l${level}:\n  script:\n${`    - !reference [.l${level - 1}, script]\n`.repeat(width)}`;
  }
  return withJob ? `${text}job:\n  script:\n    - !reference [.l${levels}, script]\n` : text;
}
