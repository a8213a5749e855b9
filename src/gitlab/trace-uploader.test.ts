/** TraceUploader + GitLabClient against the GitLab test server (real HTTP on loopback). */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';
import { ScaledClock } from '../../test/support/gitlab-test-server-clock.js';
import { JobFailure } from '../job/job-result.js';
import { traceChecksum } from '../shared/crc32.js';
import { GitLabClient } from './gitlab-client.js';
import type { JobRef } from './job-api.js';
import { defaultRunnerInfo } from './runner-features.js';
import { outputLimitNotice } from '../log/output-limit.js';
import { type TraceUploaderOptions, TraceUploader } from './trace-uploader.js';

const MiB = 1024 * 1024;
let gl: GitLabTestServer;
let clock: ScaledClock;
let client: GitLabClient;
const open: TraceUploader[] = [];

beforeEach(async () => {
  gl = await GitLabTestServer.start();
  clock = new ScaledClock(1000); // 3 s update interval → 3 ms, 30 s keep-alive → 30 ms
  client = new GitLabClient({ clock, random: () => 0 });
});

afterEach(async () => {
  for (const u of open.splice(0)) u.close();
  client.close();
  await gl.close();
});

async function startJob(): Promise<JobRef> {
  const queued = gl.enqueueJob();
  const r = await client.requestJob({ url: gl.url, token: gl.runnerToken }, { systemId: 's_000000000000', info: defaultRunnerInfo('test') });
  if (r.kind !== 'job') throw new Error(`expected a job, got ${r.kind}`);
  return { url: gl.url, id: queued.id, token: queued.token };
}

function uploader(job: JobRef, extra: Partial<TraceUploaderOptions> = {}): TraceUploader {
  const u = new TraceUploader({ api: client, job, clock, ...extra });
  open.push(u);
  return u;
}

const success = { state: 'success', failureReason: null, exitCode: 0 } as const;

