/**
 * The job log of `berth run`'s artifact stages over the GitLab test server, as gitlab-runner's
 * helpers end it: the uploader's and downloader's `Retrying...` lines with gitlab-runner's error
 * (commands/helpers/artifacts_uploader.go Run, artifacts_downloader.go download), then, when the
 * transfer failed, berth's own ERROR line (the job's failure message) and the helper's last line,
 * `FATAL: <err>` (logrus.Fatalln in their Execute). Waits are instant (InstantClock).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeExecutor } from '../../test/support/fake-executor.js';
import { InstantClock } from '../../test/support/gitlab-test-server-clock.js';
import { GitLabTestServer, type TestJob } from '../../test/support/gitlab-test-server.js';
import { handOutJob } from '../../test/support/hand-out-job.js';
import { testJob, testRunner } from '../../test/support/job-fixtures.js';
import { MemoryProjectFiles } from '../../test/support/memory-project-files.js';
import { runJob } from '../executor/run-job.js';
import type { ArtifactSpec, DependencySpec } from '../job/job-spec.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { stripAnsi } from '../shared/ansi.js';
import { ApiCaller } from './api-caller.js';
import { ArtifactsApi } from './artifacts-api.js';
import { GitLabArtifactTransport } from './gitlab-artifact-transport.js';
import { shortToken } from './short-token.js';

let gl: GitLabTestServer;
let caller: ApiCaller;
let api: ArtifactsApi;
let dir: string;

beforeEach(async () => {
  gl = await GitLabTestServer.start();
  const clock = new InstantClock();
  caller = new ApiCaller({ userAgent: 'berth-test/1.0', clock, random: () => 1 });
  api = new ArtifactsApi(caller, { clock });
  dir = await mkdtemp(join(tmpdir(), 'berth-helper-lines-'));
});

afterEach(async () => {
  caller.close();
  await gl.close();
  await rm(dir, { recursive: true, force: true });
});

const archive: ArtifactSpec = { name: '', untracked: false, paths: ['dist/'], exclude: [], when: 'on_success', artifactType: 'archive', artifactFormat: 'zip', expireIn: '' };
const PREFIX = 'Uploading artifacts as "archive" to coordinator...';
const retrying = (context: string, error: string): string => `WARNING: Retrying...                                context=${context} error=${error}`;

/** Runs a job on the fake executor with GitLab as its artifact transport (the job `running`'s credentials); the log without colours, one entry per line, without the API-level retry's waits. */
async function run(running: TestJob, spec: Parameters<typeof testJob>[0]): Promise<{ lines: string[]; state: string; exitCode: number | null | undefined }> {
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink, { traceSections: false });
  const transport = new GitLabArtifactTransport({ api, job: { url: gl.url, id: running.id, token: running.token }, tempDir: dir });
  const executor = new FakeExecutor({ projectFiles: new MemoryProjectFiles({ 'dist/a.txt': 'a' }) });
  const result = await runJob({ job: testJob(spec), executor, log, runner: testRunner(), files: { artifacts: transport, cache: null, tempRoot: dir } });
  expect(sink.text).not.toContain(running.token);
  const lines = stripAnsi(sink.text)
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('Waiting before making the next call'));
  return { lines, state: result.state, exitCode: result.exitCode };
}

/** The lines from the first one that starts with `first` to the end. */
function from(lines: string[], first: string): string[] {
  const i = lines.findIndex((l) => l.startsWith(first));
  expect(i, lines.join('\n')).toBeGreaterThanOrEqual(0);
  return lines.slice(i);
}

