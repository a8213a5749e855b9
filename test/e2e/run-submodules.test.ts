/**
 * berth run with GIT_SUBMODULE_STRATEGY (end to end): the git test server serves `group/project`,
 * whose commit has the submodule `libs/sub` (relative URL `../sub.git`, with a link inside and
 * the nested submodule `deep` at `../../other/nested.git`) and `libs/ssh` at an ssh URL, in a
 * commit of its own. The jobs run in the real engine and print what they see.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { createRunFixture, type RunFixture } from '../support/run-fixture.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';
import { enqueueRepoJob } from '../support/repo-job.js';
import type { TestJob } from '../support/gitlab-test-server.js';
import { traceText } from '../support/trace-text.js';

const engine = new DockerodeEngine();
let fx: RunFixture;
const sha: Record<string, string> = {};

function commitRepo(name: string, files: Record<string, string>, opts: { links?: Record<string, string>; gitlinks?: Record<string, string> } = {}): string {
  const work = join(fx.dir, 'sub-work', name);
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: work, encoding: 'utf8' }).trim();
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  git('config', 'user.email', 'dev@example.invalid');
  git('config', 'user.name', 'Dev');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), content);
  }
  for (const [path, target] of Object.entries(opts.links ?? {})) symlinkSync(target, join(work, path));
  git('add', '-A');
  for (const [path, commit] of Object.entries(opts.gitlinks ?? {})) git('update-index', '--add', '--cacheinfo', `160000,${commit},${path}`);
  git('commit', '-q', '-m', 'commit');
  const bare = join(fx.dir, 'repos', `${name}.git`);
  rmSync(bare, { recursive: true, force: true });
  execFileSync('git', ['clone', '-q', '--bare', work, bare]);
  return git('rev-parse', 'HEAD');
}

beforeAll(async () => {
  fx = await createRunFixture();
  fx.writeConfig();
  sha.nested = commitRepo('other/nested', { 'nested.txt': 'nested content\n' });
  sha.sub = commitRepo(
    'group/sub',
    { 'sub.txt': 'submodule content\n', '.gitmodules': '[submodule "deep"]\n\tpath = deep\n\turl = ../../other/nested.git\n' },
    { links: { 'link-out': '/etc/hostname' }, gitlinks: { deep: sha.nested } },
  );
  // Both commits end up in group/project (the fixture's repository, replaced): `main` and `ssh`.
  sha.main = commitRepo('group/project', { 'data.txt': 'main\n', '.gitmodules': '[submodule "libs/sub"]\n\tpath = libs/sub\n\turl = ../sub.git\n' }, { gitlinks: { 'libs/sub': sha.sub } });
  const sshWork = join(fx.dir, 'sub-work', 'group/project');
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: sshWork, encoding: 'utf8' }).trim();
  writeFileSync(join(sshWork, '.gitmodules'), '[submodule "libs/sub"]\n\tpath = libs/sub\n\turl = ssh://git@127.0.0.1:2222/group/sub.git\n');
  git('add', '.gitmodules'); // not -a: the submodule's folder is not in this working tree
  git('commit', '-q', '-m', 'ssh submodule');
  sha.ssh = git('rev-parse', 'HEAD');
  git('push', '-q', join(fx.dir, 'repos', 'group', 'project.git'), 'HEAD:refs/heads/main');
  fx.start();
});

afterAll(async () => {
  await fx.close();
  const left = await findLeftovers(engine, fx.labelFilter);
  for (const c of await engine.listContainers([fx.labelFilter])) await engine.removeContainer(c.id, { force: true });
  for (const n of await engine.listNetworks([fx.labelFilter])) await engine.removeNetwork(n.id);
  for (const v of await engine.listVolumes([fx.labelFilter])) await engine.removeVolume(v.name);
  expect(left).toEqual(NO_LEFTOVERS);
});

const trace = (job: TestJob): string => traceText(job);
const done = (job: TestJob, ms = 90_000) => fx.gl.waitFor(() => job.final !== null, ms, `the final update of job ${job.id}`);
const run = (commit: string, variables: Record<string, string>, script: string[]): TestJob =>
  enqueueRepoJob(fx.gl, fx.git, commit, { image: 'berth-test/bash:latest', script, variables: Object.entries(variables).map(([key, value]) => ({ key, value })) });
const requestsFor = (repo: string, from: number) => fx.git.requests.slice(from).filter((r) => r.path.startsWith(`/${repo}`));

describe('berth run: GIT_SUBMODULE_STRATEGY (end to end)', () => {
  it('recursive: the job sees the submodules\' files, their .git resolving inside the container, links kept; the token in no log', async () => {
    const job = run(sha.main!, { GIT_SUBMODULE_STRATEGY: 'recursive' }, [
      'cat libs/sub/sub.txt libs/sub/deep/nested.txt',
      'gitdir=$(sed -n "s/^gitdir: //p" libs/sub/.git); test -f "libs/sub/$gitdir/HEAD" && echo "gitdir resolves: $gitdir"',
      'gitdir=$(sed -n "s/^gitdir: //p" libs/sub/deep/.git); test -f "libs/sub/deep/$gitdir/HEAD" && echo "nested gitdir resolves"',
      'test -L libs/sub/link-out && echo "link kept: $(readlink libs/sub/link-out)"',
    ]);
    await done(job);
    const text = trace(job);
    expect(job.final).toMatchObject({ state: 'success' });
    expect(text).toContain('Updating/initializing submodules recursively with git depth set to 20...');
    expect(text).toContain('Updated submodules');
    expect(text).not.toContain('Skipping Git submodules setup');
    expect(text).toContain('submodule content\nnested content\n');
    expect(text).toContain('gitdir resolves: ../../.git/modules/libs/sub');
    expect(text).toContain('nested gitdir resolves');
    expect(text).toContain('link kept: /etc/hostname');
    expect(text).not.toContain(job.token);
    expect(text).not.toContain(Buffer.from(`gitlab-ci-token:${job.token}`).toString('base64'));
  });

  it('an ssh submodule URL is refused with what to do; nothing is asked of another server', async () => {
    const job = run(sha.ssh!, { GIT_SUBMODULE_STRATEGY: 'normal' }, ['echo should not run']);
    await done(job);
    const text = trace(job);
    expect(job.final).toMatchObject({ state: 'failed' });
    expect(text).toContain("A submodule's URL (ssh://git@127.0.0.1:2222/group/sub.git) uses git's ssh transport, which berth run refuses");
    expect(text).toContain('use a relative URL (e.g. ../other-project.git');
    expect(text).not.toContain('should not run');
    expect(text).not.toContain(job.token);
  });

  it('none (the default): "Skipping Git submodules setup", no submodule fetched, the submodule folder empty', async () => {
    const from = fx.git.requests.length;
    const job = run(sha.main!, {}, ['echo "entries: $(ls -A libs/sub | wc -l)"']);
    await done(job);
    const text = trace(job);
    expect(job.final).toMatchObject({ state: 'success' });
    expect(text).toContain('Skipping Git submodules setup');
    expect(text).not.toContain('Updating/initializing submodules');
    expect(text).toMatch(/entries: +0/);
    expect(requestsFor('group/project.git', from).length).toBeGreaterThan(0);
    expect(requestsFor('group/sub.git', from)).toEqual([]);
    expect(requestsFor('other/nested.git', from)).toEqual([]);
  });
});
