/**
 * The upload_artifacts stage streaming its zip into GitLab (GitLabArtifactTransport.uploadStreamed,
 * against the GitLab test server over real HTTP): the archive is made while it is sent (chunked,
 * no Content-Length, no file in the job's temporary folder), a retry selects and zips the files
 * again, an archive that cannot be made fails at once (not retried), 413 keeps its message, and
 * "No files to upload" sends nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabTestServer, type TestJob } from '../../test/support/gitlab-test-server.js';
import { handOutJob } from '../../test/support/hand-out-job.js';
import { InstantClock } from '../../test/support/gitlab-test-server-clock.js';
import { testJob } from '../../test/support/job-fixtures.js';
import { MemoryProjectFiles } from '../../test/support/memory-project-files.js';
import type { FileEntrySource } from '../artifacts/file-entry.js';
import { zipToTar } from '../artifacts/zip-to-tar.js';
import { uploadArtifacts } from '../executor/job-files/artifact-stages.js';
import { StageContext } from '../executor/job-files/stage-context.js';
import type { ArtifactSpec } from '../job/job-spec.js';
import { JobFailure } from '../job/job-result.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { stripAnsi } from '../shared/ansi.js';
import { ApiCaller } from './api-caller.js';
import { ArtifactTooLargeError } from './artifact-upload-error.js';
import { ArtifactsApi } from './artifacts-api.js';
import { GitLabArtifactTransport } from './gitlab-artifact-transport.js';

let gl: GitLabTestServer;
let caller: ApiCaller;
let clock: InstantClock;
let tempRoot: string;
let sink: MemoryByteWriter;
let log: JobLog;
const signal = new AbortController().signal;

beforeEach(async () => {
  gl = await GitLabTestServer.start();
  clock = new InstantClock();
  caller = new ApiCaller({ userAgent: 'berth-test/1.0', clock, random: () => 1 });
  tempRoot = await mkdtemp(join(tmpdir(), 'berth-upload-streamed-'));
  sink = new MemoryByteWriter();
  log = new JobLog(sink, { traceSections: false });
});

afterEach(async () => {
  caller.close();
  await gl.close();
  await rm(tempRoot, { recursive: true, force: true });
});

const archive: ArtifactSpec = { name: '', untracked: false, paths: ['dist/'], exclude: [], when: 'on_success', artifactType: 'archive', artifactFormat: 'zip', expireIn: '' };

const runningJob = (opts: Parameters<GitLabTestServer['enqueueJob']>[0] = {}): Promise<TestJob> => handOutJob(gl, opts);

/** MemoryProjectFiles that counts the reads of the project (one per selection). */
class CountingFiles extends MemoryProjectFiles {
  reads = 0;
  override read(relPath: string): Promise<FileEntrySource | null> {
    this.reads += 1;
    return super.read(relPath);
  }
}

/** The project: `n` files of a few KiB under dist/. */
function project(n: number): CountingFiles {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`dist/d${i % 5}/f${i}.txt`] = `file ${i} `.repeat(300 + i);
  return new CountingFiles(files);
}

/** Runs the upload stage of a job on `files` (artifacts: dist/) with the GitLab transport. */
async function upload(files: MemoryProjectFiles, job: TestJob, spec: ArtifactSpec = archive): Promise<void> {
  const transport = new GitLabArtifactTransport({ api: new ArtifactsApi(caller, { clock }), job: { url: gl.url, id: job.id, token: job.token }, tempDir: tempRoot });
  const ctx = new StageContext(testJob({ artifacts: [spec] }), files, [], { artifacts: transport, cache: null, tempRoot }, log, signal);
  try {
    await uploadArtifacts(ctx, true);
  } finally {
    await ctx.dispose();
  }
}

/** What GitLab stored, extracted (zipToTar: every refusal and CRC check) into a fresh project. */
async function storedFiles(job: TestJob): Promise<MemoryProjectFiles> {
  const out = new MemoryProjectFiles();
  const { stream, done } = await zipToTar(job.archive!.path, { signal });
  await Promise.all([out.write(stream), done]);
  return out;
}

function lines(): string[] {
  return stripAnsi(sink.text).split('\n').filter(Boolean);
}

