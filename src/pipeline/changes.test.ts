/**
 * rules:changes and only/except:changes against real git repositories: the changed files are
 * HEAD against its merge base with the default branch (or compare_to / --changes-base), plus
 * uncommitted and untracked (not ignored) files.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../shared/errors.js';
import { compilePipeline } from './compile-pipeline.js';
import { readLocalGitInfo } from './project/local-git.js';
import type { Pipeline } from './pipeline.js';
import { GitTestRepos, type GitTestRepo } from '../../test/support/git-test-repo.js';

const repos = new GitTestRepos();
afterAll(() => repos.cleanup());

const FILES = {
  'src/app.js': 'app\n',
  'lib/x.ts': 'x\n',
  'docs/a.md': 'a\n',
  'old.txt': 'old\n',
  'gone.txt': 'gone\n',
  '.gitignore': 'build/\n',
};

async function compile(repo: GitTestRepo, yaml: string, opts: { changesBase?: string; variables?: Record<string, string> } = {}): Promise<Pipeline> {
  await repo.write({ '.gitlab-ci.yml': yaml });
  return compilePipeline({ cwd: repo.dir, git: await readLocalGitInfo(repo.dir), listFiles: false, pipelineId: 1, ...opts });
}

const included = (p: Pipeline) => p.jobs.map((j) => j.name);
const reasons = (p: Pipeline) => Object.fromEntries(p.skipped.map((s) => [s.name, s.reason]));

/** main: FILES (with the .gitlab-ci.yml committed); feature: one commit changing src/app.js. */
async function featureRepo(yaml: string): Promise<GitTestRepo> {
  const repo = await repos.create({ ...FILES, '.gitlab-ci.yml': yaml });
  repo.git('checkout', '-q', '-b', 'feature');
  await repo.write({ 'src/app.js': 'app v2\n' });
  repo.commitAll('Change the app');
  return repo;
}

