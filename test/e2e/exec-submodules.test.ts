/**
 * berth exec with GIT_SUBMODULE_STRATEGY (end to end, the real engine): the working tree has the
 * submodule `libs/sub` checked out (with its nested `deep`) and `vendor/missing` not checked out.
 * One job per strategy prints what it got.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { runBerth, type CliResult } from '../support/berth-cli.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const engine = new DockerodeEngine();
let base: string;
let tree: string;
let res: CliResult;

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'protocol.file.allow=always', '-c', 'user.email=a@b.invalid', '-c', 'user.name=A', ...args], { cwd, stdio: 'ignore' });
}

function repo(name: string, files: Record<string, string>, submodules: Record<string, string> = {}): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  for (const [path, url] of Object.entries(submodules)) git(dir, 'submodule', 'add', '-q', url, path);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'x');
  return dir;
}

const job = (name: string, vars: Record<string, string>): string =>
  `${name}:\n  image: berth-test/bash:latest\n  variables: ${JSON.stringify(vars)}\n  script:\n    - 'for f in libs/sub/sub.txt libs/sub/deep/nested.txt vendor/missing/m.txt; do if test -f $f; then echo "$CI_JOB_NAME has $f: $(cat $f)"; else echo "$CI_JOB_NAME lacks $f"; fi; done'\n`;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'berth-e2e-sub-'));
  const nested = repo('nested', { 'nested.txt': 'nested content' });
  const sub = repo('sub', { 'sub.txt': 'submodule content' }, { deep: nested });
  const missing = repo('missing', { 'm.txt': 'm' });
  const main = repo(
    'main',
    { '.gitlab-ci.yml': [job('none', {}), job('normal', { GIT_SUBMODULE_STRATEGY: 'normal' }), job('recursive', { GIT_SUBMODULE_STRATEGY: 'recursive' })].join('\n') },
    { 'libs/sub': sub, 'vendor/missing': missing },
  );
  tree = join(base, 'tree');
  git(base, 'clone', '-q', main, tree);
  git(tree, 'submodule', 'update', '-q', '--init', '--recursive', '--', 'libs/sub');
  res = await runBerth(['exec', '--cwd', tree, '--no-color'], { timeoutMs: 120_000 });
});

afterAll(async () => {
  rmSync(base, { recursive: true, force: true });
  expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
});

describe('berth exec: GIT_SUBMODULE_STRATEGY (end to end)', () => {
  it('recursive: the checked-out submodule and its nested one are copied; the one not checked out gets a warning', () => {
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain('recursive has libs/sub/sub.txt: submodule content');
    expect(res.stdout).toContain('recursive has libs/sub/deep/nested.txt: nested content');
    expect(res.stdout).toContain('recursive lacks vendor/missing/m.txt');
    expect(res.stdout).toContain('Using the submodules checked out in the working tree, recursively (berth exec never fetches them)');
    expect(res.stdout).toMatch(/recursive.*WARNING: The submodule vendor\/missing is not checked out in the working tree: its files are not copied into the job \(berth exec never fetches\)\. Check it out with: git submodule update --init --recursive/);
  });

  it('normal: the first level only', () => {
    expect(res.stdout).toContain('normal has libs/sub/sub.txt: submodule content');
    expect(res.stdout).toContain('normal lacks libs/sub/deep/nested.txt');
    expect(res.stdout).toMatch(/normal.*WARNING: The submodule vendor\/missing is not checked out .* git submodule update --init\n/);
  });

  it('none (the default): no submodule file, no warning, as before', () => {
    expect(res.stdout).toContain('none lacks libs/sub/sub.txt');
    expect(res.stdout).not.toMatch(/none.*(WARNING|Using the submodules)/);
  });
});
