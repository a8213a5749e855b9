/**
 * The load harness behind bench/load/run.mjs and test/e2e/load.test.ts (issue 11, L1–L3): one
 * GitLab API test server with N queued short jobs (sources from the git test server), three
 * `berth run` processes (own config.toml, own `.runner_system_id`, own TMPDIR) on two engines:
 *
 *   r1: token A on the local engine                    (concurrent C)
 *   r2: token B on the remote TLS engine               (concurrent C)
 *   r3: token A local + token B remote, limit C/2 each (concurrent C)
 *
 * r1 and r3 share token A (and r2/r3 token B): two runner managers of one runner, told apart only
 * by their system id, so a sweeper that selected by token alone would remove the other's jobs.
 * The server's request log is the record: which request (token, system_id) took which job,
 * every accepted final update, every fault it injected.
 *
 * L2 programmes the server (random, seeded by the caller's rate) to answer a share of
 * jobs/request, PUT /jobs/:id and PATCH /jobs/:id/trace with 500/502 or to drop the connection.
 * L3 SIGKILLs r1 mid-load, restarts it, and — as GitLab's stuck-build worker does server-side
 * (GL app/services/ci/stuck_builds/drop_running_service.rb: running builds with no update for
 * BUILD_RUNNING_OUTDATED_TIMEOUT, 1 h, are dropped with failure_reason stuck_or_timeout_failure) —
 * fails the jobs it held once they have had no update for `stuckAfterMs`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { shortToken as shortenToken } from '../../src/gitlab/short-token.js';
import { BERTH_MAIN } from './berth-cli.js';
import { startGitHttpServer } from './git-http-server.js';
import { type FaultStep, GitLabTestServer, type TestJob } from './gitlab-test-server.js';
import { enqueueRepoJob } from './repo-job.js';

export interface RemoteEngine {
  host: string;
  certPath: string;
}

export interface LoadOptions {
  kase: 'l1' | 'l2' | 'l3';
  jobs: number;
  /** `concurrent` of each runner process. */
  concurrent: number;
  /** null: every runner on the local engine (no remote engine available). */
  remote: RemoteEngine | null;
  /** L2: share of requests answered 500/502 or dropped (default 0.1). */
  faultRate?: number;
  /** L3: kill r1 once this many jobs have their final update (default a quarter). */
  killAfterFinals?: number;
  /** L3: a running job without PATCH/PUT for this long is failed by the server (default 20 s). */
  stuckAfterMs?: number;
  /** Plain runs per engine for the baseline (default 3 rounds of `concurrent`). */
  baselineRounds?: number;
  timeoutMs: number;
  image?: string;
  /** The CLI bundle to run (default dist/berth.mjs of this checkout). */
  main?: string;
  /** Each job sleeps this long after its echo (L3: so the kill finds a running container). */
  sleepSeconds?: number;
  log?: (line: string) => void;
}

export interface RunnerFigures {
  name: string;
  pid: number[];
  peakRssMb: number;
  /** Own + children (git) CPU over the load, % of one core. */
  cpuPercent: number;
  jobsFinished: number;
  exit: string;
}

export interface LoadResult {
  jobs: number;
  wallMs: number;
  jobsPerMinute: number;
  /** Median plain create→start→wait→remove per engine (Engine API). */
  baselineMs: Record<string, number>;
  overheadP50Ms: number;
  overheadP99Ms: number;
  /** Job id → how many 201s handed it out. */
  handOuts: Map<number, number>;
  /** Job id → how many final PUTs the server accepted (200). */
  acceptedFinals: Map<number, number>;
  states: Record<string, number>;
  /** Jobs that did not succeed: state, failure_reason, the end of their trace. */
  notSucceeded: string[];
  /** Jobs whose trace failed a check (canary, own id, checksum). */
  badTraces: string[];
  /** Label-selected leftovers per engine after the runners stopped. */
  leftovers: Record<string, string[]>;
  /** Per runner: what is left in its TMPDIR after it stopped (git temp folders of a killed process are swept at its restart). */
  tempLeftovers: Record<string, string[]>;
  runners: RunnerFigures[];
  faults: { injected: number; byEndpoint: Record<string, number>; maxAttemptsPerJobUpdate: number; maxConsecutiveFailuresPerJob: number };
  l3?: {
    killedHeld: number[];
    /** What was on the engine under r1's labels right after the kill, and after its restart. */
    r1ObjectsAfterKill: number;
    r1ObjectsAfterRestart: number;
    sweepLine: string;
    /** The held jobs' server status and whether berth ever sent a final update for them. */
    heldJobs: { id: number; status: string; final: string | null; trace: string }[];
    othersFailed: number;
  };
  /** Per runner: the last lines of its log (for a failing assertion). */
  logs: Record<string, string>;
}

