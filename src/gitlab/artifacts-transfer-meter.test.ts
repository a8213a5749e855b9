/**
 * TRANSFER_METER_FREQUENCY on `berth run`'s artifact transfers (GitLabArtifactTransport against
 * the GitLab test server over real HTTP): gitlab-runner's meter lines for an upload streamed as it
 * is zipped, an upload from a file and a download held back by object storage. Each transfer's
 * meter starts with `0 B`, ticks while the bytes move, and ends with the whole size and a newline
 * right before the helper's own line about the request. Without the variable: no meter line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InstantClock } from '../../test/support/gitlab-test-server-clock.js';
import { GitLabTestServer, type TestJob } from '../../test/support/gitlab-test-server.js';
import { handOutJob } from '../../test/support/hand-out-job.js';
import { testJob } from '../../test/support/job-fixtures.js';
import { MemoryProjectFiles } from '../../test/support/memory-project-files.js';
import { zipOf } from '../../test/support/yazl-zip.js';
import { uploadArtifacts } from '../executor/job-files/artifact-stages.js';
import { StageContext } from '../executor/job-files/stage-context.js';
import type { ArtifactSpec } from '../job/job-spec.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { formatMeterBytes } from '../log/transfer-meter.js';
import { stripAnsi } from '../shared/ansi.js';
import { ApiCaller } from './api-caller.js';
import { ArtifactsApi } from './artifacts-api.js';
import { GitLabArtifactTransport } from './gitlab-artifact-transport.js';

const PAD = ' '.repeat(16);
const signal = new AbortController().signal;
const archive: ArtifactSpec = { name: '', untracked: false, paths: ['dist/'], exclude: [], when: 'on_success', artifactType: 'archive', artifactFormat: 'zip', expireIn: '' };

let gl: GitLabTestServer;
let caller: ApiCaller;
let api: ArtifactsApi;
let dir: string;
let sink: MemoryByteWriter;
let log: JobLog;

beforeEach(async () => {
  gl = await GitLabTestServer.start();
  const clock = new InstantClock();
  caller = new ApiCaller({ clock, random: () => 1 });
  api = new ArtifactsApi(caller, { clock });
  dir = await mkdtemp(join(tmpdir(), 'berth-meter-'));
  sink = new MemoryByteWriter();
  log = new JobLog(sink, { traceSections: false });
});

afterEach(async () => {
  caller.close();
  await gl.close();
  await rm(dir, { recursive: true, force: true });
});

function transport(job: TestJob, meterMs?: number): GitLabArtifactTransport {
  return new GitLabArtifactTransport({ api, job: { url: gl.url, id: job.id, token: job.token }, tempDir: dir, ...(meterMs === undefined ? {} : { meterMs }) });
}

/** The meter's lines of `label` in the log: each `\r` line, the last one with its newline. */
function meterLines(label: string): string[] {
  return [...stripAnsi(sink.text).matchAll(new RegExp(`\\r${label} [^\\r\\n]*(?:\\n|(?=\\r))`, 'g'))].map((m) => m[0]);
}

const finalLine = (label: string, bytes: number): RegExp =>
  new RegExp(`^\\r${label} ${formatMeterBytes(bytes).replace('.', '\\.')} \\([\\d.]+ [KMGT]?B/s\\)${PAD}\\n$`);

describe('the transfer meter on artifact transfers (TRANSFER_METER_FREQUENCY)', () => {
  it('an archive streamed as it is zipped: 0 B first, its size last, then the upload line', async () => {
    const job = await handOutJob(gl, { name: 'build' });
    const files = new MemoryProjectFiles({ 'dist/a.bin': randomBytes(2_000_000), 'dist/b.txt': 'b'.repeat(10_000) });
    const ctx = new StageContext(testJob({ artifacts: [archive] }), files, [], { artifacts: transport(job, 1000), cache: null, tempRoot: dir }, log, signal);
    try {
      await uploadArtifacts(ctx, true);
    } finally {
      await ctx.dispose();
    }
    const size = job.archive!.size;
    const lines = meterLines('Uploading artifacts');
    expect(lines[0]).toBe(`\rUploading artifacts 0 B (0 B/s)${PAD}\n`);
    expect(lines.at(-1)).toMatch(finalLine('Uploading artifacts', size));
    const text = stripAnsi(sink.text);
    // The files are selected while the POST runs (the zip is made as it is sent): their line starts
    // on a line of its own, not glued to the meter's open line.
    expect(text).toContain(`\rUploading artifacts 0 B (0 B/s)${PAD}\ndist/: found 3 matching artifact files and directories\n`);
    // The last meter line, then the helper's line about the POST.
    expect(text).toMatch(new RegExp(`${PAD}\\n(?:\\x1b\\[0K)?Uploading artifacts as "archive" to coordinator\\.\\.\\. 201 Created`));
  });

  it('a file (a report) counts the file, and a download held back by object storage ticks while it waits', async () => {
    const build = await handOutJob(gl, { name: 'build' });
    const zip = await zipOf(Array.from({ length: 12 }, (_, i) => ({ name: `dist/f${i}.bin`, data: randomBytes(500_000) })));
    const path = join(dir, 'artifacts.zip');
    await writeFile(path, zip);
    await transport(build, 1000).upload({ artifact: archive, file: path, filename: 'artifacts.zip', format: 'zip', name: 'artifacts', expireIn: '' }, log, signal);
    const up = meterLines('Uploading artifacts');
    expect(up[0]).toBe(`\rUploading artifacts 0 B (0 B/s)${PAD}`);
    expect(up.at(-1)).toMatch(finalLine('Uploading artifacts', zip.length));
    gl.setJobStatus(build.id, 'success');

    const test = await handOutJob(gl, { name: 'test', dependencies: [build] });
    // Object storage sends the first MiB, then nothing for 1.5 s: the meter (a line a second) ticks meanwhile.
    gl.fault('object-storage', { stallAt: 1024 * 1024, stallMs: 1500 });
    const got = await transport(test, 1000).download({ id: build.id, name: 'build', token: test.token, artifactsFile: { filename: 'artifacts.zip', size: zip.length } }, log, signal);
    await got.arriving!.done;
    await got.release();
    const down = meterLines('Downloading artifacts');
    expect(down[0]).toBe(`\rDownloading artifacts 0 B (0 B/s)${PAD}`);
    expect(down.length).toBeGreaterThanOrEqual(3);
    expect(down.slice(1, -1).some((l) => l.startsWith(`\rDownloading artifacts ${formatMeterBytes(1024 * 1024)} (`))).toBe(true);
    expect(down.at(-1)).toMatch(finalLine('Downloading artifacts', zip.length));
    expect(stripAnsi(sink.text)).toMatch(new RegExp(`${PAD}\\n(?:\\x1b\\[0K)?Downloading artifacts from coordinator\\.\\.\\. ok`));
  });

  it('without TRANSFER_METER_FREQUENCY: no meter line', async () => {
    const build = await handOutJob(gl, { name: 'build' });
    const path = join(dir, 'artifacts.zip');
    await writeFile(path, await zipOf([{ name: 'dist/a.bin', data: randomBytes(100_000) }]));
    await transport(build).upload({ artifact: archive, file: path, filename: 'artifacts.zip', format: 'zip', name: 'artifacts', expireIn: '' }, log, signal);
    expect(stripAnsi(sink.text)).toContain('201 Created');
    expect(sink.text).not.toContain('\r');
  });
});
