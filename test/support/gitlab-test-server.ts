/**
 * GitLabTestServer: GitLab's runner API, in process, on 127.0.0.1:<random port>, written to
 * GitLab's documented contract (GitLab's runner API docs; GL lib/api/ci/runner.rb,
 * Ci::AppendBuildTraceService, Ci::UpdateBuildStateService) and fed with real payloads
 * (gitlab-test-server-fixtures.ts). For contract tests of the client and the trace uploader,
 * and for end-to-end tests that start `berth run --url <server.url>`.
 *
 *   const gl = await GitLabTestServer.start();
 *   const job = gl.enqueueJob({ image: 'berth-test/busybox:latest', script: ['echo hi'],
 *                               overrides: { services: [] } });  // the modern fixture, fresh id/token
 *   ... run berth against gl.url with gl.runnerToken ...
 *   await gl.waitFor(() => job.final !== null);
 *   job.trace; job.final; gl.requests;                     // reassembled trace, final PUT, request log
 *   await gl.close();
 *
 * Endpoints: POST /runners, POST /runners/verify (JSON, or the legacy plain "200"), DELETE
 * /runners, DELETE /runners/managers, POST /runners/reset_authentication_token (201
 * `{token, token_expires_at}`, `tokenExpiresInSeconds`; the old token then gets 403), POST
 * /jobs/request (201/204, `X-GitLab-Last-Update`, optional Workhorse long poll), PUT /jobs/:id
 * (200, 412 on a checksum or size mismatch, `Job-Status`, `X-GitLab-Trace-Update-Interval`),
 * PATCH /jobs/:id/trace (strict `Content-Range: <start>-<end inclusive>`, 400 without it,
 * 416 with `Range: 0-<size>` when start != size, strict UTF-8, 202 with `Range`, `Job-Status`
 * and the interval). Runner calls must send `RUNNER-TOKEN` equal to the body `token`; job
 * calls `JOB-TOKEN` of that job (403 otherwise; 403 with `Job-Status` once the job is no
 * longer running; an unknown job is a 403 too, as in GitLab). Faults: `gl.fault('patch', { status: 500, times: 10 }, { partialAccept: 3 })`;
 * `{ drop: true }` destroys the connection unanswered (a dropped connection).
 *
 * Artifacts (gitlab-test-server-artifacts.ts): POST /jobs/:id/artifacts (one multipart field
 * `file`, streamed to disk, recorded in `job.artifacts`; `maxArtifactSize` → 413; a second
 * artifact of a type → 400 unless identical; dotenv reports parsed into `job.dotenv` or 400),
 * GET /jobs/:id/artifacts (token of that job or of a running dependent job; 404 without an
 * archive; `direct_download=true` → 302 to GET /object-storage/<key>, which needs no token).
 * `enqueueJob({ dependencies: [jobA] })` fills `dependencies[]` (artifacts_file only with an
 * archive) and appends jobA's dotenv variables after the others. Faults on 'upload-artifacts',
 * 'download-artifacts', 'object-storage': `{ status }`, `{ truncate: N }`, `{ corrupt: true }`.
 * Downloads answer Range requests (206, `rangeRequests`); those take their faults from
 * 'ranged-artifacts' (the same kinds), not from the two above.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { ArtifactStore, dependencyPayload } from './gitlab-test-server-artifacts.js';
import { LEGACY_JOB_RESPONSE, MODERN_JOB_RESPONSE } from './gitlab-test-server-fixtures.js';
import { type Incoming, readBody, reply, replyJson, routeOf, tryJson } from './gitlab-test-server-http.js';
import { patchTrace, updateJob } from './gitlab-test-server-jobs.js';
import { RunnerRegistry } from './gitlab-test-server-runners.js';
import {
  type Endpoint,
  FaultProgramme,
  type FaultStep,
  type JobStatus,
  newQueueValue,
  randomToken,
  type RecordedRequest,
  type RunnerRecord,
  TestJob,
} from './gitlab-test-server-state.js';

export { TestJob, FaultProgramme } from './gitlab-test-server-state.js';
export type { Endpoint, FaultStep, JobStatus, RecordedRequest, RunnerRecord, StoredArtifact } from './gitlab-test-server-state.js';

export interface GitLabTestServerOptions {
  /** Valid runner authentication tokens; default: one fresh `glrt-` token. */
  runnerTokens?: string[];
  /** The legacy registration token for POST /runners. */
  registrationToken?: string;
  /** `X-GitLab-Trace-Update-Interval` in seconds; null (default) omits it so tests stay fast. */
  traceUpdateIntervalSeconds?: number | null;
  /** Workhorse long polling of jobs/request, in ms; 0 (default) is off. */
  longPollMs?: number;
  /** Answer POST /runners/verify with the plain body "200" (GitLab before 15.x). */
  legacyVerify?: boolean;
  /** Final PUT: 412 when output.checksum/bytesize do not match the stored trace (default true). */
  verifyChecksum?: boolean;
  /** PATCH: 400 when the body is not valid UTF-8 (default true). */
  strictUtf8?: boolean;
  /** Serve https with this key and certificate (PEM) instead of http. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Largest artifact accepted, in bytes (413 above it); null (default) is no limit. */
  maxArtifactSize?: number | null;
  /**
   * Artifact downloads answer `Range: bytes=<a>-<b>` (and `-<n>`) with 206, as Workhorse (Go's
   * http.ServeContent) and object storage do (default true); false: Range is ignored (200).
   */
  rangeRequests?: boolean;
  /** Seconds a token from POST /runners/reset_authentication_token lives (`token_expires_at`); null (default): no expiry. */
  tokenExpiresInSeconds?: number | null;
}

