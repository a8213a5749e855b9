import { afterAll, describe, expect, it } from 'vitest';
import { jobNames, ProjectFactory, variableMap } from './testing/project-factory.js';

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

  it.each([
    ['include: https://example.com/ci.yml', 'include:remote "https://example.com/ci.yml"'],
    ['include:\n  - remote: https://example.com/ci.yml', 'include:remote "https://example.com/ci.yml"'],
    ['include:\n  - project: group/lib\n    file: ci.yml', 'include:project "group/lib"'],
    ['include:\n  - template: Auto-DevOps.gitlab-ci.yml', 'include:template "Auto-DevOps.gitlab-ci.yml"'],
    ['include:\n  - component: $CI_SERVER_FQDN/a/b@1.0', 'include:component "$CI_SERVER_FQDN/a/b@1.0"'],
  ])('refuses %j clearly', async (yaml, what) => {
    const err = await projects.error(`job: {script: x}\n${yaml}\n`);
    expect(err.message).toMatch(new RegExp(`^\\.gitlab-ci\\.yml:[23]: ${what.replace(/[.$/]/g, '\\$&')} is not supported by berth exec \\(only include:local is\\)`));
    expect(err.file).toMatch(/\.gitlab-ci\.yml$/);
  });

  it('names the included file in errors found there', async () => {
    const err = await projects.error('include: ci/jobs.yml\n', { files: { 'ci/jobs.yml': 'job:\n  stage: build\n  script: {a: 1}\n' } });
    expect(err.message).toBe('ci/jobs.yml:3: job "job": script must be a string or a list of strings (lists may be nested up to 10 levels)');
  });
});
