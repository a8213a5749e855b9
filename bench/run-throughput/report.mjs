// The figures of bench/run-throughput: medians, where a job's time goes, and the printed table.

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

/**
 * Median milliseconds of each step of a berth job, from the GitLab test server's times
 * (hand-out, final update), the git server's (first and last authorised request) and the
 * engine's events of the build container.
 */
export function phases(jobs, events) {
  const steps = {
    'hand-out -> build container created': [],
    'created -> started (shell waits; overlaps git)': [],
    'created -> git fetch starts (repository set up)': [],
    'git fetch, first -> last request (server side)': [],
    'git last request -> sources copied in (archive PUT)': [],
    'ready (sources in and started) -> script ends': [],
    'exit -> final update accepted': [],
    'exit -> container removed (cleanup, meanwhile)': [],
  };
  const add = (name, from, to) => {
    if (from !== undefined && to !== undefined && from !== null && to !== null) steps[name].push(to - from);
  };
  for (const j of jobs) {
    const e = events.get(j.id) ?? {};
    const copied = e['extract-to-dir'];
    // A build container whose image has no ENTRYPOINT is started as soon as it exists (its shell
    // waits for the script); the script can only begin once the sources are in as well. Sources
    // written straight into the builds volume (a local engine, no services) leave no engine event:
    // then the start is the last mark the engine gives before the script.
    const ready = e.start === undefined ? undefined : copied !== undefined ? Math.max(copied, e.start) : e.start;
    add('hand-out -> build container created', j.handedOutAt, e.create);
    add('created -> started (shell waits; overlaps git)', e.create, e.start);
    add('created -> git fetch starts (repository set up)', e.create, j.gitFirstAt);
    add('git fetch, first -> last request (server side)', j.gitFirstAt, j.gitLastAt);
    add('git last request -> sources copied in (archive PUT)', j.gitLastAt, copied);
    add('ready (sources in and started) -> script ends', ready, e.die);
    // The final update goes out before the containers are removed (the slot stays taken).
    add('exit -> final update accepted', e.die, j.finalAt);
    add('exit -> container removed (cleanup, meanwhile)', e.die, e.destroy);
  }
  return Object.fromEntries(Object.entries(steps).map(([k, xs]) => [k, { medianMs: median(xs), samples: xs.length }]));
}

const ms = (x) => `${x.toFixed(0)} ms`;
const verdict = (ok) => (ok ? 'ok' : 'MISSED');

/** The goals of `berth run` in issue 10. */
export const GOALS = { overheadMs: 100, idleCpuPercent: 0.5, peakRssMb: 100 };
const overheadOf = (r) => r.perJobMs - r.docker.perRunMs;

