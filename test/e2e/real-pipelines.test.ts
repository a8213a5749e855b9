/**
 * berth exec on pipelines that were not written for it: real projects' .gitlab-ci.yml files
 * and GitLab's documentation examples (test/fixtures/pipelines, sources in SOURCES.md).
 *
 * - Every fixture compiles with `--list --json` (exit 0) to the jobs GitLab would create for a
 *   push to the default branch `main` of `group/demo-project` (test/fixtures/pipelines-expected).
 *   The expectations were checked by reading each file (rules, only/except, workflow, includes,
 *   needs, dependencies), not copied from berth. Includes berth cannot read offline are part of
 *   the expectation as warnings; other differences from GitLab are in KNOWN_DIVERGENCES.
 * - A few run for real: images are rewritten to local test images and commands that need
 *   the network become `echo`, so that the compiler → scheduler → executor path runs on
 *   real structures; each run must leave nothing behind.
 * - Broken input a user could write is refused with exit 2, a located message, quickly,
 *   before any container exists.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { runBerth } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/pipelines/', import.meta.url));
// Expected `--list --json` of the larger corpus, one file per fixture (see CORPUS below).
const CORPUS_EXPECTED = fileURLToPath(new URL('../fixtures/pipelines-expected/', import.meta.url));
const engine = new DockerodeEngine();
const repos: FixtureRepo[] = [];
// Includes from other servers are never fetched here (no test traffic leaves the machine), and the
// user's include cache is never touched: they are skipped with a warning, as berth does offline.
const includeCache = mkdtempSync(join(tmpdir(), 'berth-include-cache-'));
const OFFLINE = ['--offline', '--include-cache', includeCache];
afterAll(() => {
  repos.forEach((r) => r.remove());
  rmSync(includeCache, { recursive: true, force: true });
});

function filesOf(dir: string, base = dir): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) Object.assign(out, filesOf(path, base));
    else out[relative(base, path)] = readFileSync(path, 'utf8');
  }
  return out;
}

/** A git repository holding a copy of the fixture, with `edits` applied to the named files. */
function fixtureRepo(name: string, edits: Record<string, [RegExp | string, string][]> = {}): string {
  const files = filesOf(join(FIXTURES, name));
  // Each project includes components from its own GitLab ($CI_SERVER_FQDN there: gitlab.com,
  // gitlab.gnome.org, ...); here the repository's GitLab is gitlab.example.invalid.
  for (const file of Object.keys(files)) {
    if (/\.ya?ml$/.test(file)) files[file] = files[file]!.replace(/(component:\s*["']?)(?!\$)[A-Za-z0-9.-]+\.[A-Za-z]{2,}\//g, '$1$CI_SERVER_FQDN/');
  }
  for (const [file, list] of Object.entries(edits)) {
    let text = files[file]!;
    for (const [from, to] of list) text = text.replace(from, to);
    files[file] = text;
  }
  // A GitLab under .invalid (never resolves): include:project/component of these files are then
  // unreachable, skipped with a warning, and no test traffic leaves the machine.
  const repo = makeRepo(files, { remote: 'git@gitlab.example.invalid:group/demo-project.git' });
  repos.push(repo);
  return repo.dir;
}

/**
 * The corpus: a fixture whose expected `--list --json` is `pipelines-expected/<name>.json`. The
 * expectation is GitLab's pipeline for a push to `main`, read from the YAML (not copied from
 * berth). Compared: the stages, and for each job its name, stage, when, needs, allow_failure,
 * parallel and dependencies (the jobs whose artifacts it receives); for the jobs left out, their
 * names (not berth's wording of why); and the warnings about includes berth skips (other
 * warnings, such as keywords berth does not support yet, change as berth grows and are not part
 * of the expectation).
 */
const CORPUS = readdirSync(CORPUS_EXPECTED)
  .filter((n) => n.endsWith('.json'))
  .map((n) => n.slice(0, -'.json'.length))
  .sort();

/**
 * Fixtures where berth differs from GitLab: the expectation is GitLab's and the test is marked
 * `it.fails` until berth is fixed. Each entry says what differs.
 */
const KNOWN_DIVERGENCES: Record<string, string> = {};

interface ListedJob {
  name: string;
  stage: string;
  when: string | null;
  needs: { job: string; optional: boolean }[] | null;
  allow_failure: boolean | null;
  parallel: { job: string; index: number; total: number; matrix: Record<string, string> | null } | null;
  dependencies: string[] | null;
  skip_reason: string | null;
}

interface ListJson {
  stages: string[];
  jobs: ListedJob[];
  warnings: string[];
}

/** The parts of `--list --json` that GitLab's semantics decide (see CORPUS). */
function projectList(list: ListJson) {
  return {
    stages: list.stages,
    jobs: list.jobs
      .filter((j) => j.skip_reason === null)
      .map((j) => ({ name: j.name, stage: j.stage, when: j.when, needs: j.needs, allow_failure: j.allow_failure, parallel: j.parallel, dependencies: j.dependencies })),
    skipped: list.jobs.filter((j) => j.skip_reason !== null).map((j) => j.name),
    includeWarnings: list.warnings.filter((w) => /\binclude:/.test(w)),
  };
}

describe('berth exec --list on real pipelines', () => {
  it('has an expectation for every fixture', () => {
    const fixtures = readdirSync(FIXTURES).filter((n) => statSync(join(FIXTURES, n)).isDirectory()).sort();
    // Issue 12 point 7: at least 100 published pipelines, each with its expectation.
    expect(fixtures.length).toBeGreaterThanOrEqual(100);
    expect(CORPUS).toEqual(fixtures);
    expect(Object.keys(KNOWN_DIVERGENCES).filter((n) => !CORPUS.includes(n))).toEqual([]);
  });

  for (const name of CORPUS) {
    const test = name in KNOWN_DIVERGENCES ? it.fails : it;
    test(`${name} (--json)`, async () => {
      const dir = fixtureRepo(name);
      const res = await runBerth(['exec', '--cwd', dir, '--list', '--json', ...OFFLINE]);
      expect(res.stderr).not.toMatch(/berth: error/);
      expect(res.code).toBe(0);
      const expected = JSON.parse(readFileSync(join(CORPUS_EXPECTED, `${name}.json`), 'utf8')) as ListJson;
      expect(projectList(JSON.parse(res.stdout) as ListJson)).toEqual(projectList(expected));
    });
  }
});

const IMAGE = 'berth-test/bash:latest';

async function runFixture(dir: string, extra: string[] = []) {
  const res = await runBerth(['exec', '--cwd', dir, '--docker-image', IMAGE, '--pull-policy', 'never', '--report', join(dir, 'report.json'), ...OFFLINE, ...extra]);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { status: string; jobs: { name: string; status: string }[] };
  const status = Object.fromEntries(report.jobs.map((j) => [j.name, j.status]));
  expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  return { res, report, status };
}

describe('berth exec runs real pipelines (images rewritten to local ones)', () => {
  it('docs-needs-diamond: fan-out and fan-in in needs order', async () => {
    const { res, report, status } = await runFixture(fixtureRepo('docs-needs-diamond'));
    expect(res.code).toBe(0);
    expect(status).toEqual({ build: 'success', test_unit: 'success', test_integration: 'success', test_performance: 'success', deploy: 'success' });
    expect(report.jobs.map((j) => j.name)[0]).toBe('build');
    expect(res.stdout).toMatch(/^deploy\s+\| Deploying\.\.\.$/m);
  });

  it('docs-needs-optional: the optional need on a job rules left out is dropped', async () => {
    const { res, status } = await runFixture(fixtureRepo('docs-needs-optional'));
    expect(res.code).toBe(0);
    expect(status).toEqual({ build: 'success', test: 'success', deploy: 'success' });
  });

  it('docs-workflow-variables: rule variables > job variables > workflow variables > global', async () => {
    const { res, status } = await runFixture(fixtureRepo('docs-workflow-variables'));
    expect(res.code).toBe(0);
    expect(status).toEqual({ job1: 'success', job2: 'success' });
    expect(res.stdout).toMatch(/^job1\s+\| Run script with job1-deploy-production as an argument$/m);
    expect(res.stdout).toMatch(/^job2\s+\| Run script with deploy-production as an argument$/m);
  });

  it('docs-reference-tags: !reference in scripts (nested), after_script and variables, across an include', async () => {
    // berth-test/bash (busybox) has no printenv; env prints the same lines.
    const { res, status } = await runFixture(fixtureRepo('docs-reference-tags', { '.gitlab-ci.yml': [[/printenv/g, 'env']] }));
    expect(res.code).toBe(0);
    expect(status).toEqual({ test: 'success', 'test-vars-1': 'success', 'test-vars-2': 'success', 'nested-references': 'success' });
    expect(res.stdout).toMatch(/^test\s+\| creating environment$/m);
    expect(res.stdout).toMatch(/^test\s+\| deleting environment$/m);
    expect(res.stdout).toMatch(/^test-vars-1\s+\| IMPORTANT_VAR=the details$/m);
    expect(res.stdout).toMatch(/^test-vars-2\s+\| MY_VAR=the details$/m);
    expect(res.stdout).toMatch(/^nested-references\s+\| ONE!\n(?:.*\n)*?nested-references\s+\| TWO!\n(?:.*\n)*?nested-references\s+\| THREE!$/m);
  });

  it('docs-services: default image and a service reached by each of its aliases', async () => {
    const dir = fixtureRepo('docs-services', {
      '.gitlab-ci.yml': [
        // The image's entrypoint (/bin/bash) and the service's belong to the replaced images.
        ['name: ruby:2.6', `name: ${IMAGE}`],
        ['\n    entrypoint: ["/bin/bash"]', ''],
        ['name: my-postgres:11.7', 'name: berth-test/svc-http:latest'],
        [/\n {6}entrypoint: \["\/usr\/local\/bin\/db-postgres"\]\n {6}command: \["start"\]/, ''],
        ['- bundle install', '- echo bundle install'],
        ['- bundle exec rake spec', '- wget -qO- http://db/ && wget -qO- http://postgres/ && wget -qO- http://pg/'],
      ],
    });
    const { res, status } = await runFixture(dir);
    expect(status).toEqual({ test: 'success' });
    expect(res.code).toBe(0);
    expect(res.stdout.match(/^test\s+\| hello from svc-http$/gm)).toHaveLength(3);
  });

  it('kees-2018: top-level image, services and before_script of a real project', async () => {
    const dir = fixtureRepo('kees-2018', {
      '.gitlab-ci.yml': [
        ['image: python:latest', `image: ${IMAGE}`],
        ['- postgres:latest', '- berth-test/svc-http:latest'],
        ['- python -V', '- echo python -V'],
        ['- pip install -r requirements.txt', '- echo pip install -r requirements.txt'],
        ['- cp ./docker/config.py kees/config.py', '- wget -qO- http://berth-test-svc-http/'],
        ['- pylint kees core', '- echo "pylint on $DB_HOST"'],
        ['- python manage.py test', '- echo "test as $DB_USER"'],
      ],
    });
    const { res, status } = await runFixture(dir);
    expect(res.code).toBe(0);
    expect(status).toEqual({ pylint: 'success', test: 'success' });
    expect(res.stdout).toMatch(/^pylint\s+\| pylint on postgres$/m);
    expect(res.stdout).toMatch(/^test\s+\| hello from svc-http$/m);
  });

  it('glib-2019: extends of an only/except template, allow_failure in a later stage', async () => {
    const dir = fixtureRepo('glib-2019');
    // Keep the structure, make every job a quick echo: scripts become one echo each.
    const file = join(dir, '.gitlab-ci.yml');
    const text = readFileSync(file, 'utf8')
      .replace('  script:\n    - .gitlab-ci/run-style-check-diff.sh\n', '  script:\n    - exit 3\n')
      .replace(/^ {2}image: .*$/gm, `  image: ${IMAGE}`)
      .replace(/^( {2}(?:before_)?script:\n)((?: {4}(?:-| |#).*\n)+)/gm, (all: string, head: string) => (all.includes('exit 3') ? all : `${head}    - echo "$CI_JOB_NAME in $CI_JOB_STAGE"\n`));
    writeFileSync(file, text);
    const { res, status } = await runFixture(dir, ['style-check-diff', 'fedora-x86_64', 'coverage', 'valgrind']);
    expect(status).toEqual({ 'style-check-diff': 'failed', 'fedora-x86_64': 'success', coverage: 'success', valgrind: 'success' });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^valgrind\s+\| valgrind in analysis$/m);
  });
});

describe('berth exec refuses broken input quickly, with exit 2 and a located message (B1)', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  it.each([
    ['script: 42', 'job:\n  image: berth-test/busybox:latest\n  script: 42\n', /\.gitlab-ci\.yml:3: job "job": script must be a string or a list of strings/],
    ['an unknown job keyword', 'job:\n  script: [echo]\n  scirpt: [echo]\n', /\.gitlab-ci\.yml:3: job "job": unknown key "scirpt"; did you mean "script"\?/],
    ['a needs cycle', 'a: {script: [echo], needs: [b]}\nb: {script: [echo], needs: [a]}\n', /\.gitlab-ci\.yml:1: needs form a cycle: a → b → a/],
    ['extends of a missing template', 'job:\n  extends: .base\n  script: [echo]\n', /\.gitlab-ci\.yml:2: job "job": extends "\.base", which is not defined/],
    ['include of a missing local file', 'include: ci/missing.yml\njob: {script: [echo]}\n', /\.gitlab-ci\.yml:1: include:local "ci\/missing\.yml" does not exist/],
    ['a 5 MB file', `# ${'x'.repeat(5 * 1024 * 1024)}\njob: {script: [echo]}\n`, /\.gitlab-ci\.yml: the file is \d+ bytes, more than the limit/],
    ['an anchor bomb', `${bomb.join('\n')}\njob: {script: [echo]}\n`, /\.gitlab-ci\.yml:\d+: .*alias bomb/],
    ['a YAML syntax error in an included file', 'include: ci/a.yml\n', /ci\/a\.yml:\d+:\d+: YAML syntax error/],
  ])('%s', async (_, yaml, message) => {
    const repo = makeRepo({ '.gitlab-ci.yml': yaml, 'ci/a.yml': 'job:\n  script: [echo\n  stage: x\n' });
    repos.push(repo);
    const start = Date.now();
    const res = await runBerth(['exec', '--cwd', repo.dir]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe('');
    expect(Date.now() - start).toBeLessThan(5000);
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });
});
