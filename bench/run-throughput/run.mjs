#!/usr/bin/env node
// bench/run-throughput: `berth run` (the daemon, dist/berth.mjs) against the GitLab API test
// server: 20 trivial jobs (`echo job N`, sources cloned from a small repository over git
// smart-HTTP, depth 20) with concurrent = 4 and check_interval = 1. Measures jobs per minute,
// the per-job time against a bare `docker run --rm` (4 in parallel x 5 rounds, same run), where
// a job's time goes (hand-out -> container -> git -> script -> final update; cleanup meanwhile), the
// daemon's peak RSS, and its CPU and job-request rate while it polls an empty queue.
// It repeats all of it for a number of rounds (default 3, about 75 s each on a 2-core host) and
// ends with the three goals of `berth run` (issue 10) as medians over the rounds: per-job
// overhead over `docker run` <= 100 ms at concurrent 4, idle CPU < 0.5 %, peak RSS <= 100 MB.
// Exits non-zero only when the run itself failed (a missed target is reported, not fatal).
//
// Usage: npm run build && node bench/run-throughput/run.mjs [idle-seconds=25] [--rounds=3] [--json]
//        (BERTH_MAIN=<file> runs another build of the CLI; BERTH_NODE_ARGS="--cpu-prof ..." adds
//        node flags to the daemon only; BERTH_DAEMON_LOG=<file> appends the daemon's stderr there,
//        its stdout too (where --trace-gc writes), and the bench's marks: the last job's final
//        update and each idle slice with its CPU per thread, in ms since the daemon was spawned)
//        (or `npm run bench:run`; needs scripts/setup-test-env.sh: the engine and berth-test images)
// The servers come from test/support (TypeScript): bench-servers.ts is bundled with esbuild
// into a temp file at start.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { build } from 'esbuild';
import { dockerBaseline, startEventLog, leftovers, removeLeftovers } from './docker-side.mjs';
import { median, phases, printGoals, printTable } from './report.mjs';

