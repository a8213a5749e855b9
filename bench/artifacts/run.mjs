#!/usr/bin/env node
// bench/artifacts: what berth adds to move a job's files to the next job, against the floor of
// the Engine archive API alone (GET /containers/{id}/archive out of one container, PUT into
// another: `docker cp` out and in), interleaved round by round in one run.
//
//   floor           getArchive(A:dist) piped into putArchive(B): out and in at once (the strict floor)
//   docker cp       getArchive(A:dist) into a tar file, then putArchive(B) of it: `docker cp` out,
//                   then in (the issue's words; phases `out` and `in`); berth's ratios are printed against both
//   artifacts       berth run's path: select + zip streamed into the POST to the GitLab API test
//                   server (upload side, one phase); GET (direct download via its object-storage route) + zip→tar + PUT
//                   archive into a fresh container (download side). As in berth run, the zip is extracted
//                   while it downloads (its end fetched first by Range): phase `download` is the time until
//                   it can be read, `extract` the rest of the body and the extraction together
//   exec store      berth exec's path: select + zip to a local file, then zip→tar + PUT archive
//   cache           select + zip written straight as the local cache.zip (`archive`) + S3 PUT (s3rver, `save`), then S3 GET into another
//                   runner's empty cache folder + zip→tar + PUT archive (extracted while it downloads, as
//                   artifacts; `restore` until it can be read, `extract` the rest and the commit)
//
// berth's paths run in child processes (node, the bundled code, no servers): each one's peak
// RSS (VmHWM) is berth's alone. The bundle is split as the CLI's is (scripts/bundle/bundle.mjs):
// what berth loads lazily (the AWS SDK of the S3 cache) is loaded by the cache case only. Each
// child also reports, at its RSS peak, V8's heap and the external memory (Buffers), its CPU time
// (all threads, and of it the kernel's), its minor page faults (fresh memory touched: each costs the kernel), its main thread's busy time and V8's collections (count and time, by kind:
// minor, major, other = incremental marking and weak callbacks), and the CPU the bench's own
// process (the GitLab and S3 test servers) used meanwhile; `idle child` is the RSS of a child that loads
// the bundle and does nothing (node and the code), to subtract. The order of the four cases
// turns round by round, so that none always runs first (page cache, a busy neighbour). Before
// each case (untimed) the bench runs sync(1): a round writes over 1 GB into the engine's storage,
// and the kernel's writeback of one case's dirty pages would otherwise be paid by the next case.
// The engine's own speed still drifts between rounds (7 rounds with sync: floor 5.1 -> 9.7 ->
// 6.2 s), so the ratios are the median of the per-round ratios (each round's berth time over the
// same round's floor); the ratio of the medians is printed next to it.
// Deleting: the containers a round fills (5 x 20,000 files) are removed only after the last round.
// Removing them at each round's end made the next round's first cases pay for the deletion (this
// disk is mounted with `discard`: the freed blocks are trimmed after the fact, and sync(1) does not
// wait for that): a PUT archive of the same 215 MB tar file into a fresh container took 7.3-10.3 s
// (12 runs) with the previous target removed just before, 2.5-2.8 s (5 runs) with none removed,
// which no case's own work explains. Keeping them costs disk (about 1 GB per round), not time.
// Data: FILES files of SIZE bytes (base64 text) in folders of 200.
//
// The RSS of a real `berth exec` (the built CLI, a make → use pipeline of 20,000 small files) is
// measured by bench/artifacts/exec-rss.mjs.
//
// --compare adds, to every round, the upload side as it was before the zip was streamed (zip to a
// temporary file, then POST it) next to the streamed one, and the cache save as it was (zip to a
// temporary file, copied into the cache folder, then PUT) next to the one written in place: the
// same work, side by side in one run, with each child's CPU time.
//
// The job containers mount a builds volume at /builds, as berth's build containers do on a local
// engine. (Writing the files into that volume from the host instead of PUT archive was tried:
// on these VMs creating a file costs the kernel ~0.4 ms whoever asks, and berth's writes through
// libuv's pool took 10.8-13.2 s against the engine's 9.0-10.8 s, synchronous writes 9.5-11.0 s.)
//
// Usage: node bench/artifacts/run.mjs [rounds=7] [--files N=20000] [--size BYTES=10240] [--level L=5, exec store 0] [--threads T] [--compare] [--prof DIR] [--json]
//        (--threads: writeZip's deflateThreads, the worker threads of DeflatePool; default berth's own)
//        (needs scripts/setup-test-env.sh: the engine and berth-test images)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
// berth exec's own store is uncompressed unless ARTIFACT_COMPRESSION_LEVEL says otherwise
// (compression-level.ts LOCAL_STORE_COMPRESSION_LEVEL); --level sets it too.
const EXEC_LEVEL = args.includes('--level') ? LEVEL : 0;
const THREADS = flag('threads', undefined);
const JSON_OUT = args.includes('--json');
const COMPARE = args.includes('--compare');
/** --prof DIR: every child runs under node --cpu-prof, its profile written into DIR. */
const PROF = args.includes('--prof') ? args[args.indexOf('--prof') + 1] : undefined;
const LABEL = `artifacts-${randomBytes(4).toString('hex')}`;

