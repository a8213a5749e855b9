/**
 * The parts of bench/artifacts (run.mjs bundles this file with esbuild; plain `node` cannot load
 * TypeScript): the servers (GitLab API test server, S3 test server), the job containers and their
 * files, the floor (the Engine archive API alone: GET archive out of one container, PUT into
 * another, as `docker cp` out and in), and berth's own code paths for artifacts and cache, each
 * timed by phase. run.mjs runs berth's paths in child processes so that their peak RSS is theirs
 * (the servers are in bench-servers.ts, loaded by the parent only).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { selectFiles } from '../../src/artifacts/file-selector.js';
import { ArchiveStreamWriter } from '../../src/artifacts/archive-stream-writer.js';
import { writeZip, writeZipTo } from '../../src/artifacts/write-zip.js';
import { zipToTar } from '../../src/artifacts/zip-to-tar.js';
import { createCacheTransport, createDistributedCacheStore } from '../../src/cache/create-cache-transport.js';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { ContainerProjectFiles } from '../../src/executor/docker/container-project-files.js';
import { extractArchive } from '../../src/executor/job-files/extract-archive.js';
import { GitLabArtifactTransport } from '../../src/gitlab/gitlab-artifact-transport.js';
import { GitLabClient } from '../../src/gitlab/gitlab-client.js';
import { MemoryByteWriter } from '../../src/log/byte-writer.js';
import { JobLog } from '../../src/log/job-log.js';
import { s3CacheSettings } from '../../test/support/s3-test-server.js';

export const PROJECT = '/builds/bench/project';
const IMAGE = 'berth-test/bash:latest';
const engine = new DockerodeEngine();
const never = new AbortController().signal;

/**
 * A stopped container whose project directory exists (the job's build container, between
 * stages), in a builds volume mounted at /builds as berth mounts one on a local engine.
 */
export async function createContainer(label: string): Promise<string> {
  const name = `berth-bench-artifacts-${randomBytes(4).toString('hex')}`;
  const labels = { 'berth.bench': label };
  await engine.createVolume(`${name}-builds`, labels);
  const id = await engine.createContainer({
    name,
    image: IMAGE,
    entrypoint: ['/bin/sh', '-c'],
    cmd: [`mkdir -p ${PROJECT}`],
    labels,
    mounts: [{ type: 'volume', source: `${name}-builds`, target: '/builds', labels }],
  });
  await engine.startContainer(id);
  await engine.waitContainer(id);
  return id;
}

/** Removes containers and their builds volumes. */
export async function removeContainerIds(ids: string[]): Promise<void> {
  for (const id of ids) {
    const info = await engine.inspectContainer(id, never);
    await engine.removeContainer(id, { force: true });
    if (info) await engine.removeVolume(`${info.name.replace(/^\//, '')}-builds`).catch(() => undefined);
  }
}

/** Removes the bench's containers, then their builds volumes. */
export async function removeContainers(label: string): Promise<void> {
  for (const c of await engine.listContainers([`berth.bench=${label}`])) await engine.removeContainer(c.id, { force: true });
  for (const v of await engine.listVolumes([`berth.bench=${label}`])) await engine.removeVolume(v.name);
}

/** Fills `<project>/dist` with `files` files of `size` bytes (base64 text, ~75 % compressible) in folders of 200. */
export async function fillDist(container: string, files: number, size: number): Promise<number> {
  const tar = pack();
  const chunk = Buffer.from(randomBytes(Math.ceil((size * 3) / 4) + 3).toString('base64')).subarray(0, size);
  const done = engine.putArchive(container, PROJECT, tar as unknown as Readable, never);
  for (let i = 0; i < files; i++) {
    const dir = `dist/d${String(Math.floor(i / 200)).padStart(3, '0')}`;
    if (i % 200 === 0) tar.entry({ name: `${dir}/`, type: 'directory', mode: 0o755 });
    // Vary the content a little so that files are not identical.
    const body = Buffer.from(chunk);
    body.write(String(i).padStart(8, '0'), 0);
    await new Promise<void>((resolve, reject) => tar.entry({ name: `${dir}/f${i}.txt`, mode: 0o644, size }, body, (err) => (err ? reject(err) : resolve())));
  }
  tar.finalize();
  await done;
  return files * size;
}

