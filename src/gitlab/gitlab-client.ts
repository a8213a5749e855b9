/**
 * GitLabClient: GitLab's runner API (gitlab-runner network/gitlab.go), for `register`,
 * `verify`, `unregister` (RunnerRegistrationApi) and for `berth run`:
 *
 *   requestJob(runner, opts)              POST jobs/request  → RequestJobResult (never throws)
 *   updateJob(job, update)                PUT jobs/:id       → UpdateJobResult  (never throws)
 *   patchTrace(job, bytes, offset)        PATCH jobs/:id/trace → PatchTraceResult (never throws)
 *   resetToken(url, token)                POST runners/reset_authentication_token
 *   artifactsApi(opts)                    POST/GET jobs/:id/artifacts on the same transport
 *
 * Transport rules (gitlab-runner network/client.go, network/gitlab.go): base URL `<url without trailing / and /ci>/api/v4/`; every
 * request carries `User-Agent` and `X-Request-Id`; runner calls send `RUNNER-TOKEN` and the
 * same `token` in the body; job calls send `JOB-TOKEN`. A body is decoded only for the
 * expected status with a JSON content type. Statuses 408/429/500/502/503/504/>=512 are retried
 * (5 attempts, RateLimit-ResetTime, Retry-After, else backoff); transport errors are not.
 * `X-GitLab-Last-Update` is kept per runner token and resent as `last_update`.
 *
 * Tokens never appear in a log line or an error message: the runner is named by its short
 * token, a job by its id.
 */
import { mapFailureReason } from '../job/job-result.js';
import { errorMessage } from '../shared/errors.js';
import { type ApiCall, ApiCaller, type ApiCallerOptions, decodeJson, describeStatus } from './api-caller.js';
import { ArtifactsApi, type ArtifactsApiOptions } from './artifacts-api.js';
import { GitLabApiError, isJson } from './gitlab-api-error.js';
import { header, type HttpResponse } from './http-transport.js';
import { classifyPatch, classifyUpdate, type JobRef, type JobResultsApi, type JobUpdate, type PatchTraceResult, type RequestJobResult, type UpdateJobResult } from './job-api.js';
import { JobPayloadError, jobSpecFromWire, readJobPayload } from './job-payload.js';
import type { RegisterRunnerRequest, RunnerCredentials, RunnerInfo, RunnerRegistrationApi } from './runner-registration-api.js';
import { defaultRunnerInfo, type RunnerInfoExtras, toWireRunnerInfo } from './runner-features.js';
import { shortToken } from './short-token.js';
import { registerResponseSchema, resetTokenResponseSchema, type WireJobRequestBody, type WireRegisterRunnerBody, type WireUpdateJobBody } from './wire-types.js';

export interface GitLabClientOptions extends ApiCallerOptions {
  /** Sent in `info` of PUT jobs/:id; default defaultRunnerInfo('dev'). */
  info?: RunnerInfo;
}

export interface RequestJobOptions {
  systemId: string;
  info: RunnerInfo;
  extras?: RunnerInfoExtras;
  signal?: AbortSignal;
  /** Long polls last up to 50 s at Workhorse; leave room above that. */
  timeoutMs?: number;
}

export class GitLabClient implements RunnerRegistrationApi, JobResultsApi {
  private readonly api: ApiCaller;
  private readonly info: RunnerInfo;
  /** Last `X-GitLab-Last-Update` per runner (url + token). */
  private readonly lastUpdate = new Map<string, string>();

  constructor(opts: GitLabClientOptions = {}) {
    this.api = new ApiCaller(opts);
    this.info = opts.info ?? defaultRunnerInfo('dev');
  }

  /** Closes pooled connections (the client is unusable afterwards). */
  close(): void {
    this.api.close();
  }

  /** Job artifacts (upload, dependencies' download) over this client's connections. */
  artifactsApi(opts: ArtifactsApiOptions = {}): ArtifactsApi {
    return new ArtifactsApi(this.api, opts);
  }

  private runnerCall(call: ApiCall, token: string): Promise<HttpResponse> {
    return this.api.call({ ...call, headers: { ...call.headers, 'RUNNER-TOKEN': token } });
  }

  // ------------------------------------------------------------------ registration