// Inside the repository, so that what the bundles load at run time (s3rver) resolves from node_modules.
const temp = mkdtempSync(fileURLToPath(new URL('./.bundle-', import.meta.url)));
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const bundle = async (entry, out) => {
  // As scripts/bundle/bundle.mjs: dockerode's SSH and gRPC parts are never used; code splitting
  // keeps what is imported lazily (the AWS SDK) out of what every child loads.
  const unused = here('../../scripts/bundle/unused-module.cjs');
  await build({ entryPoints: { [out.replace(/\.mjs$/, '')]: here(entry) }, outdir: temp, outExtension: { '.js': '.mjs' }, splitting: true, chunkNames: 'chunks/[name]-[hash]',
    bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error',
    alias: { ssh2: unused, '@grpc/grpc-js': unused, '@grpc/proto-loader': unused },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
  return join(temp, out);
};
const partsFile = await bundle('./bench-parts.ts', 'parts.mjs');
const serversFile = await bundle('./bench-servers.ts', 'servers.mjs');
const childFile = join(temp, 'child.mjs');
writeFileSync(childFile, `import { readFileSync } from 'node:fs';
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import * as parts from ${JSON.stringify(pathToFileURL(partsFile).href)};
const [op, json] = process.argv.slice(2);
// V8's collections by kind: how many, and their time on the main thread.
const gc = { minor: { n: 0, ms: 0 }, major: { n: 0, ms: 0, external: 0 }, other: { n: 0, ms: 0 } };
const kinds = { [perf.NODE_PERFORMANCE_GC_MINOR]: 'minor', [perf.NODE_PERFORMANCE_GC_MAJOR]: 'major' };
// (major.external: those V8 ran because Buffers' memory outside the heap grew past its limit.)
new PerformanceObserver((list) => { for (const e of list.getEntries()) { const g = gc[kinds[e.detail?.kind] ?? 'other']; g.n++; g.ms += e.duration; if (g === gc.major && (e.detail?.flags & perf.NODE_PERFORMANCE_GC_FLAGS_ALL_EXTERNAL_MEMORY)) g.external++; } }).observe({ entryTypes: ['gc'] });
// memoryUsage at the highest RSS seen (sampled): is the peak V8's heap or Buffers (external)?
let atPeak = process.memoryUsage();
const timer = setInterval(() => { const m = process.memoryUsage(); if (m.rss > atPeak.rss) atPeak = m; }, 20);
const cpu0 = process.cpuUsage();
const faults0 = process.resourceUsage().minorPageFault;
const elu0 = performance.eventLoopUtilization();
const times = op === 'idle' ? {} : await parts[op](JSON.parse(json));
const cpu = process.cpuUsage(cpu0);
const faults = process.resourceUsage().minorPageFault - faults0;
const elu = performance.eventLoopUtilization(elu0);
clearInterval(timer);
const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const mb = (b) => b / 1048576;
// The peak of the whole child: VmHWM is reset after each phase (bench-parts markPeak), so the
// highest phase peak, or the last reading when no phase was marked.
const peakMb = Math.max(hwm / 1024, ...Object.values(parts.phasePeaksMb));
process.stdout.write(JSON.stringify({ times, gc, peakRssMb: peakMb, phasePeaksMb: parts.phasePeaksMb, phaseEndRssMb: parts.phaseEndRssMb, cpuMs: (cpu.user + cpu.system) / 1000, systemMs: cpu.system / 1000, faults, mainBusyMs: elu.active,
  atPeak: { heapTotalMb: mb(atPeak.heapTotal), heapUsedMb: mb(atPeak.heapUsed), externalMb: mb(atPeak.external), arrayBuffersMb: mb(atPeak.arrayBuffers) } }));
process.exit(0);
`);
const parts = await import(pathToFileURL(partsFile).href);
const { startServers } = await import(pathToFileURL(serversFile).href);

function child(op, input) {
  return new Promise((resolve, reject) => {
    const prof = PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF, '--cpu-prof-name', `${op}-${Date.now()}.cpuprofile`] : [];
    // This process's CPU meanwhile: the GitLab and S3 test servers serving the child (they share
    // the machine's cores with berth and dockerd; GitLab and object storage would not).
    const serversCpu0 = process.cpuUsage();
    const p = spawn(process.execPath, [...prof, childFile, op, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const serversCpu = process.cpuUsage(serversCpu0);
      if (code === 0) resolve({ ...JSON.parse(out), serversCpuMs: (serversCpu.user + serversCpu.system) / 1000 });
      else reject(new Error(`${op} exited ${code}: ${err}`));
    });
  });
}

const sum = (t) => Object.values(t).reduce((a, b) => a + b, 0);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const servers = await startServers();
const rows = { floor: [], cp: [], artifacts: [], exec: [], cache: [] };
const phases = { cp: [], artifacts: [], exec: [], cache: [] };
/** Per child kind: the child reports (peak RSS, memory at the peak, CPU). */
const reports = { artifactsUp: [], artifactsDown: [], exec: [], cache: [], idle: [], upStreamed: [], upFile: [], saveWritten: [], saveCopy: [] };
try {
  const source = await parts.createContainer(LABEL);
  const bytes = await parts.fillDist(source, FILES, SIZE);
  if (!JSON_OUT) console.log(`bench/artifacts: ${FILES} files, ${(bytes / 1e6).toFixed(0)} MB, zip level ${LEVEL} (exec store ${EXEC_LEVEL}), deflate threads ${THREADS ?? 'default'}, ${ROUNDS} rounds (interleaved, order turning)`);
  for (let r = 1; r <= ROUNDS; r++) {
    const targets = await Promise.all([1, 2, 3, 4, 5].map(() => parts.createContainer(LABEL)));
    const job = servers.runningJob();
    const cases = [
      async () => rows.floor.push(await parts.floorCopy(source, targets[0])),
      async () => {
        const cp = await parts.floorViaFile(source, targets[4]);
        rows.cp.push(sum(cp));
        phases.cp.push(cp);
      },
      async () => {
        const up = await child('artifactsUp', { container: source, glUrl: servers.glUrl, job, level: LEVEL, threads: THREADS });
        const down = await child('artifactsDown', { container: targets[1], glUrl: servers.glUrl, dep: job });
        const art = { ...up.times, ...down.times };
        rows.artifacts.push(sum(art));
        phases.artifacts.push(art);
        reports.artifactsUp.push(up);
        reports.artifactsDown.push(down);
      },
      async () => {
        const exec = await child('localRoundTrip', { from: source, to: targets[2], level: EXEC_LEVEL, threads: THREADS });
        rows.exec.push(sum(exec.times));
        phases.exec.push(exec.times);
        reports.exec.push(exec);
      },
      async () => {
        const cache = await child('cacheRoundTrip', { from: source, to: targets[3], s3: servers.s3, level: LEVEL, key: `bench-${r}`, threads: THREADS });
        rows.cache.push(sum(cache.times));
        phases.cache.push(cache.times);
        reports.cache.push(cache);
      },
    ];
    if (COMPARE) {
      const compareJobs = [servers.runningJob(), servers.runningJob()];
      const up = { container: source, glUrl: servers.glUrl, level: LEVEL, threads: THREADS };
      const save = { from: source, s3: servers.s3, level: LEVEL, threads: THREADS };
      cases.push(
        async () => reports.upStreamed.push(await child('artifactsUp', { ...up, job: compareJobs[0] })),
        async () => reports.upFile.push(await child('artifactsUpFile', { ...up, job: compareJobs[1] })),
        async () => reports.saveWritten.push(await child('cacheSaveWritten', { ...save, key: `cmp-w-${r}` })),
        async () => reports.saveCopy.push(await child('cacheSaveFile', { ...save, key: `cmp-c-${r}` })),
      );
    }
    for (let i = 0; i < cases.length; i++) {
      execFileSync('sync');
      await cases[(i + r - 1) % cases.length]();
    }
    reports.idle.push(await child('idle', {}));
    if (!JSON_OUT) console.log(`round ${r}: floor ${rows.floor.at(-1).toFixed(0)} ms, docker cp out then in ${rows.cp.at(-1).toFixed(0)} ms, artifacts ${rows.artifacts.at(-1).toFixed(0)} ms, exec store ${rows.exec.at(-1).toFixed(0)} ms, cache ${rows.cache.at(-1).toFixed(0)} ms`);
    // The targets stay until the end (removed in the finally below): see "Deleting" above.
  }
} finally {
  await parts.removeContainers(LABEL).catch(() => undefined);
  await servers.close();
  rmSync(temp, { recursive: true, force: true });
}

const phaseMedians = (list) => Object.fromEntries(Object.keys(list[0]).map((k) => [k, Math.round(median(list.map((t) => t[k])))]));
/** Peak RSS (the highest of the rounds), and the medians of the rest. */
const memory = (list) => {
  const at = (k) => Math.round(median(list.map((x) => x.atPeak[k])));
  return {
    peakRssMb: Math.round(Math.max(...list.map((x) => x.peakRssMb))),
    /** Per phase: the highest of the rounds. */
    phasePeaksMb: Object.fromEntries(Object.keys(list[0].phasePeaksMb).map((k) => [k, Math.max(...list.map((x) => x.phasePeaksMb[k]))])),
    phaseEndRssMb: Object.fromEntries(Object.keys(list[0].phaseEndRssMb ?? {}).map((k) => [k, Math.max(...list.map((x) => x.phaseEndRssMb[k]))])),
    atPeak: { heapTotalMb: at('heapTotalMb'), heapUsedMb: at('heapUsedMb'), externalMb: at('externalMb'), arrayBuffersMb: at('arrayBuffersMb') },
    cpuMs: Math.round(median(list.map((x) => x.cpuMs))),
    systemMs: Math.round(median(list.map((x) => x.systemMs))),
    faults: Math.round(median(list.map((x) => x.faults))),
    /** Per kind: the median count and main-thread time of V8's collections. */
    gc: Object.fromEntries(Object.keys(list[0].gc).map((k) => [k, { n: Math.round(median(list.map((x) => x.gc[k].n))), ms: Math.round(median(list.map((x) => x.gc[k].ms))), external: Math.round(median(list.map((x) => x.gc[k].external ?? 0))) }])),
    mainBusyMs: Math.round(median(list.map((x) => x.mainBusyMs))),
    serversCpuMs: Math.round(median(list.map((x) => x.serversCpuMs))),
  };
};
const floorMs = median(rows.floor);
const cpMs = median(rows.cp);
const r2 = (x) => +x.toFixed(2);
/** Each round's berth time over that round's floors (piped, docker cp); the ratios are their medians over rounds. */
const ratios = (list) => {
  const perRound = list.map((ms, i) => [ms / rows.floor[i], ms / rows.cp[i]]);
  return {
    ratio: r2(median(perRound.map(([piped]) => piped))),
    ratioDockerCp: r2(median(perRound.map(([, cp]) => cp))),
    ratioOfMedians: r2(median(list) / floorMs),
    ratioOfMediansDockerCp: r2(median(list) / cpMs),
    perRound: perRound.map((pair) => pair.map(r2)),
  };
};
const result = {
  files: FILES,
  bytes: FILES * SIZE,
  level: LEVEL,
  rounds: ROUNDS,
  load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  floorMs: Math.round(floorMs),
  dockerCpMs: Math.round(cpMs),
  dockerCpPhases: phaseMedians(phases.cp),
  artifacts: { ms: Math.round(median(rows.artifacts)), ...ratios(rows.artifacts), phases: phaseMedians(phases.artifacts), upload: memory(reports.artifactsUp), download: memory(reports.artifactsDown) },
  exec: { ms: Math.round(median(rows.exec)), ...ratios(rows.exec), phases: phaseMedians(phases.exec), ...memory(reports.exec) },
  cache: { ms: Math.round(median(rows.cache)), ...ratios(rows.cache), phases: phaseMedians(phases.cache), ...memory(reports.cache) },
  idleChild: { peakRssMb: Math.round(median(reports.idle.map((x) => x.peakRssMb))) },
};
const byPhase = (m) => Object.keys(m.phasePeaksMb).map((k) => `${k} ${m.phasePeaksMb[k]}/${m.phaseEndRssMb[k]}`).join(', ');
const mem = (m) => `peak RSS ${m.peakRssMb} MB (by phase, peak/at its end: ${byPhase(m)}) (at the peak: heap ${m.atPeak.heapUsedMb}/${m.atPeak.heapTotalMb} MB used/total, external ${m.atPeak.externalMb} MB of which Buffers ${m.atPeak.arrayBuffersMb} MB), CPU ${m.cpuMs} ms (system ${m.systemMs}), minor page faults ${m.faults}, main thread busy ${m.mainBusyMs} ms, the test servers' CPU meanwhile ${m.serversCpuMs} ms, GC ${Object.entries(m.gc).map(([k, g]) => `${k} ${g.n}x/${g.ms} ms${k === 'major' ? ` (${g.external} for external memory)` : ''}`).join(', ')}`;
if (JSON_OUT) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`\nmedians over ${ROUNDS} rounds (targets: ratio <= 1.5, peak RSS <= 150 MB); load average at the end ${result.load}`);
  console.log('ratio: the median of the per-round ratios vs the piped floor / vs docker cp (in brackets: the ratios of the medians)');
  console.log(`floor (archive API out + in)         ${result.floorMs} ms`);
  console.log(`docker cp out, then in (a tar file)  ${result.dockerCpMs} ms  ${JSON.stringify(result.dockerCpPhases)}   (ratios below: vs floor / vs docker cp)`);
  console.log(`artifacts via GitLab (berth run)     ${result.artifacts.ms} ms  ratio ${result.artifacts.ratio} / ${result.artifacts.ratioDockerCp} (${result.artifacts.ratioOfMedians} / ${result.artifacts.ratioOfMediansDockerCp})  per round ${result.artifacts.perRound.map(([a, b]) => `${a}/${b}`).join(' ')}  ${JSON.stringify(result.artifacts.phases)}`);
  console.log(`    upload child:   ${mem(result.artifacts.upload)}`);
  console.log(`    download child: ${mem(result.artifacts.download)}`);
  console.log(`artifacts via .berth/ (berth exec)   ${result.exec.ms} ms  ratio ${result.exec.ratio} / ${result.exec.ratioDockerCp} (${result.exec.ratioOfMedians} / ${result.exec.ratioOfMediansDockerCp})  per round ${result.exec.perRound.map(([a, b]) => `${a}/${b}`).join(' ')}  ${JSON.stringify(result.exec.phases)}`);
  console.log(`    child: ${mem(result.exec)}`);
  console.log(`cache save + restore via S3          ${result.cache.ms} ms  ratio ${result.cache.ratio} / ${result.cache.ratioDockerCp} (${result.cache.ratioOfMedians} / ${result.cache.ratioOfMediansDockerCp})  per round ${result.cache.perRound.map(([a, b]) => `${a}/${b}`).join(' ')}  ${JSON.stringify(result.cache.phases)}`);
  console.log(`    child: ${mem(result.cache)}`);
  console.log(`idle child (node + the bundle, no work): peak RSS ${result.idleChild.peakRssMb} MB`);
  if (COMPARE) {
    const ms = (list) => Math.round(median(list.map((x) => sum(x.times))));
    const line = (label, a, b) =>
      console.log(`${label}: ${ms(a)} ms vs ${ms(b)} ms before (ratio ${(ms(a) / ms(b)).toFixed(2)}); CPU ${memory(a).cpuMs} vs ${memory(b).cpuMs} ms; peak RSS ${memory(a).peakRssMb} vs ${memory(b).peakRssMb} MB`);
    console.log('\nside by side (medians):');
    line('upload side, zip streamed into the POST', reports.upStreamed, reports.upFile);
    line('cache save, zip written in place       ', reports.saveWritten, reports.saveCopy);
  }
}