describe('TraceUploader: upload and final update', () => {
  it('uploads every byte, then PUTs success with the CRC-32 and size of the trace', async () => {
    const job = await startJob();
    const up = uploader(job);
    up.start();
    const written: Buffer[] = [];
    for (const part of ['hello ', 'wörld € ', '\x1b[32;1m$ echo ok\x1b[0;m\n', 'line 2\r\n']) {
      const b = Buffer.from(part, 'utf8');
      written.push(b);
      up.write(b);
      await clock.sleep(5000);
    }
    const all = Buffer.concat(written);
    const out = await up.finish(success);
    expect(out).toMatchObject({ status: 'accepted', attempts: 1, bytesize: all.length, checksum: traceChecksum(all), traceError: null });
    const server = gl.job(job.id);
    expect(server.trace.equals(all)).toBe(true);
    expect(server.final).toMatchObject({ state: 'success', checksum: traceChecksum(all), bytesize: all.length });
    expect(server.status).toBe('success');
    expect(gl.requestsTo('patch').length).toBeGreaterThan(1);
  });

  it('sends patches of at most 1 MiB that never split a UTF-8 character', async () => {
    const job = await startJob();
    const up = uploader(job);
    const text = Buffer.from('€a'.repeat(900_000), 'utf8'); // 3.6 MB, 3-byte characters throughout
    for (let i = 0; i < text.length; i += 65_537) up.write(text.subarray(i, i + 65_537));
    const out = await up.finish(success);
    expect(out.status).toBe('accepted');
    const patches = gl.requestsTo('patch');
    expect(patches.length).toBeGreaterThanOrEqual(4);
    for (const p of patches) expect(p.bodyBytes).toBeLessThanOrEqual(MiB);
    expect(gl.job(job.id).utf8Violations).toBe(0);
    expect(gl.job(job.id).trace.equals(text)).toBe(true);
  });

  it('F8: survives 10 failed PATCHes and re-sends from the last acknowledged offset', async () => {
    const job = await startJob();
    const up = uploader(job);
    up.start();
    const data = randomBytes(300_000).toString('base64');
    up.write(Buffer.from(data.slice(0, 100_000)));
    await gl.waitFor(() => gl.job(job.id).traceSize === 100_000);
    gl.fault('patch', { status: 500, times: 10 });
    up.write(Buffer.from(data.slice(100_000)));
    await gl.waitFor(() => gl.faults.pending('patch') === 0, 10_000, 'the 500s');
    const out = await up.finish(success);
    expect(out.status).toBe('accepted');
    expect(gl.job(job.id).trace.toString()).toBe(data);
    expect(gl.job(job.id).final?.checksum).toBe(traceChecksum(Buffer.from(data)));
    const starts = gl.requestsTo('patch').map((r) => r.contentRange!.split('-')[0]);
    expect(starts.filter((s) => s === '100000').length).toBeGreaterThanOrEqual(10);
  });

  it('F9: a 202 that kept less than the patch (its Range is not read, as in gitlab-runner) and a 202 that kept nothing: each 416 rewinds, final log identical', async () => {
    const job = await startJob();
    const up = uploader(job);
    const data = Buffer.from(randomBytes(60_000).toString('hex'));
    up.write(data.subarray(0, 40_000));
    // The first patch is only partly kept (GitLab itself answers 416 then; a lesser server may not).
    gl.fault('patch', { partialAccept: 1000 });
    up.start();
    await gl.waitFor(() => gl.requestsTo('patch').length === 1);
    // The next patch starts at 40 000: the 416 says 0-1000 and the upload goes back there.
    up.write(data.subarray(40_000, 60_000));
    await gl.waitFor(() => gl.job(job.id).traceSize === 60_000);
    // Then GitLab claims a patch was taken (202) but keeps nothing: the next patch gets a 416.
    gl.fault('patch', { status: 202, headers: { Range: `0-${50_000}` } });
    up.write(data.subarray(60_000, 80_000));
    await gl.waitFor(() => gl.faults.pending('patch') === 0);
    up.write(data.subarray(80_000));
    const out = await up.finish(success);
    expect(out.status).toBe('accepted');
    expect(gl.job(job.id).trace.equals(data)).toBe(true);
    const patches = gl.requestsTo('patch');
    expect(patches.filter((r) => r.status === 416).length).toBeGreaterThanOrEqual(2);
    expect(patches.some((r) => r.contentRange?.startsWith('1000-'))).toBe(true);
    expect(patches.some((r) => r.contentRange?.startsWith('60000-') && r.status === 202)).toBe(true);
    expect(gl.requestsTo('update').filter((r) => r.status === 412)).toEqual([]);
  });

  it('412 on the final PUT: the whole trace is sent again from offset 0, then PUT again', async () => {
    const job = await startJob();
    const up = uploader(job);
    const data = Buffer.from('the job log\n'.repeat(1000));
    up.write(data);
    // GitLab lost its live trace chunks: it keeps a corrupt copy and rejects the checksum.
    up.start();
    await gl.waitFor(() => gl.job(job.id).traceSize === data.length);
    const server = gl.job(job.id);
    server.resetTrace();
    server.append(Buffer.from('corrupt'.padEnd(data.length, '!')));
    const out = await up.finish(success);
    expect(out).toMatchObject({ status: 'accepted', attempts: 2 });
    expect(server.traceResets).toBe(2); // ours + the server's own on the 412
    expect(server.trace.equals(data)).toBe(true);
    // The final PUTs (a keep-alive PUT with state running may come first on a slow machine).
    const finals = gl.requestsTo('update').filter((r) => (r.json as { state?: string }).state !== 'running');
    expect(finals.map((r) => r.status)).toEqual([412, 200]);
    const resent = gl.requestsTo('patch').filter((r) => r.at >= finals[0]!.at);
    expect(resent[0]!.contentRange).toMatch(/^0-/);
  });

  it('202 on the final PUT: waits the update interval and PUTs again', async () => {
    const job = await startJob();
    const up = uploader(job);
    up.write(Buffer.from('x'));
    gl.fault('update', { status: 202, times: 2 });
    const out = await up.finish({ state: 'failed', failureReason: 'script_failure', exitCode: 2 });
    expect(out).toMatchObject({ status: 'accepted', attempts: 3 });
    expect(gl.job(job.id).final).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 2 });
    expect(clock.sleeps.filter((ms) => ms === 3000).length).toBeGreaterThanOrEqual(2);
  });

  it('F10: other failures back off from 1 s (500s are first retried by the client)', async () => {
    const job = await startJob();
    const up = uploader(job);
    up.write(Buffer.from('x'));
    gl.fault('update', { status: 500, times: 3 }, { status: 400, times: 2 }, { status: 202, times: 2 });
    const out = await up.finish(success);
    expect(out).toMatchObject({ status: 'accepted', attempts: 5 });
    expect(clock.sleeps).toEqual(expect.arrayContaining([1000, 2000]));
    expect(gl.requestsTo('update').map((r) => r.status)).toEqual([500, 500, 500, 400, 400, 202, 202, 200]);
  });

  it('gives up after finalUpdateRetryLimit failures', async () => {
    const job = await startJob();
    const up = uploader(job, { finalUpdateRetryLimit: 3 });
    gl.fault('update', { status: 400, times: 10 });
    const out = await up.finish(success);
    expect(out).toMatchObject({ status: 'gave-up', attempts: 3 });
  });
});