describe('rules:changes and only/except:changes', () => {
  it('compare the branch with its merge base with main, with fnmatch globs, and say which clause left a job out', async () => {
    const yaml = `
app: {script: x, rules: [{changes: ["src/**/*.js"]}]}
braces: {script: x, rules: [{changes: ["{lib,src}/app.{ts,js}"]}]}
top-star: {script: x, rules: [{changes: ["*.js"]}]}
docs: {script: x, rules: [{changes: [docs/*]}, {if: $NOPE}]}
only-docs: {script: x, only: {changes: ["docs/**/*"]}}
only-src: {script: x, only: {changes: [src/app.js]}}
except-src: {script: x, except: {changes: ["src/*"]}}
except-docs: {script: x, except: {changes: [docs/a.md]}}
`;
    const repo = await featureRepo(yaml);
    // main moves on after the branch point: its own changes are not the branch's.
    repo.git('checkout', '-q', 'main');
    await repo.write({ 'docs/a.md': 'changed on main\n' });
    repo.commitAll('Docs on main');
    repo.git('checkout', '-q', 'feature');
    const p = await compile(repo, yaml);
    expect(included(p)).toEqual(['app', 'braces', 'only-src', 'except-docs']);
    expect(reasons(p)).toEqual({
      'top-star': 'rules: no rule matched',
      docs: 'rules: no rule matched',
      'only-docs': 'only:changes: no changed path matches docs/**/*',
      'except-src': 'except:changes: a path changed (src/app.js)',
    });
    expect(p.warnings.join('\n')).not.toMatch(/changes/);
  });

  it('on the default branch, compare with the last commit (as a push pipeline); the first commit counts as a first push', async () => {
    const yaml = `
app: {script: x, rules: [{changes: ["src/*"]}]}
docs: {script: x, rules: [{changes: ["docs/*"]}]}
`;
    const repo = await repos.create({ ...FILES, '.gitlab-ci.yml': yaml });
    const first = await compile(repo, yaml);
    expect(included(first)).toEqual(['app', 'docs']);
    expect(first.warnings.join('\n')).toContain('HEAD is the first commit of the default branch');
    await repo.write({ 'docs/a.md': 'docs v2\n' });
    repo.commitAll('Docs');
    const second = await compile(repo, yaml);
    expect(included(second)).toEqual(['docs']);
    expect(reasons(second)).toEqual({ app: 'rules: no rule matched' });
  });

  it('count staged, unstaged and untracked files (dot files too), but not ignored ones', async () => {
    const repo = await repos.create(FILES);
    await repo.write({ 'README.md': 'a second commit, so that the last commit is not the first\n' });
    repo.commitAll('Readme');
    await repo.write({ 'lib/new.ts': 'new\n' });
    repo.git('add', 'lib/new.ts');
    await repo.write({ 'docs/a.md': 'edited\n', 'notes/.todo': 'x\n', 'build/out.js': 'ignored\n' });
    const p = await compile(repo, `
staged: {script: x, rules: [{changes: [lib/*.ts]}]}
unstaged: {script: x, rules: [{changes: [docs/a.md]}]}
dotfile: {script: x, rules: [{changes: [notes/*]}]}
ignored: {script: x, rules: [{changes: ["build/**/*"]}]}
src: {script: x, rules: [{changes: ["src/**/*"]}]}
`);
    // .gitlab-ci.yml itself is untracked here: it counts as changed too.
    expect(included(p)).toEqual(['staged', 'unstaged', 'dotfile']);
    expect(reasons(p)).toEqual({ ignored: 'rules: no rule matched', src: 'rules: no rule matched' });
  });

  it('count a deleted file, and both paths of a renamed file', async () => {
    const yaml = `
deleted: {script: x, rules: [{changes: [gone.txt]}]}
renamed-from: {script: x, rules: [{changes: [old.txt]}]}
renamed-to: {script: x, rules: [{changes: [new.txt]}]}
other: {script: x, rules: [{changes: [docs/*]}]}
`;
    const repo = await repos.create({ ...FILES, '.gitlab-ci.yml': yaml });
    repo.git('checkout', '-q', '-b', 'feature');
    repo.git('rm', '-q', 'gone.txt');
    repo.git('mv', 'old.txt', 'new.txt');
    repo.commitAll('Delete and rename');
    const p = await compile(repo, yaml);
    expect(included(p)).toEqual(['deleted', 'renamed-from', 'renamed-to']);
    expect(reasons(p)).toEqual({ other: 'rules: no rule matched' });
  });

  it('compare with changes:compare_to (variables expanded) and with --changes-base', async () => {
    const yaml = `
src: {script: x, rules: [{changes: ["src/**/*"]}]}
docs: {script: x, rules: [{changes: [docs/*]}]}
src-since-v2: {script: x, rules: [{changes: {paths: ["src/**/*"], compare_to: v2}}]}
docs-since-tag: {script: x, rules: [{changes: {paths: ["$DOCS_DIR/*"], compare_to: $BASE_TAG}}]}
`;
    const repo = await featureRepo(yaml);
    repo.git('tag', 'v2');
    await repo.write({ 'docs/a.md': 'new docs\n' });
    repo.commitAll('Docs');
    const variables = { BASE_TAG: 'v2', DOCS_DIR: 'docs' };

    const p = await compile(repo, yaml, { variables });
    expect(included(p)).toEqual(['src', 'docs', 'docs-since-tag']);
    expect(reasons(p)).toEqual({ 'src-since-v2': 'rules: no rule matched' });

    const fromV2 = await compile(repo, yaml, { variables, changesBase: 'v2' });
    expect(included(fromV2)).toEqual(['docs', 'docs-since-tag']);

    // The error names the file, line and job, and shows compare_to as written (a variable may hold a secret).
    const err = await compile(repo, yaml, { variables: { ...variables, BASE_TAG: 'secret-ref' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/^\.gitlab-ci\.yml:5: docs-since-tag: rules:changes:compare_to "\$BASE_TAG" is not a branch, tag or commit/);
    expect((err as InputError).message).not.toContain('secret-ref');
    await expect(compile(repo, yaml, { changesBase: 'nope' })).rejects.toThrow(/^--changes-base: "nope" is not a branch, tag or commit/);
  });

  it('list the changed files only when a clause asks (an unknown --changes-base is then never read)', async () => {
    const repo = await repos.create(FILES);
    const p = await compile(repo, 'job: {script: x, rules: [{exists: [docs/a.md]}]}\n', { changesBase: 'no-such-ref' });
    expect(included(p)).toEqual(['job']);
  });

  it('prefer origin/HEAD to main as the default branch', async () => {
    const yaml = 'src: {script: x, rules: [{changes: ["src/**/*"]}]}\n';
    const repo = await featureRepo(yaml);
    const first = repo.git('rev-parse', 'HEAD~1');
    // main has the src change too; origin's default branch (trunk) does not.
    repo.git('branch', '-f', 'main', 'HEAD');
    await repo.write({ 'docs/a.md': 'docs\n' });
    repo.commitAll('Docs');
    expect(included(await compile(repo, yaml))).toEqual([]);
    repo.git('update-ref', 'refs/remotes/origin/trunk', first);
    repo.git('symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/trunk');
    expect(included(await compile(repo, yaml))).toEqual(['src']);
  });

  it('without a default branch, count changes as true and say why (warning, except reason)', async () => {
    const yaml = `
src: {script: x, rules: [{changes: ["src/**/*"]}]}
except-docs: {script: x, except: {changes: [docs/*]}}
`;
    const repo = await repos.create({ ...FILES, '.gitlab-ci.yml': yaml });
    repo.git('branch', '-m', 'trunk');
    const p = await compile(repo, yaml);
    expect(included(p)).toEqual(['src']);
    const why = 'no default branch to compare with (no origin/HEAD, main or master; choose one with --changes-base <ref>)';
    expect(reasons(p)).toEqual({ 'except-docs': `except:changes: counts as changed (${why})` });
    expect(p.warnings).toContain(`rules:changes and only/except:changes count as true: ${why} (jobs: src, except-docs)`);
  });

  it('apply to workflow:rules and include:rules too', async () => {
    const repo = await featureRepo('x: {script: x}\n');
    await repo.write({ 'ci/src.yml': 'from-src-include: {script: x}\n', 'ci/docs.yml': 'from-docs-include: {script: x}\n' });
    repo.commitAll('Includes');
    const p = await compile(repo, `
include:
  - local: ci/src.yml
    rules: [{changes: ["src/**/*"]}]
  - local: ci/docs.yml
    rules: [{changes: ["docs/**/*"]}]
job: {script: x}
`);
    expect(included(p)).toEqual(['from-src-include', 'job']);
    const none = await compile(repo, 'workflow: {rules: [{changes: ["docs/**/*"]}]}\njob: {script: x}\n');
    expect(included(none)).toEqual([]);
    expect(reasons(none)).toEqual({ job: 'workflow:rules' });
  });

  it('count changes as true in tag pipelines and non-push sources, as GitLab, unless compare_to or --changes-base is given', async () => {
    const yaml = `
docs: {script: x, rules: [{changes: [docs/*]}]}
docs-vs-main: {script: x, rules: [{changes: {paths: [docs/*], compare_to: main}}]}
`;
    const repo = await featureRepo(yaml);
    expect(included(await compile(repo, yaml))).toEqual([]);
    repo.git('tag', 'v1');
    repo.git('checkout', '-q', '--detach', 'v1');
    const tagged = await compile(repo, yaml);
    expect(included(tagged)).toEqual(['docs']);
    expect(tagged.warnings).toContain('rules:changes and only/except:changes count as true: a tag pipeline has no diff, as in GitLab (use compare_to or --changes-base to compare) (jobs: docs)');
    expect(included(await compile(repo, yaml, { changesBase: 'main' }))).toEqual([]);
    repo.git('checkout', '-q', 'feature');
    const scheduled = await compile(repo, yaml, { variables: { CI_PIPELINE_SOURCE: 'schedule' } });
    expect(included(scheduled)).toEqual(['docs']);
    expect(scheduled.warnings.join('\n')).toContain('a schedule pipeline has no diff');
  });

  it('reject a changes map without paths or with unknown keys', async () => {
    const repo = await repos.create(FILES);
    await expect(compile(repo, 'a: {script: x, rules: [{changes: {compare_to: main}}]}\n')).rejects.toThrow(/changes:paths is required/);
    await expect(compile(repo, 'a: {script: x, rules: [{changes: {paths: [x], base: main}}]}\n')).rejects.toThrow(/unknown key "base"/);
  });
});
