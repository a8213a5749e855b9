#!/usr/bin/env node
// bench/artifacts: what berth adds to move a job's files to the next job, against the floor of
// the Engine archive API alone (GET /containers/{id}/archive out of one container, PUT into
// another: `docker cp` out and in), interleaved round by round in one run.
//
//   floor           getArchive(A:dist) piped into putArchive(B)
//   artifacts       berth run's path: select + zip (upload side) + POST to the GitLab API test
//                   server; GET (direct download via its object-storage route) + zip→tar + PUT
//                   archive into a fresh container (download side)
//   exec store      berth exec's path: select + zip to a local file, then zip→tar + PUT archive
//   cache           select + zip + local cache.zip + S3 PUT (s3rver), then S3 GET into another
//                   runner's empty cache folder + zip→tar + PUT archive
//
// berth's paths run in child processes (node, the bundled code, no servers): each one's peak
// RSS (VmHWM) is berth's alone. Data: FILES files of SIZE bytes (base64 text) in folders of 200.
//
// Usage: node bench/artifacts/run.mjs [rounds=7] [--files N=20000] [--size BYTES=10240] [--level L=5] [--json]
//        (needs scripts/setup-test-env.sh: the engine and berth-test images)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const flag = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ROUNDS = Number(args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith('--')) ?? 7);
const FILES = flag('files', 20000);
const SIZE = flag('size', 10240);
const LEVEL = flag('level', 5);
const JSON_OUT = args.includes('--json');
const LABEL = `artifacts-${randomBytes(4).toString('hex')}`;

// Inside the repository, so that what the bundles load at run time (s3rver) resolves from node_modules.
const temp = mkdtempSync(fileURLToPath(new URL('./.bundle-', import.meta.url)));
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const bundle = async (entry, out) => {
  // As scripts/bundle/bundle.mjs: dockerode's SSH and gRPC parts are never used.
  const unused = here('../../scripts/bundle/unused-module.cjs');
  await build({ entryPoints: [here(entry)], outfile: join(temp, out), bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error',
    alias: { ssh2: unused, '@grpc/grpc-js': unused, '@grpc/proto-loader': unused },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
  return join(temp, out);
};
const partsFile = await bundle('./bench-parts.ts', 'parts.mjs');
const serversFile = await bundle('./bench-servers.ts', 'servers.mjs');
const childFile = join(temp, 'child.mjs');
writeFileSync(childFile, `import { readFileSync } from 'node:fs';
import * as parts from ${JSON.stringify(pathToFileURL(partsFile).href)};
const [op, json] = process.argv.slice(2);
const times = await parts[op](JSON.parse(json));
const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
process.stdout.write(JSON.stringify({ times, peakRssMb: hwm / 1024 }));
process.exit(0);
`);
const parts = await import(pathToFileURL(partsFile).href);
const { startServers } = await import(pathToFileURL(serversFile).href);

function child(op, input) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [childFile, op, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${op} exited ${code}: ${err}`))));
  });
}

const sum = (t) => Object.values(t).reduce((a, b) => a + b, 0);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const servers = await startServers();
const rows = { floor: [], artifacts: [], exec: [], cache: [] };
const phases = { artifacts: [], exec: [], cache: [] };
const rss = { artifactsUp: [], artifactsDown: [], exec: [], cache: [] };
try {
  const source = await parts.createContainer(LABEL);
  const bytes = await parts.fillDist(source, FILES, SIZE);
  if (!JSON_OUT) console.log(`bench/artifacts: ${FILES} files, ${(bytes / 1e6).toFixed(0)} MB, zip level ${LEVEL}, ${ROUNDS} rounds (interleaved)`);
  for (let r = 1; r <= ROUNDS; r++) {
    const targets = await Promise.all([1, 2, 3, 4].map(() => parts.createContainer(LABEL)));
    const floor = await parts.floorCopy(source, targets[0]);
    const job = servers.runningJob();
    const up = await child('artifactsUp', { container: source, glUrl: servers.glUrl, job, level: LEVEL });
    const down = await child('artifactsDown', { container: targets[1], glUrl: servers.glUrl, dep: job });
    const exec = await child('localRoundTrip', { from: source, to: targets[2], level: LEVEL });
    const cache = await child('cacheRoundTrip', { from: source, to: targets[3], s3: servers.s3, level: LEVEL, key: `bench-${r}` });
    const art = { ...up.times, ...down.times };
    rows.floor.push(floor);
    rows.artifacts.push(sum(art));
    rows.exec.push(sum(exec.times));
    rows.cache.push(sum(cache.times));
    phases.artifacts.push(art);
    phases.exec.push(exec.times);
    phases.cache.push(cache.times);
    rss.artifactsUp.push(up.peakRssMb);
    rss.artifactsDown.push(down.peakRssMb);
    rss.exec.push(exec.peakRssMb);
    rss.cache.push(cache.peakRssMb);
    if (!JSON_OUT) console.log(`round ${r}: floor ${floor.toFixed(0)} ms, artifacts ${sum(art).toFixed(0)} ms, exec store ${sum(exec.times).toFixed(0)} ms, cache ${sum(cache.times).toFixed(0)} ms`);
    await parts.removeContainerIds(targets);
  }
} finally {
  await parts.removeContainers(LABEL).catch(() => undefined);
  await servers.close();
  rmSync(temp, { recursive: true, force: true });
}

const phaseMedians = (list) => Object.fromEntries(Object.keys(list[0]).map((k) => [k, Math.round(median(list.map((t) => t[k])))]));
const floorMs = median(rows.floor);
const result = {
  files: FILES,
  bytes: FILES * SIZE,
  level: LEVEL,
  rounds: ROUNDS,
  floorMs: Math.round(floorMs),
  artifacts: { ms: Math.round(median(rows.artifacts)), ratio: +(median(rows.artifacts) / floorMs).toFixed(2), phases: phaseMedians(phases.artifacts), peakRssMb: { upload: Math.round(Math.max(...rss.artifactsUp)), download: Math.round(Math.max(...rss.artifactsDown)) } },
  exec: { ms: Math.round(median(rows.exec)), ratio: +(median(rows.exec) / floorMs).toFixed(2), phases: phaseMedians(phases.exec), peakRssMb: Math.round(Math.max(...rss.exec)) },
  cache: { ms: Math.round(median(rows.cache)), ratio: +(median(rows.cache) / floorMs).toFixed(2), phases: phaseMedians(phases.cache), peakRssMb: Math.round(Math.max(...rss.cache)) },
};
if (JSON_OUT) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`\nmedians over ${ROUNDS} rounds (targets: ratio <= 1.5, peak RSS <= 150 MB)`);
  console.log(`floor (archive API out + in)         ${result.floorMs} ms`);
  console.log(`artifacts via GitLab (berth run)     ${result.artifacts.ms} ms  ratio ${result.artifacts.ratio}  ${JSON.stringify(result.artifacts.phases)}  peak RSS up ${result.artifacts.peakRssMb.upload} MB / down ${result.artifacts.peakRssMb.download} MB`);
  console.log(`artifacts via .berth/ (berth exec)   ${result.exec.ms} ms  ratio ${result.exec.ratio}  ${JSON.stringify(result.exec.phases)}  peak RSS ${result.exec.peakRssMb} MB`);
  console.log(`cache save + restore via S3          ${result.cache.ms} ms  ratio ${result.cache.ratio}  ${JSON.stringify(result.cache.phases)}  peak RSS ${result.cache.peakRssMb} MB`);
}