describe('TraceUploader: remote job state', () => {
  it('F11: Job-Status canceling fires the cancel hook once; the job goes on and is reported', async () => {
    const job = await startJob();
    let cancels = 0;
    const up = uploader(job, { onCancelRequested: () => cancels++ });
    up.start();
    up.write(Buffer.from('running\n'));
    await gl.waitFor(() => gl.job(job.id).traceSize > 0);
    gl.setJobStatus(job.id, 'canceling');
    up.write(Buffer.from('more\n'));
    await gl.waitFor(() => up.cancelSignal.aborted, 5000, 'the cancel');
    up.write(Buffer.from('after_script output\n'));
    await clock.sleep(10_000);
    expect(cancels).toBe(1);
    expect(up.abortSignal.aborted).toBe(false);
    expect(up.cancelSignal.reason).toBeInstanceOf(JobFailure);
    const out = await up.finish({ state: 'canceled', failureReason: 'job_canceled', exitCode: null });
    expect(out.status).toBe('accepted');
    expect(gl.job(job.id).trace.toString()).toBe('running\nmore\nafter_script output\n');
    expect(gl.job(job.id).status).toBe('canceled');
  });

  it('F12: Job-Status canceled aborts (job_canceled)', async () => {
    const job = await startJob();
    const aborts: JobFailure[] = [];
    const up = uploader(job, { onAbort: (f) => aborts.push(f) });
    up.start();
    gl.setJobStatus(job.id, 'canceled');
    up.write(Buffer.from('output\n'));
    await gl.waitFor(() => up.abortSignal.aborted, 5000, 'the abort');
    expect(aborts).toHaveLength(1);
    expect(aborts[0]!.reason).toBe('job_canceled');
    expect((up.abortSignal.reason as JobFailure).reason).toBe('job_canceled');
    expect((await up.finish({ state: 'canceled', failureReason: 'job_canceled', exitCode: null })).status).toBe('aborted');
  });

  it('F12: a 403 on PATCH aborts', async () => {
    const job = await startJob();
    const up = uploader(job);
    up.start();
    gl.fault('patch', { status: 403 });
    up.write(Buffer.from('output\n'));
    await gl.waitFor(() => up.abortSignal.aborted, 5000, 'the abort');
    expect((up.abortSignal.reason as JobFailure).reason).toBe('runner_system_failure');
    expect((up.abortSignal.reason as Error).message).toContain('403');
  });

  it('a 404 during the run is tried again at the next interval', async () => {
    const job = await startJob();
    const up = uploader(job);
    gl.fault('patch', { status: 404, times: 2 });
    up.write(Buffer.from('abc'));
    up.start();
    await gl.waitFor(() => gl.job(job.id).traceSize === 3);
    expect(gl.requestsTo('patch').map((r) => r.status)).toEqual([404, 404, 202]);
    expect(up.abortSignal.aborted).toBe(false);
  });

  it('F7: a PATCH that never gets an answer times out, and the upload resumes', async () => {
    const job = await startJob();
    client.close();
    client = new GitLabClient({ clock, timeoutMs: 200 });
    const up = uploader(job);
    gl.fault('patch', { hang: true });
    up.write(Buffer.from('before and after the hang\n'));
    up.start();
    await gl.waitFor(() => gl.job(job.id).traceSize > 0, 5000, 'the upload to resume');
    expect(gl.requestsTo('patch').map((r) => r.status)).toEqual([-1, 202]);
    expect((await up.finish(success)).status).toBe('accepted');
    expect(gl.job(job.id).trace.toString()).toBe('before and after the hang\n');
  });

  it('keep-alive: PUT state=running with checksum and size when nothing was sent for 30 s', async () => {
    const job = await startJob();
    const up = uploader(job);
    up.write(Buffer.from('quiet job\n'));
    up.start();
    await gl.waitFor(() => gl.requestsTo('update').length >= 1, 5000, 'a keep-alive');
    const body = gl.requestsTo('update')[0]!.json as { state: string; output: { checksum: string; bytesize: number } };
    expect(body.state).toBe('running');
    expect(body.output).toEqual({ checksum: traceChecksum(Buffer.from('quiet job\n')), bytesize: 10 });
  });

  it('honours X-GitLab-Trace-Update-Interval, capped at 15 minutes', async () => {
    gl.options.traceUpdateIntervalSeconds = 7;
    const job = await startJob();
    const up = uploader(job);
    up.write(Buffer.from('a'));
    up.start();
    await gl.waitFor(() => clock.sleeps.includes(7000), 5000, 'a 7 s interval');
    gl.options.traceUpdateIntervalSeconds = 100_000;
    up.write(Buffer.from('b'));
    await gl.waitFor(() => gl.job(job.id).traceSize === 2);
    await gl.waitFor(() => clock.sleeps.includes(15 * 60_000), 5000, 'the 15 min cap');
  });
});

