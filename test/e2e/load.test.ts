/**
 * Load tests L1–L3 of issue 11, small variants (the full sizes: bench/load/run.mjs). Three
 * `berth run` processes (own config.toml and system id) against one GitLab API test server, on
 * the local engine and the remote TLS engine (scripts/setup-remote-engine.sh). The harness
 * (test/support/load-harness.ts) keeps the server's record: hand-outs, accepted final updates,
 * injected faults; each test asserts on it and on both engines.
 */
import { loadRemoteEngineEnv, remoteEngineEnvFile } from '../support/remote-engine-env.js';
import { describe, expect, it } from 'vitest';
import { type LoadResult, type RemoteEngine, runLoad } from '../support/load-harness.js';

const ENV_FILE = remoteEngineEnvFile();

function remoteEngine(): RemoteEngine | null {
  const env = loadRemoteEngineEnv();
  return env?.DOCKER_HOST && env.DOCKER_CERT_PATH ? { host: env.DOCKER_HOST, certPath: env.DOCKER_CERT_PATH } : null;
}

const remote = remoteEngine();

const JOBS = 40;
const CONCURRENT = 2;

/** Every job handed out once, exactly one accepted final update each, all succeeded, traces intact, nothing left. */
function expectExactlyOnce(r: LoadResult, except: number[] = []): void {
  const ids = [...r.handOuts.keys()];
  expect(ids.length).toBe(JOBS);
  expect([...r.handOuts.values()].every((n) => n === 1)).toBe(true);
  const finals = ids.filter((id) => !except.includes(id)).map((id) => r.acceptedFinals.get(id) ?? 0);
  expect(finals.every((n) => n === 1)).toBe(true);
  expect(r.notSucceeded.filter((l) => !except.some((id) => l.startsWith(`job ${id}:`)))).toEqual([]);
  expect(r.states.success).toBe(JOBS - except.length);
  expect(r.badTraces).toEqual([]);
  expect(r.leftovers).toEqual(remote ? { local: [], remote: [] } : { local: [] });
  expect(r.tempLeftovers).toEqual({ r1: [], r2: [], r3: [] });
  for (const runner of r.runners) {
    expect(runner.exit).toMatch(/^(0|SIGKILL, restarted)$/);
    expect(runner.peakRssMb).toBeGreaterThan(10);
  }
}

describe.skipIf(!remote)(`load, small variants${remote ? '' : ` (skipped: no ${ENV_FILE})`}`, () => {
  it('L1: 40 jobs, 3 runner processes x concurrent 2 on two engines: each job run exactly once, traces complete, nothing left', async () => {
    const r = await runLoad({ kase: 'l1', jobs: JOBS, concurrent: CONCURRENT, remote, baselineRounds: 2, timeoutMs: 100_000 });
    expectExactlyOnce(r);
    // Every runner took jobs, r3 on both of its engines.
    expect(r.runners.every((x) => x.jobsFinished > 0)).toBe(true);
    expect(r.jobsPerMinute).toBeGreaterThan(0);
    expect(r.overheadP99Ms).toBeGreaterThanOrEqual(r.overheadP50Ms);
  }, 120_000);

  it('L2: the same while ~10 % of requests get 500/502 or a dropped connection: nothing lost, no duplicate, bounded retries', async () => {
    const r = await runLoad({ kase: 'l2', jobs: JOBS, concurrent: CONCURRENT, remote, baselineRounds: 1, faultRate: 0.1, timeoutMs: 100_000 });
    expectExactlyOnce(r);
    expect(r.faults.injected).toBeGreaterThan(5);
    expect(Object.keys(r.faults.byEndpoint).sort()).toEqual(expect.arrayContaining(['patch', 'request', 'update']));
    // gitlab-runner: the final update is tried at most 10 times (network/trace.go), each call at most 5 attempts (retry_requester.go).
    expect(r.faults.maxAttemptsPerJobUpdate).toBeLessThanOrEqual(50);
  }, 120_000);

  it('L3: a runner SIGKILLed mid-load and restarted sweeps its leftovers; the jobs it held end failed by the server; the others succeed', async () => {
    const r = await runLoad({ kase: 'l3', jobs: JOBS, concurrent: CONCURRENT, remote, baselineRounds: 1, sleepSeconds: 1, killAfterFinals: 8, stuckAfterMs: 10_000, timeoutMs: 100_000 });
    const l3 = r.l3!;
    expect(l3.killedHeld.length).toBeGreaterThan(0);
    expect(l3.r1ObjectsAfterKill).toBeGreaterThan(0);
    expect(l3.r1ObjectsAfterRestart).toBe(0);
    expect(l3.sweepLine, r.logs.r1).toMatch(/Removed what an earlier berth process left behind/);
    // berth never sends a final update for them (the process is gone); the server fails them.
    for (const h of l3.heldJobs) expect({ status: h.status, final: h.final }).toEqual({ status: 'failed', final: null });
    expect(r.notSucceeded.filter((l) => !l3.killedHeld.some((id) => l.startsWith(`job ${id}:`)))).toEqual([]);
    expect(l3.othersFailed).toBe(0);
    expectExactlyOnce(r, l3.killedHeld);
  }, 120_000);
});
