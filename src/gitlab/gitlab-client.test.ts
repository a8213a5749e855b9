/** GitLabClient against the GitLab test server, over real HTTP on loopback. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';
import { InstantClock } from '../../test/support/gitlab-test-server-clock.js';
import { GitLabClient } from './gitlab-client.js';
import { GitLabApiError } from './gitlab-api-error.js';
import { defaultRunnerInfo, BERTH_FEATURES } from './runner-features.js';
import type { RequestJobResult } from './job-api.js';

const info = defaultRunnerInfo('1.2.3', 'abcdef');
let gl: GitLabTestServer;
let clock: InstantClock;
let logLines: string[];
let client: GitLabClient;

function newClient(extra: ConstructorParameters<typeof GitLabClient>[0] = {}): GitLabClient {
  const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => logLines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  return new GitLabClient({ clock, random: () => 0.5, log: { debug: record('debug'), warn: record('warn') }, info, ...extra });
}

beforeEach(async () => {
  gl = await GitLabTestServer.start();
  clock = new InstantClock();
  logLines = [];
  client = newClient();
});

afterEach(async () => {
  client.close();
  await gl.close();
  // No token ever reaches a log line.
  for (const line of logLines) {
    expect(line).not.toContain(gl.runnerToken);
    for (const j of gl.jobs()) expect(line).not.toContain(j.token);
  }
});

const runner = (): { url: string; token: string } => ({ url: gl.url, token: gl.runnerToken });
const request = (): Promise<RequestJobResult> => client.requestJob(runner(), { systemId: 's_0123456789ab', info });

describe('requestJob', () => {
  it('201: returns the JobSpec of the queued payload', async () => {
    const queued = gl.enqueueJob({ script: ['echo hi'] });
    const r = await request();
    expect(r.kind).toBe('job');
    if (r.kind !== 'job') return;
    expect(r.job.id).toBe(queued.id);
    expect(r.job.token).toBe(queued.token);
    expect(r.job.steps[0]!.script).toEqual(['echo hi']);
    expect(r.payload.dependencies[0]?.name).toBe('other-job');
    expect(queued.status).toBe('running');
  });

  it('sends the documented body and headers, every feature boolean included', async () => {
    await request();
    const [req] = gl.requestsTo('request');
    const body = req!.json as { token: string; system_id: string; info: Record<string, unknown> & { features: Record<string, unknown> } };
    expect(body.token).toBe(gl.runnerToken);
    expect(req!.headers['runner-token']).toBe(gl.runnerToken);
    expect(body.system_id).toBe('s_0123456789ab');
    expect(body.info).toMatchObject({ name: 'berth', version: '1.2.3', revision: 'abcdef', executor: 'docker', shell: 'bash', config: { gpus: '' } });
    expect(Object.keys(body.info.features).sort()).toEqual(Object.keys(BERTH_FEATURES).sort());
    expect(Object.keys(body.info.features)).toHaveLength(31);
    for (const v of Object.values(body.info.features)) expect(typeof v).toBe('boolean');
    expect(body).not.toHaveProperty('last_update');
    expect(req!.headers['user-agent']).toMatch(/^berth /);
    expect(req!.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers.accept).toBe('application/json');
  });

  it('204: keeps X-GitLab-Last-Update per token and resends it', async () => {
    expect((await request()).kind).toBe('no-job');
    const first = gl.runner(gl.runnerToken)!.queueValue;
    expect((await request()).kind).toBe('no-job');
    const [, second] = gl.requestsTo('request');
    expect((second!.json as { last_update?: string }).last_update).toBe(first);
    // A new job changes the queue value: the cached last_update no longer short-cuts.
    const queued = gl.enqueueJob();
    const r = await request();
    expect(r.kind === 'job' && r.job.id).toBe(queued.id);
    // Another runner has its own last_update.
    const other = gl.addRunner();
    await client.requestJob({ url: gl.url, token: other.token }, { systemId: 's_0123456789ab', info });
    expect(gl.requestsTo('request').at(-1)!.json).not.toHaveProperty('last_update');
  });

  it('403: forbidden and unhealthy', async () => {
    const r = await client.requestJob({ url: gl.url, token: 'glrt-not-a-runner-token' }, { systemId: 's_x', info });
    expect(r).toEqual({ kind: 'forbidden', healthy: false });
  });

  it('409: conflict, healthy, not retried', async () => {
    gl.fault('request', { status: 409 });
    expect(await request()).toEqual({ kind: 'conflict', healthy: true });
    expect(gl.requestsTo('request')).toHaveLength(1);
  });

  it('503 five times: unavailable, healthy, after 5 attempts', async () => {
    gl.fault('request', { status: 503, times: 5 });
    expect(await request()).toEqual({ kind: 'unavailable', healthy: true });
    expect(gl.requestsTo('request')).toHaveLength(5);
  });

  it('201 with a payload that cannot run: invalid-job with id and token', async () => {
    const queued = gl.enqueueJob({ overrides: { steps: 'not-a-list' } });
    const r = await request();
    expect(r.kind).toBe('invalid-job');
    if (r.kind !== 'invalid-job') return;
    expect(r.error.jobId).toBe(queued.id);
    expect(r.error.jobToken).toBe(queued.token);
  });

  it('201 that is not JSON: invalid-job without id', async () => {
    gl.fault('request', { status: 201, body: '{"id": 1, "tok', headers: { 'Content-Type': 'application/json' } });
    const r = await request();
    expect(r.kind === 'invalid-job' && r.error.jobId).toBeNull();
  });

  it('201 whose JSON breaks next to a secret: the error quotes none of the body (JSON.parse quotes the text around the error)', async () => {
    const bodies = [
      '{"id":7,"token":glcbt-64_SECRETJOBTOKEN,"steps":[]}',
      '{"id":7,"token":"t","variables":[{"key":"PASS","masked":true,"value":hunter2hunter2}]}',
    ];
    for (const body of bodies) {
      gl.fault('request', { status: 201, body, headers: { 'Content-Type': 'application/json' } });
      const r = await request();
      expect(r.kind).toBe('invalid-job');
      if (r.kind !== 'invalid-job') return;
      expect(r.error.message).toBe(`The job payload from GitLab is not valid JSON (${body.length} bytes; content not shown)`);
      expect(r.error.cause).toBeUndefined();
    }
    // What JSON.parse itself says of them: the reason for not passing it on.
    expect(() => {
      JSON.parse(bodies[0]!);
    }).toThrow(/glcbt-64_S/);
    expect(() => {
      JSON.parse(bodies[1]!);
    }).toThrow(/hunter2/);
  });

  it('F5: 500 five times → 5 attempts with 100 ms → 60 s backoff, then polling resumes', async () => {
    gl.fault('request', { status: 500, times: 5 });
    const r = await request();
    expect(r).toMatchObject({ kind: 'failed', status: 500, healthy: true });
    expect(gl.requestsTo('request')).toHaveLength(5);
    expect(clock.sleeps).toEqual([100, 150, 250, 450]); // random 0.5: 100 + (ceiling - 100) / 2
    expect((await request()).kind).toBe('no-job');
  });

  it('F5: 502 and 504 are retried; 501 is not', async () => {
    gl.fault('request', { status: 502 }, { status: 504 });
    expect((await request()).kind).toBe('no-job');
    expect(gl.requestsTo('request')).toHaveLength(3);
    gl.fault('request', { status: 501 });
    expect(await request()).toMatchObject({ kind: 'failed', status: 501 });
    expect(gl.requestsTo('request')).toHaveLength(4);
  });

  it('F6: 429 waits Retry-After, or until RateLimit-ResetTime', async () => {
    gl.fault('request', { status: 429, headers: { 'Retry-After': '3' } });
    expect((await request()).kind).toBe('no-job');
    expect(clock.sleeps).toEqual([3000]);
    const reset = new Date(clock.now() + 5000).toUTCString();
    gl.fault('request', { status: 429, headers: { 'RateLimit-ResetTime': reset, 'Retry-After': '3' } });
    expect((await request()).kind).toBe('no-job');
    expect(clock.sleeps[1]).toBeGreaterThan(4000);
    expect(clock.sleeps[1]).toBeLessThanOrEqual(5000);
  });

  it('transport errors are not retried and count as unhealthy', async () => {
    const url = gl.url;
    await gl.close();
    const r = await client.requestJob({ url, token: 'glrt-whatever' }, { systemId: 's_x', info });
    expect(r).toMatchObject({ kind: 'failed', status: -1, healthy: false });
    expect(clock.sleeps).toEqual([]);
  });

  it('F7: a server that never answers hits the request timeout', async () => {
    gl.fault('request', { hang: true });
    const started = Date.now();
    const r = await client.requestJob(runner(), { systemId: 's_x', info, timeoutMs: 300 });
    expect(r).toMatchObject({ kind: 'failed', status: -1 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await request()).kind).toBe('no-job');
  });

  it('accepts base URLs with a trailing slash or /ci', async () => {
    for (const url of [`${gl.url}/`, `${gl.url}/ci`, `${gl.url}/ci/`]) {
      expect((await client.requestJob({ url, token: gl.runnerToken }, { systemId: 's_x', info })).kind).toBe('no-job');
    }
  });
});

describe('long polling (Workhorse)', () => {
  it('holds a request whose last_update is current, and answers 204 when the queue changes', async () => {
    await gl.close();
    gl = await GitLabTestServer.start({ longPollMs: 5_000 });
    expect((await request()).kind).toBe('no-job'); // learns last_update
    const held = request();
    await gl.waitFor(() => gl.requestsTo('request').length === 2);
    gl.enqueueJob();
    expect((await held).kind).toBe('no-job'); // the change is seen during the watch: 204
    expect((await request()).kind).toBe('job'); // already changed: proxied to Rails
  });
});

describe('registration API', () => {
  it('verify: JSON, or the legacy plain "200"', async () => {
    const creds = await client.verifyRunner(gl.url, gl.runnerToken, 's_0123456789ab', info);
    expect(creds).toEqual({ id: 1, token: gl.runnerToken, tokenExpiresAt: '' });
    expect(gl.runner(gl.runnerToken)!.systemIds.has('s_0123456789ab')).toBe(true);
    gl.options.legacyVerify = true;
    expect(await client.verifyRunner(gl.url, gl.runnerToken, 's_0123456789ab', info)).toEqual({ id: 0, token: gl.runnerToken, tokenExpiresAt: '' });
  });

  it('verify 403: an error that names the short token, never the token', async () => {
    const token = 'glrt-abcdefghijSECRETSECRET';
    const err = await client.verifyRunner(gl.url, token, 's_x', info).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitLabApiError);
    expect((err as GitLabApiError).status).toBe(403);
    expect((err as Error).message).toContain('abcdefghi');
    expect((err as Error).message).toContain('is not valid');
    expect((err as Error).message).not.toContain(token);
  });

  it('register (legacy token), reset token, unregister manager and runner', async () => {
    const reg = {
      registrationToken: gl.options.registrationToken,
      description: 'berth test',
      maintenanceNote: '',
      tagList: ['a', 'b'],
      runUntagged: false,
      locked: true,
      accessLevel: '' as const,
      maximumTimeout: 0,
      paused: false,
      info,
    };
    const creds = await client.registerRunner(gl.url, reg);
    expect(creds.id).toBeGreaterThan(0);
    expect(creds.token).toMatch(/^glrt-/);
    expect(gl.requestsTo('register')[0]!.json).toMatchObject({ token: reg.registrationToken, tag_list: 'a,b', locked: true, run_untagged: false, paused: false });
    await expect(client.registerRunner(gl.url, { ...reg, registrationToken: 'wrong' })).rejects.toThrow(/forbidden \(check registration token\)/);

    const reset = await client.resetToken(gl.url, creds.token);
    expect(reset.token).not.toBe(creds.token);
    await expect(client.verifyRunner(gl.url, creds.token, 's_x', info)).rejects.toThrow(GitLabApiError);

    await client.verifyRunner(gl.url, reset.token, 's_aaaaaaaaaaaa', info);
    await client.unregisterRunnerManager(gl.url, reset.token, 's_aaaaaaaaaaaa');
    expect(gl.runner(reset.token)!.systemIds.size).toBe(0);
    await client.unregisterRunner(gl.url, reset.token);
    expect(gl.runner(reset.token)).toBeUndefined();
    await expect(client.unregisterRunner(gl.url, reset.token)).rejects.toThrow(/forbidden/);
  });
});

describe('updateJob and patchTrace', () => {
  async function runningJob(): Promise<{ url: string; id: number; token: string }> {
    const queued = gl.enqueueJob();
    const r = await request();
    if (r.kind !== 'job') throw new Error('no job');
    return { url: gl.url, id: r.job.id, token: queued.token };
  }

  it('PATCH: inclusive Content-Range, 202 with Range, Job-Status and the update interval', async () => {
    gl.options.traceUpdateIntervalSeconds = 7;
    const job = await runningJob();
    const r1 = await client.patchTrace(job, Buffer.from('a'), 0);
    expect(r1).toMatchObject({ status: 202, outcome: 'succeeded', newOffset: 1, rangeEnd: 1, jobStatus: 'running', updateIntervalSeconds: 7 });
    expect(gl.requestsTo('patch')[0]!.contentRange).toBe('0-0');
    const r2 = await client.patchTrace(job, Buffer.from('bcd'), 1);
    expect(r2.newOffset).toBe(4);
    expect(gl.requestsTo('patch')[1]!.contentRange).toBe('1-3');
    expect(gl.requestsTo('patch')[1]!.query).toBe('?debug_trace=false');
    expect(gl.requestsTo('patch')[1]!.headers['content-type']).toBe('text/plain');
    expect(gl.job(job.id).trace.toString()).toBe('abcd');
  });

  it('PATCH: 416 returns the server offset; 403 (bad token, unknown job) aborts; 404 is not-found; nothing is sent for an empty patch', async () => {
    const job = await runningJob();
    await client.patchTrace(job, Buffer.from('0123456789'), 0);
    expect(await client.patchTrace(job, Buffer.from('xyz'), 4)).toMatchObject({ status: 416, outcome: 'range-mismatch', newOffset: 10 });
    expect(await client.patchTrace({ ...job, token: 'glcbt-wrong' }, Buffer.from('x'), 10)).toMatchObject({ status: 403, outcome: 'abort' });
    expect(await client.patchTrace({ ...job, id: 99999 }, Buffer.from('x'), 0)).toMatchObject({ status: 403, outcome: 'abort' });
    gl.fault('patch', { status: 404 });
    expect(await client.patchTrace(job, Buffer.from('x'), 10)).toMatchObject({ status: 404, outcome: 'not-found', newOffset: 10 });
    const before = gl.requestsTo('patch').length;
    expect(await client.patchTrace(job, Buffer.alloc(0), 10)).toMatchObject({ outcome: 'succeeded', newOffset: 10 });
    expect(gl.requestsTo('patch')).toHaveLength(before);
  });

  it('PATCH: Job-Status canceling asks for a cancel, canceled aborts', async () => {
    const job = await runningJob();
    gl.setJobStatus(job.id, 'canceling');
    expect(await client.patchTrace(job, Buffer.from('a'), 0)).toMatchObject({ outcome: 'succeeded', cancelRequested: true, jobStatus: 'canceling' });
    gl.setJobStatus(job.id, 'canceled');
    expect(await client.patchTrace(job, Buffer.from('b'), 1)).toMatchObject({ status: 403, outcome: 'abort', jobStatus: 'canceled' });
  });

  it('PUT: state, mapped failure_reason, exit_code, output; 200 ends the job', async () => {
    const job = await runningJob();
    await client.patchTrace(job, Buffer.from('log'), 0);
    const checksum = gl.job(job.id).checksum();
    const r = await client.updateJob(job, {
      state: 'failed',
      failureReason: 'image_pull_failure',
      supportedFailureReasons: ['script_failure'],
      exitCode: 3,
      output: { checksum, bytesize: 3 },
    });
    expect(r).toMatchObject({ status: 200, outcome: 'succeeded' });
    const [put] = gl.requestsTo('update');
    expect(put!.headers['job-token']).toBe(job.token);
    expect(put!.json).toMatchObject({ token: job.token, state: 'failed', failure_reason: 'runner_system_failure', exit_code: 3, checksum, output: { checksum, bytesize: 3 } });
    expect(gl.job(job.id).final).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure', exitCode: 3 });
    // The job no longer runs: GitLab answers 403 with its status.
    expect(await client.updateJob(job, { state: 'running', output: { checksum, bytesize: 3 } })).toMatchObject({ status: 403, outcome: 'abort', jobStatus: 'failed' });
  });

  it('PUT: 412 on a checksum mismatch, 202 accepted, and an empty reason becomes script_failure', async () => {
    const job = await runningJob();
    await client.patchTrace(job, Buffer.from('log'), 0);
    expect(await client.updateJob(job, { state: 'success', output: { checksum: 'crc32:00000000', bytesize: 3 } })).toMatchObject({
      status: 412,
      outcome: 'trace-validation-failed',
    });
    gl.fault('update', { status: 202 });
    const out = { checksum: gl.job(job.id).checksum(), bytesize: 0 };
    expect(await client.updateJob(job, { state: 'failed', output: out })).toMatchObject({ status: 202, outcome: 'accepted' });
    expect(gl.requestsTo('update').at(-1)!.json).toMatchObject({ failure_reason: 'script_failure' });
    expect(gl.requestsTo('update').at(-1)!.json).not.toHaveProperty('exit_code');
  });
});