describe('TraceUploader: output limit and encoding', () => {
  it('B4: 20 MB of output → 4 MiB uploaded plus GitLab\'s notice, once', async () => {
    const job = await startJob();
    const up = uploader(job);
    up.start();
    const line = Buffer.from(`${'y'.repeat(63)}\n`);
    const chunk = Buffer.concat(Array.from({ length: 1024 }, () => line)); // 64 KiB
    for (let i = 0; i < 320; i++) up.write(chunk); // 20 MiB
    const out = await up.finish(success);
    const trace = gl.job(job.id).trace;
    const notice = Buffer.from(outputLimitNotice(4 * MiB));
    expect(trace.length).toBe(4 * MiB + notice.length);
    expect(trace.subarray(4 * MiB).equals(notice)).toBe(true);
    expect(trace.toString().split("Job's log exceeded limit").length - 1).toBe(1);
    expect(out).toMatchObject({ status: 'accepted', bytesize: trace.length, checksum: traceChecksum(trace) });
  });

  it.each([
    ['4 KiB', 4093],
    ['256 KiB', 256 * 1024],
  ])('B4: the buffer lives on disk: 100 MB in %s writes keeps RSS bounded', (_, size) => {
    const up = new TraceUploader({ api: client, job: { url: gl.url, id: 1, token: 'x' }, outputLimitKiB: 200 * 1024 });
    open.push(up);
    const chunk = Buffer.alloc(size, 'z');
    const writes = Math.ceil((100 * MiB) / size);
    const before = process.memoryUsage().rss;
    let peak = before;
    for (let i = 0; i < writes; i++) {
      up.write(chunk);
      if (i % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(up.bytesize).toBe(writes * size);
    expect(peak - before).toBeLessThan(24 * MiB);
  });

  it('B5: binary output becomes valid UTF-8 (U+FFFD); every patch passes the strict decoder; CRC matches', async () => {
    const job = await startJob();
    const up = uploader(job);
    up.start();
    const binary = randomBytes(MiB);
    for (let i = 0; i < binary.length; i += 4093) up.write(binary.subarray(i, i + 4093));
    up.write(Buffer.from('\nafter the binary\n'));
    const out = await up.finish(success);
    const trace = gl.job(job.id).trace;
    expect(gl.job(job.id).utf8Violations).toBe(0);
    expect(new TextDecoder('utf-8', { fatal: true }).decode(trace)).toContain('after the binary');
    expect(trace.toString()).toContain('\uFFFD');
    expect(out).toMatchObject({ status: 'accepted', checksum: traceChecksum(trace), bytesize: trace.length });
  });
});
