#!/usr/bin/env node
// bench/exec-overhead: berth exec of trivial pipelines against the same scripts run by
// `docker run --rm`, interleaved round by round in the same run (the order of the two alternates
// from round to round). Prints medians and ratios for:
//   - 3 jobs in 3 stages          vs 3 sequential `docker run --rm`
//   - a 10-job chain (10 stages)  vs 10 sequential `docker run --rm`
//   - a 50-job DAG (5 stages of 10, half the jobs with needs) vs its critical path by hand:
//     the same 50 scripts as `docker run --rm`, each started as soon as what it waits for
//     (its needs, else every job of the earlier stages) has finished, at most CONCURRENCY at
//     once, in file order: what a person with CONCURRENCY terminals could do at best. The
//     longest chain of the DAG is printed too (the critical path with no concurrency limit).
// then berth's peak RSS and `berth exec --list` on 50 jobs, and for the 3-job case the time from
// starting the process to the engine's first container create (from `docker events`): berth's
// start-up against the docker CLI's.
// Usage: node bench/exec-overhead/run.mjs [rounds=7]   (after `npm run build` and scripts/setup-test-env.sh)
// Env: BERTH_MAIN=<path to a berth.mjs> to measure another build;
//      BERTH_BASELINE=<path to a berth.mjs>: also run that build in every round (before/after side by side);
//      CONCURRENCY=<n> for the DAG (default 4), given to berth as --concurrency;
//      BERTH_ARGS / BERTH_BASELINE_ARGS="--flag ...": extra `berth exec` flags for the measured build / the baseline
//      (e.g. the same build with and without --prewarm: BERTH_BASELINE=dist/berth.mjs BERTH_ARGS=--prewarm).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.argv[2] ?? 7);
const IMAGE = 'berth-test/busybox:latest';
const DOCKER = process.env.DOCKER ?? '/usr/bin/docker';
const MAIN = process.env.BERTH_MAIN ?? fileURLToPath(new URL('../../dist/berth.mjs', import.meta.url));
const BASELINE = process.env.BERTH_BASELINE;
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);
const words = (v) => (v ?? '').split(/\s+/).filter(Boolean);
const MAIN_ARGS = words(process.env.BERTH_ARGS);
const BASELINE_ARGS = words(process.env.BERTH_BASELINE_ARGS);

function repo(yaml) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  writeFileSync(join(dir, '.gitlab-ci.yml'), yaml);
  const git = (...a) => execFileSync('git', a, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.email=b@example.invalid', '-c', 'user.name=b', 'commit', '-q', '--allow-empty', '-m', 'bench');
  git('add', '-A');
  git('-c', 'user.email=b@example.invalid', '-c', 'user.name=b', 'commit', '-q', '-m', 'bench');
  return dir;
}

/**
 * A pipeline as jobs { name, stage, script, needs|null } and its YAML. Every job runs one
 * trivial script in IMAGE.
 */
function pipeline(stages, jobs) {
  const yaml =
    `stages: [${stages.join(', ')}]\ndefault: { image: ${IMAGE} }\n` +
    jobs
      .map((j) => `${j.name}:\n  stage: ${j.stage}\n  script: ["${j.script}"]\n` + (j.needs ? `  needs: [${j.needs.join(', ')}]\n` : ''))
      .join('');
  return { stages, jobs, yaml };
}

const three = pipeline(
  ['build', 'test', 'deploy'],
  ['build', 'test', 'deploy'].map((s) => ({ name: `${s}-job`, stage: s, script: `echo ${s}`, needs: null })),
);
const chainStages = Array.from({ length: 10 }, (_, i) => `s${i}`);
const chain = pipeline(chainStages, chainStages.map((s) => ({ name: `job-${s}`, stage: s, script: `echo ${s}`, needs: null })));
const dagStages = Array.from({ length: 5 }, (_, i) => `s${i}`);
const dag = pipeline(
  dagStages,
  dagStages.flatMap((s, si) =>
    Array.from({ length: 10 }, (_, j) => ({
      name: `j${si}-${j}`,
      stage: s,
      script: `echo ${si}-${j}`,
      // Even jobs need two jobs of the stage before; odd ones wait for that whole stage.
      needs: si > 0 && j % 2 === 0 ? [`j${si - 1}-${j}`, `j${si - 1}-${(j + 3) % 10}`] : null,
    })),
  ),
);
const bigPipeline = `stages: [build, test, deploy]\ndefault: { image: ${IMAGE} }\n` +
  Array.from({ length: 50 }, (_, i) => `job-${i}:\n  stage: ${['build', 'test', 'deploy'][i % 3]}\n  script: ["echo ${i}"]\n` +
    (i > 2 && i % 5 === 0 ? `  needs: [job-${i - 3}]\n` : '')).join('');

