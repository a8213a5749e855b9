/**
 * The GitLab test server is strict where GitLab is (a lax double would hide runner bugs):
 * raw requests, not the client, so that malformed ones can be sent.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';

let gl: GitLabTestServer;

beforeEach(async () => {
  gl = await GitLabTestServer.start();
});

afterEach(async () => {
  await gl.close();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gl.url}/api/v4/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function runningJob(): Promise<{ id: number; token: string }> {
  const job = gl.enqueueJob({ image: 'berth-test/busybox:latest', script: ['true'] });
  const res = await post('jobs/request', { token: gl.runnerToken }, { 'RUNNER-TOKEN': gl.runnerToken });
  expect(res.status).toBe(201);
  const payload = (await res.json()) as { id: number; token: string; image: { name: string } };
  expect(payload.image.name).toBe('berth-test/busybox:latest');
  return { id: job.id, token: payload.token };
}

function patch(job: { id: number; token: string }, body: Buffer, range?: string): Promise<Response> {
  const headers: Record<string, string> = { 'JOB-TOKEN': job.token, 'Content-Type': 'text/plain' };
  if (range !== undefined) headers['Content-Range'] = range;
  return fetch(`${gl.url}/api/v4/jobs/${job.id}/trace?debug_trace=false`, { method: 'PATCH', headers, body });
}

describe('GitLabTestServer', () => {
  it('runner calls need RUNNER-TOKEN equal to the body token', async () => {
    expect((await post('jobs/request', { token: gl.runnerToken })).status).toBe(400);
    expect((await post('jobs/request', { token: gl.runnerToken }, { 'RUNNER-TOKEN': 'glrt-other' })).status).toBe(400);
    expect((await post('jobs/request', { token: 'glrt-other' }, { 'RUNNER-TOKEN': 'glrt-other' })).status).toBe(403);
  });

  it('POST runners/reset_authentication_token: 201 with a new token and token_expires_at; the old token gets 403', async () => {
    await gl.close();
    gl = await GitLabTestServer.start({ tokenExpiresInSeconds: 3600 });
    const old = gl.runnerToken;
    const before = Date.now();
    const res = await post('runners/reset_authentication_token', { token: old }, { 'RUNNER-TOKEN': old });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string; token_expires_at: string };
    expect(body.token).toMatch(/^glrt-/);
    expect(body.token).not.toBe(old);
    expect(Date.parse(body.token_expires_at) - before).toBeGreaterThanOrEqual(3_599_000);
    expect(Date.parse(body.token_expires_at) - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect((await post('jobs/request', { token: old }, { 'RUNNER-TOKEN': old })).status).toBe(403);
    expect((await post('runners/reset_authentication_token', { token: old }, { 'RUNNER-TOKEN': old })).status).toBe(403);
    expect((await post('jobs/request', { token: body.token }, { 'RUNNER-TOKEN': body.token })).status).toBe(204);
  });

  it('a paused runner gets 204 with X-GitLab-Last-Update', async () => {
    const r = gl.addRunner(undefined, { paused: true });
    gl.enqueueJob();
    const res = await post('jobs/request', { token: r.token }, { 'RUNNER-TOKEN': r.token });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-gitlab-last-update')).toBe(r.queueValue);
  });

  it('PATCH: 400 without or with a malformed Content-Range, 416 with Range on a wrong start', async () => {
    const job = await runningJob();
    expect((await patch(job, Buffer.from('abc'))).status).toBe(400);
    expect((await patch(job, Buffer.from('abc'), 'bytes 0-2')).status).toBe(400);
    expect((await patch(job, Buffer.from('abc'), '0-3')).status).toBe(400); // end is inclusive
    expect((await patch(job, Buffer.from('abc'), '0-2')).status).toBe(202);
    const res = await patch(job, Buffer.from('def'), '1-3');
    expect(res.status).toBe(416);
    expect(res.headers.get('range')).toBe('0-3');
  });

  it('PATCH: invalid UTF-8 is rejected; a character split between patches is not', async () => {
    const job = await runningJob();
    const euro = Buffer.from('€');
    expect((await patch(job, euro.subarray(0, 2), '0-1')).status).toBe(202);
    expect((await patch(job, euro.subarray(2), '2-2')).status).toBe(202);
    expect((await patch(job, Buffer.from([0xff]), '3-3')).status).toBe(400);
    expect(gl.job(job.id).utf8Violations).toBe(1);
    expect(gl.job(job.id).trace.toString()).toBe('€');
  });

  it('job calls need the job\'s JOB-TOKEN; a finished job answers 403 with its Job-Status', async () => {
    const job = await runningJob();
    expect((await patch({ ...job, token: 'glcbt-wrong' }, Buffer.from('a'), '0-0')).status).toBe(403);
    const put = (body: unknown): Promise<Response> =>
      fetch(`${gl.url}/api/v4/jobs/${job.id}`, { method: 'PUT', headers: { 'JOB-TOKEN': job.token, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put({ token: job.token, state: 'success' })).status).toBe(200);
    const res = await patch(job, Buffer.from('a'), '0-0');
    expect(res.status).toBe(403);
    expect(res.headers.get('job-status')).toBe('success');
  });

  it('records every request with a timestamp; a hang fault never answers until close', async () => {
    gl.fault('request', { hang: true });
    const pending = post('jobs/request', { token: gl.runnerToken }, { 'RUNNER-TOKEN': gl.runnerToken }).catch((e: unknown) => e);
    await gl.waitFor(() => gl.requestsTo('request').length === 1);
    const [rec] = gl.requestsTo('request');
    expect(rec!.at).toBeGreaterThan(Date.now() - 10_000);
    expect(rec!.status).toBe(-1);
    await gl.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});
