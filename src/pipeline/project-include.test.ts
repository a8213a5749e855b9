import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../../test/support/git-http-server.js';
import { jobNames, ProjectFactory, variableMap } from '../../test/support/project-factory.js';
import { compilePipeline } from './compile-pipeline.js';

const git = (cwd: string, ...args: string[]) => promisify(execFile)('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } });
const projects = new ProjectFactory();
let tmp: string;
let lib: string;
let comps: string;

/** A git repository with `files` committed on main, tagged with `tags`. */
async function repo(dir: string, commits: { files: Record<string, string>; tags?: string[] }[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  for (const c of commits) {
    for (const [path, content] of Object.entries(c.files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-q', '-m', 'c');
    for (const t of c.tags ?? []) await git(dir, 'tag', t);
  }
  return dir;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'berth-project-include-'));
  lib = await repo(join(tmp, 'lib'), [
    { files: { 'ci/build.yml': 'include: ci/shared.yml\nbuild: {script: old}\n', 'ci/shared.yml': 'shared: {script: s}\n' }, tags: ['v1'] },
    { files: { 'ci/build.yml': 'include: /ci/shared.yml\nbuild: {script: new}\n', 'ci/test.yml': 'test: {script: t}\n' } },
  ]);
  comps = await repo(join(tmp, 'comps'), [
    { files: { 'templates/lint.yml': 'spec:\n  inputs:\n    stage: {default: test}\n---\nlint-v1:\n  stage: $[[ inputs.stage ]]\n  script: l\n' }, tags: ['1.0.0'] },
    {
      files: {
        'templates/lint.yml': 'spec:\n  inputs:\n    stage: {default: test}\n---\nlint-v2:\n  stage: $[[ inputs.stage ]]\n  script: l\n',
        'templates/deploy/template.yml': 'deploy-component: {script: d}\n',
      },
      tags: ['1.1.0', '2.0.0-rc1'],
    },
  ]);
});
afterAll(async () => {
  await projects.cleanup();
  await rm(tmp, { recursive: true, force: true });
});

describe('include:project mapped to a checkout (--include-project)', () => {
  const includes = () => ({ cacheDir: join(tmp, 'cache'), projects: { 'group/lib': lib, 'group/comps': comps } });

  it('reads the files at the ref (a list of files), and their include:local from that project', async () => {
    const p = await projects.compile("include:\n  - project: group/lib\n    ref: v1\n    file: ['/ci/build.yml']\n  - project: group/lib\n    file: [ci/test.yml]\n", { includes: includes() });
    expect(jobNames(p)).toEqual(['shared', 'build', 'test']);
    expect(p.jobs.find((j) => j.name === 'build')!.spec.steps[0]!.script).toEqual(['old']);
    const head = await projects.compile('include:\n  - project: group/lib\n    file: ci/build.yml\n', { includes: includes() });
    expect(head.jobs.find((j) => j.name === 'build')!.spec.steps[0]!.script).toEqual(['new']);
  });

  it('fails with the file and line of the include for a bad ref, a missing file, an unknown project', async () => {
    expect((await projects.error('job: {script: x}\ninclude:\n  - project: group/lib\n    ref: nope\n    file: ci/build.yml\n', { includes: includes() })).message).toBe(
      `.gitlab-ci.yml:3: include:project "group/lib": ref "nope" does not exist in ${lib} (the local checkout of group/lib); check the ref`,
    );
    expect((await projects.error('include:\n  - project: group/lib\n    file: ci/missing.yml\n', { includes: includes() })).message).toBe(
      `.gitlab-ci.yml:2: include:project "group/lib": ci/missing.yml does not exist in group/lib at the default branch (${lib}); check the file name and the ref`,
    );
    // Not mapped, and no GitLab known for it: not the pipeline's fault, so skipped with a warning.
    const skipped = await projects.compile('job: {script: x}\ninclude:\n  - project: other/unknown\n    file: ci.yml\n', { includes: includes(), git: { remoteUrl: 'file:///nonexistent/x.git' } });
    expect(skipped.jobs.map((j) => j.name)).toEqual(['job']);
    expect(skipped.warnings).toContain(
      '.gitlab-ci.yml:3: include:project "other/unknown": the repository has no http(s) or ssh git remote to tell which GitLab holds other/unknown; map the project to a checkout with --include-project other/unknown=/path/to/checkout; it is skipped, so the jobs and templates it defines are missing',
    );
  });
});

describe('include:component', () => {
  const includes = () => ({ cacheDir: join(tmp, 'cache'), projects: { 'group/comps': comps } });

  it('reads templates/<name>.yml or templates/<name>/template.yml at the version, with inputs; ~latest and 1 pick the highest release', async () => {
    const p = await projects.compile(
      'stages: [test, lint]\ninclude:\n  - component: $CI_SERVER_FQDN/group/comps/lint@1.0.0\n    inputs: {stage: lint}\n  - component: gitlab.example.com/group/comps/deploy@main\n',
      { includes: includes() },
    );
    expect(jobNames(p)).toEqual(['lint-v1', 'deploy-component']);
    expect(p.jobs[0]!.stage).toBe('lint');
    expect(jobNames(await projects.compile('include:\n  - component: $CI_SERVER_FQDN/group/comps/lint@~latest\n', { includes: includes() }))).toEqual(['lint-v2']);
    expect(jobNames(await projects.compile('include:\n  - component: $CI_SERVER_FQDN/group/comps/lint@1\n', { includes: includes() }))).toEqual(['lint-v2']);
    expect((await projects.error('include:\n  - component: $CI_SERVER_FQDN/group/comps/nope@1.0.0\n', { includes: includes() })).message).toBe(
      '.gitlab-ci.yml:2: include:component "gitlab.example.invalid/group/comps/nope@1.0.0": group/comps@1.0.0 has neither templates/nope.yml nor templates/nope/template.yml; check the component name',
    );
    expect((await projects.error('include:\n  - component: other.example.com/group/comps/lint@1.0.0\n', { includes: includes() })).message).toMatch(
      /components come from this GitLab instance \(gitlab\.example\.com, \$CI_SERVER_FQDN\), not other\.example\.com/,
    );
  });
});

describe('include:project fetched with git from the GitLab of the remote', () => {
  let server: GitHttpServer;
  const token = 'glpat-SECRETtoken1234567890';
  beforeAll(async () => {
    const served = join(tmp, 'served');
    await mkdir(join(served, 'group'), { recursive: true });
    await git(tmp, 'clone', '-q', '--bare', lib, join(served, 'group', 'lib.git'));
    server = await startGitHttpServer(served);
    server.tokens.add(token);
  });
  afterAll(() => server.close());

  it('fetches the project at the ref with the token in a header, never on a command line or in a message', async () => {
    const cacheDir = join(tmp, 'git-cache');
    const remote = { remoteUrl: `${server.url}/group/app.git` };
    // A git on PATH that logs its command line (what ps shows) and runs the real one.
    const real = (await promisify(execFile)('sh', ['-c', 'command -v git'])).stdout.trim();
    const bin = join(tmp, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'git'), `#!/bin/sh\necho "$*" >> ${join(tmp, 'argv.log')}\nexec ${real} "$@"\n`);
    await chmod(join(bin, 'git'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    const p = await projects
      .compile('include:\n  - project: group/lib\n    ref: v1\n    file: ci/build.yml\n', { git: remote, includes: { cacheDir, token } })
      .finally(() => (process.env.PATH = path));
    const argv = await readFile(join(tmp, 'argv.log'), 'utf8');
    expect(argv).toMatch(/ fetch --quiet --no-tags --depth=1 http:\/\/127\.0\.0\.1:\d+\/group\/lib\.git \+v1:refs\/berth\/cache\/7631/);
    expect(argv).not.toContain(token);
    expect(argv).not.toContain(Buffer.from(`gitlab-ci-token:${token}`).toString('base64'));
    expect(jobNames(p)).toEqual(['shared', 'build']);
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.authorized)).toBe(true);
    expect(variableMap(p, 'build')).not.toHaveProperty('BERTH_GITLAB_TOKEN');
    // Nothing of the token is stored in the cache repository.
    const gitDirs = await readdir(join(cacheDir, 'git'));
    const config = await git(join(cacheDir, 'git', gitDirs[0]!), 'config', '--list', '--local');
    expect(config.stdout).not.toContain('SECRET');

    const badRef = await projects.error('include:\n  - project: group/lib\n    ref: nope\n    file: ci/build.yml\n', { git: remote, includes: { cacheDir, token } });
    expect(badRef.message).toBe(`.gitlab-ci.yml:2: include:project "group/lib": ref "nope" does not exist in ${server.url}/group/lib.git; check the ref`);

    const wrong = 'glpat-WRONGtoken0987654321';
    const denied = await projects.error('include:\n  - project: group/lib\n    file: ci/build.yml\n', { git: remote, includes: { cacheDir, token: wrong } });
    expect(denied.message).toMatch(/^\.gitlab-ci\.yml:2: include:project "group\/lib": http:\/\/127\.0\.0\.1:\d+\/group\/lib\.git refused access \(.*\); set BERTH_GITLAB_TOKEN to a token that can read the project$/);
    for (const text of [denied.message, String(denied.cause), badRef.message, String(badRef.cause), JSON.stringify(p.warnings)]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(token);
      expect(text).not.toContain(Buffer.from(`gitlab-ci-token:${wrong}`).toString('base64'));
    }

    const unreachable = await projects.compile('job: {script: x}\ninclude:\n  - project: group/lib\n    file: ci/build.yml\n', { git: { remoteUrl: 'http://127.0.0.1:1/group/app.git' }, includes: { cacheDir, token } });
    expect(unreachable.jobs.map((j) => j.name)).toEqual(['job']);
    expect(unreachable.warnings.join('\n')).toMatch(/^\.gitlab-ci\.yml:3: include:project "group\/lib": http:\/\/127\.0\.0\.1:1\/group\/lib\.git is not reachable \(.*\); check the network, or map the project with --include-project; it is skipped/m);
    expect(unreachable.warnings.join('\n')).not.toContain(token);
  });
});