/** What each job waits for: its needs, else every job of the earlier stages (as berth and GitLab). */
function waitsFor(p) {
  const stageOf = new Map(p.stages.map((s, i) => [s, i]));
  return new Map(p.jobs.map((j) => [j.name, j.needs ?? p.jobs.filter((o) => stageOf.get(o.stage) < stageOf.get(j.stage)).map((o) => o.name)]));
}

/** Jobs on the longest chain of what-waits-for-what. */
function longestChain(p) {
  const deps = waitsFor(p);
  const memo = new Map();
  const depth = (n) => memo.get(n) ?? (memo.set(n, 1 + Math.max(0, ...deps.get(n).map(depth))), memo.get(n));
  return Math.max(...p.jobs.map((j) => depth(j.name)));
}

/**
 * Container create events as the engine reports them: { ms (wall clock), pid } where pid is the
 * berth.exec.pid label (0 for a container made by `docker run`).
 */
const creates = [];
const events = spawn(DOCKER, ['events', '--filter', 'type=container', '--filter', 'event=create', '--format', '{{.TimeNano}} {{index .Actor.Attributes "berth.exec.pid"}}'], { stdio: ['ignore', 'pipe', 'ignore'] });
let eventText = '';
events.stdout.on('data', (d) => {
  eventText += d;
  for (let nl = eventText.indexOf('\n'); nl >= 0; nl = eventText.indexOf('\n')) {
    const [nanos, pid] = eventText.slice(0, nl).split(' ');
    creates.push({ ms: Number(BigInt(nanos) / 1000n) / 1000, pid: Number(pid) || 0 });
    eventText = eventText.slice(nl + 1);
  }
});
const wallMs = () => performance.timeOrigin + performance.now();
/** ms from `run.startedAt` to the first create of that berth process (or, pid 0, of docker run within the run). */
const firstCreate = (run) => {
  const c = creates.filter((e) => e.pid === run.pid && e.ms >= run.startedAt - 1 && e.ms <= run.endedAt + 1).sort((a, b) => a.ms - b.ms)[0];
  return c ? c.ms - run.startedAt : NaN;
};

/** Runs a command, sampling its peak RSS (VmHWM) from /proc while it runs. */
function timed(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const startedAt = wallMs();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
    let peakKb = 0;
    let stderr = '';
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch { /* exited */ }
    };
    const timer = setInterval(sample, 5);
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearInterval(timer);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ ms, peakKb, pid: child.pid, startedAt, endedAt: wallMs() });
    });
  });
}

const dockerRun = (script) => timed(DOCKER, ['run', '--rm', IMAGE, 'sh', '-c', script]);

/** The pipeline by hand: `docker run --rm` per job, each as soon as it may start, at most `concurrency` at once. */
async function dockerRuns(p, concurrency) {
  const start = process.hrtime.bigint();
  const startedAt = wallMs();
  const deps = waitsFor(p);
  const done = new Set();
  const running = new Map();
  while (done.size < p.jobs.length) {
    for (const j of p.jobs) {
      if (running.size >= concurrency) break;
      if (done.has(j.name) || running.has(j.name) || deps.get(j.name).some((d) => !done.has(d))) continue;
      running.set(j.name, dockerRun(j.script).then(() => j.name));
    }
    const finished = await Promise.race(running.values());
    running.delete(finished);
    done.add(finished);
  }
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, pid: 0, startedAt, endedAt: wallMs() };
}

