/**
 * ArtifactsApi / GitLabArtifactTransport against the GitLab test server over real HTTP on
 * loopback: uploads (status handling, retries, log lines) and dependency downloads (direct
 * download, truncation, retries). Waits are instant (InstantClock records them).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabTestServer, type TestJob } from '../../test/support/gitlab-test-server.js';
import { handOutJob } from '../../test/support/hand-out-job.js';
import { InstantClock } from '../../test/support/gitlab-test-server-clock.js';
import type { ArtifactSpec, DependencySpec } from '../job/job-spec.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { ApiCaller } from './api-caller.js';
import { ArtifactDownloadError } from './artifact-download-error.js';
import { ArtifactTooLargeError, ArtifactUploadError } from './artifact-upload-error.js';
import { ArtifactsApi } from './artifacts-api.js';
import { downloadArtifacts } from './artifacts-download.js';
import { uploadArtifacts } from './artifacts-upload.js';
import { GitLabArtifactTransport } from './gitlab-artifact-transport.js';
import { GitLabClient } from './gitlab-client.js';
import { shortToken } from './short-token.js';

let gl: GitLabTestServer;
let caller: ApiCaller;
let clock: InstantClock;
let api: ArtifactsApi;
let dir: string;
let sink: MemoryByteWriter;
let log: JobLog;
const signal = new AbortController().signal;

beforeEach(async () => {
  gl = await GitLabTestServer.start();
  clock = new InstantClock();
  // The API-level retry (retry_requester.go) waits on the same instant clock, at its backoff's ceiling.
  caller = new ApiCaller({ userAgent: 'berth-test/1.0', clock, random: () => 1 });
  api = new ArtifactsApi(caller, { clock });
  dir = await mkdtemp(join(tmpdir(), 'berth-artifacts-api-'));
  sink = new MemoryByteWriter();
  log = new JobLog(sink, { traceSections: false });
});

afterEach(async () => {
  caller.close();
  await gl.close();
  await rm(dir, { recursive: true, force: true });
  // No job token ever reaches the job log.
  for (const j of gl.jobs()) expect(sink.text).not.toContain(j.token);
});

/** The job log without colours, one entry per line. */
function lines(): string[] {
  // eslint-disable-next-line no-control-regex -- ANSI colour codes
  return sink.text.replace(/\x1b\[[0-9;]*[mK]/g, '').split('\n').filter(Boolean);
}

/** The job log without the API-level retry's `Waiting before making the next call` lines. */
function uploaderLines(): string[] {
  return lines().filter((l) => !l.startsWith('Waiting before making the next call'));
}

/** The X-Request-Id of each upload request: gitlab-runner's correlation_id when GitLab's answer has none. */
function uploadIds(): string[] {
  return gl.requestsTo('upload-artifacts').map((r) => String(r.headers['x-request-id']));
}

/** The helpers' retry line (helpers/retry/retry.go WithLogrus, retry_helper.go doRetry). */
const retrying = (context: 'artifacts-uploader' | 'artifacts-downloader', error: string): string => `WARNING: Retrying...                                context=${context} error=${error}`;
const PREFIX = 'Uploading artifacts as "archive" to coordinator...';
const NO_RESPONSE = 'upload failed with no response from coordinator';
/** gitlab-runner's error for an upload try without an answer (network/gitlab.go doRaw, client.go do, retry_requester.go, Go's url.Error). */
const noAnswer = (sent: string, failed: string, reason: string): string => `execute raw request: execute request: couldn't execute POST against ${sent}: Post "${failed}": ${reason}`;

/** The uploader's and downloader's own waits (1 s and more; the API-level retry's are below 1 s here). */
function uploaderSleeps(): number[] {
  return clock.sleeps.filter((ms) => ms >= 1000);
}

/** A job GitLab handed to the runner (status running), as berth would have it. */
const runningJob = (opts: Parameters<GitLabTestServer['enqueueJob']>[0] = {}): Promise<TestJob> => handOutJob(gl, opts);

async function file(name: string, bytes: Buffer): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

const archiveSpec: ArtifactSpec = { name: 'my-artifacts', untracked: false, paths: ['out/'], exclude: [], when: 'on_success', artifactType: 'archive', artifactFormat: 'zip', expireIn: '' };

function upload(job: TestJob, path: string, extra: Partial<{ artifactType: string; artifactFormat: string; expireIn: string; filename: string }> = {}): Promise<void> {
  return api.upload(
    { url: gl.url, id: job.id, token: job.token },
    { file: path, filename: extra.filename ?? 'artifacts.zip', artifactType: extra.artifactType ?? 'archive', artifactFormat: extra.artifactFormat ?? 'zip', expireIn: extra.expireIn ?? '' },
    log,
    signal,
  );
}

function dependency(job: TestJob, token = job.token): DependencySpec {
  return { id: job.id, name: job.name, token, artifactsFile: job.archive ? { filename: job.archive.filename, size: job.archive.size } : null };
}

describe('upload', () => {
  it('201: streams the file as the one multipart part `file`, with the query, headers and log line of gitlab-runner', async () => {
    const job = await runningJob();
    const bytes = randomBytes(300_000);
    const transport = new GitLabArtifactTransport({ api, job: { url: gl.url, id: job.id, token: job.token }, tempDir: dir });
    await transport.upload(
      { artifact: archiveSpec, file: await file('a.zip', bytes), filename: 'artifacts.zip', format: 'zip', name: 'my-artifacts', expireIn: '1 week' },
      log,
      signal,
    );
    const stored = job.archive!;
    expect(stored).toMatchObject({ type: 'archive', format: 'zip', filename: 'artifacts.zip', expireIn: '1 week', size: bytes.length });
    expect(stored.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await readFile(stored.path)).equals(bytes)).toBe(true);
    const [req] = gl.requestsTo('upload-artifacts');
    expect(req!.query).toBe('?artifact_format=zip&artifact_type=archive&expire_in=1+week');
    expect(req!.headers['job-token']).toBe(job.token);
    expect(req!.headers['user-agent']).toBe('berth-test/1.0');
    expect(req!.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(String(req!.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=[0-9a-f]{60}$/);
    expect(Number(req!.headers['content-length'])).toBeGreaterThan(bytes.length);
    const correlation = String(req!.headers['x-request-id']);
    expect(lines()).toEqual([
      `Uploading artifacts as "archive" to coordinator... 201 Created  correlation_id=${correlation} id=${job.id} status=201 token=${shortToken(job.token)}`,
    ]);
    expect(clock.sleeps).toEqual([]);
  });

  it('GitLabClient.artifactsApi() uploads over the client\'s own transport (its User-Agent)', async () => {
    const client = new GitLabClient({ userAgent: 'berth/9.9 (client)' });
    try {
      const job = await runningJob();
      await client.artifactsApi({ clock }).upload({ url: gl.url, id: job.id, token: job.token }, { file: await file('a.zip', Buffer.from('x')), filename: 'artifacts.zip', artifactType: 'archive', artifactFormat: 'zip', expireIn: '' }, log, signal);
      expect(gl.requestsTo('upload-artifacts')[0]!.headers['user-agent']).toBe('berth/9.9 (client)');
      expect(job.archive!.size).toBe(1);
    } finally {
      client.close();
    }
  });

  it('sends only the non-empty query parameters; without a type the log prefix has none', async () => {
    const job = await runningJob();
    await upload(job, await file('r.json', Buffer.from('{}')), { artifactType: '', artifactFormat: '', filename: 'gl-sast-report.json' });
    expect(gl.requestsTo('upload-artifacts')[0]!.query).toBe('');
    expect(job.archive).toMatchObject({ type: 'archive', format: 'zip', filename: 'gl-sast-report.json', size: 2 });
    expect(lines()[0]).toMatch(/^Uploading artifacts to coordinator\.\.\. 201 Created {3}correlation_id=/);
  });

  it.each([307, 308])('%d: followed at once to the whole Location (path and query), the body sent again, no wait, no try counted (Go\'s http.Client for gitlab-runner)', async (status) => {
    const job = await runningJob();
    const bytes = randomBytes(1000);
    // The same server under another name, with a query of its own.
    const other = gl.url.replace('127.0.0.1', 'localhost');
    const location = `${other}/api/v4/jobs/${job.id}/artifacts?artifact_format=zip&artifact_type=archive&X-Amz-Signature=secret`;
    gl.fault('upload-artifacts', { status, headers: { Location: location } });
    await upload(job, await file('a.zip', bytes));
    const reqs = gl.requestsTo('upload-artifacts');
    expect(reqs.map((r) => [r.status, r.headers.host, r.path, r.query])).toEqual([
      [status, new URL(gl.url).host, `/api/v4/jobs/${job.id}/artifacts`, '?artifact_format=zip&artifact_type=archive'],
      [201, new URL(other).host, `/api/v4/jobs/${job.id}/artifacts`, '?artifact_format=zip&artifact_type=archive&X-Amz-Signature=secret'],
    ]);
    expect(reqs[1]!.headers['job-token']).toBe(job.token);
    expect((await readFile(job.archive!.path)).equals(bytes)).toBe(true);
    expect(clock.sleeps).toEqual([]);
    const l = lines();
    expect(l).toHaveLength(1);
    expect(l[0]).toMatch(/^Uploading artifacts as "archive" to coordinator\.\.\. 201 Created/);
    expect(sink.text).not.toContain('secret');
  });

  it('a 307 without a Location: gitlab-runner\'s ERROR "empty location", retried; the 10th redirect in a row is not followed (Go\'s defaultCheckRedirect), in Go\'s words', async () => {
    const job = await runningJob();
    const loop = `${gl.url}/api/v4/jobs/${job.id}/artifacts?loop=1`;
    gl.fault('upload-artifacts', { status: 307 }, { status: 308, headers: { Location: loop }, times: 10 });
    await upload(job, await file('a.zip', randomBytes(10)));
    expect(gl.requestsTo('upload-artifacts').map((r) => r.status)).toEqual([307, ...Array(10).fill(308), 201]);
    expect(clock.sleeps).toEqual([1000, 2000]);
    const ids = uploadIds();
    // One X-Request-Id per try, sent again on each redirect (Go copies the headers).
    expect(new Set(ids.slice(1, 11)).size).toBe(1);
    const sent = `${gl.url}/api/v4/jobs/${job.id}/artifacts?artifact_format=zip&artifact_type=archive`;
    const stopped = noAnswer(sent, loop, 'stopped after 10 redirects');
    const token = shortToken(job.token);
    expect(lines()).toEqual([
      `ERROR: ${PREFIX} 307 Temporary Redirect empty location  correlation_id=${ids[0]} id=${job.id} status=307 token=${token}`,
      retrying('artifacts-uploader', NO_RESPONSE),
      `ERROR: ${PREFIX} error  correlation_id=${ids[1]} error=${stopped} id=${job.id} token=${token}`,
      retrying('artifacts-uploader', stopped),
      `${PREFIX} 201 Created  correlation_id=${ids[11]} id=${job.id} status=201 token=${token}`,
    ]);
  });

  it('a 308 without a Location is any other status (a WARNING); a Location Go cannot follow and a dropped connection are tries without an answer; the last one\'s error is the FATAL text', async () => {
    const job = await runningJob();
    gl.fault('upload-artifacts', { status: 308 }, { status: 307, headers: { Location: 'ftp://example.com/x' } }, { drop: true });
    const err = await upload(job, await file('a.zip', randomBytes(10))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactUploadError);
    expect(gl.requestsTo('upload-artifacts').map((r) => r.status)).toEqual([308, 307, -2]);
    const ids = uploadIds();
    const sent = `${gl.url}/api/v4/jobs/${job.id}/artifacts?artifact_format=zip&artifact_type=archive`;
    const ftp = noAnswer(sent, 'ftp://example.com/x', 'unsupported protocol scheme "ftp"');
    const dropped = noAnswer(sent, sent, 'EOF');
    const token = shortToken(job.token);
    expect(lines()).toEqual([
      `WARNING: ${PREFIX} 308 Permanent Redirect  correlation_id=${ids[0]} id=${job.id} status=308 token=${token}`,
      retrying('artifacts-uploader', NO_RESPONSE),
      `ERROR: ${PREFIX} error  correlation_id=${ids[1]} error=${ftp} id=${job.id} token=${token}`,
      retrying('artifacts-uploader', ftp),
      `ERROR: ${PREFIX} error  correlation_id=${ids[2]} error=${dropped} id=${job.id} token=${token}`,
    ]);
    expect((err as ArtifactUploadError).helperFatal).toBe(dropped);
    // berth's own message is unchanged.
    expect((err as Error).message).toMatch(/^Uploading artifacts as "archive" of job \d+ to GitLab failed after 3 tries: POST http:\/\/127\.0\.0\.1:\d+\/api\/v4\/jobs\/\d+\/artifacts: socket hang up\. Check that GitLab/);
  });

  it('no response headers within response_header_timeout after the body was sent: an error, retried', async () => {
    const job = await runningJob();
    const quick = new ArtifactsApi(caller, { clock, responseHeaderTimeoutMs: 100 });
    gl.fault('upload-artifacts', { hang: true });
    const bytes = randomBytes(2000);
    await quick.upload({ url: gl.url, id: job.id, token: job.token }, { file: await file('a.zip', bytes), filename: 'artifacts.zip', artifactType: 'archive', artifactFormat: 'zip', expireIn: '' }, log, signal);
    expect(gl.requestsTo('upload-artifacts').map((r) => r.status)).toEqual([-1, 201]);
    const ids = uploadIds();
    const sent = `${gl.url}/api/v4/jobs/${job.id}/artifacts?artifact_format=zip&artifact_type=archive`;
    const timeout = noAnswer(sent, sent, 'net/http: timeout awaiting response headers');
    const token = shortToken(job.token);
    expect(lines()).toEqual([
      `ERROR: ${PREFIX} error  correlation_id=${ids[0]} error=${timeout} id=${job.id} token=${token}`,
      retrying('artifacts-uploader', timeout),
      `${PREFIX} 201 Created  correlation_id=${ids[1]} id=${job.id} status=201 token=${token}`,
    ]);
    expect((await readFile(job.archive!.path)).equals(bytes)).toBe(true);
  });

  it('aborted while waiting for an answer: rejects at once, no retry', async () => {
    const job = await runningJob();
    gl.fault('upload-artifacts', { hang: true });
    const ctl = new AbortController();
    const p = api.upload({ url: gl.url, id: job.id, token: job.token }, { file: await file('a.zip', Buffer.from('x')), filename: 'artifacts.zip', artifactType: 'archive', artifactFormat: 'zip', expireIn: '' }, log, ctl.signal);
    await gl.waitFor(() => gl.requestsTo('upload-artifacts').length === 1);
    ctl.abort();
    await expect(p).rejects.toThrow(/aborted/);
    expect(clock.sleeps).toEqual([]);
    expect(lines()).toEqual([]);
  });

  it('503 twice, then 201: sent again by the API-level retry (100 ms, 200 ms) within the one try, each wait logged', async () => {
    const job = await runningJob();
    const bytes = randomBytes(10_000);
    gl.fault('upload-artifacts', { status: 503, times: 2 });
    await upload(job, await file('a.zip', bytes));
    expect(gl.requestsTo('upload-artifacts').map((r) => r.status)).toEqual([503, 503, 201]);
    expect(clock.sleeps).toEqual([100, 200]);
    expect((await readFile(job.archive!.path)).equals(bytes)).toBe(true);
    const l = lines();
    expect(l).toHaveLength(3);
    expect(l[0]).toMatch(/^Waiting before making the next call {17}context=ratelimit-requester-gitlab-request duration=100ms method=POST url=http:\/\/127\.0\.0\.1:\d+\/api\/v4\/jobs\/\d+\/artifacts\?artifact_format=zip&artifact_type=archive$/);
    expect(l[1]).toMatch(/duration=200ms/);
    expect(l[2]).toMatch(/201 Created/);
  });

  it('503 on all 5 attempts of a try, then 201: the uploader logs the ERROR line with GitLab\'s message and tries again after 1 s', async () => {
    const job = await runningJob();
    gl.fault('upload-artifacts', { status: 503, times: 5, headers: { 'Content-Type': 'application/json' }, body: '{"message":"object storage unavailable"}' });
    await upload(job, await file('a.zip', Buffer.from('zip')));
    expect(gl.requestsTo('upload-artifacts').map((r) => r.status)).toEqual([503, 503, 503, 503, 503, 201]);
    expect(clock.sleeps).toEqual([100, 200, 400, 800, 1000]);
    const ids = uploadIds();
    const token = shortToken(job.token);
    expect(uploaderLines()).toEqual([
      `ERROR: ${PREFIX} POST ${gl.url}/api/v4/jobs/${job.id}/artifacts: 503 Service Unavailable (object storage unavailable)  correlation_id=${ids[4]} id=${job.id} status=503 token=${token}`,
      retrying('artifacts-uploader', 'service unavailable'),
      `${PREFIX} 201 Created  correlation_id=${ids[5]} id=${job.id} status=201 token=${token}`,
    ]);
    // The 5 attempts of the API-level retry are one try: one X-Request-Id.
    expect(new Set(ids.slice(0, 5)).size).toBe(1);
  });

  it('500 on every attempt: fails after 3 tries of 5 attempts, with WARNING lines and a final error naming the last answer', async () => {
    const job = await runningJob();
    gl.fault('upload-artifacts', { status: 500, times: 15 });
    const err = await upload(job, await file('a.zip', Buffer.from('zip'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactUploadError);
    expect((err as ArtifactUploadError).failure).toBe('retries-exhausted');
    expect((err as Error).message).toMatch(/failed after 3 tries: 500 Internal Server Error/);
    expect(gl.requestsTo('upload-artifacts')).toHaveLength(15);
    expect(uploaderSleeps()).toEqual([1000, 2000]);
    const ids = uploadIds();
    // Not GitLab's JSON (a proxy's answer): gitlab-runner prints the status line only.
    const failed = (i: number): string => `WARNING: ${PREFIX} 500 Internal Server Error  correlation_id=${ids[i]} id=${job.id} status=500 token=${shortToken(job.token)}`;
    expect(uploaderLines()).toEqual([failed(0), retrying('artifacts-uploader', NO_RESPONSE), failed(5), retrying('artifacts-uploader', NO_RESPONSE), failed(10)]);
    // artifacts_uploader.go Execute: logrus.Fatalln(err) after the last try.
    expect((err as ArtifactUploadError).helperFatal).toBe(NO_RESPONSE);
    expect(job.archive).toBeUndefined();
  });

  it('503 on every attempt: six tries with backoff capped at 5 s', async () => {
    const job = await runningJob();
    gl.fault('upload-artifacts', { status: 503, times: 30 });
    const err = await upload(job, await file('a.zip', Buffer.from('zip'))).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/failed after 6 tries/);
    expect((err as ArtifactUploadError).helperFatal).toBe('service unavailable');
    expect(gl.requestsTo('upload-artifacts')).toHaveLength(30);
    expect(uploaderSleeps()).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(uploaderLines().filter((l) => l.startsWith('WARNING: Retrying...'))).toEqual(Array(5).fill(retrying('artifacts-uploader', 'service unavailable')));
  });

  it('429 with Retry-After three times, then 201: each try waits as GitLab says (retry_requester.go under the uploader), and the upload succeeds', async () => {
    const job = await runningJob();
    gl.fault('upload-artifacts', { status: 429, times: 3, headers: { 'Retry-After': '7' } });
    await upload(job, await file('a.zip', Buffer.from('zip')));
    expect(gl.requestsTo('upload-artifacts').map((r) => r.status)).toEqual([429, 429, 429, 201]);
    expect(clock.sleeps).toEqual([7000, 7000, 7000]);
    const url = `${gl.url}/api/v4/jobs/${job.id}/artifacts?artifact_format=zip&artifact_type=archive`;
    expect(lines()).toEqual([
      `Waiting before making the next call                 context=ratelimit-requester-gitlab-request duration=7s method=POST url=${url}`,
      `Waiting before making the next call                 context=ratelimit-requester-gitlab-request duration=7s method=POST url=${url}`,
      `Waiting before making the next call                 context=ratelimit-requester-gitlab-request duration=7s method=POST url=${url}`,
      expect.stringMatching(/^Uploading artifacts as "archive" to coordinator\.\.\. 201 Created {2}correlation_id=/),
    ]);
  });

  it('403 (job no longer running): fatal at once, permission denied', async () => {
    const job = await runningJob();
    gl.setJobStatus(job.id, 'canceled');
    const err = await upload(job, await file('a.zip', Buffer.from('zip'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactUploadError);
    expect((err as ArtifactUploadError).failure).toBe('permission-denied');
    expect((err as Error).message).toMatch(/permission denied \(403 Forbidden - Job is not processing on runner\)/);
    expect((err as ArtifactUploadError).helperFatal).toBe('permission denied');
    expect(gl.requestsTo('upload-artifacts')).toHaveLength(1);
    expect(lines()).toEqual([
      `ERROR: ${PREFIX} POST ${gl.url}/api/v4/jobs/${job.id}/artifacts: 403 Forbidden (403 Forbidden - Job is not processing on runner)  correlation_id=${uploadIds()[0]} id=${job.id} status=403 token=${shortToken(job.token)}`,
    ]);
    expect(clock.sleeps).toEqual([]);
  });

  it('413: fatal at once with the size, the server message and what to do', async () => {
    await gl.close();
    gl = await GitLabTestServer.start({ maxArtifactSize: 1024 * 1024 });
    const job = await runningJob();
    const err = await upload(job, await file('a.zip', randomBytes(3 * 1024 * 1024 / 2))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactTooLargeError);
    expect((err as ArtifactTooLargeError).size).toBe(1.5 * 1024 * 1024);
    expect((err as Error).message).toContain('the archive artifacts.zip (1.5 MiB) is over GitLab\'s maximum artifacts size (413 Request Entity Too Large: file size has reached maximum size limit)');
    expect((err as Error).message).toMatch(/artifacts:exclude.*maximum artifacts size/);
    expect(gl.requestsTo('upload-artifacts')).toHaveLength(1);
    expect(lines()).toEqual([
      expect.stringMatching(
        /^ERROR: Uploading artifacts as "archive" to coordinator\.\.\. POST http:\/\/127\.0\.0\.1:\d+\/api\/v4\/jobs\/\d+\/artifacts: 413 Request Entity Too Large \(file size has reached maximum size limit\) {2}correlation_id=[0-9a-f]{32} id=\d+ status=413 token=[\w-]{9}$/,
      ),
    ]);
    expect(job.archive).toBeUndefined();
  });

  it('413 in gitlab-runner\'s words: GitLab\'s file_too_large! JSON not repeated, Workhorse\'s plain answer as its status line, never the query', async () => {
    const job = await runningJob();
    gl.fault(
      'upload-artifacts',
      { status: 413, headers: { 'Content-Type': 'application/json' }, body: '{"message":"413 Request Entity Too Large"}' },
      { status: 413, body: 'Request Entity Too Large' },
    );
    const first = await upload(job, await file('a.zip', Buffer.from('zip'))).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ArtifactTooLargeError);
    expect((first as Error).message).toContain('(413 Request Entity Too Large)');
    expect((first as ArtifactTooLargeError).helperFatal).toBe('too large');
    await expect(upload(job, await file('a.zip', Buffer.from('zip')))).rejects.toBeInstanceOf(ArtifactTooLargeError);
    const ids = uploadIds();
    const token = shortToken(job.token);
    expect(lines()).toEqual([
      `ERROR: ${PREFIX} POST ${gl.url}/api/v4/jobs/${job.id}/artifacts: 413 Request Entity Too Large  correlation_id=${ids[0]} id=${job.id} status=413 token=${token}`,
      // Not JSON: the status line exactly as the server sent it (this node server's reason phrase).
      `ERROR: ${PREFIX} 413 Payload Too Large  correlation_id=${ids[1]} id=${job.id} status=413 token=${token}`,
    ]);
  });

  it('a second archive: 400 from GitLab, retried as a generic failure; an identical one is accepted', async () => {
    const job = await runningJob();
    const a = await file('a.zip', Buffer.from('first'));
    await upload(job, a);
    await upload(job, a);
    expect(gl.requestsTo('upload-artifacts').map((r) => r.status)).toEqual([201, 201]);
    await expect(upload(job, await file('b.zip', Buffer.from('second')))).rejects.toThrow(/400 Bad Request \(another artifact of the same type already exists\)/);
    expect(job.artifacts).toHaveLength(1);
  });

  it('dotenv: GitLab parses it in the upload; a bad report is a 400 the client reports', async () => {
    const { gzipSync } = await import('node:zlib');
    const job = await runningJob();
    await upload(job, await file('.env.gz', gzipSync('A=1\nB = two words \nA=3\n')), { artifactType: 'dotenv', artifactFormat: 'gzip', filename: '.env.gz' });
    expect(job.dotenv).toEqual([
      { key: 'A', value: '3' },
      { key: 'B', value: 'two words' },
    ]);
    const bad = await runningJob();
    const err = await upload(bad, await file('bad.gz', gzipSync('A=1\n\nB=2\n')), { artifactType: 'dotenv', artifactFormat: 'gzip', filename: '.env.gz' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/failed after 3 tries: POST http:\/\/127\.0\.0\.1:\d+\/api\/v4\/jobs\/\d+\/artifacts: 400 Bad Request \(Invalid Format\)/);
    expect(bad.dotenv).toEqual([]);
    expect(bad.artifacts).toEqual([]);
  });

  it('no answer (connection refused): ERROR line and Retrying... with gitlab-runner\'s error, 3 tries, that error the FATAL text; berth\'s message unchanged', async () => {
    const job = await runningJob();
    const dead = { url: 'http://127.0.0.1:1', id: job.id, token: job.token };
    let n = 0;
    const deps = { api: caller, clock, headerTimeoutMs: 10_000, timeoutMs: 10_000, requestId: () => `c0ffee${++n}` };
    const req = { file: await file('a.zip', Buffer.from('x')), filename: 'artifacts.zip', artifactType: 'archive', artifactFormat: 'zip', expireIn: '1 week' };
    const err = await uploadArtifacts(deps, dead, req, log, signal).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/failed after 3 tries: .*ECONNREFUSED/);
    const sent = `http://127.0.0.1:1/api/v4/jobs/${job.id}/artifacts?artifact_format=zip&artifact_type=archive&expire_in=1+week`;
    const refused = noAnswer(sent, sent, 'dial tcp 127.0.0.1:1: connect: connection refused');
    const failed = (i: number): string => `ERROR: ${PREFIX} error  correlation_id=c0ffee${i} error=${refused} id=${job.id} token=${shortToken(job.token)}`;
    expect(lines()).toEqual([failed(1), retrying('artifacts-uploader', refused), failed(2), retrying('artifacts-uploader', refused), failed(3)]);
    expect((err as ArtifactUploadError).helperFatal).toBe(refused);
    expect(uploaderSleeps()).toEqual([1000, 2000]);
  });

  it('without artifact type and format the URL in gitlab-runner\'s error keeps its `?`; a password in the GitLab URL is shown as *** (Go\'s stripPassword)', async () => {
    const job = await runningJob();
    const dead = { url: 'http://user:hunter2@127.0.0.1:1/', id: job.id, token: job.token };
    const deps = { api: caller, clock, headerTimeoutMs: 10_000, timeoutMs: 10_000, requestId: () => 'c0ffee' };
    const req = { file: await file('r.json', Buffer.from('{}')), filename: 'report.json', artifactType: '', artifactFormat: '', expireIn: '' };
    const err = await uploadArtifacts(deps, dead, req, log, signal).catch((e: unknown) => e);
    const sent = `http://user:***@127.0.0.1:1/api/v4/jobs/${job.id}/artifacts?`;
    const refused = noAnswer(sent, sent, 'dial tcp 127.0.0.1:1: connect: connection refused');
    expect((err as ArtifactUploadError).helperFatal).toBe(refused);
    expect(lines()[0]).toBe(`ERROR: Uploading artifacts to coordinator... error  correlation_id=c0ffee error=${refused} id=${job.id} token=${shortToken(job.token)}`);
    expect(sink.text).not.toContain('hunter2');
  });
});

describe('download', () => {
  const DL = 'Downloading artifacts from coordinator...';
  /** The X-Request-Id of the i-th GET jobs/:id/artifacts: the lines' correlation_id (the test server echoes it, gitlab-runner falls back to it). */
  const sentId = (i: number): string => String(gl.requestsTo('download-artifacts')[i]!.headers['x-request-id']);
  /** `Direct download from <host>` with its fields (logrus Infoln: the message padded to 50). */
  const directFrom = (host: string, fields: string): string => `${`Direct download from ${host}`.padEnd(50)}  ${fields}`;

  /** A finished job with an uploaded archive, and a running job that depends on it. */
  async function withDependency(bytes: Buffer): Promise<{ dep: TestJob; job: TestJob; transport: GitLabArtifactTransport }> {
    const dep = await runningJob({ name: 'build' });
    await upload(dep, await file('dep.zip', bytes));
    gl.setJobStatus(dep.id, 'success');
    const job = await runningJob({ name: 'test', dependencies: [dep] });
    sink = new MemoryByteWriter();
    log = new JobLog(sink, { traceSections: false });
    const transport = new GitLabArtifactTransport({ api, job: { url: gl.url, id: job.id, token: job.token }, tempDir: dir });
    return { dep, job, transport };
  }

  it('direct download: 302 to object storage (no JOB-TOKEN there), streamed to a temp file that release() deletes', async () => {
    const bytes = randomBytes(200_000);
    const { dep, job, transport } = await withDependency(bytes);
    expect(job.payload.dependencies).toEqual([{ id: dep.id, name: 'build', token: dep.token, artifacts_file: { filename: 'artifacts.zip', size: bytes.length } }]);
    const archive = await transport.download(dependency(dep, job.token), log, signal);
    expect((await readFile(archive.path)).equals(bytes)).toBe(true);
    const [apiReq] = gl.requestsTo('download-artifacts');
    expect(apiReq!.query).toBe('?direct_download=true');
    expect(apiReq!.headers['job-token']).toBe(job.token);
    expect(apiReq!.status).toBe(302);
    const [storage] = gl.requestsTo('object-storage');
    expect(storage!.status).toBe(200);
    expect(storage!.headers['job-token']).toBeUndefined();
    // One API request: gitlab-runner sends the direct_download GET to GitLab again and follows its redirect.
    expect(gl.requestsTo('download-artifacts')).toHaveLength(1);
    expect(gl.requestsTo('object-storage')).toHaveLength(1);
    // gitlab-runner: every line has the fields of GitLab's 302, no host.
    const fields = `correlation_id=${sentId(0)} id=${dep.id} status=302 token=${shortToken(job.token)}`;
    expect(lines()).toEqual([directFrom(new URL(gl.url).host, fields), `${DL} ok        ${fields}`]);
    await archive.release();
    expect(existsSync(archive.path)).toBe(false);
  });

  it('a relative Location is resolved against the request URL (not the GitLab URL), and names no host', async () => {
    const bytes = randomBytes(3000);
    const seen: string[] = [];
    const ids: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${String(req.headers['job-token'] ?? '-')}`);
      ids.push(String(req.headers['x-request-id']));
      if (req.url === '/gitlab/api/v4/jobs/7/artifacts?direct_download=true') {
        res.writeHead(302, { Location: 'object-storage/abc?sig=1' }).end();
      } else if (req.url === '/gitlab/api/v4/jobs/7/object-storage/abc?sig=1') {
        res.writeHead(200, { 'Content-Length': bytes.length }).end(bytes);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gitlab/`;
      const dest = join(dir, 'rel.zip');
      await api.download(url, { id: 7, name: 'build', token: 'glcbt-dep', artifactsFile: null }, dest, log, signal);
      expect((await readFile(dest)).equals(bytes)).toBe(true);
      expect(seen).toEqual(['/gitlab/api/v4/jobs/7/artifacts?direct_download=true glcbt-dep', '/gitlab/api/v4/jobs/7/object-storage/abc?sig=1 -']);
      // No X-Request-Id in GitLab's 302: the one berth sent (getCorrelationID).
      expect(lines()).toEqual([`${DL} ok        correlation_id=${ids[0]} id=7 status=302 token=${shortToken('glcbt-dep')}`]);
    } finally {
      server.close();
    }
  });

  it('without direct download: 200 from the API itself, with the dependency job\'s own token', async () => {
    const bytes = randomBytes(5000);
    const { dep } = await withDependency(bytes);
    const dest = join(dir, 'out.zip');
    await api.download(gl.url, dependency(dep), dest, log, signal, { directDownload: false });
    expect((await readFile(dest)).equals(bytes)).toBe(true);
    expect(gl.requestsTo('download-artifacts')[0]!.query).toBe('');
    expect(gl.requestsTo('object-storage')).toHaveLength(0);
    // The plain GET's line: the last answer's fields, with the host it came from.
    expect(lines()).toEqual([`${DL} ok        correlation_id=${sentId(0)} host=${new URL(gl.url).host} id=${dep.id} status=200 token=${shortToken(dep.token)}`]);
  });

  it('without direct download: 503 with Retry-After three times, then 200: waited as GitLab says within the one try (retry_requester.go)', async () => {
    const bytes = randomBytes(4000);
    const { dep } = await withDependency(bytes);
    gl.fault('download-artifacts', { status: 503, times: 3, headers: { 'Retry-After': '3' } });
    const dest = join(dir, 'out.zip');
    await api.download(gl.url, dependency(dep), dest, log, signal, { directDownload: false });
    expect((await readFile(dest)).equals(bytes)).toBe(true);
    expect(gl.requestsTo('download-artifacts').map((r) => r.status)).toEqual([503, 503, 503, 200]);
    expect(clock.sleeps).toEqual([3000, 3000, 3000]);
    const l = lines();
    expect(l).toHaveLength(4);
    expect(l[0]).toBe(`Waiting before making the next call                 context=ratelimit-requester-gitlab-request duration=3s method=GET url=${gl.url}/api/v4/jobs/${dep.id}/artifacts`);
    expect(l[3]).toBe(`${DL} ok        correlation_id=${sentId(3)} host=${new URL(gl.url).host} id=${dep.id} status=200 token=${shortToken(dep.token)}`);
  });

  it('404 (no archive): fatal at once, "file does not exist", no file left', async () => {
    const dep = await runningJob({ name: 'lint' });
    const job = await runningJob({ dependencies: [dep] });
    expect(job.payload.dependencies).toEqual([{ id: dep.id, name: 'lint', token: dep.token }]);
    const dest = join(dir, 'out.zip');
    const err = await api.download(gl.url, dependency(dep, job.token), dest, log, signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactDownloadError);
    expect((err as ArtifactDownloadError).failure).toBe('not-found');
    expect((err as Error).message).toMatch(/^Downloading artifacts of lint \(\d+\) failed: file does not exist \(404 Not Found\)\. The artifacts may have expired/);
    expect(gl.requestsTo('download-artifacts')).toHaveLength(1);
    expect(lines()).toEqual([`ERROR: ${DL} not found  correlation_id=${sentId(0)} id=${dep.id} status=404 token=${shortToken(job.token)}`]);
    expect(existsSync(dest)).toBe(false);
  });

  it('a token of an unrelated running job: 403, permission denied at once', async () => {
    const { dep } = await withDependency(Buffer.from('zip'));
    const stranger = await runningJob();
    const err = await api.download(gl.url, dependency(dep, stranger.token), join(dir, 'x.zip'), log, signal).catch((e: unknown) => e);
    expect((err as ArtifactDownloadError).failure).toBe('permission-denied');
    // status: getMessageFromJSONOrXMLResponse, GitLab's JSON message ("403 Forbidden", not repeated).
    expect(lines()).toEqual([
      `ERROR: ${DL} forbidden  correlation_id=${sentId(0)} id=${dep.id} status=GET ${gl.url}/api/v4/jobs/${dep.id}/artifacts: 403 Forbidden token=${shortToken(stranger.token)}`,
    ]);
  });

  it('object storage 403 (expired link): permission denied at once, with its XML message', async () => {
    const { dep, job } = await withDependency(Buffer.from('zip'));
    gl.fault('object-storage', { status: 403, headers: { 'Content-Type': 'application/xml' }, body: '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>' });
    const dest = join(dir, 'out.zip');
    const err = await api.download(gl.url, dependency(dep, job.token), dest, log, signal).catch((e: unknown) => e);
    expect((err as ArtifactDownloadError).failure).toBe('permission-denied');
    expect((err as Error).message).toContain('permission denied (403 Forbidden: Request has expired)');
    // The fields of GitLab's 302; status: getMessageFromJSONOrXMLResponse, object storage's XML error.
    const fields = `correlation_id=${sentId(0)} id=${dep.id} status=302 token=${shortToken(job.token)}`;
    expect(lines()).toEqual([
      directFrom(new URL(gl.url).host, fields),
      `ERROR: ${DL} forbidden  correlation_id=${sentId(0)} id=${dep.id} status=403 Forbidden (AccessDenied: Request has expired) token=${shortToken(job.token)}`,
    ]);
    expect(existsSync(dest)).toBe(false);
  });

  it('truncated body (object storage): retried without direct_download, then ok', async () => {
    const bytes = randomBytes(100_000);
    const { dep, job } = await withDependency(bytes);
    gl.fault('download-artifacts', { truncate: 1000 });
    const dest = join(dir, 'out.zip');
    await api.download(gl.url, dependency(dep, job.token), dest, log, signal);
    expect((await readFile(dest)).equals(bytes)).toBe(true);
    const reqs = gl.requestsTo('download-artifacts');
    expect(reqs.map((r) => r.query)).toEqual(['?direct_download=true', '']);
    expect(clock.sleeps).toEqual([1000]);
    const host = new URL(gl.url).host;
    const token = shortToken(job.token);
    const fields = `correlation_id=${sentId(0)} id=${dep.id} status=302 token=${token}`;
    // downloadArtifactFile: io.Copy's unexpected EOF; artifacts_downloader.go download: DownloadFailed is retryableError{os.ErrInvalid}.
    expect(lines()).toEqual([
      directFrom(host, fields),
      `ERROR: ${DL} error  correlation_id=${sentId(0)} error=unexpected EOF id=${dep.id} status=302 token=${token}`,
      retrying('artifacts-downloader', 'invalid argument'),
      `${DL} ok        correlation_id=${sentId(1)} host=${host} id=${dep.id} status=200 token=${token}`,
    ]);
  });

  it('truncated three times: the error says how much arrived, and no file is left', async () => {
    const { dep, job } = await withDependency(randomBytes(50_000));
    gl.fault('download-artifacts', { truncate: 10, times: 3 });
    const dest = join(dir, 'out.zip');
    const err = await api.download(gl.url, dependency(dep, job.token), dest, log, signal).catch((e: unknown) => e);
    expect((err as ArtifactDownloadError).failure).toBe('retries-exhausted');
    expect((err as Error).message).toMatch(new RegExp(`failed after 3 tries: download of artifacts of build \\(${dep.id}\\) was truncated: got 10 of 50000 bytes`));
    expect(gl.requestsTo('download-artifacts')).toHaveLength(3);
    expect(clock.sleeps).toEqual([1000, 1000]);
    const host = new URL(gl.url).host;
    const token = shortToken(job.token);
    expect(lines()).toEqual([
      directFrom(host, `correlation_id=${sentId(0)} id=${dep.id} status=302 token=${token}`),
      `ERROR: ${DL} error  correlation_id=${sentId(0)} error=unexpected EOF id=${dep.id} status=302 token=${token}`,
      retrying('artifacts-downloader', 'invalid argument'),
      `ERROR: ${DL} error  correlation_id=${sentId(1)} error=unexpected EOF host=${host} id=${dep.id} status=200 token=${token}`,
      retrying('artifacts-downloader', 'invalid argument'),
      `ERROR: ${DL} error  correlation_id=${sentId(2)} error=unexpected EOF host=${host} id=${dep.id} status=200 token=${token}`,
    ]);
    // The downloader's last line: logrus.Fatalln(err) in ArtifactsDownloaderCommand.Execute.
    expect((err as ArtifactDownloadError).helperFatal).toBe('invalid argument');
    expect(existsSync(dest)).toBe(false);
  });

  it('5xx, then ok: a WARNING "failed" line, one retry', async () => {
    const bytes = randomBytes(3000);
    const { dep, job } = await withDependency(bytes);
    gl.fault('download-artifacts', { status: 502 });
    const dest = join(dir, 'out.zip');
    await api.download(gl.url, dependency(dep, job.token), dest, log, signal);
    expect((await readFile(dest)).equals(bytes)).toBe(true);
    const host = new URL(gl.url).host;
    const token = shortToken(job.token);
    // The direct GET's 502 has no X-Request-Id: the one sent; its line keeps the code and has no host.
    expect(lines()).toEqual([
      `WARNING: ${DL} failed  correlation_id=${sentId(0)} id=${dep.id} status=502 token=${token}`,
      retrying('artifacts-downloader', 'invalid argument'),
      `${DL} ok        correlation_id=${sentId(1)} host=${host} id=${dep.id} status=200 token=${token}`,
    ]);
  });

  /** A one-off GitLab on loopback (`handler` answers every request); its URL, closed after `body`. */
  async function withServer(handler: Parameters<typeof createServer>[1], body: (url: string) => Promise<void>): Promise<void> {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      server.close();
    }
  }

  it('GitLab serving the direct GET itself (200, no redirect): the ok line has its X-Request-Id and status, no host', async () => {
    const bytes = randomBytes(2000);
    await withServer(
      (_req, res) => res.writeHead(200, { 'Content-Length': bytes.length, 'X-Request-Id': '01HGITLAB' }).end(bytes),
      async (url) => {
        const dest = join(dir, 'own.zip');
        await api.download(url, { id: 7, name: 'build', token: 'glcbt-abcdefghijkl', artifactsFile: null }, dest, log, signal);
        expect((await readFile(dest)).equals(bytes)).toBe(true);
        expect(lines()).toEqual([`${DL} ok        correlation_id=01HGITLAB id=7 status=200 token=abcdefghi`]);
      },
    );
  });

  it.each([true, false])('401 (a token GitLab does not know), direct download %s: ERROR "unauthorized" with status=res.Status, at once', async (directDownload) => {
    const { dep } = await withDependency(Buffer.from('zip'));
    const unknown = 'glcbt-nosuchtoken0123';
    const err = await api.download(gl.url, dependency(dep, unknown), join(dir, 'x.zip'), log, signal, { directDownload }).catch((e: unknown) => e);
    expect((err as ArtifactDownloadError).failure).toBe('permission-denied');
    expect((err as ArtifactDownloadError).helperFatal).toBe('permission denied');
    const host = directDownload ? '' : ` host=${new URL(gl.url).host}`;
    expect(lines()).toEqual([`ERROR: ${DL} unauthorized  correlation_id=${sentId(0)}${host} id=${dep.id} status=401 Unauthorized token=${shortToken(unknown)}`]);
  });

  it('without direct download, 403 and 404 from GitLab: the lines of the plain GET, with host', async () => {
    const { dep } = await withDependency(Buffer.from('zip'));
    const stranger = await runningJob();
    const host = new URL(gl.url).host;
    const forbidden = await api.download(gl.url, dependency(dep, stranger.token), join(dir, 'x.zip'), log, signal, { directDownload: false }).catch((e: unknown) => e);
    expect((forbidden as ArtifactDownloadError).failure).toBe('permission-denied');
    gl.fault('download-artifacts', { status: 404 });
    const missing = await api.download(gl.url, dependency(dep), join(dir, 'y.zip'), log, signal, { directDownload: false }).catch((e: unknown) => e);
    expect((missing as ArtifactDownloadError).failure).toBe('not-found');
    expect(lines()).toEqual([
      `ERROR: ${DL} forbidden  correlation_id=${sentId(0)} host=${host} id=${dep.id} status=GET ${gl.url}/api/v4/jobs/${dep.id}/artifacts: 403 Forbidden token=${shortToken(stranger.token)}`,
      `ERROR: ${DL} not found  correlation_id=${sentId(1)} host=${host} id=${dep.id} status=404 token=${shortToken(dep.token)}`,
    ]);
  });

  it('after the 302, object storage 404 / 401 / 400: the lines keep GitLab\'s 302 (but 401 says res.Status); 400 is retried without direct_download', async () => {
    const { dep, job } = await withDependency(randomBytes(3000));
    const host = new URL(gl.url).host;
    const token = shortToken(job.token);
    const d = dependency(dep, job.token);
    const first = (i: number): string => `correlation_id=${sentId(i)} id=${dep.id} status=302 token=${token}`;

    gl.fault('object-storage', { status: 404 });
    const missing = await api.download(gl.url, d, join(dir, 'a.zip'), log, signal).catch((e: unknown) => e);
    expect((missing as ArtifactDownloadError).failure).toBe('not-found');
    gl.fault('object-storage', { status: 401 });
    const refused = await api.download(gl.url, d, join(dir, 'b.zip'), log, signal).catch((e: unknown) => e);
    expect((refused as ArtifactDownloadError).failure).toBe('permission-denied');
    gl.fault('object-storage', { status: 400 });
    await api.download(gl.url, d, join(dir, 'c.zip'), log, signal);
    expect(gl.requestsTo('download-artifacts').map((r) => r.query)).toEqual(['?direct_download=true', '?direct_download=true', '?direct_download=true', '']);
    expect(lines()).toEqual([
      directFrom(host, first(0)),
      `ERROR: ${DL} not found  ${first(0)}`,
      directFrom(host, first(1)),
      `ERROR: ${DL} unauthorized  correlation_id=${sentId(1)} id=${dep.id} status=401 Unauthorized token=${token}`,
      directFrom(host, first(2)),
      `WARNING: ${DL} failed  ${first(2)}`,
      retrying('artifacts-downloader', 'invalid argument'),
      `${DL} ok        correlation_id=${sentId(3)} host=${host} id=${dep.id} status=200 token=${token}`,
    ]);
  });

  it('no answer from GitLab: the direct GET\'s error (Go\'s url.Error), then the plain GET\'s (doRaw), in the message', async () => {
    const dead = 'http://127.0.0.1:1';
    let n = 0;
    const deps = { api: caller, clock, headerTimeoutMs: 10_000, timeoutMs: 10_000, directDownload: true, requestId: () => `c0ffee${++n}` };
    const dep: DependencySpec = { id: 7, name: 'build', token: 'glcbt-abcdefghijkl', artifactsFile: null };
    const err = await downloadArtifacts(deps, dead, dep, join(dir, 'x.zip'), log, signal).catch((e: unknown) => e);
    expect((err as ArtifactDownloadError).failure).toBe('retries-exhausted');
    const refused = 'dial tcp 127.0.0.1:1: connect: connection refused';
    const plain = `${DL} error execute raw request: execute request: couldn't execute GET against ${dead}/api/v4/jobs/7/artifacts?: Get "${dead}/api/v4/jobs/7/artifacts?": ${refused}`;
    expect(lines()).toEqual([
      `ERROR: ${DL} error  error=Get "${dead}/api/v4/jobs/7/artifacts?direct_download=true": ${refused} id=7 token=abcdefghi`,
      retrying('artifacts-downloader', 'invalid argument'),
      `ERROR: ${plain}  correlation_id=c0ffee2 id=7 token=abcdefghi`,
      retrying('artifacts-downloader', 'invalid argument'),
      `ERROR: ${plain}  correlation_id=c0ffee3 id=7 token=abcdefghi`,
    ]);
  });

  it('no answer from object storage after the 302: the fallback GET\'s error with GitLab\'s fields, the URL without its signature', async () => {
    await withServer(
      (_req, res) => res.writeHead(302, { Location: 'http://127.0.0.1:1/bucket/obj?X-Amz-Signature=secret', 'X-Request-Id': '01HGITLAB' }).end(),
      async (url) => {
        const deps = { api: caller, clock, headerTimeoutMs: 10_000, timeoutMs: 10_000, directDownload: true, requestId: () => 'c0ffee' };
        const dep: DependencySpec = { id: 7, name: 'build', token: 'glcbt-abcdefghijkl', artifactsFile: null };
        const err = await downloadArtifacts(deps, url, dep, join(dir, 'x.zip'), log, signal).catch((e: unknown) => e);
        expect((err as ArtifactDownloadError).failure).toBe('retries-exhausted');
        const fields = 'id=7 status=302 token=abcdefghi';
        const error = `execute raw request: execute request: couldn't execute GET against ${url}/api/v4/jobs/7/artifacts?direct_download=true: Get "http://127.0.0.1:1/bucket/obj": dial tcp 127.0.0.1:1: connect: connection refused`;
        expect(lines().slice(0, 2)).toEqual([directFrom('127.0.0.1:1', `correlation_id=01HGITLAB ${fields}`), `ERROR: ${DL} error  correlation_id=01HGITLAB error=${error} ${fields}`]);
        expect(sink.text).not.toContain('secret');
      },
    );
  });

  it('corrupt bytes of the right length are passed on (the archive reader finds them)', async () => {
    const bytes = randomBytes(4000);
    const { dep, job } = await withDependency(bytes);
    gl.fault('download-artifacts', { corrupt: true });
    const dest = join(dir, 'out.zip');
    await api.download(gl.url, dependency(dep, job.token), dest, log, signal);
    const got = await readFile(dest);
    expect(got.length).toBe(bytes.length);
    expect(got.equals(bytes)).toBe(false);
    expect(got[2000]).toBe(bytes[2000]! ^ 0xff);
  });
});