describe('upload_artifacts streamed into GitLab', () => {
  it('zips into the POST as it goes: chunked, every file arrives, nothing written to the temporary folder', async () => {
    const job = await runningJob();
    const files = project(40);
    await upload(files, job);
    const [req] = gl.requestsTo('upload-artifacts');
    expect(req!.status).toBe(201);
    expect(req!.headers['content-length']).toBeUndefined();
    expect(req!.headers['transfer-encoding']).toBe('chunked');
    expect(req!.query).toBe('?artifact_format=zip&artifact_type=archive');
    const back = await storedFiles(job);
    for (let i = 0; i < 40; i++) expect(back.content(`dist/d${i % 5}/f${i}.txt`)).toBe(files.content(`dist/d${i % 5}/f${i}.txt`));
    expect(files.reads).toBe(1);
    expect(await readdir(tempRoot)).toEqual([]);
    expect(lines()).toEqual([
      'Uploading artifacts...',
      'dist/: found 46 matching artifact files and directories',
      expect.stringMatching(/^Uploading artifacts as "archive" to coordinator\.\.\. 201 Created {2}correlation_id=[0-9a-f]{32} id=\d+ status=201 token=/),
    ]);
  });

  it('an archive of many MiB arrives byte for byte, also after a connection dropped while the writer waited for its blocks to be sent', async () => {
    // Random bytes barely deflate: about 14 MiB of zip, sent in 256 KiB blocks that the zip writer
    // reuses once the socket has taken them (a block reused too early would corrupt the upload).
    const input: Record<string, Buffer> = {};
    for (let i = 0; i < 12; i++) input[`dist/small${i}.bin`] = randomBytes(700 * 1024 + i);
    for (let i = 0; i < 2; i++) input[`dist/large${i}.bin`] = randomBytes(3 * 1024 * 1024 + i);
    const files = new MemoryProjectFiles(input);
    const job = await runningJob();
    gl.fault('upload-artifacts', { drop: true });
    await upload(files, job);
    expect(gl.requestsTo('upload-artifacts').map((r) => r.status)).toEqual([-2, 201]);
    const back = await storedFiles(job);
    for (const [name, bytes] of Object.entries(input)) {
      const got = back.get(name);
      expect(got?.type === 'file' && got.content.equals(bytes)).toBe(true);
    }
  });

  it('a retry (503, sent again by the API-level retry, then a dropped connection, by the uploader) selects and zips the files again; the selection lines once', async () => {
    const job = await runningJob();
    const files = project(30);
    gl.fault('upload-artifacts', { status: 503 }, { drop: true });
    await upload(files, job);
    expect(gl.requestsTo('upload-artifacts').map((r) => r.status)).toEqual([503, expect.anything(), 201]);
    expect(clock.sleeps).toEqual([100, 1000]);
    expect(files.reads).toBe(3);
    const back = await storedFiles(job);
    expect(back.content('dist/d2/f27.txt')).toBe(files.content('dist/d2/f27.txt'));
    expect(lines().filter((l) => l.includes('found'))).toEqual(['dist/: found 36 matching artifact files and directories']);
    expect(lines().filter((l) => l.startsWith('Waiting before making the next call'))).toHaveLength(1);
    expect(lines().filter((l) => l.startsWith('WARNING: Retrying...'))).toHaveLength(1);
    expect(await readdir(tempRoot)).toEqual([]);
  });

  it('an archive that cannot be made (a file shorter than announced) fails the stage at once, not retried', async () => {
    const job = await runningJob();
    const files = project(3);
    const read = files.read.bind(files);
    files.read = async (rel: string) => {
      const source = await read(rel);
      async function* lying(): AsyncGenerator<import('../artifacts/file-entry.js').FileEntry> {
        for await (const e of source!) yield e.type === 'file' && e.path.endsWith('f1.txt') ? { ...e, size: e.size + 10, body: Readable.from([Buffer.from('short')]) } : e;
      }
      return lying();
    };
    const err = await upload(files, job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobFailure);
    expect((err as JobFailure).reason).toBe('script_failure');
    expect((err as Error).message).toMatch(/^uploading the archive artifacts failed: could not write the zip archive artifacts\.zip \(streamed into the upload\) \(at dist\/d1\/f1\.txt\): the file changed while it was read/);
    expect(clock.sleeps).toEqual([]);
    expect(lines().some((l) => l.startsWith('WARNING: Retrying'))).toBe(false);
    expect(job.archive).toBeUndefined();
    expect(await readdir(tempRoot)).toEqual([]);
  });

  it('413: fatal at once, with the size of the archive sent and the server message', async () => {
    await gl.close();
    gl = await GitLabTestServer.start({ maxArtifactSize: 1024 });
    const job = await runningJob();
    const err = await upload(project(20), job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobFailure);
    const cause = (err as JobFailure).cause;
    expect(cause).toBeInstanceOf(ArtifactTooLargeError);
    expect((cause as ArtifactTooLargeError).size).toBeGreaterThan(1024);
    expect((err as Error).message).toMatch(
      /the archive artifacts\.zip \(\d+(\.\d+)? KiB\) is over GitLab's maximum artifacts size \(413 Request Entity Too Large: file size has reached maximum size limit\)/,
    );
    expect(gl.requestsTo('upload-artifacts')).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('no file matches: "No files to upload", no request', async () => {
    const job = await runningJob();
    await upload(project(2), job, { ...archive, paths: ['missing/'] });
    expect(gl.requestsTo('upload-artifacts')).toHaveLength(0);
    expect(lines()).toContain('ERROR: No files to upload');
    expect(await readdir(tempRoot)).toEqual([]);
  });
});
