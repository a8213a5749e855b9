#!/usr/bin/env node
// bench/list-speed: `berth exec --cwd <dir> --list` on every fixture of test/fixtures/pipelines
// (each copied into a temporary git repository, as test/e2e/real-pipelines.test.ts does),
// interleaved with `node -e 0` (Node's own start-up, the floor) in the same run. Prints per-file
// medians, the overall median and max, and the ratio/difference to the floor; then berth's fixed
// start-up (`berth --version` and `berth exec --help` against `node -e 0`, issue 10's goal).
// With a second build (e.g. a copy of dist/ from before a change) both are measured interleaved,
// so that their figures come from the same run and load.
// Usage: node bench/list-speed/run.mjs [rounds=7] [path to berth.mjs] [baseline berth.mjs]   (after `npm run build`)
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.argv[2] ?? 7);
const MAIN = process.argv[3] ? resolve(process.argv[3]) : fileURLToPath(new URL('../../dist/berth.mjs', import.meta.url));
const BASELINE = process.argv[4] ? resolve(process.argv[4]) : null;
// Includes from other servers are not fetched (a bundle that knows --offline is told so, with an
// empty include cache of its own): the figures are berth's, not the network's.
const INCLUDE_CACHE = mkdtempSync(join(tmpdir(), 'berth-bench-includes-'));
const offlineFlags = (main) =>
  execFileSync(process.execPath, [main, 'exec', '--help'], { encoding: 'utf8' }).includes('--offline') ? ['--offline', '--include-cache', INCLUDE_CACHE] : [];
/** The builds measured: this one, and the baseline when given. */
const BUILDS = [{ label: 'berth', main: MAIN, offline: offlineFlags(MAIN) }, ...(BASELINE ? [{ label: 'baseline', main: BASELINE, offline: offlineFlags(BASELINE) }] : [])];
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/pipelines/', import.meta.url));

/** A git repository holding a copy of the fixture: branch main, remote group/demo-project, one commit. */
function fixtureRepo(name) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-list-'));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  // As in the tests: each project's components come from its own GitLab ($CI_SERVER_FQDN there).
  for (const file of execFileSync('find', [dir, '-name', '*.y*ml'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(/(component:\s*["']?)(?!\$)[A-Za-z0-9.-]+\.[A-Za-z]{2,}\//g, '$1$CI_SERVER_FQDN/');
    if (fixed !== text) writeFileSync(file, fixed);
  }
  const git = (...a) => execFileSync('git', a, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'dev@example.invalid');
  git('config', 'user.name', 'Dev Eloper');
  git('remote', 'add', 'origin', 'git@gitlab.example.invalid:group/demo-project.git');
  git('add', '-A');
  git('commit', '-q', '-m', 'Initial commit');
  return dir;
}

function timed(args) {
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolvePromise(ms);
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(0).padStart(5)} ms`;

const allNames = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const dirs = new Map(allNames.map((n) => [n, fixtureRepo(n)]));
const cleanup = () => {
  for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
  rmSync(INCLUDE_CACHE, { recursive: true, force: true });
};
// Stopped early (Ctrl-C, kill): the temporary repositories go too.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}
try {
  // Warm-up (page cache), and the fixtures every build lists (an older baseline may refuse newer ones).
  await timed(['-e', '0']);
  const names = [];
  for (const name of allNames) {
    const ok = await Promise.all(BUILDS.map((b) => timed([b.main, 'exec', '--cwd', dirs.get(name), '--list', ...b.offline]).then(() => true, () => false)));
    if (ok.every(Boolean)) names.push(name);
    else console.log(`skipped ${name}: ${BUILDS.filter((_, i) => !ok[i]).map((b) => b.label).join(', ')} cannot list it`);
  }
  const times = new Map(BUILDS.map((b) => [b.label, new Map(names.map((n) => [n, []]))]));
  const floor = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of names) {
      floor.push(await timed(['-e', '0']));
      // Alternate which build goes first, so that neither always follows node -e 0.
      const order = round % 2 === 0 ? BUILDS : [...BUILDS].reverse();
      for (const b of order) times.get(b.label).get(name).push(await timed([b.main, 'exec', '--cwd', dirs.get(name), '--list', ...b.offline]));
    }
  }
  // Fixed start-up: commands that read no pipeline, interleaved with the floor.
  const startup = new Map(BUILDS.flatMap((b) => [[`${b.label} --version`, []], [`${b.label} exec --help`, []]]));
  const startupFloor = [];
  for (let i = 0; i < ROUNDS * 5; i++) {
    startupFloor.push(await timed(['-e', '0']));
    for (const b of BUILDS) {
      startup.get(`${b.label} --version`).push(await timed([b.main, '--version']));
      startup.get(`${b.label} exec --help`).push(await timed([b.main, 'exec', '--help']));
    }
  }

  console.log(`berth exec --list, ${ROUNDS} rounds per file, interleaved with node -e 0 (${BUILDS.map((b) => `${b.label}: ${b.main}`).join(', ')})`);
  const width = Math.max(...names.map((n) => n.length));
  for (const name of names) {
    const cols = BUILDS.map((b) => {
      const xs = times.get(b.label).get(name);
      return `${b.label} median ${fmt(median(xs))} max ${fmt(Math.max(...xs))}`;
    });
    console.log(`  ${name.padEnd(width)}  ${cols.join('   ')}`);
  }
  const fm = median(floor);
  console.log(`node -e 0 (floor):        median ${fmt(fm)}  max ${fmt(Math.max(...floor))}  (${floor.length} runs)`);
  for (const b of BUILDS) {
    const all = [...times.get(b.label).values()].flat();
    const m = median(all);
    console.log(`${`${b.label} exec --list:`.padEnd(25)} median ${fmt(m)}  max ${fmt(Math.max(...all))}  (${all.length} runs)  over the floor: ${(m / fm).toFixed(2)}x, +${(m - fm).toFixed(0)} ms`);
  }
  const sf = median(startupFloor);
  console.log(`fixed start-up (${startupFloor.length} runs each, interleaved): node -e 0 median ${fmt(sf)}`);
  for (const [label, xs] of startup) {
    const m = median(xs);
    console.log(`  ${label.padEnd(22)} median ${fmt(m)}  max ${fmt(Math.max(...xs))}  over the floor: ${(m / sf).toFixed(2)}x, +${(m - sf).toFixed(0)} ms`);
  }
} finally {
  cleanup();
}
