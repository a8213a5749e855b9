/**
 * The servers of bench/run-throughput, built on the test support: the GitLab API test server
 * (trace update interval 1 s), a git smart-HTTP server with a small repository, a config.toml,
 * and a queue of trivial jobs whose hand-out and final update are time-stamped as the server
 * sees them. run.mjs bundles this file with esbuild and imports it (plain `node` cannot load
 * TypeScript); times are epoch milliseconds with sub-millisecond precision.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shortToken as shortenToken } from '../../src/gitlab/short-token.js';
import { startGitHttpServer, type GitHttpServer } from '../../test/support/git-http-server.js';
import { GitLabTestServer, type TestJob } from '../../test/support/gitlab-test-server.js';
import { enqueueRepoJob } from '../../test/support/repo-job.js';

export interface BenchConfig {
  concurrent: number;
  checkIntervalSeconds: number;
  image: string;
}

export interface JobTimes {
  id: number;
  /** The job-request that handed the job out was answered. */
  handedOutAt: number | null;
  /** The final update (success/failed) was accepted. */
  finalAt: number | null;
  /** The git server's first and last authorised request with the job's token. */
  gitFirstAt: number | null;
  gitLastAt: number | null;
  state: string | null;
  trace: string;
}

export interface BenchServers {
  dir: string;
  configPath: string;
  shortToken: string;
  writeConfig(c: BenchConfig): void;
  /** Queues `count` jobs running `echo job N`, sources from the repository (clone, depth 20). */
  enqueue(count: number): void;
  jobs(): JobTimes[];
  /** Arrival times of every POST /jobs/request. */
  jobRequests(): number[];
  close(): Promise<void>;
}

type Stamps = Pick<JobTimes, 'handedOutAt' | 'finalAt' | 'gitFirstAt' | 'gitLastAt'>;

export const now = (): number => performance.timeOrigin + performance.now();

const REPO_FILES: Record<string, string> = {
  'README.md': '# bench project\n',
  'data.txt': 'data from the repository\n',
  'src/main.sh': '#!/bin/sh\necho main\n',
  'src/lib.sh': 'greet() { echo "hello $1"; }\n',
  'config/settings.ini': '[bench]\nkey = value\n',
};

export async function startBenchServers(): Promise<BenchServers> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-run-'));
  const { sha } = makeRepository(dir);
  const git: GitHttpServer = await startGitHttpServer(join(dir, 'repos'));
  const gl = await GitLabTestServer.start({ traceUpdateIntervalSeconds: 1 });
  const configPath = join(dir, 'config', 'config.toml');
  const times = new Map<number, Stamps>();
  const byToken = new Map<string, Stamps>();
  const queued: TestJob[] = [];
  // The git server asks its token set about every request's password: that time-stamps the
  // job's source fetch on the server side.
  const tokenSet = git.tokens;
  tokenSet.has = (token: string): boolean => {
    const ok = Set.prototype.has.call(tokenSet, token);
    const t = ok ? byToken.get(token) : undefined;
    if (t) {
      t.gitFirstAt ??= now();
      t.gitLastAt = now();
    }
    return ok;
  };

  const stamp = (job: TestJob): void => {
    const t: Stamps = { handedOutAt: null, finalAt: null, gitFirstAt: null, gitLastAt: null };
    times.set(job.id, t);
    byToken.set(job.token, t);
    // The server sets status 'running' just before it answers 201, and `final` just before it
    // answers 200 to the final update: the setters time-stamp those moments.
    let status = job.status;
    let final = job.final;
    Object.defineProperty(job, 'status', {
      get: () => status,
      set: (v: TestJob['status']) => {
        if (v === 'running' && t.handedOutAt === null) t.handedOutAt = now();
        status = v;
      },
    });
    Object.defineProperty(job, 'final', {
      get: () => final,
      set: (v: TestJob['final']) => {
        if (v !== null && t.finalAt === null) t.finalAt = now();
        final = v;
      },
    });
  };

  return {
    dir,
    configPath,
    shortToken: shortenToken(gl.runnerToken),
    writeConfig(c) {
      mkdirSync(join(dir, 'config'), { recursive: true });
      const text = [
        `concurrent = ${c.concurrent}`,
        `check_interval = ${c.checkIntervalSeconds}`,
        'shutdown_timeout = 30',
        '',
        '[[runners]]',
        '  name = "bench-runner"',
        `  url = "${gl.url}"`,
        `  token = "${gl.runnerToken}"`,
        '  executor = "docker"',
        '  [runners.docker]',
        `    image = "${c.image}"`,
        '    pull_policy = ["if-not-present"]',
        '',
      ].join('\n');
      writeFileSync(configPath, text, { mode: 0o600 });
    },
    enqueue(count) {
      for (let i = 1; i <= count; i++) {
        // image null: the runner's [runners.docker] image.
        const job = enqueueRepoJob(gl, git, sha, { script: [`echo job ${i}`], overrides: { image: null } });
        stamp(job);
        queued.push(job);
      }
    },
    jobs: () =>
      queued.map((j) => ({
        id: j.id,
        ...times.get(j.id)!,
        state: j.final?.state ?? null,
        trace: j.trace.toString('utf8'),
      })),
    jobRequests: () => gl.requestsTo('request').map((r) => r.at),
    async close() {
      await gl.close();
      await git.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function makeRepository(dir: string): { sha: string } {
  const work = join(dir, 'work');
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: work, encoding: 'utf8' }).trim();
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  git('config', 'user.email', 'bench@example.invalid');
  git('config', 'user.name', 'Bench');
  for (const [path, content] of Object.entries(REPO_FILES)) {
    mkdirSync(join(work, path, '..'), { recursive: true });
    writeFileSync(join(work, path), content);
  }
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  git('commit', '-q', '--allow-empty', '-m', 'second');
  const sha = git('rev-parse', 'HEAD');
  execFileSync('git', ['clone', '-q', '--bare', work, join(dir, 'repos', 'group', 'project.git')]);
  return { sha };
}
