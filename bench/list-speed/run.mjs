#!/usr/bin/env node
// bench/list-speed: `berth exec --cwd <dir> --list` on every fixture of test/fixtures/pipelines
// (each copied into a temporary git repository, as test/e2e/real-pipelines.test.ts does),
// interleaved with `node -e 0` (Node's own start-up, the floor) in the same run. Prints per-file
// medians, the overall median and max, and the ratio/difference to the floor.
// Usage: node bench/list-speed/run.mjs [rounds=7] [path to berth.mjs]   (after `npm run build`)
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.argv[2] ?? 7);
const MAIN = process.argv[3] ? resolve(process.argv[3]) : fileURLToPath(new URL('../../dist/berth.mjs', import.meta.url));
// Includes from other servers are not fetched (a bundle that knows --offline is told so, with an
// empty include cache of its own): the figures are berth's, not the network's.
const INCLUDE_CACHE = mkdtempSync(join(tmpdir(), 'berth-bench-includes-'));
const OFFLINE = execFileSync(process.execPath, [MAIN, 'exec', '--help'], { encoding: 'utf8' }).includes('--offline') ? ['--offline', '--include-cache', INCLUDE_CACHE] : [];
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

const names = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const dirs = new Map(names.map((n) => [n, fixtureRepo(n)]));
try {
  // Warm-up: page cache and Node's compile cache.
  await timed(['-e', '0']);
  await timed([MAIN, 'exec', '--cwd', dirs.get(names[0]), '--list', ...OFFLINE]);
  const times = new Map(names.map((n) => [n, []]));
  const floor = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of names) {
      floor.push(await timed(['-e', '0']));
      times.get(name).push(await timed([MAIN, 'exec', '--cwd', dirs.get(name), '--list', ...OFFLINE]));
    }
  }
  console.log(`berth exec --list, ${ROUNDS} rounds per file, interleaved with node -e 0 (${MAIN})`);
  const width = Math.max(...names.map((n) => n.length));
  for (const name of names) {
    const xs = times.get(name);
    console.log(`  ${name.padEnd(width)}  median ${fmt(median(xs))}  max ${fmt(Math.max(...xs))}`);
  }
  const all = [...times.values()].flat();
  const fm = median(floor);
  const m = median(all);
  console.log(`node -e 0 (floor):   median ${fmt(fm)}  max ${fmt(Math.max(...floor))}  (${floor.length} runs)`);
  console.log(`berth exec --list:   median ${fmt(m)}  max ${fmt(Math.max(...all))}  (${all.length} runs)`);
  console.log(`over the floor:      median ${(m / fm).toFixed(2)}x, +${(m - fm).toFixed(0)} ms`);
} finally {
  for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
  rmSync(INCLUDE_CACHE, { recursive: true, force: true });
}
