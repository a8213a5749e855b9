#!/usr/bin/env node
// bench/load: the load cases L1–L3 of issue 11 at full size. One GitLab API test server with N
// queued short jobs (sources cloned from the git test server), three `berth run` processes (own
// config.toml, own system id) x `concurrent`, on the local engine and the remote TLS engine
// (r1 local, r2 remote, r3 both as two [[runners]] with limit concurrent/2 each):
//   l1  jobs/min, per-job overhead p50/p99 over a plain run of the same container (Engine API),
//       each job handed out once with one accepted final update, traces intact (the server
//       verified the CRC32), zero leftovers on both engines, peak RSS and CPU per runner
//   l2  the same while ~10 % of jobs/request, PUT and PATCH get 500/502 or a dropped connection
//   l3  r1 SIGKILLed mid-load and restarted: its leftovers swept at start, the jobs it held
//       failed by the server's stuck-job handling (berth sends nothing for them), others succeed
// The harness is test/support/load-harness.ts (TypeScript), bundled with esbuild at start.
//
// Usage: npm run build && node bench/load/run.mjs l1|l2|l3 [--jobs 500] [--concurrent 4]
//        [--fault-rate 0.1] [--stuck-ms 30000] [--json]
//        (needs scripts/setup-test-env.sh and scripts/setup-remote-engine.sh start; without the
//        remote engine's env file every runner uses the local engine, and that is printed)
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const kase = args.find((a) => /^l[123]$/.test(a));
const flag = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
if (!kase) {
  console.error('usage: node bench/load/run.mjs l1|l2|l3 [--jobs N] [--concurrent N] [--fault-rate R] [--stuck-ms MS] [--json]');
  process.exit(2);
}
const JOBS = flag('jobs', 500);
const CONCURRENT = flag('concurrent', 4);
const MAIN = fileURLToPath(new URL('../../dist/berth.mjs', import.meta.url));
const ENV_FILE = process.env.BERTH_REMOTE_ENGINE_ENV || '/var/lib/berth-remote/env';

function remoteEngine() {
  if (!existsSync(ENV_FILE)) return null;
  const env = Object.fromEntries(readFileSync(ENV_FILE, 'utf8').split('\n').map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim())).filter(Boolean).map((m) => [m[1], m[2]]));
  return env.DOCKER_HOST && env.DOCKER_CERT_PATH ? { host: env.DOCKER_HOST, certPath: env.DOCKER_CERT_PATH } : null;
}

async function loadHarness() {
  // Next to this script, so that the bundle's packages (dockerode, kept external) resolve from node_modules.
  const dir = mkdtempSync(join(fileURLToPath(new URL('.', import.meta.url)), '.bundle-'));
  try {
    const outfile = join(dir, 'load.mjs');
    await build({ entryPoints: [fileURLToPath(new URL('./load-entry.ts', import.meta.url))], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', packages: 'external' });
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : String(n));

async function main() {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const remote = remoteEngine();
  if (!remote) console.log(`note: no ${ENV_FILE}: every runner uses the local engine`);
  const { runLoad } = await loadHarness();
  const r = await runLoad({
    kase,
    main: MAIN,
    jobs: JOBS,
    concurrent: CONCURRENT,
    remote,
    faultRate: flag('fault-rate', 0.1),
    stuckAfterMs: flag('stuck-ms', 30_000),
    sleepSeconds: kase === 'l3' ? 1 : 0,
    timeoutMs: Math.max(120_000, JOBS * 3_000),
    log: (l) => console.log(l),
  });
  const held = new Set(r.l3?.killedHeld ?? []);
  const twice = [...r.handOuts].filter(([, n]) => n !== 1).map(([id]) => id);
  const finalsNotOne = [...r.handOuts.keys()].filter((id) => !held.has(id) && r.acceptedFinals.get(id) !== 1);
  const lost = r.jobs - r.handOuts.size;
  const left = Object.entries(r.leftovers).map(([e, l]) => `${e} ${l.length}`).join(', ');
  console.log(`\nbench/load ${kase}: ${r.jobs} jobs, 3 berth run processes x concurrent ${CONCURRENT}, engines: ${Object.keys(r.baselineMs).join(' + ')}`);
  console.log(`  wall                 ${fmt(r.wallMs / 1000, 1)} s   (${fmt(r.jobsPerMinute, 1)} jobs/min)`);
  console.log(`  plain run (API)      ${Object.entries(r.baselineMs).map(([e, ms]) => `${e} ${fmt(ms)} ms`).join(', ')}`);
  console.log(`  per-job overhead     p50 ${fmt(r.overheadP50Ms)} ms, p99 ${fmt(r.overheadP99Ms)} ms (hand-out -> accepted final update, minus the plain run)`);
  console.log(`  states               ${JSON.stringify(r.states)}`);
  console.log(`  exactly once         lost ${lost}, handed out twice ${twice.length}, final updates != 1: ${finalsNotOne.length}`);
  const why = {};
  for (const l of r.notSucceeded) {
    const k = `${/^job \d+: (.*?)\n/.exec(l)?.[1] ?? '?'} | ${/ERROR: (.*?)(: [0-9a-f]{64})?\u001b|ERROR: (.*)$/m.exec(l)?.[1] ?? ''}`;
    why[k] = (why[k] ?? 0) + 1;
  }
  if (r.notSucceeded.length) console.log(`  not succeeded        ${JSON.stringify(why)}`);
  console.log(`  traces               ${r.badTraces.length} bad (canary, own job only, Job succeeded, CRC32 the server verified)`);
  console.log(`  leftovers            ${left}`);
  const temp = Object.entries(r.tempLeftovers).map(([n, l]) => `${n} ${l.length}`).join(', ');
  console.log(`  TMPDIR leftovers     ${temp}`);
  if (kase === 'l2') console.log(`  faults injected      ${r.faults.injected} ${JSON.stringify(r.faults.byEndpoint)}; most final-PUT attempts for a job ${r.faults.maxAttemptsPerJobUpdate}; longest failure streak on a job ${r.faults.maxConsecutiveFailuresPerJob}`);
  if (r.l3) {
    console.log(`  L3 killed r1 holding ${r.l3.killedHeld.length} job(s); r1 objects after kill ${r.l3.r1ObjectsAfterKill}, after restart ${r.l3.r1ObjectsAfterRestart}`);
    console.log(`  L3 sweep log         ${r.l3.sweepLine.trim()}`);
    for (const h of r.l3.heldJobs) console.log(`  L3 held job ${h.id}      server ${h.status}, berth final update: ${h.final ?? 'none'}`);
    console.log(`  L3 other jobs failed ${r.l3.othersFailed}`);
  }
  for (const x of r.runners) console.log(`  runner ${x.name}            pid ${x.pid.join('/')}: peak RSS ${fmt(x.peakRssMb, 1)} MB, CPU ${fmt(x.cpuPercent, 1)} % of a core, ${x.jobsFinished} jobs, exit ${x.exit}`);
  if (args.includes('--json')) console.log(JSON.stringify({ ...r, handOuts: Object.fromEntries(r.handOuts), acceptedFinals: Object.fromEntries(r.acceptedFinals), logs: undefined }));
  const bad = lost || twice.length || finalsNotOne.length || r.badTraces.length || Object.values(r.leftovers).some((l) => l.length) || Object.values(r.tempLeftovers).some((l) => l.length) || r.notSucceeded.length > held.size;
  if (bad) {
    console.error('bench/load: the run broke a rule above');
    for (const l of [...r.notSucceeded, ...r.badTraces].slice(0, 5)) console.error(l);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(`bench/load: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
