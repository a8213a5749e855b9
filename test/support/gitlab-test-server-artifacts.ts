/**
 * The job artifacts endpoints of the GitLab test server, as GitLab + Workhorse behave
 * (GL lib/api/ci/runner.rb, app/services/ci/job_artifacts/create_service.rb,
 * workhorse/internal/artifacts/artifacts_upload.go):
 *
 * - POST /api/v4/jobs/:id/artifacts (JOB-TOKEN of the running job, checked by the server first):
 *   exactly one multipart field, `file` (else 400); query artifact_type (default archive),
 *   artifact_format (default zip), expire_in; the file is streamed to disk (sha256 on the way);
 *   over `maxArtifactSize` → 413 `{"message":"file size has reached maximum size limit"}`; a
 *   second artifact of a type → 400 `another artifact of the same type already exists` unless
 *   its sha256 is the same (then 201, nothing stored); a dotenv report is parsed at once
 *   (gitlab-test-server-dotenv.ts, 400 with GitLab's message); 201 with the body `"201"`.
 * - GET /api/v4/jobs/:id/artifacts: JOB-TOKEN of that job (any status) or of a running job that
 *   lists it in `dependencies` (401 without a known token, 403 otherwise, 404 without an
 *   archive); `direct_download=true` → 302 to /object-storage/<random> on the same server, else
 *   200 with the file streamed.
 * - GET /object-storage/<key>: no token; the file with Content-Length (404 S3-style XML for an
 *   unknown key).
 * - Both answer a single `Range: bytes=<a>-<b>`, `bytes=<a>-` or `bytes=-<n>` with 206 and
 *   `Content-Range`, 416 with `Content-Range: bytes *\/<size>` when it is not satisfiable, and send
 *   `Accept-Ranges: bytes` (Go's http.ServeContent, S3), unless `rangeRequests` is off.
 *
 * Faults `{ truncate: N }`, `{ corrupt: true }` and `{ stallAt, stallMs }` change the bytes served
 * or their pace (see FaultStep).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { parseDotenvArtifact } from './gitlab-test-server-dotenv.js';
import type { Incoming } from './gitlab-test-server-http.js';
import { multipartBoundary, MultipartError, readMultipart } from './gitlab-test-server-multipart.js';
import { storedArtifact, type FaultStep, type StoredArtifact, type TestJob } from './gitlab-test-server-state.js';

/** The reason phrases Go's net/http (Workhorse) sends. */
const REASON: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  302: 'Found',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Request Entity Too Large',
};

type BodyFault = { truncate: number } | { corrupt: true } | { stallAt: number; stallMs: number };

export class ArtifactStore {
  private dir: string | null = null;
  private readonly objects = new Map<string, { artifact: StoredArtifact; fault: BodyFault | undefined }>();

  constructor(private readonly opts: { baseUrl: () => string; maxArtifactSize: () => number | null; rangeRequests: () => boolean }) {}