/** The floor: the Engine archive API alone, out of one container and into another. */
export async function floorCopy(from: string, to: string): Promise<number> {
  const t0 = performance.now();
  const out = await engine.getArchive(from, `${PROJECT}/dist`, never);
  if (!out) throw new Error('no dist in the source container');
  await engine.putArchive(to, PROJECT, out, never);
  return performance.now() - t0;
}

/**
 * The floor as `docker cp` out and in does it: GET archive into a tar file, then PUT that file
 * into the other container (two steps, one after the other; the tar file removed after).
 */
export async function floorViaFile(from: string, to: string): Promise<PhaseTimes> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-cp-'));
  const file = join(dir, 'dist.tar');
  try {
    const t0 = performance.now();
    const out = await engine.getArchive(from, `${PROJECT}/dist`, never);
    if (!out) throw new Error('no dist in the source container');
    await pipeline(out, createWriteStream(file));
    const t1 = performance.now();
    await engine.putArchive(to, PROJECT, createReadStream(file), never);
    return { out: t1 - t0, in: performance.now() - t1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function silentLog(): JobLog {
  return new JobLog(new MemoryByteWriter(), { traceSections: false });
}

function files(container: string): ContainerProjectFiles {
  return new ContainerProjectFiles(engine, container, PROJECT, new Set(), async () => undefined);
}

/** berth's archive step: select dist/ from the container and write the zip (`threads`: writeZip's deflateThreads, default its own). */
async function archive(container: string, file: string, level: number, threads?: number): Promise<void> {
  const log = silentLog();
  const selection = selectFiles(files(container), { paths: ['dist/'], exclude: [], untracked: false }, { projectDir: PROJECT, log, signal: never });
  await writeZip(selection.entries, file, { level, signal: never, ...(threads === undefined ? {} : { deflateThreads: threads }) });
}

/** berth's extract step: zip → tar → the container's project directory. */
async function extract(container: string, file: string): Promise<void> {
  const { stream, done } = await zipToTar(file, { signal: never });
  await Promise.all([files(container).write(stream, never), done]);
}

export interface PhaseTimes {
  [phase: string]: number;
}

/** Each phase's peak RSS in MB (VmHWM, reset after each phase), for the child's report. */
export const phasePeaksMb: Record<string, number> = {};
/** The RSS in MB each phase left behind (VmRSS at its end): what the next phase starts from. */
export const phaseEndRssMb: Record<string, number> = {};

/** Records the peak RSS since the last mark as `phase`'s, then resets the peak (Linux: clear_refs 5). */
function markPeak(phase: string): void {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  phasePeaksMb[phase] = Math.round(kb('VmHWM') / 1024);
  phaseEndRssMb[phase] = Math.round(kb('VmRSS') / 1024);
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux, or not allowed: the next phase's peak includes this one's.
  }
}

/**
 * Artifacts through GitLab: archive + upload in one process (the producing job), as the upload
 * stage does it: the zip streamed into the POST while it is made (one phase, `archive+upload`).
 */
export async function artifactsUp(a: { container: string; glUrl: string; job: { id: number; token: string }; level: number; threads?: number }): Promise<PhaseTimes> {
  const temp = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    const t0 = performance.now();
    const client = new GitLabClient();
    const transport = new GitLabArtifactTransport({ api: client.artifactsApi(), job: { url: a.glUrl, id: a.job.id, token: a.job.token }, tempDir: temp });
    const artifact = { name: '', untracked: false, paths: ['dist/'], exclude: [], when: 'on_success' as const, artifactType: 'archive', artifactFormat: 'zip', expireIn: '' };
    await transport.uploadStreamed(
      {
        artifact,
        filename: 'artifacts.zip',
        format: 'zip',
        name: '',
        expireIn: '',
        produce: async (out, signal) => {
          const selection = selectFiles(files(a.container), { paths: ['dist/'], exclude: [], untracked: false }, { projectDir: PROJECT, log: silentLog(), signal });
          const stats = await writeZipTo(selection.entries, new ArchiveStreamWriter(out, 'artifacts.zip (streamed)', signal), {
            level: a.level,
            signal,
            ...(a.threads === undefined ? {} : { deflateThreads: a.threads }),
          });
          return { bytes: stats.bytes };
        },
      },
      silentLog(),
      never,
    );
    const t1 = performance.now();
    markPeak('archive+upload');
    client.close();
    return { 'archive+upload': t1 - t0 };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** The previous upload side, for --compare: the zip written to a temporary file, then POSTed from it. */
export async function artifactsUpFile(a: { container: string; glUrl: string; job: { id: number; token: string }; level: number; threads?: number }): Promise<PhaseTimes> {
  const temp = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    const file = join(temp, 'artifacts.zip');
    const t0 = performance.now();
    await archive(a.container, file, a.level, a.threads);
    const client = new GitLabClient();
    const transport = new GitLabArtifactTransport({ api: client.artifactsApi(), job: { url: a.glUrl, id: a.job.id, token: a.job.token }, tempDir: temp });
    const artifact = { name: '', untracked: false, paths: ['dist/'], exclude: [], when: 'on_success' as const, artifactType: 'archive', artifactFormat: 'zip', expireIn: '' };
    await transport.upload({ artifact, file, filename: 'artifacts.zip', format: 'zip', name: '', expireIn: '' }, silentLog(), never);
    const t1 = performance.now();
    markPeak('archive+upload');
    client.close();
    return { 'archive+upload': t1 - t0 };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

type S3Facts = { address: string; bucket: string; accessKey: string; secretKey: string };

/** A runner's cache (its own folder `cacheDir`) shared through the S3 test server. */
function s3Cache(f: S3Facts, cacheDir: string): ReturnType<typeof createCacheTransport> {
  const s3 = s3CacheSettings({ serverAddress: f.address, insecure: true, accessKey: f.accessKey, secretKey: f.secretKey, bucketName: f.bucket });
  const distributed = createDistributedCacheStore({ type: 's3', path: '', shared: true, maxUploadedArchiveSize: 0, s3 }, 'bench');
  return createCacheTransport({ cacheDir, distributed, projectId: 1, timeoutSeconds: 3600 });
}

/** The previous cache save, for --compare: the zip written to a temporary file, copied into the cache folder, then the S3 PUT. */
export async function cacheSaveFile(a: { from: string; s3: S3Facts; level: number; key: string; threads?: number }): Promise<PhaseTimes> {
  const temp = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    const saver = s3Cache(a.s3, join(temp, 'a'));
    const file = join(temp, 'cache.zip');
    const t0 = performance.now();
    await archive(a.from, file, a.level, a.threads);
    if (!(await saver.save(a.key, file, silentLog(), never))) throw new Error('cache save failed');
    return { 'archive+save': performance.now() - t0 };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** The cache save alone as berth does it now, for --compare (the same work as cacheRoundTrip's first phase). */
export async function cacheSaveWritten(a: { from: string; s3: S3Facts; level: number; key: string; threads?: number }): Promise<PhaseTimes> {
  const temp = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    const saver = s3Cache(a.s3, join(temp, 'a'));
    const t0 = performance.now();
    const saved = await saver.saveWritten!(a.key, async (file) => {
      await archive(a.from, file, a.level, a.threads);
      return 'store';
    }, silentLog(), never);
    if (!saved) throw new Error('cache save failed');
    return { 'archive+save': performance.now() - t0 };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Artifacts through GitLab: download + extract in one process (the consuming job). */
export async function artifactsDown(a: { container: string; glUrl: string; dep: { id: number; token: string } }): Promise<PhaseTimes> {
  const temp = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    const client = new GitLabClient();
    const transport = new GitLabArtifactTransport({ api: client.artifactsApi(), job: { url: a.glUrl, id: a.dep.id, token: a.dep.token }, tempDir: temp });
    const t0 = performance.now();
    // As the download_artifacts stage: the transport resolves once the archive can be read (its
    // end fetched ahead); the rest of the body arrives while it is extracted.
    const local = await transport.download({ id: a.dep.id, name: 'bench', token: a.dep.token, artifactsFile: { filename: 'artifacts.zip', size: 0 } }, silentLog(), never);
    const t1 = performance.now();
    markPeak('download');
    await extractArchive(local, files(a.container), { signal: never });
    const t2 = performance.now();
    markPeak('extract');
    await local.release();
    client.close();
    return { download: t1 - t0, extract: t2 - t1 };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** The local store of berth exec: archive to a file, then extract from it (no network). */
export async function localRoundTrip(a: { from: string; to: string; level: number; threads?: number }): Promise<PhaseTimes> {
  const temp = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    const file = join(temp, 'archive.zip');
    const t0 = performance.now();
    await archive(a.from, file, a.level, a.threads);
    const t1 = performance.now();
    markPeak('archive');
    await extract(a.to, file);
    const t2 = performance.now();
    markPeak('extract');
    return { archive: t1 - t0, extract: t2 - t1 };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Cache save (archive, local cache.zip, S3 PUT) then restore in a fresh cache folder (S3 GET, extract, commit). */
export async function cacheRoundTrip(a: { from: string; to: string; s3: S3Facts; level: number; key: string; threads?: number }): Promise<PhaseTimes> {
  const temp = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    const saver = s3Cache(a.s3, join(temp, 'a'));
    const restorer = s3Cache(a.s3, join(temp, 'b'));
    // As the archive_cache stage: the zip written straight into the local cache folder, then the S3 PUT.
    const t0 = performance.now();
    let t1 = t0;
    const saved = await saver.saveWritten!(a.key, async (file) => {
      await archive(a.from, file, a.level, a.threads);
      t1 = performance.now();
      return 'store';
    }, silentLog(), never);
    if (!saved) throw new Error('cache save failed');
    const t2 = performance.now();
    markPeak('archive+save');
    const local = await restorer.restore(a.key, silentLog(), never);
    if (!local) throw new Error('cache restore found nothing');
    const t3 = performance.now();
    markPeak('restore');
    // As the restore_cache stage: extracted while it downloads, committed into the cache folder after.
    await extractArchive(local, files(a.to), { signal: never, kind: 'cache', zstd: true });
    await local.release();
    const t4 = performance.now();
    markPeak('extract');
    return { archive: t1 - t0, save: t2 - t1, restore: t3 - t2, extract: t4 - t3 };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Diagnostics: the time of each layer of the archive side alone (engine read, entries, selection). */
export async function readLayers(a: { container: string }): Promise<PhaseTimes> {
  const t0 = performance.now();
  const raw = await engine.getArchive(a.container, `${PROJECT}/dist`, never);
  for await (const _ of raw!) void _;
  const t1 = performance.now();
  for await (const e of (await files(a.container).read('dist', never))!) for await (const _ of e.body) void _;
  const t2 = performance.now();
  const selection = selectFiles(files(a.container), { paths: ['dist/'], exclude: [], untracked: false }, { projectDir: PROJECT, log: silentLog(), signal: never });
  for await (const e of selection.entries) for await (const _ of e.body) void _;
  const t3 = performance.now();
  return { engine: t1 - t0, entries: t2 - t1, selection: t3 - t2 };
}

/** Diagnostics: berth's archive step alone (selection + zip to a local file). */
export async function archiveOnly(a: { container: string; level: number; threads?: number }): Promise<PhaseTimes> {
  const temp = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    const t0 = performance.now();
    await archive(a.container, join(temp, 'a.zip'), a.level, a.threads);
    return { archive: performance.now() - t0 };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Diagnostics: one layer only, for its peak RSS. */
export async function readOneLayer(a: { container: string; layer: string }): Promise<PhaseTimes> {
  const t0 = performance.now();
  if (a.layer === 'engine') {
    const raw = await engine.getArchive(a.container, `${PROJECT}/dist`, never);
    for await (const _ of raw!) void _;
  } else if (a.layer === 'entries') {
    for await (const e of (await files(a.container).read('dist', never))!) for await (const _ of e.body) void _;
  }
  return { [a.layer]: performance.now() - t0 };
}

/** Diagnostics: berth's archive step into a given file (kept). */
export async function archiveTo(a: { container: string; file: string; level: number; threads?: number }): Promise<void> {
  await archive(a.container, a.file, a.level, a.threads);
}

/** Diagnostics: berth's extract step alone (zip → tar → PUT archive). */
export async function extractOnly(a: { container: string; file: string }): Promise<PhaseTimes> {
  const t0 = performance.now();
  await extract(a.container, a.file);
  return { extract: performance.now() - t0 };
}