  async registerRunner(url: string, req: RegisterRunnerRequest): Promise<RunnerCredentials> {
    const body: WireRegisterRunnerBody = {
      token: req.registrationToken,
      run_untagged: req.runUntagged,
      locked: req.locked,
      paused: req.paused,
      info: toWireRunnerInfo(req.info),
    };
    if (req.description) body.description = req.description;
    if (req.maintenanceNote) body.maintenance_note = req.maintenanceNote;
    if (req.tagList.length) body.tag_list = req.tagList.join(',');
    if (req.accessLevel) body.access_level = req.accessLevel;
    if (req.maximumTimeout > 0) body.maximum_timeout = req.maximumTimeout;
    const what = 'Registering runner';
    const res = await this.runnerCall({ method: 'POST', url, path: 'runners', json: body, expectBody: true, what }, req.registrationToken);
    if (res.status === 201) {
      const r = decodeJson(res, registerResponseSchema, what, url);
      return { id: r.id, token: r.token, tokenExpiresAt: r.token_expires_at };
    }
    if (res.status === 403) throw new GitLabApiError(`${what}... forbidden (check registration token)`, res, url);
    throw new GitLabApiError(`${what}... failed${describeStatus(res)}`, res, url);
  }

  async verifyRunner(url: string, token: string, systemId: string, info: RunnerInfo): Promise<RunnerCredentials> {
    const what = `Verifying runner ${shortToken(token)}`;
    const body = { token, system_id: systemId, info: toWireRunnerInfo(info) };
    const res = await this.runnerCall({ method: 'POST', url, path: 'runners/verify', json: body, expectBody: true, what }, token);
    if (res.status === 200) {
      // Older GitLab answers the plain body "200".
      if (!isJson(res)) return { id: 0, token, tokenExpiresAt: '' };
      const r = decodeJson(res, registerResponseSchema, what, url);
      return { id: r.id, token: r.token || token, tokenExpiresAt: r.token_expires_at };
    }
    if (res.status === 403) {
      const why = token.startsWith('glrt-') ? 'is not valid' : 'is removed';
      throw new GitLabApiError(`${what}... ${why} (GitLab answered 403 Forbidden). Check the token or register the runner again`, res, url);
    }
    throw new GitLabApiError(`${what}... failed${describeStatus(res)}`, res, url);
  }

  async unregisterRunner(url: string, token: string): Promise<void> {
    const what = `Unregistering runner ${shortToken(token)}`;
    const res = await this.runnerCall({ method: 'DELETE', url, path: 'runners', json: { token }, what }, token);
    if (res.status !== 204) throw new GitLabApiError(`${what}... ${res.status === 403 ? 'forbidden' : 'failed'}${describeStatus(res)}`, res, url);
  }

  async unregisterRunnerManager(url: string, token: string, systemId: string): Promise<void> {
    const what = `Unregistering runner manager ${shortToken(token)} (${systemId})`;
    const res = await this.runnerCall({ method: 'DELETE', url, path: 'runners/managers', json: { token, system_id: systemId }, what }, token);
    if (res.status !== 204) throw new GitLabApiError(`${what}... ${res.status === 403 ? 'forbidden' : 'failed'}${describeStatus(res)}`, res, url);
  }

  /** POST runners/reset_authentication_token: a new token for the runner. */
  async resetToken(url: string, token: string): Promise<{ token: string; tokenExpiresAt: string }> {
    const what = `Resetting runner authentication token of ${shortToken(token)}`;
    const res = await this.runnerCall({ method: 'POST', url, path: 'runners/reset_authentication_token', json: { token }, expectBody: true, what }, token);
    if (res.status !== 201) throw new GitLabApiError(`${what}... ${res.status === 403 ? 'failed (check used token)' : 'failed'}${describeStatus(res)}`, res, url);
    const r = decodeJson(res, resetTokenResponseSchema, what, url);
    return { token: r.token, tokenExpiresAt: r.token_expires_at };
  }

  // ------------------------------------------------------------------ jobs

