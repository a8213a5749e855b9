/**
 * berth exec on parallel: N and parallel:matrix, with the built CLI: every job GitLab would make
 * runs with its own CI_NODE_INDEX / CI_NODE_TOTAL and matrix variables, needs pick the right
 * jobs, a parallel job's name selects all of its jobs, and nothing is left behind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { runBerth } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const engine = new DockerodeEngine();
const repos: FixtureRepo[] = [];
afterAll(() => repos.forEach((r) => r.remove()));

function repo(files: Record<string, string>): string {
  const r = makeRepo(files);
  repos.push(r);
  return r.dir;
}

const PIPELINE = `
stages: [build, test]
default:
  image: berth-test/busybox:latest
build:
  stage: build
  variables: {ARCH: none}
  parallel:
    matrix:
      - OS: linux
        ARCH: [amd64, arm64]
  script: ['echo "built $OS/$ARCH node $CI_NODE_INDEX of $CI_NODE_TOTAL as $CI_JOB_NAME"']
shard:
  stage: test
  parallel: 2
  needs:
    - job: build
      parallel: {matrix: [{OS: linux, ARCH: arm64}]}
  script: ['echo "shard $CI_NODE_INDEX/$CI_NODE_TOTAL"']
nightly:
  stage: test
  rules: [{if: $CI_PIPELINE_SOURCE == "schedule"}]
  script: [echo never]
`;

describe('berth exec: parallel and parallel:matrix (end to end)', () => {
  it('runs every expanded job with its variables and says which jobs were left out', async () => {
    const dir = repo({ '.gitlab-ci.yml': PIPELINE });
    const res = await runBerth(['exec', '--cwd', dir, '--concurrency', '2']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^build: \[linux, amd64\]\s+\| built linux\/amd64 node 1 of 2 as build: \[linux, amd64\]$/m);
    expect(res.stdout).toMatch(/^build: \[linux, arm64\]\s+\| built linux\/arm64 node 2 of 2 as build: \[linux, arm64\]$/m);
    expect(res.stdout).toMatch(/^shard 1\/2\s+\| shard 1\/2$/m);
    expect(res.stdout).toMatch(/^shard 2\/2\s+\| shard 2\/2$/m);
    for (const name of ['build: \\[linux, amd64\\]', 'build: \\[linux, arm64\\]', 'shard 1/2', 'shard 2/2']) {
      expect(res.stdout).toMatch(new RegExp(`^PASS\\s+${name}\\s+stage`, 'm'));
    }
    expect(res.stdout).toMatch(/^SKIP\s+nightly\s+not in this pipeline: rules: no rule matched$/m);
    expect(res.stdout).toContain('Pipeline succeeded');
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });

  it('a parallel job named on the command line runs all of its jobs; one expanded name runs one', async () => {
    const dir = repo({ '.gitlab-ci.yml': PIPELINE });
    const all = await runBerth(['exec', '--cwd', dir, 'shard']);
    expect(all.code).toBe(0);
    expect(all.stdout.match(/^PASS\s+shard \d\/2/gm)).toHaveLength(2);
    expect(all.stdout).not.toMatch(/^PASS\s+build/m);
    const one = await runBerth(['exec', '--cwd', dir, 'build: [linux, arm64]']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^PASS\s+build: \[linux, arm64\]/m);
    expect(one.stdout.match(/^PASS/gm)).toHaveLength(1);
    expect(await findLeftovers(engine, `berth.exec.pid=${all.pid}`)).toEqual(NO_LEFTOVERS);
    expect(await findLeftovers(engine, `berth.exec.pid=${one.pid}`)).toEqual(NO_LEFTOVERS);
  });

  it('--list --json gives the planned jobs with their parallel origin and skip reasons', async () => {
    const dir = repo({ '.gitlab-ci.yml': PIPELINE });
    const res = await runBerth(['exec', '--cwd', dir, '--list', '--json']);
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout) as { version: number; jobs: { name: string; needs: { job: string }[] | null; parallel: unknown; skip_reason: string | null }[] };
    expect(doc.version).toBe(1);
    expect(doc.jobs.map((j) => [j.name, j.skip_reason])).toEqual([
      ['build: [linux, amd64]', null],
      ['build: [linux, arm64]', null],
      ['shard 1/2', null],
      ['shard 2/2', null],
      ['nightly', 'rules: no rule matched'],
    ]);
    expect(doc.jobs[2]!.needs).toEqual([{ job: 'build: [linux, arm64]', optional: false }]);
    expect(doc.jobs[1]!.parallel).toEqual({ job: 'build', index: 2, total: 2, matrix: { OS: 'linux', ARCH: 'arm64' } });
    const bad = await runBerth(['exec', '--cwd', dir, '--json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--json only works with --list');
  });
});
