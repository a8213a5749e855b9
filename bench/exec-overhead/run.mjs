#!/usr/bin/env node
// bench/exec-overhead: berth exec of a 3-stage pipeline of trivial jobs against the same three
// scripts run by sequential `docker run --rm`, interleaved in the same run. Prints medians, the
// ratio, berth's per-job overhead, berth's peak RSS, and `berth exec --list` on 50 jobs.
// Usage: node bench/exec-overhead/run.mjs [rounds=7]   (after `npm run build` and scripts/setup-test-env.sh)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.argv[2] ?? 7);
const IMAGE = 'berth-test/busybox:latest';
const DOCKER = process.env.DOCKER ?? '/usr/bin/docker';
const MAIN = fileURLToPath(new URL('../../dist/berth.mjs', import.meta.url));
const SCRIPTS = ['echo build', 'echo test', 'echo deploy'];

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

const pipeline = `stages: [build, test, deploy]\ndefault: { image: ${IMAGE} }\n` +
  ['build', 'test', 'deploy'].map((s, i) => `${s}-job:\n  stage: ${s}\n  script: ["${SCRIPTS[i]}"]\n`).join('');
const bigPipeline = `stages: [build, test, deploy]\ndefault: { image: ${IMAGE} }\n` +
  Array.from({ length: 50 }, (_, i) => `job-${i}:\n  stage: ${['build', 'test', 'deploy'][i % 3]}\n  script: ["echo ${i}"]\n` +
    (i > 2 && i % 5 === 0 ? `  needs: [job-${i - 3}]\n` : '')).join('');

/** Runs a command, sampling its peak RSS (VmHWM) from /proc while it runs. */
function timed(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
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
      else resolve({ ms, peakKb });
    });
  });
}

async function dockerRuns() {
  const start = process.hrtime.bigint();
  for (const s of SCRIPTS) await timed(DOCKER, ['run', '--rm', IMAGE, 'sh', '-c', s]);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = repo(pipeline);
const bigDir = repo(bigPipeline);
try {
  // Warm-up: page cache, image layers, node's compile cache.
  await timed(process.execPath, [MAIN, 'exec', '--cwd', dir, '--concurrency', '1']);
  await dockerRuns();
  const berth = [];
  const docker = [];
  const rss = [];
  for (let i = 0; i < ROUNDS; i++) {
    const b = await timed(process.execPath, [MAIN, 'exec', '--cwd', dir]);
    berth.push(b.ms);
    rss.push(b.peakKb);
    docker.push(await dockerRuns());
  }
  const list = [];
  for (let i = 0; i < ROUNDS; i++) list.push((await timed(process.execPath, [MAIN, 'exec', '--cwd', bigDir, '--list'])).ms);
  const mb = median(berth);
  const md = median(docker);
  console.log(`rounds                         ${ROUNDS}`);
  console.log(`berth exec, 3 jobs/3 stages   median ${mb.toFixed(0)} ms`);
  console.log(`3 x docker run --rm           median ${md.toFixed(0)} ms`);
  console.log(`ratio berth / docker run      ${(mb / md).toFixed(2)}   (target <= 1.30)`);
  console.log(`per-job overhead              ${((mb - md) / 3).toFixed(0)} ms   (target <= 150)`);
  console.log(`berth peak RSS                ${(Math.max(...rss) / 1024).toFixed(1)} MB   (target <= 100)`);
  console.log(`berth exec --list, 50 jobs    median ${median(list).toFixed(0)} ms   (target < 300)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(bigDir, { recursive: true, force: true });
}