  async requestJob(runner: { url: string; token: string }, opts: RequestJobOptions): Promise<RequestJobResult> {
    const key = `${runner.url}\n${runner.token}`;
    const body: WireJobRequestBody = { info: toWireRunnerInfo(opts.info, opts.extras), token: runner.token, system_id: opts.systemId };
    const last = this.lastUpdate.get(key);
    if (last) body.last_update = last;
    const what = `Checking for jobs (runner ${shortToken(runner.token)})`;
    let res: HttpResponse;
    try {
      res = await this.runnerCall(
        { method: 'POST', url: runner.url, path: 'jobs/request', json: body, expectBody: true, what, ...withSignal(opts) },
        runner.token,
      );
    } catch (err) {
      return { kind: 'failed', status: -1, message: errorMessage(err), healthy: false };
    }
    const next = header(res.headers, 'x-gitlab-last-update');
    if (next) this.lastUpdate.set(key, next);
    switch (res.status) {
      case 201:
        return jobFromResponse(res);
      case 204:
        return { kind: 'no-job', healthy: true };
      case 403:
        return { kind: 'forbidden', healthy: false };
      case 409:
        return { kind: 'conflict', healthy: true };
      case 503:
        return { kind: 'unavailable', healthy: true };
      default:
        return { kind: 'failed', status: res.status, message: `${what}... failed${describeStatus(res)}`, healthy: true };
    }
  }

  async updateJob(job: JobRef, update: JobUpdate, signal?: AbortSignal): Promise<UpdateJobResult> {
    const body: WireUpdateJobBody = {
      info: toWireRunnerInfo(this.info),
      token: job.token,
      state: update.state,
      output: {},
    };
    if (update.state === 'failed') {
      body.failure_reason = mapFailureReason(update.failureReason ?? 'script_failure', update.supportedFailureReasons ?? []);
    }
    if (update.output.checksum) {
      body.checksum = update.output.checksum;
      body.output.checksum = update.output.checksum;
    }
    if (update.output.bytesize) body.output.bytesize = update.output.bytesize;
    if (update.exitCode) body.exit_code = update.exitCode;
    const what = `Updating job ${job.id} (${update.state})`;
    try {
      const res = await this.api.call({
        method: 'PUT',
        url: job.url,
        path: `jobs/${job.id}`,
        headers: { 'JOB-TOKEN': job.token },
        json: body,
        what,
        ...(signal ? { signal } : {}),
      });
      return classifyUpdate(res);
    } catch (err) {
      return { status: -1, outcome: 'failed', jobStatus: null, updateIntervalSeconds: null, cancelRequested: false, message: errorMessage(err) };
    }
  }

  async patchTrace(job: JobRef, content: Buffer, startOffset: number, opts: { debugTrace?: boolean; signal?: AbortSignal } = {}): Promise<PatchTraceResult> {
    const endOffset = startOffset + content.length;
    if (content.length === 0) {
      return { status: 0, outcome: 'succeeded', newOffset: startOffset, rangeEnd: null, jobStatus: null, updateIntervalSeconds: null, cancelRequested: false };
    }
    const what = `Appending trace of job ${job.id} (${startOffset}-${endOffset - 1})`;
    try {
      const res = await this.api.call({
        method: 'PATCH',
        url: job.url,
        path: `jobs/${job.id}/trace?debug_trace=${opts.debugTrace ? 'true' : 'false'}`,
        headers: { 'JOB-TOKEN': job.token, 'Content-Range': `${startOffset}-${endOffset - 1}` },
        body: content,
        contentType: 'text/plain',
        what,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      return classifyPatch(res, startOffset, endOffset);
    } catch (err) {
      return { status: -1, outcome: 'failed', newOffset: startOffset, rangeEnd: null, jobStatus: null, updateIntervalSeconds: null, cancelRequested: false, message: errorMessage(err) };
    }
  }
}

function jobFromResponse(res: HttpResponse): RequestJobResult {
  if (!isJson(res)) {
    const error = new JobPayloadError(`GitLab assigned a job but answered with content type "${res.headers['content-type'] ?? ''}" instead of JSON`, null);
    return { kind: 'invalid-job', error, healthy: true };
  }
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch {
    // JSON.parse messages quote the text around the error, which may be the job token or a
    // masked variable: neither the message nor the error itself is passed on.
    const error = new JobPayloadError(`The job payload from GitLab is not valid JSON (${res.body.length} bytes; content not shown)`, null);
    return { kind: 'invalid-job', error, healthy: true };
  }
  try {
    const payload = readJobPayload(json);
    return { kind: 'job', job: jobSpecFromWire(payload), payload, healthy: true };
  } catch (err) {
    if (err instanceof JobPayloadError) return { kind: 'invalid-job', error: err, healthy: true };
    throw err;
  }
}

function withSignal(o: { signal?: AbortSignal; timeoutMs?: number }): { signal?: AbortSignal; timeoutMs?: number } {
  return { ...(o.signal ? { signal: o.signal } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) };
}
