/**
 * The job endpoints of the GitLab test server, after authentication (JOB-TOKEN, job processing
 * on the runner): PUT /jobs/:id (GL Ci::UpdateBuildStateService) and PATCH /jobs/:id/trace
 * (GL Ci::AppendBuildTraceService).
 */
import { type Incoming, reply, validUtf8Prefix } from './gitlab-test-server-http.js';
import type { TestJob } from './gitlab-test-server-state.js';

interface UpdateBody {
  token?: unknown;
  state?: unknown;
  failure_reason?: unknown;
  exit_code?: unknown;
  checksum?: unknown;
  output?: { checksum?: unknown; bytesize?: unknown };
}

/** PUT /jobs/:id for a job that passed authentication. */
export function updateJob(inc: Incoming, job: TestJob, opts: { verifyChecksum: boolean; headers: Record<string, string> }): void {
  const body = inc.record.json as UpdateBody | undefined;
  if (!body || body.token !== job.token) return reply(inc, 400, '400 Bad request - token does not match JOB-TOKEN');
  job.updates.push(body);
  // Job-Status tells the runner the status it is updating (running, or canceling after a
  // cancel in the UI), not the status this very update produces.
  const headers = opts.headers;
  const state = body.state;
  if (state === 'running') return reply(inc, 200, '200', headers);
  if (state !== 'success' && state !== 'failed') return reply(inc, 400, '400 Bad request - state', headers);
  const checksum = typeof body.output?.checksum === 'string' ? body.output.checksum : typeof body.checksum === 'string' ? body.checksum : undefined;
  const bytesize = typeof body.output?.bytesize === 'number' ? body.output.bytesize : undefined;
  if (opts.verifyChecksum && checksum !== undefined && (checksum !== job.checksum() || (bytesize ?? 0) !== job.traceSize)) {
    // GitLab discards the live trace it cannot trust; the runner sends it again from 0.
    job.resetTrace();
    return reply(inc, 412, '412', headers);
  }
  job.final = {
    state,
    ...(typeof body.failure_reason === 'string' ? { failureReason: body.failure_reason } : {}),
    ...(typeof body.exit_code === 'number' ? { exitCode: body.exit_code } : {}),
    ...(checksum !== undefined ? { checksum } : {}),
    ...(bytesize !== undefined ? { bytesize } : {}),
  };
  job.status = job.status === 'canceling' ? 'canceled' : state;
  reply(inc, 200, '200', headers);
}

/** PATCH /jobs/:id/trace for a job that passed authentication. */
export function patchTrace(
  inc: Incoming,
  job: TestJob,
  opts: { strictUtf8: boolean; partialAccept: number | undefined; headers: () => Record<string, string> },
): void {
  const range = inc.req.headers['content-range'];
  if (range === undefined) return reply(inc, 400, '400 Missing header Content-Range');
  const m = /^(\d+)-(\d+)$/.exec(String(range));
  if (!m || Number(m[2]) - Number(m[1]) + 1 !== inc.body.length) {
    return reply(inc, 400, `400 Bad Content-Range "${String(range)}" for ${inc.body.length} bytes (want <start>-<start+length-1>)`);
  }
  const start = Number(m[1]);
  if (start !== job.traceSize) return reply(inc, 416, '416 Range Not Satisfiable', { Range: `0-${job.traceSize}` });
  if (opts.strictUtf8 && !validUtf8Prefix(Buffer.concat([job.incompleteTail(), inc.body]))) {
    job.utf8Violations++;
    return reply(inc, 400, '400 Bad request - the trace patch is not valid UTF-8');
  }
  job.append(opts.partialAccept !== undefined ? inc.body.subarray(0, opts.partialAccept) : inc.body);
  reply(inc, 202, '', { ...opts.headers(), Range: `0-${job.traceSize}` });
}