export interface EnqueueOptions {
  /** Which fixture the payload starts from (default modern). */
  base?: 'modern' | 'legacy';
  /** Replaces `image` with a plain one of this name (GitLab's shape for `image: "<name>"`). */
  image?: string;
  /** Replaces the `script` step's commands (and drops after_script unless `afterScript`). */
  script?: string[];
  afterScript?: string[];
  /** Appended to the payload's variables. */
  variables?: { key: string; value: string; public?: boolean; masked?: boolean; file?: boolean; raw?: boolean }[];
  /** Top-level payload keys to replace (after the above). */
  overrides?: Record<string, unknown>;
  /** Only this runner may take the job. */
  runnerToken?: string;
  /** `job_info.name`. */
  name?: string;
  /**
   * Earlier jobs this one depends on: replaces `dependencies[]` (artifacts_file from their stored
   * archive, only when they have one) and appends their dotenv variables after the others.
   */
  dependencies?: TestJob[];
}


const FORBIDDEN = JSON.stringify({ message: '403 Forbidden' });
const JSON_TYPE = { 'Content-Type': 'application/json' };

export class GitLabTestServer {
  readonly requests: RecordedRequest[] = [];
  readonly faults = new FaultProgramme();
  readonly options: Required<Omit<GitLabTestServerOptions, 'runnerTokens' | 'tls'>>;
  private readonly registry = new RunnerRegistry({ tokenExpiresInSeconds: () => this.options.tokenExpiresInSeconds });
  private readonly jobsById = new Map<number, TestJob>();
  private readonly queue: TestJob[] = [];
  private readonly pollWaiters = new Set<() => void>();
  private readonly artifactStore: ArtifactStore;
  private nextJobId = 1000;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    opts: GitLabTestServerOptions,
  ) {
    this.options = {
      registrationToken: opts.registrationToken ?? 'GR1348941berth-test-registration',
      traceUpdateIntervalSeconds: opts.traceUpdateIntervalSeconds ?? null,
      longPollMs: opts.longPollMs ?? 0,
      legacyVerify: opts.legacyVerify ?? false,
      verifyChecksum: opts.verifyChecksum ?? true,
      strictUtf8: opts.strictUtf8 ?? true,
      maxArtifactSize: opts.maxArtifactSize ?? null,
      rangeRequests: opts.rangeRequests ?? true,
      tokenExpiresInSeconds: opts.tokenExpiresInSeconds ?? null,
    };
    this.artifactStore = new ArtifactStore({
      baseUrl: () => this.url,
      maxArtifactSize: () => this.options.maxArtifactSize,
      rangeRequests: () => this.options.rangeRequests,
    });
    for (const t of opts.runnerTokens ?? [randomToken('glrt-')]) this.addRunner(t);
  }

  static async start(opts: GitLabTestServerOptions = {}): Promise<GitLabTestServer> {
    const server: Server = opts.tls ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }) : createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const gl = new GitLabTestServer(server, `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`, opts);
    server.on('request', (req, res) => void gl.handle(req, res));
    return gl;
  }

  /** The first runner token (valid for jobs/request). */
  get runnerToken(): string {
    return this.registry.first().token;
  }

  addRunner(token?: string, opts: { paused?: boolean } = {}): RunnerRecord {
    return this.registry.add(token, opts);
  }

  runner(token: string): RunnerRecord | undefined {
    return this.registry.get(token);
  }

  /** Queues a job built from a fixture, with a fresh id and `glcbt-` token. */
  enqueueJob(opts: EnqueueOptions = {}): TestJob {
    const baseText = opts.base === 'legacy' ? LEGACY_JOB_RESPONSE : MODERN_JOB_RESPONSE;
    const baseToken = (JSON.parse(baseText) as { token: string }).token;
    const token = randomToken('glcbt-');
    const payload = JSON.parse(baseText.split(baseToken).join(token)) as Record<string, unknown>;
    const id = this.nextJobId++;
    payload.id = id;
    if (opts.image !== undefined) {
      payload.image = { name: opts.image, entrypoint: null, ports: [], executor_opts: {}, pull_policy: null };
    }
    if (opts.script) {
      const steps: unknown[] = [{ name: 'script', script: opts.script, timeout: 3600, when: 'on_success', allow_failure: false }];
      if (opts.afterScript) steps.push({ name: 'after_script', script: opts.afterScript, timeout: 3600, when: 'always', allow_failure: true });
      payload.steps = steps;
    }
    if (opts.variables) {
      const extra = opts.variables.map((v) => ({ public: true, masked: false, file: false, raw: false, ...v }));
      payload.variables = [...((payload.variables as unknown[] | null) ?? []), ...extra];
    }
    if (opts.name !== undefined) payload.job_info = { ...(payload.job_info as object), name: opts.name };
    if (opts.dependencies) {
      const deps = dependencyPayload(opts.dependencies);
      payload.dependencies = deps.dependencies;
      payload.variables = [...((payload.variables as unknown[] | null) ?? []), ...deps.variables];
    }
    Object.assign(payload, opts.overrides ?? {});
    const job = new TestJob(id, token, payload, opts.runnerToken);
    this.jobsById.set(id, job);
    this.queue.push(job);
    this.tickQueues();
    return job;
  }

  job(id: number): TestJob {
    const j = this.jobsById.get(id);
    if (!j) throw new Error(`GitLabTestServer: no job ${id}`);
    return j;
  }

  jobs(): TestJob[] {
    return [...this.jobsById.values()];
  }

  /** E.g. 'canceling' (graceful cancel) or 'canceled' (abort), as the GitLab UI would. */
  setJobStatus(id: number, status: JobStatus): void {
    this.job(id).status = status;
  }

  /** Programs the next requests of an endpoint. */
  fault(endpoint: Endpoint, ...steps: FaultStep[]): void {
    this.faults.add(endpoint, steps);
  }

  requestsTo(endpoint: Endpoint): RecordedRequest[] {
    return this.requests.filter((r) => r.endpoint === endpoint);
  }

  async waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > until) throw new Error(`GitLabTestServer: timed out after ${timeoutMs} ms waiting for ${what}`);
      await delay(10);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.pollWaiters) w();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.artifactStore.close();
  }

  // ------------------------------------------------------------------ dispatch

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routeOf(req.method ?? '', url.pathname);
    const record: RecordedRequest = {
      at: Date.now(),
      endpoint: route.endpoint,
      method: req.method ?? '',
      path: url.pathname,
      query: url.search,
      status: 0,
      headers: { ...req.headers },
      bodyBytes: 0,
      ...(route.jobId !== undefined ? { jobId: route.jobId } : {}),
      ...(req.headers['content-range'] ? { contentRange: String(req.headers['content-range']) } : {}),
    };
    this.requests.push(record);
    try {
      // Uploads are streamed to disk by their handler, never buffered here.
      const body = route.endpoint === 'upload-artifacts' ? Buffer.alloc(0) : await readBody(req);
      record.bodyBytes = body.length;
      if (route.endpoint !== 'patch' && body.length) record.json = tryJson(body);
      const inc: Incoming = { req, res, body, record };
      if (route.endpoint === 'unknown') return reply(inc, 404, '404 Not Found');
      // A Range request for an artifact (its end, fetched ahead) has faults of its own.
      const ranged = req.headers.range !== undefined && (route.endpoint === 'download-artifacts' || route.endpoint === 'object-storage');
      const step = this.faults.next(ranged ? 'ranged-artifacts' : route.endpoint);
      if (step && (await this.applyFault(inc, step, route.jobId))) return;
      await this.dispatch(inc, route.endpoint, route.jobId, step, url);
    } catch (err) {
      if (!res.headersSent) reply({ req, res, body: Buffer.alloc(0), record }, 500, `500 Internal Server Error: ${String(err)}`);
    }
  }

  /** Returns true when the fault answered (or swallowed) the request. */
  private async applyFault(inc: Incoming, step: FaultStep, jobId: number | undefined): Promise<boolean> {
    if ('hang' in step) {
      inc.record.status = -1;
      return true;
    }
    if ('drop' in step) {
      inc.record.status = -2;
      inc.req.socket.destroy();
      return true;
    }
    if ('delayMs' in step) {
      await delay(step.delayMs);
      return false;
    }
    if ('jobStatus' in step) {
      if (jobId !== undefined && this.jobsById.has(jobId)) this.job(jobId).status = step.jobStatus;
      return false;
    }
    if ('status' in step) {
      const job = jobId !== undefined ? this.jobsById.get(jobId) : undefined;
      const headers: Record<string, string> = { ...this.jobHeaders(job), ...step.headers };
      reply(inc, step.status, step.body ?? `${step.status}`, headers);
      return true;
    }
    return false;
  }

  private async dispatch(inc: Incoming, endpoint: Endpoint, jobId: number | undefined, step: FaultStep | undefined, url: URL): Promise<void> {
    switch (endpoint) {
      case 'register':
        return this.registry.register(inc, this.options.registrationToken);
      case 'verify':
        return this.registry.verify(inc, this.options.legacyVerify);
      case 'unregister':
      case 'unregister-manager':
        return this.registry.unregister(inc, endpoint);
      case 'reset-token':
        return this.registry.resetToken(inc);
      case 'request':
        return this.requestJob(inc);
      case 'update':
        return this.updateJob(inc, jobId!);
      case 'patch':
        return this.patchTrace(inc, jobId!, step && 'partialAccept' in step ? step.partialAccept : undefined);
      case 'upload-artifacts': {
        const job = this.jobOf(inc, jobId!);
        if (job) await this.artifactStore.upload(inc, job, url);
        return;
      }
      case 'download-artifacts':
        return this.artifactStore.download(inc, jobId!, url, this.jobs(), step);
      case 'object-storage':
        return this.artifactStore.objectStorage(inc, url.pathname, step);
    }
  }

  // ------------------------------------------------------------------ runner endpoints

  private async requestJob(inc: Incoming): Promise<void> {
    if (!/^application\/json/i.test(String(inc.req.headers['content-type'] ?? ''))) return reply(inc, 400, '400 Bad request - JSON body expected');
    const runner = this.registry.authenticate(inc);
    if (!runner) return;
    const lastUpdate = (inc.record.json as { last_update?: unknown }).last_update;
    const last = typeof lastUpdate === 'string' && lastUpdate ? lastUpdate : undefined;
    // Workhorse: with a last_update that is still current, watch the queue; a change seen
    // during the watch, or the timeout, is answered 204 without asking Rails.
    if (this.options.longPollMs > 0 && last !== undefined && last === runner.queueValue) {
      await this.waitForQueueChange(this.options.longPollMs);
      return reply(inc, 204, '');
    }
    if (runner.paused) return reply(inc, 204, '', { 'X-GitLab-Last-Update': runner.queueValue });
    if (last !== undefined && last === runner.queueValue) return reply(inc, 204, '', { 'X-GitLab-Last-Update': last });
    const idx = this.queue.findIndex((j) => j.runnerToken === undefined || j.runnerToken === runner.token);
    if (idx === -1) return reply(inc, 204, '', { 'X-GitLab-Last-Update': runner.queueValue });
    const [job] = this.queue.splice(idx, 1);
    job!.status = 'running';
    // The request log names the job each 201 handed out (who took it: the body's token and system_id).
    inc.record.jobId = job!.id;
    replyJson(inc, 201, job!.payload);
  }

  /** Resolves when a job is queued, or after `ms`. */
  private waitForQueueChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.pollWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pollWaiters.add(done);
    });
  }

  private tickQueues(): void {
    for (const r of this.registry.all()) r.queueValue = newQueueValue();
    for (const w of [...this.pollWaiters]) w();
  }

  // ------------------------------------------------------------------ job endpoints

  /** JOB-TOKEN must match a job that is processing on the runner; returns it or answers. */
  private jobOf(inc: Incoming, jobId: number): TestJob | null {
    const job = this.jobsById.get(jobId);
    // GitLab answers 403, not 404, for an unknown job, so that a runner stops it (helpers/runner.rb).
    // Grape's forbidden! renders JSON: {"message":"403 Forbidden"} (lib/api/helpers.rb render_api_error!).
    if (!job) {
      reply(inc, 403, FORBIDDEN, JSON_TYPE);
      return null;
    }
    if (inc.req.headers['job-token'] !== job.token) {
      reply(inc, 403, FORBIDDEN, JSON_TYPE);
      return null;
    }
    if (!job.processing) {
      reply(inc, 403, JSON.stringify({ message: '403 Forbidden - Job is not processing on runner' }), { ...JSON_TYPE, 'Job-Status': job.status });
      return null;
    }
    return job;
  }

  private updateJob(inc: Incoming, jobId: number): void {
    const job = this.jobOf(inc, jobId);
    if (job) updateJob(inc, job, { verifyChecksum: this.options.verifyChecksum, headers: this.jobHeaders(job) });
  }

  private patchTrace(inc: Incoming, jobId: number, partialAccept: number | undefined): void {
    const job = this.jobOf(inc, jobId);
    if (!job) return;
    patchTrace(inc, job, { strictUtf8: this.options.strictUtf8, partialAccept, headers: () => this.jobHeaders(job) });
  }

  private jobHeaders(job: TestJob | undefined): Record<string, string> {
    const h: Record<string, string> = {};
    if (job) h['Job-Status'] = job.status;
    if (this.options.traceUpdateIntervalSeconds !== null) h['X-GitLab-Trace-Update-Interval'] = String(this.options.traceUpdateIntervalSeconds);
    return h;
  }
}
