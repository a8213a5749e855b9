/**
 * `berth exec` prewarms the next job (its build container created, sources in, and — its image
 * having no ENTRYPOINT — its shell started, waiting for the script) while the job before it runs.
 * Prewarming must never change results: a prewarmed job that does not run (its needs failed, the
 * run was canceled or aborted) never gets its script and leaves nothing;
 * a job that receives dotenv variables runs in a container made with them; otherwise the
 * prewarmed container is the one the job runs in.
 *
 * Each job before the prewarmed one waits until the test has seen the prewarmed container and
 * lets it go on (a file made in its container), so no test depends on timing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import type { ListedObject } from '../../src/engine/engine-client.js';
import { startBerth } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const engine = new DockerodeEngine();
const repos: FixtureRepo[] = [];
afterAll(() => repos.forEach((r) => r.remove()));

function repo(yaml: string): string {
  const r = makeRepo({ '.gitlab-ci.yml': yaml, 'data.txt': 'tree file\n' });
  repos.push(r);
  return r.dir;
}

/** The first job: says it started, then waits for the test's go (then exits with `code`). */
const gatedJob = (name: string, code: number, extra = ''): string => `
${name}:
  stage: build
  image: berth-test/busybox:latest
  script: ['echo ${name}-started', 'while [ ! -f /tmp/go ]; do sleep 0.1; done', 'exit ${code}']
${extra}`;

/** A repository whose pipeline is the gated `first` job, then `second` in the next stage. */
function twoJobs(opts: { firstCode?: number; firstExtra?: string; secondNeedsFirst?: boolean; secondScript: string }): string {
  return repo(`stages: [build, test]
${gatedJob('first', opts.firstCode ?? 0, opts.firstExtra)}
second:
  stage: test
  image: berth-test/busybox:latest
${opts.secondNeedsFirst ? '  needs: [first]\n' : ''}  script: ${opts.secondScript}
`);
}

/** The job's containers of a berth exec process (by its labels). */
async function containersOf(pid: number, job: string): Promise<ListedObject[]> {
  return engine.listContainers([`berth.exec.pid=${pid}`, `berth.job.name=${job}`]);
}

/** Waits until `job` has a container (bounded: a hang fails the test, it does not time it). */
async function awaitContainer(pid: number, job: string): Promise<ListedObject> {
  for (let i = 0; i < 600; i++) {
    const [c] = await containersOf(pid, job);
    if (c) return c;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no container of job ${job} appeared`);
}

/** The prewarmed container: running (its shell waits on stdin), the job's script not run (no marker). */
async function expectWaitingShell(id: string): Promise<void> {
  for (let i = 0; i < 300 && (await engine.inspectContainer(id))!.state.status !== 'running'; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect((await engine.inspectContainer(id))!.state.status).toBe('running');
  expect(await engine.getArchive(id, '/tmp/second-ran')).toBeNull();
}

async function release(pid: number, job: string): Promise<void> {
  const [c] = await containersOf(pid, job);
  // 137: the job saw the file and its container stopped before the engine had the exec's own
  // status (the exec is killed with the container); a touch that failed says 1.
  expect([0, 137]).toContain(await engine.execInContainer(c!.id, ['touch', '/tmp/go']));
}

describe('berth exec: prewarming (end to end)', () => {
  it('by default, runs the next job in the container prepared while the job before it ran', async () => {
    const dir = twoJobs({ secondScript: "['touch /tmp/second-ran', 'cat data.txt', 'echo second-ran']" });
    const run = startBerth(['exec', '--cwd', dir]);
    await run.waitFor(/first\s+\| first-started/);
    const warm = await awaitContainer(run.child.pid!, 'second');
    await expectWaitingShell(warm.id);
    await release(run.child.pid!, 'first');
    const res = await run.result;
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/second\s+\| tree file/);
    expect(res.stdout).toMatch(/second\s+\| second-ran/);
    expect(res.stdout).toContain(`Running on ${warm.name} via`);
    // The log reads as without prewarm: one prepare, after the header.
    const second = res.stdout.split('\n').filter((l) => /^second\s+\|/.test(l)).join('\n');
    expect(second.split('Preparing the "docker" executor').length).toBe(2);
    expect(second.indexOf('Running with berth')).toBeLessThan(second.indexOf('Preparing the "docker" executor'));
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });

  it('with --no-prewarm, the next job gets its container only when its turn comes', async () => {
    const dir = twoJobs({ secondScript: "['echo second-ran']" });
    const run = startBerth(['exec', '--cwd', dir, '--no-prewarm']);
    await run.waitFor(/first\s+\| first-started/);
    // The first job is held until the test lets it go: a prewarm would have made this container by now
    // (the default run above shows it appears while the first job waits).
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await containersOf(run.child.pid!, 'second')).toEqual([]);
    await release(run.child.pid!, 'first');
    const res = await run.result;
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/second\s+\| second-ran/);
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });

  it('a prewarmed job whose needs fail is skipped: its container is removed, its script never run', async () => {
    const dir = twoJobs({ firstCode: 1, secondNeedsFirst: true, secondScript: "['touch /tmp/second-ran', 'echo second-ran']" });
    const run = startBerth(['exec', '--cwd', dir, '--prewarm']);
    await run.waitFor(/first\s+\| first-started/);
    const warm = await awaitContainer(run.child.pid!, 'second');
    await expectWaitingShell(warm.id);
    await release(run.child.pid!, 'first');
    const res = await run.result;
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^FAIL\s+first/m);
    expect(res.stdout).toMatch(/^SKIP\w*\s+second/m);
    expect(res.stdout).not.toContain('second-ran');
    expect(res.stdout).not.toMatch(/^second\s+\|/m);
    expect(await engine.inspectContainer(warm.id)).toBeNull();
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`canceled by ${signal} while a prewarmed container exists: nothing runs after, nothing is left`, async () => {
      const dir = twoJobs({ secondScript: "['echo second-ran']" });
      const run = startBerth(['exec', '--cwd', dir, '--prewarm']);
      await run.waitFor(/first\s+\| first-started/);
      const warm = await awaitContainer(run.child.pid!, 'second');
      run.child.kill(signal);
      const res = await run.result;
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(/^CANCELED\s+second/m);
      expect(res.stdout).not.toContain('second-ran');
      expect(res.stdout).not.toMatch(/^second\s+\|/m);
      expect(await engine.inspectContainer(warm.id)).toBeNull();
      expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
    });
  }

  it('a job that receives dotenv variables runs in a container made afresh with them', async () => {
    const dir = twoJobs({ firstExtra: `  after_script: ['echo FROM_FIRST=yes > first.env']
  artifacts:
    reports:
      dotenv: first.env
`, secondScript: "['echo \"from_first=$FROM_FIRST\"']" });
    const run = startBerth(['exec', '--cwd', dir, '--prewarm']);
    await run.waitFor(/first\s+\| first-started/);
    const warm = await awaitContainer(run.child.pid!, 'second');
    await release(run.child.pid!, 'first');
    const res = await run.result;
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/second\s+\| from_first=yes/);
    expect(res.stdout).not.toContain(`Running on ${warm.name} via`);
    expect(res.stdout).toMatch(/second\s+\| Running on \S+ via/);
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });
});