const berthExec = (dir, args = []) => timed(process.execPath, [MAIN, 'exec', '--cwd', dir, ...MAIN_ARGS, ...args]);
const baselineExec = (dir, args = []) => timed(process.execPath, [BASELINE, 'exec', '--cwd', dir, ...BASELINE_ARGS, ...args]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dirs = { three: repo(three.yaml), chain: repo(chain.yaml), dag: repo(dag.yaml), big: repo(bigPipeline) };
const cases = [
  { key: 'three', p: three, args: [], concurrency: 1 },
  { key: 'chain', p: chain, args: [], concurrency: 1 },
  { key: 'dag', p: dag, args: ['--concurrency', String(CONCURRENCY)], concurrency: CONCURRENCY },
];
try {
  // Warm-up: page cache, image layers, node's compile cache.
  await berthExec(dirs.three);
  await dockerRuns(three, 1);
  if (BASELINE) await baselineExec(dirs.three);
  const results = Object.fromEntries(cases.map((c) => [c.key, { berth: [], docker: [], baseline: [] }]));
  /** The 3-job runs, for the time to their first container create. */
  const firstRuns = { berth: [], docker: [], baseline: [] };
  const rss = Object.fromEntries(cases.map((c) => [c.key, []]));
  for (let i = 0; i < ROUNDS; i++) {
    for (const c of cases) {
      const r = results[c.key];
      const runBerth = async () => {
        const b = await berthExec(dirs[c.key], c.args);
        r.berth.push(b.ms);
        rss[c.key].push(b.peakKb);
        if (c.key === 'three') firstRuns.berth.push(b);
      };
      const runDocker = async () => {
        const d = await dockerRuns(c.p, c.concurrency);
        r.docker.push(d.ms);
        if (c.key === 'three') firstRuns.docker.push(d);
      };
      const runBaseline = async () => {
        if (!BASELINE) return;
        const b = await baselineExec(dirs[c.key], c.args);
        r.baseline.push(b.ms);
        if (c.key === 'three') firstRuns.baseline.push(b);
      };
      if (i % 2 === 0) await runBerth().then(runDocker).then(runBaseline);
      else await runBaseline().then(runDocker).then(runBerth);
    }
  }
  await new Promise((r) => setTimeout(r, 500)); // the last create events
  const firstMs = (runs) => median(runs.map(firstCreate).filter((x) => !Number.isNaN(x)));
  const list = [];
  for (let i = 0; i < ROUNDS; i++) list.push((await berthExec(dirs.big, ['--list'])).ms);
  const line = (label, value) => console.log(`${label.padEnd(46)} ${value}`);
  const ratio = (key) => median(results[key].berth) / median(results[key].docker);
  line('berth', `${MAIN} ${MAIN_ARGS.join(' ')}`);
  line('rounds (interleaved, order alternating)', ROUNDS);
  line('berth exec, 3 jobs/3 stages', `median ${median(results.three.berth).toFixed(0)} ms`);
  line('3 x docker run --rm', `median ${median(results.three.docker).toFixed(0)} ms`);
  line('ratio berth / docker run', `${ratio('three').toFixed(2)}   (target <= 1.00)`);
  line('per-job overhead', `${((median(results.three.berth) - median(results.three.docker)) / 3).toFixed(0)} ms`);
  line('start to first container create, 3 jobs', `berth ${firstMs(firstRuns.berth).toFixed(0)} ms, docker run ${firstMs(firstRuns.docker).toFixed(0)} ms` +
    (BASELINE ? `, baseline ${firstMs(firstRuns.baseline).toFixed(0)} ms` : ''));
  line('berth exec, 10-job chain (10 stages)', `median ${median(results.chain.berth).toFixed(0)} ms`);
  line('10 x docker run --rm', `median ${median(results.chain.docker).toFixed(0)} ms`);
  line('ratio berth / docker run, chain', `${ratio('chain').toFixed(2)}   (target <= 1.00)`);
  line(`berth exec, 50-job DAG, --concurrency ${CONCURRENCY}`, `median ${median(results.dag.berth).toFixed(0)} ms`);
  line(`DAG by docker run --rm, ${CONCURRENCY} at once (*)`, `median ${median(results.dag.docker).toFixed(0)} ms`);
  line('ratio berth / docker run, DAG', `${ratio('dag').toFixed(2)}   (target <= 1.00)`);
  const peak = (key) => `${(Math.max(...rss[key]) / 1024).toFixed(1)} MB`;
  line('berth peak RSS, 3 jobs / chain / DAG', `${peak('three')} / ${peak('chain')} / ${peak('dag')}   (target <= 100)`);
  line('berth exec --list, 50 jobs', `median ${median(list).toFixed(0)} ms   (target < 300)`);
  if (BASELINE) {
    line('baseline berth', `${BASELINE} ${BASELINE_ARGS.join(' ')}`);
    for (const [key, label] of [['three', '3 jobs'], ['chain', '10-job chain'], ['dag', '50-job DAG']]) {
      const b = median(results[key].baseline);
      line(`baseline, ${label}`, `median ${b.toFixed(0)} ms, ratio to docker run ${(b / median(results[key].docker)).toFixed(2)}, berth / baseline ${(median(results[key].berth) / b).toFixed(2)}`);
    }
  }
  console.log(
    `(*) the DAG's critical path by hand: each job's docker run --rm starts as soon as its needs (else every job of\n` +
      `    the earlier stages) are done, at most ${CONCURRENCY} at once, in file order; the DAG's longest chain is ${longestChain(dag)} jobs.`,
  );
} finally {
  events.kill();
  for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
}