export function printTable(r, { checkIntervalS, image }) {
  const overhead = r.perJobMs - r.docker.perRunMs;
  const sumOverhead = r.sumBasedMs - r.docker.sumBasedMs;
  const row = (label, value, note = '') => console.log(`  ${label.padEnd(50)} ${value.padEnd(16)} ${note}`.trimEnd());
  console.log(`bench/run-throughput: ${r.jobs} jobs "echo job N" with a git clone (depth 20) of a small repository,`);
  console.log(`  concurrent = ${r.concurrent}, check_interval = ${checkIntervalS} s (gitlab-runner's default is 3 s), image ${image}`);
  row('wall: first hand-out -> last final update', ms(r.wallMs));
  row('jobs per minute', r.jobsPerMinute.toFixed(1));
  row('per job, berth (hand-out -> final update)', `median ${ms(r.perJobMs)}`);
  row(`per run, docker run --rm (${r.concurrent} x ${r.docker.runs / r.concurrent} rounds)`, `median ${ms(r.docker.perRunMs)}`);
  console.log('    (the same script, same concurrency; 3 rounds before berth, 2 after)');
  row('ratio berth / docker run', (r.perJobMs / r.docker.perRunMs).toFixed(2));
  row('per-job overhead (median berth - median docker)', ms(overhead), `(target <= ${GOALS.overheadMs} ms) ${verdict(overhead <= GOALS.overheadMs)}`);
  row(`sum-based: wall x ${r.concurrent} / ${r.jobs}, berth vs docker`, `${ms(r.sumBasedMs)} vs ${ms(r.docker.sumBasedMs)}`, `overhead ${ms(sumOverhead)}`);
  console.log(`    (berth's wall includes up to one check_interval per job between a slot freeing and the next request)`);
  console.log(`  where a berth job's time goes (medians over jobs):`);
  for (const [name, p] of Object.entries(r.phases)) row(`  ${name}`, Number.isFinite(p.medianMs) ? ms(p.medianMs) : 'n/a', p.samples < r.jobs ? `(${p.samples} samples)` : '');
  const d = r.docker.engine;
  row('  for comparison, docker run --rm (engine events):', `${ms(d.createToStartMs)} / ${ms(d.startToDieMs)} / ${ms(d.dieToDestroyMs)}`, 'create -> start / start -> exit / exit -> removed');
  row('CPU per job: berth / its git processes (and their shell)', `${ms(r.cpu.berthMs)} / ${ms(r.cpu.gitMs)}`, `(the bench process: test servers, git http-backend, sampling: ${ms(r.cpu.serversMs)})`);
  row('berth peak RSS (VmHWM)', `${r.peakRssMb.toFixed(1)} MB`, `(target <= ${GOALS.peakRssMb} MB) ${verdict(r.peakRssMb <= GOALS.peakRssMb)}`);
  row(`idle CPU, polling an empty queue for ${r.idle.seconds.toFixed(0)} s`, `${r.idle.cpuPercent.toFixed(2)} %`, `(target < ${GOALS.idleCpuPercent} %) ${verdict(r.idle.cpuPercent < GOALS.idleCpuPercent)}`);
  if (r.idle.schedCpuPercent !== undefined) row('  the same by the scheduler (ns, all threads)', `${r.idle.schedCpuPercent.toFixed(2)} %`, '(ticks are 10 ms: the line above is coarse)');
  if (r.idle.slices?.length) row('  by 5 s slice', r.idle.slices.map((x) => x.toFixed(2)).join(' '), '% (GCs after the jobs first, then polling only)');
  row('job requests per minute while idle', r.idle.requestsPerMinute.toFixed(1), `(${(60 / checkIntervalS).toFixed(0)} expected at check_interval ${checkIntervalS} s; 20 at 3 s)`);
  row('RSS while idle', `${r.idle.rssMb.toFixed(1)} MB`);
  row('SIGQUIT -> exit 0', ms(r.quitMs), 'no Docker object or temp file left behind');
}

/** The three goal lines: each a median over the rounds (every round's figure in brackets), PASS or MISS. */
export function printGoals(results, { seconds, concurrent }) {
  const line = (label, values, unit, digits, pass) => {
    const m = median(values);
    const each = values.map((v) => v.toFixed(digits)).join(', ');
    console.log(`  ${label.padEnd(50)} ${`${m.toFixed(digits)} ${unit}`.padEnd(12)} ${pass(m) ? 'PASS' : 'MISS'}   (rounds: ${each})`);
  };
  console.log(`goals of berth run (issue 10), medians over ${results.length} round(s), ${seconds.toFixed(0)} s in all:`);
  line(`per-job overhead over docker run, concurrent ${concurrent} (<= ${GOALS.overheadMs} ms)`, results.map(overheadOf), 'ms', 0, (m) => m <= GOALS.overheadMs);
  line(`idle CPU (< ${GOALS.idleCpuPercent} %)`, results.map((r) => r.idle.cpuPercent), '%', 2, (m) => m < GOALS.idleCpuPercent);
  if (results.every((r) => r.idle.schedCpuPercent !== undefined)) {
    line('  the same by the scheduler (ns, all threads)', results.map((r) => r.idle.schedCpuPercent), '%', 2, (m) => m < GOALS.idleCpuPercent);
  }
  line(`peak RSS (<= ${GOALS.peakRssMb} MB)`, results.map((r) => r.peakRssMb), 'MB', 1, (m) => m <= GOALS.peakRssMb);
}
