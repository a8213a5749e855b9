/**
 * Artifacts move as streams: during a 50 MB upload and download (client and the in-process
 * GitLab test server together) live memory (heap and buffers after a full collection) grows by
 * about 1 MB, never by a file's worth. The resident set is checked too, more loosely: it keeps
 * freed chunks until the allocator gives them back (measured 16–34 MB here), but one copy of the
 * file alone would put it over the bound.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectGarbage } from '../../test/support/collect-garbage.js';
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { ApiCaller } from './api-caller.js';
import { ArtifactsApi } from './artifacts-api.js';

const SIZE = 50 * 1024 * 1024;
let gl: GitLabTestServer;
let caller: ApiCaller;
let dir: string;

beforeAll(async () => {
  gl = await GitLabTestServer.start();
  caller = new ApiCaller();
  dir = await mkdtemp(join(tmpdir(), 'berth-artifacts-stream-'));
});

afterAll(async () => {
  caller.close();
  await gl.close();
  await rm(dir, { recursive: true, force: true });
});

/** Writes `size` random bytes in 1 MiB chunks (never the whole file in memory). */
async function bigFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const chunk = randomBytes(1024 * 1024);
  for (let left = size; left > 0; left -= chunk.length) {
    chunk[0] = left & 0xff; // chunks differ, so a misplaced chunk would show
    if (!out.write(chunk.subarray(0, Math.min(left, chunk.length)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

/**
 * The largest growth over the start seen while `work` runs, sampled every 50 ms after a full
 * collection (twice: the second one finishes sweeping the buffers the first freed): of live
 * memory (JS heap and buffers), which streaming keeps to a few chunks, and of the resident set,
 * which also holds memory the allocator has not given back yet.
 */
async function peakGrowth(work: () => Promise<void>): Promise<{ rss: number; live: number }> {
  const measure = (): { rss: number; live: number } => {
    collectGarbage();
    collectGarbage();
    const m = process.memoryUsage();
    return { rss: m.rss, live: m.heapUsed + m.arrayBuffers };
  };
  const base = measure();
  const peak = { ...base };
  const sample = (): void => {
    const m = measure();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.live = Math.max(peak.live, m.live);
  };
  // Chained, so that the transfer gets its 50 ms between two (slow) samples.
  let timer: NodeJS.Timeout;
  const next = (): void => {
    timer = setTimeout(() => {
      sample();
      next();
    }, 50);
  };
  next();
  try {
    await work();
  } finally {
    clearTimeout(timer!);
  }
  sample();
  return { rss: peak.rss - base.rss, live: peak.live - base.live };
}

it('uploads and downloads 50 MB without holding it in memory', { timeout: 60_000 }, async () => {
  const src = join(dir, 'big.zip');
  await bigFile(src, SIZE);
  const job = gl.enqueueJob();
  const res = await fetch(`${gl.url}/api/v4/jobs/request`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'RUNNER-TOKEN': gl.runnerToken },
    body: JSON.stringify({ token: gl.runnerToken }),
  });
  await res.arrayBuffer();
  const api = new ArtifactsApi(caller);
  const log = new JobLog(new MemoryByteWriter());
  const signal = new AbortController().signal;

  const up = await peakGrowth(() =>
    api.upload({ url: gl.url, id: job.id, token: job.token }, { file: src, filename: 'artifacts.zip', artifactType: 'archive', artifactFormat: 'zip', expireIn: '' }, log, signal),
  );
  expect(job.archive!.size).toBe(SIZE);
  expect(up.live).toBeLessThan(SIZE / 16);
  expect(up.rss).toBeLessThan(SIZE * 0.8);

  const dest = join(dir, 'back.zip');
  const down = await peakGrowth(() => api.download(gl.url, { id: job.id, name: 'big', token: job.token, artifactsFile: null }, dest, log, signal));
  expect((await stat(dest)).size).toBe(SIZE);
  // A few chunks in flight, and the FileSink's two 1 MiB blocks (the file is written a block at a time).
  expect(down.live).toBeLessThan(SIZE / 16 + 2 * 1024 * 1024);
  expect(down.rss).toBeLessThan(SIZE * 0.8);
  // Same bytes (compared after the measurements).
  expect((await readFile(dest)).equals(await readFile(src))).toBe(true);
});