const args = process.argv.slice(2);
const IDLE_SECONDS = Number(args.find((a) => /^\d+$/.test(a)) ?? 25);
const JSON_OUT = args.includes('--json');
const ROUNDS = Math.max(1, Number(args.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 3) || 3);
const JOBS = 20;
const CONCURRENT = 4;
const CHECK_INTERVAL_S = 1;
const IMAGE = 'berth-test/busybox:latest';
const MAIN = process.env.BERTH_MAIN ?? fileURLToPath(new URL('../../dist/berth.mjs', import.meta.url));
// Node flags for the daemon only, e.g. BERTH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
const NODE_ARGS = (process.env.BERTH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const DAEMON_LOG = process.env.BERTH_DAEMON_LOG;
const HELPER = fileURLToPath(new URL('./bench-servers.ts', import.meta.url));
const RUN_LABEL = `berth.bench.run=${randomBytes(6).toString('hex')}`;

function fail(message) {
  console.error(`bench/run-throughput: ${message}`);
  process.exitCode = 1;
}

/** Bundles the TypeScript helper (and the test support it imports) and loads it. */
async function loadServers() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-bundle-'));
  try {
    const outfile = join(dir, 'bench-servers.mjs');
    await build({ entryPoints: [HELPER], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' });
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const readProc = (pid, file) => readFileSync(`/proc/${pid}/${file}`, 'utf8');
const peakRssKb = (pid) => Number(/VmHWM:\s+(\d+) kB/.exec(readProc(pid, 'status'))?.[1] ?? 0);
const rssKb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readProc(pid, 'status'))?.[1] ?? 0);
/** CPU of a process in clock ticks: its own (utime + stime) and its waited-for children's (cutime + cstime). */
function cpuTicks(pid) {
  const stat = readProc(pid, 'stat');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { own: f[11] + f[12], children: f[13] + f[14] };
}
/**
 * CPU of a process's descendants in clock ticks: the children it waited for, and each live (or
 * not yet reaped) child with its own descendants. berth run starts git from a long-lived shell
 * (src/sources/shell-launcher.ts): a live child whose subshells wait for the git processes.
 */
function descendantTicks(pid) {
  let ticks = cpuTicks(pid).children;
  let children = [];
  try {
    children = readProc(pid, `task/${pid}/children`).split(' ').filter(Boolean);
  } catch {
    // ended meanwhile
  }
  for (const child of children) {
    try {
      ticks += cpuTicks(child).own + descendantTicks(child);
    } catch {
      // ended meanwhile: its CPU is in its parent's count once reaped
    }
  }
  return ticks;
}
/** CPU time in µs per thread of a process (the scheduler's own count, not ticks), by `name/tid`. */
function threadCpuUs(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      out.set(`${comm}/${tid}`, ns / 1000);
    } catch { /* the thread ended */ }
  }
  return out;
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

async function waitUntil(check, timeoutMs, what, daemon) {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (daemon.exitCode !== null || daemon.signalCode !== null) throw new Error(`berth run exited (${daemon.exitCode ?? daemon.signalCode}) while waiting for ${what}`);
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

/** One round: a fresh daemon, test servers and baseline; its result, or null when it failed. */
async function round({ startBenchServers, now }) {
  const servers = await startBenchServers();
  const runnerLabel = `berth.runner.short_token=${servers.shortToken}`;
  let daemon = null;
  let events = null;
  let stderr = '';
  let baseline = null;
  try {
    servers.writeConfig({ concurrent: CONCURRENT, checkIntervalSeconds: CHECK_INTERVAL_S, image: IMAGE });

    // The reference: what the same 20 scripts cost as bare `docker run --rm`, same concurrency;
    // 3 rounds before berth and 2 after it.
    baseline = dockerBaseline({ image: IMAGE, label: RUN_LABEL, parallel: CONCURRENT, now });
    await baseline.rounds(3);

    servers.enqueue(JOBS);
    events = startEventLog(runnerLabel);
    // berth's temp files (sources, trace buffers, git credentials) go to a folder of its own.
    const daemonTmp = join(servers.dir, 'tmp');
    mkdirSync(daemonTmp);
    const spawnedAt = now();
    daemon = spawn(process.execPath, [...NODE_ARGS, MAIN, 'run', '--config', servers.configPath, '--log-format', 'text'], {
      env: { ...process.env, NO_COLOR: '1', TMPDIR: daemonTmp },
      // stdout too when it is logged: node's --trace-gc writes there.
      stdio: ['ignore', DAEMON_LOG ? 'pipe' : 'ignore', 'pipe'],
    });
    daemon.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-20_000);
      if (DAEMON_LOG) appendFileSync(DAEMON_LOG, d);
    });
    daemon.stdout?.on('data', (d) => appendFileSync(DAEMON_LOG, d));
    // Bench events in the daemon's log, in ms since the spawn (node's --trace-gc counts from its
    // isolate's start, a few tens of ms later), to line GCs and profiles up with the idle slices.
    const mark = (what) => {
      if (DAEMON_LOG) appendFileSync(DAEMON_LOG, `bench: ${(now() - spawnedAt).toFixed(0)} ms since spawn (${new Date().toISOString()}): ${what}\n`);
    };
    const exited = new Promise((resolve) => daemon.on('close', (code, signal) => resolve({ code, signal })));
    const pid = daemon.pid;
    let peakKb = 0;
    const sampler = setInterval(() => {
      try {
        peakKb = Math.max(peakKb, peakRssKb(pid));
      } catch { /* exited */ }
    }, 100);

    try {
      // CPU is counted from the first hand-out (berth's start-up is not part of the jobs).
      await waitUntil(() => servers.jobs().some((j) => j.handedOutAt !== null), 60_000, 'the first job request', daemon);
      const cpuAtStart = { berth: cpuTicks(pid), git: descendantTicks(pid), bench: cpuTicks(process.pid) };
      await waitUntil(() => servers.jobs().every((j) => j.finalAt !== null), 180_000, `the final updates of ${JOBS} jobs`, daemon);
      const jobs = servers.jobs();
      mark('last final update seen');
      const perJobCpuMs = (a, b) => ((b - a) * 1000) / CLK_TCK / JOBS;
      const [b1, g1, s1] = [cpuTicks(pid), descendantTicks(pid), cpuTicks(process.pid)];
      const cpu = {
        berthMs: perJobCpuMs(cpuAtStart.berth.own, b1.own),
        gitMs: perJobCpuMs(cpuAtStart.git, g1),
        serversMs: perJobCpuMs(cpuAtStart.bench.own + cpuAtStart.bench.children, s1.own + s1.children),
      };
      const bad = jobs.filter((j, i) => j.state !== 'success' || !j.trace.includes(`job ${i + 1}\n`) || !j.trace.includes('Checking out'));
      if (bad.length) throw new Error(`${bad.length} job(s) did not succeed with their output, e.g. job ${bad[0].id} (${bad[0].state}):\n${bad[0].trace.slice(-1500)}`);

      // Idle: the queue is empty; the daemon only polls.
      await delay(2000);
      const t0 = now();
      const c0 = cpuTicks(pid).own;
      const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
      const us0 = sum(threadCpuUs(pid));
      // By 5 s slice too: what the daemon still does after its jobs (V8's GCs once allocation
      // stops) shows in the first slices, the steady polling in the last.
      const slices = [];
      for (let left = IDLE_SECONDS * 1000; left > 0; left -= 5000) {
        const [ts, cs, threads] = [now(), cpuTicks(pid).own, DAEMON_LOG ? threadCpuUs(pid) : null];
        mark(`idle slice ${slices.length + 1} starts`);
        await delay(Math.min(5000, left));
        slices.push(((cpuTicks(pid).own - cs) / CLK_TCK / ((now() - ts) / 1000)) * 100);
        // Which of the daemon's threads the ticks went to (main, V8 workers, libuv pool).
        const busy = threads ? [...threadCpuUs(pid)].map(([t, us]) => [t, us - (threads.get(t) ?? 0)]).filter(([, us]) => us >= 50) : [];
        const busyMs = busy.reduce((a, [, us]) => a + us, 0) / 1000;
        mark(`idle slice ${slices.length} ends: ${slices.at(-1).toFixed(2)} % (${cpuTicks(pid).own - cs} ticks; by thread ${busyMs.toFixed(1)} ms: ${busy.map(([t, us]) => `${t} ${(us / 1000).toFixed(1)}`).join(', ')})`);
      }
      const t1 = now();
      const c1 = cpuTicks(pid).own;
      const us1 = sum(threadCpuUs(pid));
      const idleRequests = servers.jobRequests().filter((at) => at >= t0 && at < t1).length;
      const idle = {
        cpuPercent: ((c1 - c0) / CLK_TCK / ((t1 - t0) / 1000)) * 100,
        // The scheduler's own count (ns, every thread alive at both ends), finer than the ticks.
        schedCpuPercent: ((us1 - us0) / 1000 / (t1 - t0)) * 100,
        requestsPerMinute: idleRequests / ((t1 - t0) / 60_000),
        rssMb: rssKb(pid) / 1024,
        seconds: (t1 - t0) / 1000,
        slices,
      };
      peakKb = Math.max(peakKb, peakRssKb(pid));

      daemon.kill('SIGQUIT');
      const quitAt = Date.now();
      const res = await Promise.race([exited, delay(35_000).then(() => null)]);
      if (!res) throw new Error('berth run did not exit within 35 s of SIGQUIT');
      if (res.code !== 0) throw new Error(`berth run exited with ${res.code ?? res.signal} after SIGQUIT`);
      const quitMs = Date.now() - quitAt;

      events.stop();
      await baseline.rounds(JOBS / CONCURRENT - 3);
      const docker = await baseline.result();
      const left = [...(await leftovers(runnerLabel)), ...(await leftovers(RUN_LABEL))];
      if (left.length) {
        await removeLeftovers(left);
        throw new Error(`Docker objects were left behind (now removed): ${left.map((o) => `${o.kind} ${o.name}`).join(', ')}`);
      }
      const leftFiles = readdirSync(daemonTmp);
      if (leftFiles.length) throw new Error(`berth left temp files behind: ${leftFiles.join(', ')}`);

      const first = Math.min(...jobs.map((j) => j.handedOutAt));
      const last = Math.max(...jobs.map((j) => j.finalAt));
      const result = {
        jobs: JOBS,
        concurrent: CONCURRENT,
        wallMs: last - first,
        jobsPerMinute: JOBS / ((last - first) / 60_000),
        perJobMs: median(jobs.map((j) => j.finalAt - j.handedOutAt)),
        sumBasedMs: ((last - first) * CONCURRENT) / JOBS,
        docker,
        phases: phases(jobs, events.byJob()),
        cpu,
        peakRssMb: peakKb / 1024,
        idle,
        quitMs,
      };
      printTable(result, { checkIntervalS: CHECK_INTERVAL_S, image: IMAGE });
      return result;
    } finally {
      clearInterval(sampler);
    }
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
    if (stderr) console.error(`--- berth run's log (last lines) ---\n${stderr.split('\n').slice(-40).join('\n')}`);
  } finally {
    events?.stop();
    await baseline?.result();
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    await servers.close();
    const left = [...(await leftovers(runnerLabel)), ...(await leftovers(RUN_LABEL))];
    if (left.length) await removeLeftovers(left);
  }
  return null;
}

async function main() {
  if (!existsSync(MAIN)) return fail(`${MAIN} is missing: run \`npm run build\` first`);
  const servers = await loadServers();
  const results = [];
  const startedAt = Date.now();
  for (let r = 1; r <= ROUNDS; r++) {
    console.log(`--- round ${r} of ${ROUNDS} (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
    const result = await round(servers);
    if (!result) return;
    results.push(result);
  }
  printGoals(results, { seconds: (Date.now() - startedAt) / 1000, concurrent: CONCURRENT });
  if (JSON_OUT) console.log(JSON.stringify(results.length === 1 ? results[0] : results));
}

await main();