  async close(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  /** POST /jobs/:id/artifacts for a running job whose JOB-TOKEN was checked. */
  async upload(inc: Incoming, job: TestJob, url: URL): Promise<void> {
    const boundary = multipartBoundary(inc.req.headers['content-type']);
    if (!boundary) return answer(inc, 400, { message: '400 Bad request - Missing artifacts file!' });
    this.dir ??= await mkdtemp(join(tmpdir(), 'berth-gitlab-artifacts-'));
    const dest = join(this.dir, `upload-${randomBytes(8).toString('hex')}`);
    let stored = false;
    try {
      let result;
      try {
        result = await readMultipart(inc.req, boundary, 'file', dest);
      } catch (err) {
        if (err instanceof MultipartError) return answer(inc, 400, { message: `400 Bad request - ${err.message}` });
        throw err;
      }
      inc.record.bodyBytes = result.parts.reduce((n, p) => n + p.size, 0);
      // Workhorse: the only form field it accepts is one file named `file`.
      if (!result.file || result.parts.length !== 1) {
        return answer(inc, 400, { message: '400 Bad request - the upload must have exactly one multipart field, "file"' });
      }
      const max = this.opts.maxArtifactSize();
      if (max !== null && result.file.size > max) return answer(inc, 413, { message: 'file size has reached maximum size limit' });
      const type = url.searchParams.get('artifact_type') || 'archive';
      const artifact = storedArtifact({
        type,
        format: url.searchParams.get('artifact_format') || 'zip',
        filename: result.file.filename,
        expireIn: url.searchParams.get('expire_in') ?? '',
        size: result.file.size,
        path: dest,
      });
      const existing = job.artifacts.find((a) => a.type === type);
      if (existing) {
        if (existing.sha256 === artifact.sha256) return answer(inc, 201, '201');
        return answer(inc, 400, { message: 'another artifact of the same type already exists' });
      }
      if (type === 'dotenv') {
        const parsed = parseDotenvArtifact(await readFile(dest));
        if (!parsed.ok) return answer(inc, 400, { message: parsed.message });
        job.dotenv = parsed.variables;
      }
      job.artifacts.push(artifact);
      stored = true;
      answer(inc, 201, '201');
    } finally {
      if (!stored) await rm(dest, { force: true });
    }
  }

  /** GET /jobs/:id/artifacts. */
  download(inc: Incoming, jobId: number, url: URL, jobs: readonly TestJob[], step: FaultStep | undefined): void {
    const token = inc.req.headers['job-token'];
    const requester = typeof token === 'string' && token ? jobs.find((j) => j.token === token) : undefined;
    if (!requester) return answer(inc, 401, { message: '401 Unauthorized' });
    const target = jobs.find((j) => j.id === jobId);
    if (!target) return answer(inc, 404, { message: '404 Not Found' });
    if (requester !== target && !(requester.processing && dependencyIds(requester).includes(jobId))) {
      return answer(inc, 403, { message: '403 Forbidden' });
    }
    const archive = target.archive;
    if (!archive) return answer(inc, 404, { message: '404 Not Found' });
    const fault = bodyFault(step);
    if (url.searchParams.get('direct_download') === 'true') {
      const key = randomBytes(12).toString('hex');
      this.objects.set(key, { artifact: archive, fault });
      return answer(inc, 302, '', { Location: `${this.opts.baseUrl()}/object-storage/${key}` });
    }
    serveFile(inc, archive, fault, this.opts.rangeRequests());
  }

  /** GET /object-storage/<key>: what a presigned object-storage URL serves. */
  objectStorage(inc: Incoming, path: string, step: FaultStep | undefined): void {
    const key = path.split('/').pop() ?? '';
    const object = this.objects.get(key);
    if (!object) {
      inc.record.status = 404;
      inc.res.writeHead(404, { 'Content-Type': 'application/xml' });
      inc.res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
      return;
    }
    serveFile(inc, object.artifact, bodyFault(step) ?? object.fault, this.opts.rangeRequests());
  }
}

/** The ids in the job payload's `dependencies[]`. */
export function dependencyIds(job: TestJob): number[] {
  const deps = job.payload.dependencies;
  return Array.isArray(deps) ? deps.map((d) => (d as { id?: unknown }).id).filter((id): id is number => typeof id === 'number') : [];
}

/**
 * `dependencies[]` and the dotenv variables for a job that depends on `deps` (GL
 * lib/api/entities/ci/job_request/dependency.rb: artifacts_file only when there is an archive).
 */
export function dependencyPayload(deps: readonly TestJob[]): { dependencies: unknown[]; variables: unknown[] } {
  return {
    dependencies: deps.map((d) => ({
      id: d.id,
      name: d.name,
      token: d.token,
      ...(d.archive ? { artifacts_file: { filename: d.archive.filename, size: d.archive.size } } : {}),
    })),
    variables: deps.flatMap((d) => d.dotenv.map((v) => ({ key: v.key, value: v.value, public: false, masked: false, raw: false }))),
  };
}

function bodyFault(step: FaultStep | undefined): BodyFault | undefined {
  if (step && 'truncate' in step) return { truncate: step.truncate };
  if (step && 'corrupt' in step) return { corrupt: true };
  if (step && 'stallAt' in step) return { stallAt: step.stallAt, stallMs: step.stallMs };
  return undefined;
}

function answer(inc: Incoming, status: number, body: unknown, headers: Record<string, string> = {}): void {
  inc.record.status = status;
  if (inc.res.headersSent || inc.res.destroyed) return;
  const json = typeof body === 'string' ? (status === 302 ? '' : JSON.stringify(body)) : JSON.stringify(body);
  inc.res.writeHead(status, REASON[status] ?? '', { 'Content-Type': 'application/json', 'X-Request-Id': requestId(inc), ...headers });
  inc.res.end(json);
}

function requestId(inc: Incoming): string {
  const id = inc.req.headers['x-request-id'];
  return typeof id === 'string' && id ? id : randomBytes(13).toString('hex').slice(0, 26);
}

/** A single byte range of a `size`-byte file (inclusive ends), 'unsatisfiable', or null for none / not understood (Go's ServeContent then sends 200). */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

function serveFile(inc: Incoming, artifact: StoredArtifact, fault: BodyFault | undefined, rangeRequests: boolean): void {
  const headers = {
    'Content-Type': 'application/zip',
    'Content-Disposition': `attachment; filename="${artifact.filename}"`,
    'X-Request-Id': requestId(inc),
    ...(rangeRequests ? { 'Accept-Ranges': 'bytes' } : {}),
  };
  const range = rangeRequests ? byteRange(inc.req.headers.range, artifact.size) : null;
  if (range === 'unsatisfiable') {
    inc.record.status = 416;
    inc.res.writeHead(416, 'Requested Range Not Satisfiable', { ...headers, 'Content-Range': `bytes */${artifact.size}` });
    inc.res.end();
    return;
  }
  const start = range?.start ?? 0;
  const length = range ? range.end - range.start + 1 : artifact.size;
  inc.record.status = range ? 206 : 200;
  inc.res.writeHead(range ? 206 : 200, range ? 'Partial Content' : REASON[200], {
    ...headers,
    'Content-Length': String(length),
    ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${artifact.size}` } : {}),
  });
  if (fault && 'truncate' in fault) {
    const n = Math.min(fault.truncate, length);
    if (n === 0) {
      inc.res.flushHeaders();
      setImmediate(() => inc.res.destroy());
      return;
    }
    const src = createReadStream(artifact.path, { start, end: start + n - 1 });
    src.pipe(inc.res, { end: false });
    src.on('end', () => inc.res.write('', () => inc.res.destroy()));
    return;
  }
  if (length === 0) {
    inc.res.end();
    return;
  }
  if (fault && 'stallAt' in fault && fault.stallAt < length) {
    const first = createReadStream(artifact.path, { start, end: start + fault.stallAt - 1 });
    first.pipe(inc.res, { end: false });
    first.on('end', () => {
      setTimeout(() => createReadStream(artifact.path, { start: start + fault.stallAt, end: start + length - 1 }).pipe(inc.res), fault.stallMs);
    });
    return;
  }
  // 1 MiB reads: in bench/artifacts this server shares the 2 cores with berth and dockerd (its
  // CPU during the download child, 3-round medians: 407 ms in 64 KiB reads, 229 ms in 1 MiB reads).
  const src = createReadStream(artifact.path, { start, end: start + length - 1, highWaterMark: 1024 * 1024 });
  if (fault && 'corrupt' in fault) {
    const at = Math.floor(length / 2);
    let offset = 0;
    const flip = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        if (at >= offset && at < offset + chunk.length) {
          const copy = Buffer.from(chunk);
          copy[at - offset] = copy[at - offset]! ^ 0xff;
          chunk = copy;
        }
        offset += chunk.length;
        cb(null, chunk);
      },
    });
    src.pipe(flip).pipe(inc.res);
    return;
  }
  src.pipe(inc.res);
}