describe('upload_artifacts: the uploader\'s last lines', () => {
  it('500 on every try: three tries, each retry with gitlab-runner\'s error, then berth\'s ERROR line and FATAL: upload failed with no response from coordinator', async () => {
    const job = await handOutJob(gl);
    gl.fault('upload-artifacts', { status: 500, times: 15 });
    const { lines, state, exitCode } = await run(job, { artifacts: [archive] });
    expect([state, exitCode]).toEqual(['failed', 1]);
    const ids = gl.requestsTo('upload-artifacts').map((r) => String(r.headers['x-request-id']));
    const failed = (i: number): string => `WARNING: ${PREFIX} 500 Internal Server Error  correlation_id=${ids[i]} id=${job.id} status=500 token=${shortToken(job.token)}`;
    const noResponse = 'upload failed with no response from coordinator';
    expect(from(lines, `WARNING: ${PREFIX}`).slice(0, 7)).toEqual([
      failed(0),
      retrying('artifacts-uploader', noResponse),
      failed(5),
      retrying('artifacts-uploader', noResponse),
      failed(10),
      `ERROR: Uploading artifacts as "archive" of job ${job.id} to GitLab failed after 3 tries: 500 Internal Server Error. Check that GitLab (and its object storage) is reachable and healthy, then retry the job`,
      `FATAL: ${noResponse}`,
    ]);
  });

  it('403 (the job no longer runs): no retry, FATAL: permission denied', async () => {
    const job = await handOutJob(gl);
    gl.setJobStatus(job.id, 'canceled');
    const { lines } = await run(job, { artifacts: [archive] });
    const [req] = gl.requestsTo('upload-artifacts');
    expect(from(lines, `ERROR: ${PREFIX}`).slice(0, 3)).toEqual([
      `ERROR: ${PREFIX} POST ${gl.url}/api/v4/jobs/${job.id}/artifacts: 403 Forbidden (403 Forbidden - Job is not processing on runner)  correlation_id=${String(req!.headers['x-request-id'])} id=${job.id} status=403 token=${shortToken(job.token)}`,
      `ERROR: Uploading artifacts as "archive" of job ${job.id} to GitLab failed: permission denied (403 Forbidden - Job is not processing on runner). GitLab refused the job token: the job is no longer running on this runner (canceled, timed out or erased)`,
      'FATAL: permission denied',
    ]);
  });
});

describe('download_artifacts: the downloader\'s last lines', () => {
  async function dependentJob(): Promise<{ job: TestJob; dep: DependencySpec }> {
    const build = await handOutJob(gl, { name: 'build' });
    const job = await handOutJob(gl, { name: 'test' });
    return { job, dep: { id: build.id, name: 'build', token: job.token, artifactsFile: { filename: 'artifacts.zip', size: 1 } } };
  }

  it('502 on every try: three tries, each retry with `invalid argument`, then berth\'s ERROR line and FATAL: invalid argument', async () => {
    const { job, dep } = await dependentJob();
    // The first try's direct GET has no API-level retry; the two others 5 attempts each.
    gl.fault('download-artifacts', { status: 502, times: 11 });
    const { lines, state, exitCode } = await run(job, { dependencies: [dep] });
    expect([state, exitCode]).toEqual(['failed', 1]);
    expect(gl.requestsTo('download-artifacts')).toHaveLength(11);
    // One X-Request-Id per try (sent again by the API-level retry): requests 0, 1-5, 6-10.
    const id = (i: number): string => String(gl.requestsTo('download-artifacts')[i]!.headers['x-request-id']);
    const token = shortToken(job.token);
    const host = new URL(gl.url).host;
    // The direct GET keeps the code and names no host; the plain GET's line has res.Status and the host.
    expect(from(lines, `Downloading artifacts for build (${dep.id})...`).slice(0, 8)).toEqual([
      `Downloading artifacts for build (${dep.id})...`,
      `WARNING: Downloading artifacts from coordinator... failed  correlation_id=${id(0)} id=${dep.id} status=502 token=${token}`,
      retrying('artifacts-downloader', 'invalid argument'),
      `WARNING: Downloading artifacts from coordinator... failed  correlation_id=${id(5)} host=${host} id=${dep.id} status=502 Bad Gateway token=${token}`,
      retrying('artifacts-downloader', 'invalid argument'),
      `WARNING: Downloading artifacts from coordinator... failed  correlation_id=${id(10)} host=${host} id=${dep.id} status=502 Bad Gateway token=${token}`,
      `ERROR: Downloading artifacts of build (${dep.id}) failed after 3 tries: GitLab answered 502 Bad Gateway for the artifacts of build (${dep.id}). Check that GitLab (and its object storage) is reachable, then retry the job`,
      'FATAL: invalid argument',
    ]);
  });

  it('404: no retry, FATAL: file does not exist', async () => {
    const { job, dep } = await dependentJob();
    gl.fault('download-artifacts', { status: 404 });
    const { lines } = await run(job, { dependencies: [dep] });
    expect(from(lines, `Downloading artifacts for build (${dep.id})...`).slice(0, 4)).toEqual([
      `Downloading artifacts for build (${dep.id})...`,
      `ERROR: Downloading artifacts from coordinator... not found  correlation_id=${String(gl.requestsTo('download-artifacts')[0]!.headers['x-request-id'])} id=${dep.id} status=404 token=${shortToken(job.token)}`,
      `ERROR: Downloading artifacts of build (${dep.id}) failed: file does not exist (404 Not Found). The artifacts may have expired or been erased: run build again, or drop it from this job's dependencies (needs:artifacts:false)`,
      'FATAL: file does not exist',
    ]);
  });
});
