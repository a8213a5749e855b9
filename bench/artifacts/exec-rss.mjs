#!/usr/bin/env node
// bench/artifacts/exec-rss: the peak RSS and the time of a real `berth exec` (the built CLI,
// dist/berth.mjs) of a make → use pipeline: `make` writes FILES files of SIZE bytes into dist/
// (artifacts: paths: [dist/]), `use` receives them (berth exec's artifact store under .berth/)
// and checks their count. The peak RSS (VmHWM, sampled from /proc while it runs) is the whole
// berth process's, the number issue 9 sets a target for (<= 150 MB).
//
// Usage: node bench/artifacts/exec-rss.mjs [rounds=3] [--files N=20000] [--size BYTES=10240] [--main PATH]
//        (after `npm run build` and scripts/setup-test-env.sh; --main: another build of the CLI
//        to compare, default dist/berth.mjs)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ROUNDS = Number(args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith('--')) ?? 3);
const FILES = flag('files', 20000);
const SIZE = flag('size', 10240);
const IMAGE = 'berth-test/bash:latest';
const mainAt = args.indexOf('--main');
const MAIN = mainAt >= 0 ? args[mainAt + 1] : fileURLToPath(new URL('../../dist/berth.mjs', import.meta.url));

// Files made by bash builtins only (no process per file): SIZE bytes of base64 text each, the
// last 8 the file's number, in folders of 200.
const make = [
  'set -e',
  `chunk=$(head -c ${Math.ceil((SIZE * 3) / 4)} /dev/urandom | base64 -w0 | head -c ${SIZE - 8})`,
  `for ((i = 0; i < ${FILES}; i++)); do d=dist/d$((i / 200)); ((i % 200)) || mkdir -p $d; printf '%s%08d' "$chunk" $i > $d/f$i.txt; done`,
].join('\n');
const yaml = `stages: [build, test]
default:
  image: ${IMAGE}
make:
  stage: build
  script:
    - |
${make.split('\n').map((l) => `      ${l}`).join('\n')}
  artifacts:
    paths: [dist/]
use:
  stage: test
  script:
    - test "$(find dist -type f | wc -l)" -eq ${FILES}
`;

function repo() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-exec-rss-'));
  writeFileSync(join(dir, '.gitlab-ci.yml'), yaml);
  const git = (...a) => execFileSync('git', a, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.email=b@example.invalid', '-c', 'user.name=b', 'commit', '-q', '-m', 'bench');
  return dir;
}

/** Runs berth exec, sampling its peak RSS (VmHWM) from /proc while it runs. */
function run(dir) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [MAIN, 'exec', '--cwd', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let peakKb = 0;
    let stderr = '';
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        /* exited */
      }
    };
    const timer = setInterval(sample, 10);
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearInterval(timer);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`berth exec exited ${code}: ${stderr}`));
      else resolve({ ms, peakMb: peakKb / 1024 });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (let r = 1; r <= ROUNDS; r++) {
  const dir = repo();
  try {
    const res = await run(dir);
    results.push(res);
    console.log(`round ${r}: berth exec ${res.ms.toFixed(0)} ms, peak RSS ${res.peakMb.toFixed(0)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`berth exec make → use, ${FILES} files of ${SIZE} bytes: median ${median(results.map((r) => r.ms)).toFixed(0)} ms, peak RSS max ${Math.max(...results.map((r) => r.peakMb)).toFixed(0)} MB (target <= 150 MB); load average ${load}`);