describe('include:project and include:component from the include cache when the server fails', () => {
  /** A TCP server on `port` that accepts connections and never answers (a hung GitLab). */
  async function silentServer(port: number): Promise<{ close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    return {
      close: () => {
        for (const s of sockets) s.destroy();
        return new Promise((resolve) => server.close(() => resolve()));
      },
    };
  }

  it('uses the ref fetched earlier, with a warning naming the date and the reason (refused, timeout, unreachable, --offline); a missing ref stays an error', async () => {
    const served = join(tmp, 'served-for-cache');
    await mkdir(join(served, 'group'), { recursive: true });
    await git(tmp, 'clone', '-q', '--bare', lib, join(served, 'group', 'lib.git'));
    await git(tmp, 'clone', '-q', '--bare', comps, join(served, 'group', 'comps.git'));
    const server = await startGitHttpServer(served);
    const token = 'glpat-CACHEtoken1234567890';
    server.tokens.add(token);
    const cacheDir = join(tmp, 'fallback-cache');
    const remote = { remoteUrl: `${server.url}/group/app.git` };
    const yml = 'include:\n  - project: group/lib\n    ref: v1\n    file: ci/build.yml\n  - component: $CI_SERVER_FQDN/group/comps/lint@~latest\n';
    const compile = (extra: { token?: string; timeoutMs?: number; offline?: boolean } = {}) =>
      projects.compile(yml, { git: remote, includes: { cacheDir, token, ...extra } });

    const fresh = await compile();
    expect(jobNames(fresh)).toEqual(['shared', 'build', 'lint-v2']);
    expect(fresh.warnings).toEqual([]);
    const when = /comes? from the include cache of \d{4}-\d\d-\d\d \d\d:\d\d UTC \(.*fallback-cache\) because /.source;

    // The server refuses the token: the cached copies stand in.
    const refused = await compile({ token: 'glpat-WRONGtoken0987654321' });
    expect(jobNames(refused)).toEqual(['shared', 'build', 'lint-v2']);
    expect(refused.jobs.find((j) => j.name === 'build')!.spec.steps[0]!.script).toEqual(['old']);
    expect(refused.warnings.join('\n')).toMatch(new RegExp(`^\\.gitlab-ci\\.yml:2: include:project "group/lib": ref "v1" ${when}http://127\\.0\\.0\\.1:\\d+/group/lib\\.git refused access \\(.*\\)$`, 'm'));
    expect(refused.warnings.join('\n')).toMatch(new RegExp(`^\\.gitlab-ci\\.yml:5: include:component "[^"]+/group/comps/lint@~latest": the tags of group/comps come from the include cache of .* because .*group/comps\\.git refused access`, 'm'));
    expect(refused.warnings.join('\n')).not.toContain('WRONG');

    // A ref the server says does not exist is not hidden by the cache.
    const missing = await projects.error('include:\n  - project: group/lib\n    ref: nope\n    file: ci/build.yml\n', { git: remote, includes: { cacheDir, token } });
    expect(missing.message).toMatch(/ref "nope" does not exist in http:\/\/127\.0\.0\.1:\d+\/group\/lib\.git; check the ref$/);

    // The server stops answering (accepts, never replies): a timeout, then the cache.
    await server.close();
    const port = Number(new URL(server.url).port);
    const silent = await silentServer(port);
    try {
      const hung = await compile({ timeoutMs: 250 });
      expect(jobNames(hung)).toEqual(['shared', 'build', 'lint-v2']);
      expect(hung.warnings.join('\n')).toMatch(new RegExp(`include:project "group/lib": ref "v1" ${when}http://127\\.0\\.0\\.1:${port}/group/lib\\.git did not answer within 1 s$`, 'm'));
    } finally {
      await silent.close();
    }

    // Nothing listens any more: connection refused, then the cache; the same jobs as fetched.
    const down = await compile();
    expect(jobNames(down)).toEqual(jobNames(fresh));
    expect(down.jobs.map((j) => j.spec.steps[0]!.script)).toEqual(fresh.jobs.map((j) => j.spec.steps[0]!.script));
    expect(down.warnings.join('\n')).toMatch(new RegExp(`include:project "group/lib": ref "v1" ${when}http://127\\.0\\.0\\.1:${port}/group/lib\\.git is not reachable \\(.+\\)$`, 'm'));
    expect(down.warnings.join('\n')).toMatch(/include:component "[^"]+\/group\/comps\/lint@~latest": ref "1\.1\.0" comes from the include cache of /);

    // --offline reads the cache without trying the network.
    const offline = await compile({ offline: true });
    expect(jobNames(offline)).toEqual(jobNames(fresh));
    expect(offline.warnings.join('\n')).toMatch(new RegExp(`include:project "group/lib": ref "v1" ${when}berth exec runs --offline$`, 'm'));

    // A ref never fetched: today's behaviour (skipped with the warning that it is unavailable).
    const never = await projects.compile('job: {script: x}\ninclude:\n  - project: group/lib\n    file: ci/test.yml\n', { git: remote, includes: { cacheDir, token } });
    expect(jobNames(never)).toEqual(['job']);
    expect(never.warnings.join('\n')).toMatch(/include:project "group\/lib": http:\/\/127\.0\.0\.1:\d+\/group\/lib\.git is not reachable \(.*\); check the network, or map the project with --include-project; it is skipped/);
  }, 60_000);
});

