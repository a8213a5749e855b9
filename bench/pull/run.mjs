#!/usr/bin/env node
// bench/pull: PullManager pulling a small image from a local htpasswd registry (127.0.0.1),
// credentials from a runner-level DOCKER_AUTH_CONFIG. Four cases, interleaved per round:
//   cold/always, warm/always, cold/if-not-present, warm/if-not-present
// (cold: the image is not on the engine; warm: it is), plus the raw engine pull for reference.
// Prints medians in ms. Usage: node bench/pull/run.mjs [rounds=7] (after `npm run build`;
// BERTH_DIST=<dir> to use another build). Needs docker-registry and htpasswd (see environment.md).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Docker from 'dockerode';
import { pack } from 'tar-stream';

const ROUNDS = Number(process.argv[2] ?? 7);
const DIST = process.env.BERTH_DIST ?? new URL('../../dist/', import.meta.url).pathname;
const load = (p) => import(pathToFileURL(join(DIST, p)).href);
const { PullManager } = await load('executor/docker/pull-manager.js');
const { DockerodeEngine } = await load('engine/dockerode-engine.js');
const { defaultDockerSettings } = await load('executor/docker/docker-settings.js');
const { JobLog } = await load('log/job-log.js');
const { MemoryByteWriter } = await load('log/byte-writer.js');

const docker = new Docker();
const engine = new DockerodeEngine();
const RUN = randomBytes(4).toString('hex');
const USER = 'bench';
const PASS = `bench-${RUN}`;
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-pull-'));

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const host = `127.0.0.1:${port}`;
writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', USER, PASS]));
writeFileSync(
  join(dir, 'config.yml'),
  `version: 0.1\nlog: { level: error, accesslog: { disabled: true } }\nstorage: { filesystem: { rootdirectory: ${dir}/data } }\n` +
    `http: { addr: ${host} }\nauth: { htpasswd: { realm: bench, path: ${dir}/htpasswd } }\n`,
);
const registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });

const drain = (stream) =>
  new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (d) => (text += d));
    stream.on('end', () => (/"error"/.test(text) ? reject(new Error(text)) : resolve(text)));
    stream.on('error', reject);
  });

async function waitForRegistry() {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://${host}/v2/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('registry did not start');
}

const repo = `${host}/bench/small`;
const ref = `${repo}:1`;
const auth = { username: USER, password: PASS, serveraddress: host };

async function removeLocal() {
  try {
    await docker.getImage(ref).remove({ force: true });
  } catch (err) {
    if (err.statusCode !== 404) throw err;
  }
}

function manager(policy) {
  return new PullManager({
    engine,
    settings: { ...defaultDockerSettings(), pullPolicy: [policy] },
    defaultPullPolicy: policy,
    runnerEnvironment: [`DOCKER_AUTH_CONFIG=${JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${USER}:${PASS}`).toString('base64') } } })}`],
    homeDir: dir,
  });
}

function job() {
  return {
    id: 1, token: '', allowGitFetch: false, jobInfo: { name: 'bench', stage: 'test', projectId: 1, projectName: 'b', projectFullPath: 'b/b', pipelineId: 1 },
    gitInfo: { repoUrl: '', ref: '', sha: '', beforeSha: '', refType: '', refspecs: [], depth: 0 }, timeoutSeconds: 600,
    variables: [], steps: [], image: null, services: [], credentials: [], features: { traceSections: false, tokenMaskPrefixes: [], failureReasons: [] }, sources: { kind: 'none' },
  };
}

async function timePull(policy) {
  const log = new JobLog(new MemoryByteWriter(), { traceSections: false });
  const req = { image: { name: ref }, role: { kind: 'build' }, job: job(), log, signal: new AbortController().signal };
  const m = manager(policy);
  const t0 = process.hrtime.bigint();
  m.check(req);
  await m.pull(req);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function timeRaw() {
  const t0 = process.hrtime.bigint();
  await engine.pullImage(ref, { registryAuth: Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_') });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  await waitForRegistry();
  // A small, fresh image: the busybox binary and 64 KiB of random data, so that a cold pull downloads it.
  const tar = pack();
  tar.entry({ name: 'bin/busybox', mode: 0o755 }, readFileSync('/bin/busybox'));
  tar.entry({ name: 'bench-unique', mode: 0o644 }, randomBytes(64 * 1024));
  tar.finalize();
  await drain(await docker.importImage(tar, { repo, tag: '1', changes: [`LABEL berth.bench.pull=${RUN}`] }));
  await drain(await docker.getImage(repo).push({ tag: '1', authconfig: auth }));
  const size = (await docker.getImage(ref).inspect()).Size;
  const times = { 'raw engine pull, cold': [], 'cold, always': [], 'warm, always': [], 'cold, if-not-present': [], 'warm, if-not-present': [] };
  for (let round = 0; round < ROUNDS; round++) {
    await removeLocal();
    times['raw engine pull, cold'].push(await timeRaw());
    await removeLocal();
    times['cold, always'].push(await timePull('always'));
    times['warm, always'].push(await timePull('always'));
    await removeLocal();
    times['cold, if-not-present'].push(await timePull('if-not-present'));
    times['warm, if-not-present'].push(await timePull('if-not-present'));
  }
  console.log(`bench/pull: ${ref}, ${(size / 1024 / 1024).toFixed(2)} MB, ${ROUNDS} rounds, medians`);
  for (const [name, xs] of Object.entries(times)) console.log(`  ${name.padEnd(24)} ${median(xs).toFixed(1).padStart(8)} ms`);
  const warmAlways = median(times['warm, always']);
  const warmLocal = median(times['warm, if-not-present']);
  console.log(`  warm always / warm if-not-present: ${(warmAlways / warmLocal).toFixed(1)}x (the registry round trip always costs)`);
} finally {
  await removeLocal();
  registry.kill('SIGTERM');
  await new Promise((r) => registry.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
