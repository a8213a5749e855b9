/**
 * End-to-end fixture for `berth run`: a GitLab API test server, a git smart-HTTP server with a
 * small repository, a config.toml in a temp folder, and helpers to queue jobs whose sources
 * come from that repository and to start the daemon as a user would.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shortToken } from '../../src/gitlab/short-token.js';
import { startBerth, type RunningCli } from './berth-cli.js';
import { enqueueRepoJob } from './repo-job.js';
import { startGitHttpServer, type GitHttpServer } from './git-http-server.js';
import { GitLabTestServer, type EnqueueOptions, type GitLabTestServerOptions, type TestJob } from './gitlab-test-server.js';

export interface RunFixture {
  dir: string;
  gl: GitLabTestServer;
  git: GitHttpServer;
  sha: string;
  configPath: string;
  shortToken: string;
  /** Label filter that selects this runner's Docker objects. */
  labelFilter: string;
  writeConfig(opts?: { concurrent?: number; shutdownTimeout?: number; extraRunner?: string; runner?: string; global?: string; docker?: string }): void;
  enqueue(opts?: EnqueueOptions): TestJob;
  start(args?: string[], env?: NodeJS.ProcessEnv): RunningCli;
  close(): Promise<void>;
}

export async function createRunFixture(opts: GitLabTestServerOptions = {}): Promise<RunFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-run-e2e-'));
  const work = join(dir, 'work');
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: work, encoding: 'utf8' }).trim();
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  git('config', 'user.email', 'dev@example.invalid');
  git('config', 'user.name', 'Dev');
  writeFileSync(join(work, 'README.md'), '# e2e project\n');
  writeFileSync(join(work, 'data.txt'), 'data from the repository\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  const sha = git('rev-parse', 'HEAD');
  execFileSync('git', ['clone', '-q', '--bare', work, join(dir, 'repos', 'group', 'project.git')]);
  const gitServer = await startGitHttpServer(join(dir, 'repos'));
  const gl = await GitLabTestServer.start({ traceUpdateIntervalSeconds: 1, ...opts });
  const configPath = join(dir, 'config', 'config.toml');
  const runnerShortToken = shortToken(gl.runnerToken);
  const running: RunningCli[] = [];

  const fixture: RunFixture = {
    dir,
    gl,
    git: gitServer,
    sha,
    configPath,
    shortToken: runnerShortToken,
    labelFilter: `berth.runner.short_token=${runnerShortToken}`,
    writeConfig(c = {}) {
      execFileSync('mkdir', ['-p', join(dir, 'config')]);
      const text = [
        `concurrent = ${c.concurrent ?? 4}`,
        'check_interval = 1',
        `shutdown_timeout = ${c.shutdownTimeout ?? 30}`,
        c.global ?? '',
        '',
        '[[runners]]',
        '  name = "e2e-runner"',
        `  url = "${gl.url}"`,
        `  token = "${gl.runnerToken}"`,
        '  executor = "docker"',
        c.runner ?? '',
        '  [runners.docker]',
        '    image = "berth-test/busybox:latest"',
        '    pull_policy = ["if-not-present"]',
        '    wait_for_services_timeout = 10',
        c.docker ?? '',
        c.extraRunner ?? '',
        '',
      ].join('\n');
      writeFileSync(configPath, text, { mode: 0o600 });
    },
    enqueue(o = {}) {
      return enqueueRepoJob(gl, gitServer, sha, { image: 'berth-test/bash:latest', ...o });
    },
    start(args = [], env) {
      const r = startBerth(['run', '--config', configPath, '--log-format', 'text', ...args], env ? { env } : {});
      running.push(r);
      return r;
    },
    async close() {
      // SIGTERM first (abort the running jobs, remove their containers, exit), as a service
      // manager stops berth: the final update of a job goes out before its containers are
      // removed, so a SIGKILL right after a final update could leave them. SIGKILL after 20 s.
      const alive = running.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
      for (const r of alive) r.child.kill('SIGTERM');
      const kill = setTimeout(() => {
        for (const r of alive) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      }, 20_000);
      await Promise.all(running.map((r) => r.result));
      clearTimeout(kill);
      await gl.close();
      await gitServer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
