#!/usr/bin/env node
// bench/artifacts/layers: peak RSS, memory at the peak and CPU of one layer of berth's artifact
// paths at a time (each in a child process of its own), to find where the memory and the time
// go: the engine's tar stream alone, its entries, the archive step (select + zip, per deflate
// thread count), the extract step (zip → tar → PUT archive).
//
// Usage: node bench/artifacts/layers.mjs [ops...] [--files N=20000] [--size BYTES=10240] [--level L=5] [--prof DIR]
//        ops: engine entries archive0 archive1 archive2 extract roundtrip (archive + extract, berth exec's) idle (default: all)
//        --prof DIR: node --cpu-prof into DIR for each child; --node "FLAGS": node flags for the children
//        --keep: keep the source container (its id is printed); --source ID: use that one (no fill)
//        env LAYERS_V8_FLAGS="...": v8.setFlagsFromString in each child after it loaded the code;
//        env LAYERS_GC=minor|major: a GC every 50 ms in each child (what explicit GCs change)
// Each line: the child's time, peak RSS (VmHWM), CPU, and at the RSS peak (sampled every 10 ms)
// V8's heap, the external memory (Buffers) and the size of each heap space.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const flag = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const FILES = Number(flag('files', 20000));
const SIZE = Number(flag('size', 10240));
const LEVEL = Number(flag('level', 5));
const PROF = flag('prof', undefined);
/** --node "FLAGS": node/V8 flags for the children (e.g. "--max-semi-space-size=1"). */
const NODE_FLAGS = (flag('node', '') ?? '').split(' ').filter(Boolean);
const ALL = ['idle', 'engine', 'entries', 'archive0', 'archive1', 'archive2', 'extract', 'roundtrip'];
const ops = args.filter((a, i) => ALL.includes(a) && !args[i - 1]?.startsWith('--'));
const LABEL = `artifacts-${randomBytes(4).toString('hex')}`;

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const temp = mkdtempSync(here('./.bundle-'));
const unused = here('../../scripts/bundle/unused-module.cjs');
await build({ entryPoints: { parts: here('./bench-parts.ts') }, outdir: temp, outExtension: { '.js': '.mjs' }, splitting: true, chunkNames: 'chunks/[name]-[hash]',
  bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error',
  alias: { ssh2: unused, '@grpc/grpc-js': unused, '@grpc/proto-loader': unused },
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
const partsFile = join(temp, 'parts.mjs');
const childFile = join(temp, 'child.mjs');
writeFileSync(childFile, `import { readFileSync } from 'node:fs';
import * as parts from ${JSON.stringify(pathToFileURL(partsFile).href)};
const [op, json] = process.argv.slice(2);
const v8 = await import('node:v8');
if (process.env.LAYERS_V8_FLAGS) (await import('node:v8')).setFlagsFromString(process.env.LAYERS_V8_FLAGS);
if (process.env.LAYERS_GC) {
  v8.setFlagsFromString('--expose-gc');
  const gc = (await import('node:vm')).runInNewContext('gc');
  setInterval(() => gc({ type: process.env.LAYERS_GC }), 50).unref();
}
let atPeak = process.memoryUsage();
let spaces = {};
let peakAt = 0;
const timer = setInterval(() => { const m = process.memoryUsage(); if (m.rss > atPeak.rss) { atPeak = m; peakAt = performance.now() - t0; spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace('_space', ''), Math.round(s.space_size / 1048576)])); } }, 10);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const times = op === 'idle' ? {} : await parts[op](JSON.parse(json));
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
clearInterval(timer);
const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const mb = (b) => Math.round(b / 1048576);
process.stdout.write(JSON.stringify({ ms: Math.round(ms), peakAtMs: Math.round(peakAt), times, peakRssMb: Math.round(hwm / 1024), cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  atPeak: { rss: mb(atPeak.rss), heapUsed: mb(atPeak.heapUsed), heapTotal: mb(atPeak.heapTotal), external: mb(atPeak.external), arrayBuffers: mb(atPeak.arrayBuffers) }, spaces }));
process.exit(0);
`);
const parts = await import(pathToFileURL(partsFile).href);

function child(op, input) {
  return new Promise((resolve, reject) => {
    const flags = PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF, '--cpu-prof-name', `${op}-${input.layer ?? input.threads ?? ''}.cpuprofile`] : [];
    const p = spawn(process.execPath, [...NODE_FLAGS, ...flags, childFile, op, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${op} exited ${code}: ${err}`))));
  });
}

// The containers made to extract into: removed even with --keep (which keeps the source only).
const targets = [];
try {
  // --source ID: a container made by an earlier run with --keep (its files already there).
  const given = flag('source', undefined);
  const source = given ?? (await parts.createContainer(LABEL));
  if (!given) await parts.fillDist(source, FILES, SIZE);
  if (args.includes('--keep')) console.log(`source container (kept): ${source}`);
  // An archive to extract from (made in this process).
  const zip = join(temp, 'made.zip');
  if (ops.length === 0 || ops.includes('extract')) await parts.archiveTo({ container: source, file: zip, level: LEVEL });
  for (const op of ops.length ? ops : ALL) {
    let r;
    if (op === 'idle') r = await child('idle', {});
    else if (op === 'engine' || op === 'entries') r = await child('readOneLayer', { container: source, layer: op });
    else if (op.startsWith('archive')) r = await child('archiveOnly', { container: source, level: LEVEL, threads: Number(op.slice(7)) });
    else if (op === 'roundtrip') {
      const target = await parts.createContainer(LABEL);
      targets.push(target);
      r = await child('localRoundTrip', { from: source, to: target, level: LEVEL });
    } else if (op === 'extract') {
      const target = await parts.createContainer(LABEL);
      targets.push(target);
      r = await child('extractOnly', { container: target, file: zip });
    }
    console.log(`${op.padEnd(9)} ${JSON.stringify(r)}`);
  }
} finally {
  if (!args.includes('--keep')) await parts.removeContainers(LABEL).catch(() => undefined);
  else await parts.removeContainerIds(targets).catch(() => undefined);
  rmSync(temp, { recursive: true, force: true });
}