describe('include:component and include:project of the project itself', () => {
  const component = 'spec:\n  inputs:\n    stage: {default: test}\n---\ndeploy-from-component:\n  stage: $[[ inputs.stage ]]\n  script: committed\n';

  async function ownRepo(name: string, ci: string): Promise<string> {
    const dir = await repo(join(tmp, name), [{ files: { '.gitlab-ci.yml': ci, 'templates/deploy.yml': component, 'ci/jobs.yml': 'own-job: {script: o}\n' } }]);
    await git(dir, 'remote', 'add', 'origin', 'git@gitlab.example.invalid:group/own.git');
    return dir;
  }

  it('reads its own component at $CI_COMMIT_SHA from this repository (committed content), offline and without a fetch', async () => {
    const dir = await ownRepo('own-component', 'include:\n  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/deploy@$CI_COMMIT_SHA\n    inputs: {stage: deploy}\n');
    // Not committed: GitLab reads the component at the commit, not what the working tree holds.
    await writeFile(join(dir, 'templates/deploy.yml'), 'changed-in-tree: {script: x}\n');
    const p = await compilePipeline({ cwd: dir, includes: { cacheDir: join(tmp, 'own-cache'), offline: true } });
    expect(p.warnings).toEqual([]);
    expect(p.jobs.map((j) => [j.name, j.stage, j.spec.steps[0]!.script])).toEqual([['deploy-from-component', 'deploy', ['committed']]]);
  });

  it('reads an include:project of itself from this repository; a --include-project mapping of the same path wins', async () => {
    const dir = await ownRepo('own-project', 'include:\n  - project: group/own\n    file: ci/jobs.yml\n');
    const own = await compilePipeline({ cwd: dir, includes: { cacheDir: join(tmp, 'own-cache'), offline: true } });
    expect(jobNames(own)).toEqual(['own-job']);
    const other = await repo(join(tmp, 'own-elsewhere'), [{ files: { 'ci/jobs.yml': 'mapped-job: {script: m}\n' } }]);
    const mapped = await compilePipeline({ cwd: dir, includes: { cacheDir: join(tmp, 'own-cache'), offline: true, projects: { 'group/own': other } } });
    expect(jobNames(mapped)).toEqual(['mapped-job']);
  });

  it('finds a ref the checkout only has as a remote-tracking branch (origin/main, no local main)', async () => {
    const dir = await ownRepo('own-remote-ref', 'include:\n  - project: group/own\n    ref: release\n    file: ci/jobs.yml\n');
    const head = (await git(dir, 'rev-parse', 'HEAD')).stdout.trim();
    await git(dir, 'update-ref', 'refs/remotes/origin/release', head);
    const p = await compilePipeline({ cwd: dir, includes: { cacheDir: join(tmp, 'own-cache'), offline: true } });
    expect(jobNames(p)).toEqual(['own-job']);
    await git(dir, 'update-ref', '-d', 'refs/remotes/origin/release');
    await expect(compilePipeline({ cwd: dir, includes: { cacheDir: join(tmp, 'own-cache'), offline: true } })).rejects.toThrow(/ref "release" does not exist/);
  });
});