interface Runner {
  name: string;
  dir: string;
  configPath: string;
  systemId: string;
  entries: string[];
  child: ChildProcess | null;
  pids: number[];
  log: string;
  peakKb: number;
  ticks: number;
  exit: string;
}

const CLK_TCK = 100;
const now = (): number => performance.timeOrigin + performance.now();

function procTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return f[11]! + f[12]! + f[13]! + f[14]!;
  } catch {
    return -1;
  }
}

function peakKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

const systemIdOf = (): string => {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `r_${Array.from({ length: 12 }, () => abc[randomInt(abc.length)]).join('')}`;
};

function makeRepository(dir: string): string {
  const work = join(dir, 'work');
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: work, encoding: 'utf8' }).trim();
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  git('config', 'user.email', 'load@example.invalid');
  git('config', 'user.name', 'Load');
  writeFileSync(join(work, 'README.md'), '# load project\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  execFileSync('git', ['clone', '-q', '--bare', work, join(dir, 'repos', 'group', 'project.git')]);
  return git('rev-parse', 'HEAD');
}

/** A programme of `count` steps where about `rate` of them are a 500, a 502 or a dropped connection. */
function randomFaults(count: number, rate: number): FaultStep[] {
  // Each kind early, so that even a small run meets all three; then the random share.
  const steps: FaultStep[] = [{ pass: true, times: 2 }, { status: 500 }, { pass: true, times: 2 }, { status: 502 }, { pass: true, times: 2 }, { drop: true }];
  let pass = 0;
  for (let i = 0; i < count; i++) {
    if (Math.random() >= rate) {
      pass++;
      continue;
    }
    if (pass) steps.push({ pass: true, times: pass });
    pass = 0;
    const k = randomInt(3);
    steps.push(k === 0 ? { status: 500 } : k === 1 ? { status: 502 } : { drop: true });
  }
  return steps;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const log = o.log ?? ((): void => undefined);
  const image = o.image ?? 'berth-test/busybox:latest';
  const dir = mkdtempSync(join(tmpdir(), 'berth-load-'));
  const sha = makeRepository(dir);
  const git = await startGitHttpServer(join(dir, 'repos'));
  const gl = await GitLabTestServer.start({ traceUpdateIntervalSeconds: 1 });
  const tokenA = gl.runnerToken;
  const tokenB = gl.addRunner().token;
  const local = new DockerodeEngine({ host: 'unix:///var/run/docker.sock' });
  const remote = o.remote ? new DockerodeEngine({ host: o.remote.host, tlsVerify: true, tlsCertPath: o.remote.certPath }) : local;
  const engines: Record<string, DockerodeEngine> = o.remote ? { local, remote } : { local };
  const half = Math.max(1, Math.floor(o.concurrent / 2));
  const docker = (where: 'local' | 'remote'): string =>
    where === 'local' || !o.remote
      ? '    host = "unix:///var/run/docker.sock"'
      : `    host = "${o.remote.host}"\n    tls_verify = true\n    tls_cert_path = "${o.remote.certPath}"`;
  const entry = (name: string, token: string, where: 'local' | 'remote', limit: number): string =>
    [
      '[[runners]]',
      `  name = "${name}"`,
      `  url = "${gl.url}"`,
      `  token = "${token}"`,
      '  executor = "docker"',
      `  limit = ${limit}`,
      '  [runners.docker]',
      `    image = "${image}"`,
      '    pull_policy = ["if-not-present"]',
      docker(where),
      '',
    ].join('\n');
  const runners: Runner[] = [
    { name: 'r1', entries: [entry('load-r1-local', tokenA, 'local', 0)] },
    { name: 'r2', entries: [entry('load-r2-remote', tokenB, 'remote', 0)] },
    { name: 'r3', entries: [entry('load-r3-local', tokenA, 'local', half), entry('load-r3-remote', tokenB, 'remote', half)] },
  ].map((r) => {
    const rdir = join(dir, r.name);
    mkdirSync(join(rdir, 'tmp'), { recursive: true });
    const configPath = join(rdir, 'config.toml');
    const systemId = systemIdOf();
    writeFileSync(join(rdir, '.runner_system_id'), systemId, { mode: 0o600 });
    writeFileSync(configPath, [`concurrent = ${o.concurrent}`, 'check_interval = 1', 'shutdown_timeout = 30', '', ...r.entries].join('\n'), { mode: 0o600 });
    return { ...r, dir: rdir, configPath, systemId, child: null, pids: [], log: '', peakKb: 0, ticks: 0, exit: '' };
  });
  const labelsOf = (r: Runner): string[] => [`berth.runner.system_id=${r.systemId}`];
  const objectsOf = async (engine: DockerodeEngine, labels: string[]): Promise<string[]> => {
    const [c, n, v] = await Promise.all([engine.listContainers(labels), engine.listNetworks(labels), engine.listVolumes(labels)]);
    return [...c.map((x) => `container ${x.name}`), ...n.map((x) => `network ${x.name}`), ...v.map((x) => `volume ${x.name}`)];
  };

  const start = (r: Runner): void => {
    const child = spawn(process.execPath, [o.main ?? BERTH_MAIN, 'run', '--config', r.configPath, '--log-format', 'text'], {
      env: { ...process.env, NO_COLOR: '1', TMPDIR: join(r.dir, 'tmp'), DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer): void => void (r.log = (r.log + d.toString()).slice(-200_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    r.child = child;
    r.pids.push(child.pid!);
  };
  const alive = (r: Runner): boolean => r.child !== null && r.child.exitCode === null && r.child.signalCode === null;
  const ticksBase = new Map<number, number>();
  const sample = (): void => {
    for (const r of runners) {
      if (!alive(r)) continue;
      const pid = r.child!.pid!;
      r.peakKb = Math.max(r.peakKb, peakKb(pid));
      const t = procTicks(pid);
      if (t >= 0) ticksBase.set(pid, t);
    }
  };

  let sampler: NodeJS.Timeout | null = null;
  /** L3: r1 is being killed and restarted on purpose. */
  let killing = false;
  try {
    // The baseline: the same container, plain, through the Engine API, `concurrent` at a time.
    const baselineMs: Record<string, number> = {};
    for (const [name, engine] of Object.entries(engines)) {
      const times: number[] = [];
      const label = `berth.load.baseline=${randomBytes(4).toString('hex')}`;
      const one = async (i: number): Promise<void> => {
        const t0 = now();
        const id = await engine.createContainer({ name: `berth-load-baseline-${randomBytes(4).toString('hex')}-${i}`, image, cmd: ['sh', '-c', 'echo job'], labels: { [label.split('=')[0]!]: label.split('=')[1]! } });
        await engine.startContainer(id);
        await engine.waitContainer(id);
        await engine.removeContainer(id, { force: true });
        times.push(now() - t0);
      };
      await one(0);
      times.length = 0;
      for (let round = 0; round < (o.baselineRounds ?? 3); round++) await Promise.all(Array.from({ length: o.concurrent }, (_, i) => one(i)));
      baselineMs[name] = percentile(times, 50);
    }
    log(`baseline (plain run, Engine API): ${JSON.stringify(baselineMs)}`);

    const jobs: TestJob[] = [];
    for (let i = 1; i <= o.jobs; i++) {
      const canary = randomBytes(6).toString('hex');
      const job = enqueueRepoJob(gl, git, sha, { script: [`echo "job ${i} canary ${canary}"`, ...(o.sleepSeconds ? [`sleep ${o.sleepSeconds}`] : [])], overrides: { image: null }, name: `load-${i}` });
      (job as TestJob & { canary?: string }).canary = canary;
      jobs.push(job);
    }
    if (o.kase === 'l2') {
      const rate = o.faultRate ?? 0.1;
      for (const ep of ['request', 'update', 'patch'] as const) gl.fault(ep, ...randomFaults(o.jobs * 40, rate));
    }

    const t0 = Date.now();
    for (const r of runners) start(r);
    sampler = setInterval(sample, 200);
    const finalOf = (): number => jobs.filter((j) => j.final !== null || j.status === 'failed').length;
    let l3: LoadResult['l3'];
    const r1 = runners[0]!;
    if (o.kase === 'l3') {
      const killAt = o.killAfterFinals ?? Math.floor(o.jobs / 4);
      await waitUntil(() => finalOf() >= killAt, o.timeoutMs, `${killAt} final updates before the kill`);
      // Kill while it holds jobs: wait until r1 has a job handed out and not finished.
      const held = (): number[] =>
        gl.requestsTo('request').filter((q) => q.status === 201 && (q.json as { system_id?: string }).system_id === r1.systemId && q.jobId !== undefined && gl.job(q.jobId).final === null).map((q) => q.jobId!);
      // Kill while it holds a job whose container exists on the engine. Only a held job's objects
      // count: a finished job's are being removed after its final update (the engine completes a
      // removal already asked for), so the sweep would find nothing of them.
      const holdsAContainer = async (): Promise<boolean> => {
        for (const id of held()) if ((await local.listContainers([...labelsOf(r1), `berth.job.id=${id}`])).length > 0) return true;
        return false;
      };
      const until = Date.now() + o.timeoutMs;
      while (!(await holdsAContainer())) {
        if (Date.now() > until) throw new Error('load: r1 never held a job with a container');
        await delay(20);
      }
      sample();
      killing = true;
      r1.child!.kill('SIGKILL');
      const killedAt = Date.now();
      // What the dead process held: every job handed out to it and never finished. A job-request
      // that was in flight at the kill is handed out after it (201 to a closed socket): GitLab
      // has the same window, and the same stuck job.
      const heldByDead = (): number[] =>
        gl.requestsTo('request').filter((q) => q.status === 201 && (q.json as { system_id?: string }).system_id === r1.systemId && q.at <= killedAt && q.jobId !== undefined && gl.job(q.jobId).final === null).map((q) => q.jobId!);
      const killedHeld = held();
      await new Promise((resolve) => r1.child!.once('close', resolve));
      r1.exit = 'SIGKILL, restarted';
      const afterKill = await objectsOf(local, labelsOf(r1));
      log(`L3: killed r1 (pid ${r1.pids[0]}) holding jobs ${killedHeld.join(', ')}; ${afterKill.length} object(s) of r1 on the engine`);
      const stuckAfter = o.stuckAfterMs ?? 20_000;
      // The server's stuck-build handling for what r1 held.
      const watchdog = setInterval(() => {
        for (const id of heldByDead()) {
          const job = gl.job(id);
          if (!job.processing) continue;
          const last = Math.max(...gl.requests.filter((q) => q.jobId === id).map((q) => q.at));
          if (Date.now() - last > stuckAfter) {
            job.status = 'failed';
            log(`L3: the server dropped stuck job ${id} (no update for ${stuckAfter} ms): failed, stuck_or_timeout_failure`);
          }
        }
      }, 500);
      try {
        const logBefore = r1.log.length;
        start(r1);
        killing = false;
        const restartedAt = Date.now();
        // berth sweeps before its first job request (src/daemon/run-daemon.ts).
        await waitUntil(() => gl.requestsTo('request').some((q) => (q.json as { system_id?: string }).system_id === r1.systemId && q.at >= restartedAt), 60_000, 'r1 to ask for jobs again');
        const afterRestart = await objectsOf(local, labelsOf(r1)).then((objs) => objs.filter((x) => afterKill.includes(x)));
        const restartLog = r1.log.slice(logBefore).split('\n');
        const sweepLine = restartLog.find((l) => /Removed what an earlier berth process left behind/.test(l)) ?? restartLog.find((l) => /Leftover/.test(l)) ?? '';
        await waitUntil(() => jobs.every((j) => j.final !== null || j.status === 'failed'), o.timeoutMs, 'every job to end');
        const finallyHeld = heldByDead();
        if (finallyHeld.length !== killedHeld.length) log(`L3: ${finallyHeld.length - killedHeld.length} job-request(s) in flight at the kill handed out a job to the dead process: ${finallyHeld.filter((id) => !killedHeld.includes(id)).join(', ')}`);
        l3 = {
          killedHeld: finallyHeld,
          r1ObjectsAfterKill: afterKill.length,
          r1ObjectsAfterRestart: afterRestart.length,
          sweepLine,
          heldJobs: finallyHeld.map((id) => {
            const j = gl.job(id);
            return { id, status: j.status, final: j.final?.state ?? null, trace: j.trace.toString('utf8').split('\n').slice(-3).join('\n') };
          }),
          othersFailed: jobs.filter((j) => !finallyHeld.includes(j.id) && j.final?.state !== 'success').length,
        };
      } finally {
        clearInterval(watchdog);
      }
    }
    await waitUntil(() => jobs.every((j) => j.final !== null || j.status === 'failed'), o.timeoutMs, `the final updates of ${o.jobs} jobs`, () =>
      runners.map((r) => `${r.name}: ${r.log.split('\n').slice(-15).join('\n')}`).join('\n---\n'),
    );
    const wallMs = Math.max(...jobs.map((j) => Math.max(0, ...gl.requests.filter((q) => q.jobId === j.id && q.endpoint === 'update' && q.status === 200).map((q) => q.at)))) - t0;
    sample();
    // Graceful stop; what each used.
    for (const r of runners) {
      r.ticks = r.pids.reduce((s, pid) => s + (ticksBase.get(pid) ?? 0), 0);
      if (!alive(r)) continue;
      const closed = new Promise((resolve) => r.child!.once('close', (code, sig) => resolve(`${code ?? sig}`)));
      r.child!.kill('SIGQUIT');
      r.exit = String(await Promise.race([closed, delay(40_000).then(() => 'no exit within 40 s of SIGQUIT')]));
    }

    const handOuts = new Map<number, number>();
    const acceptedFinals = new Map<number, number>();
    for (const q of gl.requests) {
      if (q.jobId === undefined) continue;
      if (q.endpoint === 'request' && q.status === 201) handOuts.set(q.jobId, (handOuts.get(q.jobId) ?? 0) + 1);
      const state = (q.json as { state?: string } | undefined)?.state;
      if (q.endpoint === 'update' && q.status === 200 && (state === 'success' || state === 'failed')) acceptedFinals.set(q.jobId, (acceptedFinals.get(q.jobId) ?? 0) + 1);
    }
    const states: Record<string, number> = {};
    const badTraces: string[] = [];
    const overheads: number[] = [];
    const killed = new Set(l3?.killedHeld ?? []);
    jobs.forEach((j, i) => {
      const state = j.final?.state ?? `server:${j.status}`;
      states[state] = (states[state] ?? 0) + 1;
      if (killed.has(j.id)) return;
      const trace = j.trace.toString('utf8');
      const canary = (j as TestJob & { canary?: string }).canary!;
      const others = (trace.match(/canary [0-9a-f]{12}/g) ?? []).filter((c) => c !== `canary ${canary}`);
      if (!trace.includes(`job ${i + 1} canary ${canary}\n`) || others.length || !/Job succeeded/.test(trace) || j.final?.checksum !== j.checksum()) {
        badTraces.push(`job ${j.id} (${state}): ${trace.slice(-400)}`);
      }
      const on = /\n\s*on (load-r\d-(local|remote)) /.exec(trace)?.[2] ?? 'local';
      const handed = gl.requests.find((q) => q.endpoint === 'request' && q.status === 201 && q.jobId === j.id)?.at;
      const fin = gl.requests.find((q) => q.endpoint === 'update' && q.status === 200 && q.jobId === j.id && (q.json as { state?: string }).state === j.final?.state)?.at;
      if (handed !== undefined && fin !== undefined) overheads.push(fin - handed - (baselineMs[o.remote ? on : 'local'] ?? 0));
    });
    const injected = gl.requests.filter((q) => q.status === 500 || q.status === 502 || q.status === -2);
    const byEndpoint: Record<string, number> = {};
    for (const q of injected) byEndpoint[q.endpoint] = (byEndpoint[q.endpoint] ?? 0) + 1;
    let maxAttempts = 0;
    let maxStreak = 0;
    for (const j of jobs) {
      const puts = gl.requests.filter((q) => q.jobId === j.id && q.endpoint === 'update' && (q.json as { state?: string } | undefined)?.state !== 'running');
      maxAttempts = Math.max(maxAttempts, puts.length);
      let streak = 0;
      for (const q of gl.requests.filter((x) => x.jobId === j.id && x.endpoint !== 'request')) {
        streak = q.status === 500 || q.status === 502 || q.status === -2 ? streak + 1 : 0;
        maxStreak = Math.max(maxStreak, streak);
      }
    }
    const leftovers: Record<string, string[]> = {};
    // Only this run's objects: other berth processes may share the local engine.
    for (const [name, engine] of Object.entries(engines)) {
      leftovers[name] = [...(await objectsOf(engine, [`berth.runner.short_token=${shortenToken(tokenA)}`])), ...(await objectsOf(engine, [`berth.runner.short_token=${shortenToken(tokenB)}`]))];
    }
    const tempLeftovers = Object.fromEntries(runners.map((r) => [r.name, readdirSync(join(r.dir, 'tmp'))]));
    const seconds = wallMs / 1000;
    return {
      jobs: o.jobs,
      wallMs,
      jobsPerMinute: o.jobs / (wallMs / 60_000),
      baselineMs,
      overheadP50Ms: percentile(overheads, 50),
      overheadP99Ms: percentile(overheads, 99),
      handOuts,
      acceptedFinals,
      states,
      notSucceeded: jobs
        .filter((j) => j.final?.state !== 'success')
        .map((j) => {
          const trace = j.trace.toString('utf8');
          const on = /\n\s*on (load-r\d-\w+) /.exec(trace)?.[1] ?? 'unknown runner';
          return `job ${j.id}: ${j.final?.state ?? `server:${j.status}`} ${j.final?.failureReason ?? ''} on ${on}\n${trace.split('\n').slice(-6).join('\n')}`;
        }),
      badTraces,
      leftovers,
      tempLeftovers,
      runners: runners.map((r) => ({
        name: r.name,
        pid: r.pids,
        peakRssMb: r.peakKb / 1024,
        cpuPercent: ((r.ticks / CLK_TCK) / seconds) * 100,
        jobsFinished: gl.requests.filter((q) => q.endpoint === 'request' && q.status === 201 && (q.json as { system_id?: string }).system_id === r.systemId).length,
        exit: r.exit,
      })),
      faults: { injected: injected.length, byEndpoint, maxAttemptsPerJobUpdate: maxAttempts, maxConsecutiveFailuresPerJob: maxStreak },
      ...(l3 ? { l3 } : {}),
      logs: Object.fromEntries(runners.map((r) => [r.name, r.log.split('\n').slice(-30).join('\n')])),
    };
  } finally {
    if (sampler) clearInterval(sampler);
    for (const r of runners) if (alive(r)) r.child!.kill('SIGKILL');
    await Promise.all(runners.map((r) => (r.child && r.child.exitCode === null && r.child.signalCode === null ? new Promise((res) => r.child!.once('close', res)) : Promise.resolve())));
    await gl.close();
    await git.close();
    for (const r of runners) {
      const left = readdirSync(join(r.dir, 'tmp'));
      if (left.length) log(`${r.name} left temp files: ${left.join(', ')}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }

  async function waitUntil(check: () => boolean, timeoutMs: number, what: string, detail?: () => string): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      const dead = killing ? undefined : runners.find((r) => r.child !== null && !alive(r));
      if (dead) throw new Error(`load: berth run ${dead.name} exited (${dead.child!.exitCode ?? dead.child!.signalCode}) while waiting for ${what}:\n${dead.log.slice(-3000)}`);
      if (Date.now() > until) throw new Error(`load: timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
      await delay(50);
    }
  }
}
